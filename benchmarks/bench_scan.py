"""Cold `devops-audit scan` over the corpus repositories: wall time and peak memory per repository.

    python benchmarks/bench_scan.py [--runs 5] [--corpus ../shared/corpus] [REPO ...]

Each run is a fresh process (imports included), as a CI job or a developer would pay it. Prints one line per
repository (median and max wall time, peak RSS) and the overall median; targets: median < 0.3 s per
repository, peak RSS < 100 MB, `--version` < 0.15 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    repos = args.repos or sorted(args.corpus.glob("*/repo"))
    if not repos:
        raise SystemExit(f"no repositories: pass paths or a corpus folder ({args.corpus} not found)")
    tool = [sys.executable, "-m", "devops_audit"]

    version = [timed([*tool, "--version"])[0] for _ in range(args.runs)]
    print(f"{'--version':<42} median {statistics.median(version):6.3f} s  max {max(version):6.3f} s")
    medians, peaks = [], []
    for repo in repos:
        runs = [timed([*tool, "scan", str(repo), "--offline", "-f", "json=/dev/null"]) for _ in range(args.runs)]
        walls = [w for w, _ in runs]
        peak = max(m for _, m in runs)
        medians.append(statistics.median(walls))
        peaks.append(peak)
        name = repo.parent.name if repo.name == "repo" else repo.name
        print(f"{name:<42} median {statistics.median(walls):6.3f} s  max {max(walls):6.3f} s  peak RSS {peak:6.1f} MiB")
    print(f"{'all repositories':<42} median {statistics.median(medians):6.3f} s  "
          f"worst median {max(medians):6.3f} s  peak RSS {max(peaks):6.1f} MiB  ({len(repos)} repos x {args.runs} runs)")


if __name__ == "__main__":
    main()
