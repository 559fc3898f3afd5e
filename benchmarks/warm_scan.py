"""Warm scans inside one process, as a fleet worker pays them: every repository scanned `--rounds` times,
the C heap's free pages given back after each scan as a fleet worker does (`heap.release_free_memory`).

The first round warms the process (imports, compiled policies, tables); each later round scans every
repository again from a fresh `Workspace` (nothing of the repository is cached between scans). Prints one JSON
object: per repository the median wall and CPU milliseconds (this process and its git children) of a scan
plus its JSON report (rounds 2..N), and the
process's resident memory after each round, which stays flat when nothing accumulates between scans.

    PYTHONPATH=src python benchmarks/warm_scan.py [--rounds 6] REPO ...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time


def resident_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds() -> float:
    """User + system time of this process and of its finished children (the git commands)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    from devops_audit.heap import release_free_memory
    from devops_audit.scan import ScanOptions, run_scan

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos", nargs="+")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    timings: dict[str, list[float]] = {repo: [] for repo in args.repos}
    cpu: dict[str, list[float]] = {repo: [] for repo in args.repos}
    memory = []
    for round_number in range(max(2, args.rounds)):
        for repo in args.repos:
            started, cpu_started = time.perf_counter(), cpu_seconds()
            result = run_scan(repo, ScanOptions(offline=True))
            json.dumps(result.to_dict(), sort_keys=True)
            del result
            release_free_memory()  # as a fleet worker does after each repository
            if round_number:
                timings[repo].append(time.perf_counter() - started)
                cpu[repo].append(cpu_seconds() - cpu_started)
        memory.append(round(resident_mib(), 1))
    print(json.dumps({"ms": {repo: statistics.median(t) * 1000 for repo, t in timings.items()},
                      "cpu_ms": {repo: statistics.median(t) * 1000 for repo, t in cpu.items()},
                      "rss_mib_after_round": memory}))


if __name__ == "__main__":
    main()
