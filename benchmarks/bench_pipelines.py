"""Parse every CI file of the corpus into the pipeline model, in process: time per repository and in total.

    python benchmarks/bench_pipelines.py [--runs 5] [--corpus ../shared/corpus]

Imports are paid once (see bench_scan.py for whole-process figures); this isolates the parsers' own cost.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.ci import pipelines
from devops_audit.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    repos = sorted(args.corpus.glob("*/repo"))
    if not repos:
        raise SystemExit(f"{args.corpus}: no corpus repositories")
    pipelines.collect(Workspace(repos[0]), CollectOptions())  # warm the imports and the tool table
    medians = []
    for repo in repos:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            evidence = pipelines.collect(Workspace(repo), CollectOptions())
            times.append(time.perf_counter() - start)
        facts = evidence.facts
        medians.append(statistics.median(times))
        print(f"{repo.parent.name:<40} {statistics.median(times) * 1000:7.1f} ms  {', '.join(facts['systems']):<24} "
              f"{len(facts['pipelines']):3} pipelines {len(facts['jobs']):4} jobs {len(facts['steps']):5} steps")
    print(f"{'median per repository':<40} {statistics.median(medians) * 1000:7.1f} ms  "
          f"(total {sum(medians) * 1000:.0f} ms for {len(repos)} repositories)")


if __name__ == "__main__":
    main()
