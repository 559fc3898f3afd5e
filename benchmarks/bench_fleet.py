"""Fleet throughput: repositories per second with --jobs 1 and 2, and peak memory, for N and 2N repositories.

Builds N git repositories in a temporary folder from the project's fixtures (CI configs of every system,
coverage and test reports) with a few weeks of history each, lists a quarter of them as `file://` URLs (cloned
into the cache) and the rest as local paths, then runs `devops-audit fleet scan` in a fresh process per
configuration (a fresh store, so everything is scanned) and reads its peak memory with `getrusage`.

    python benchmarks/bench_fleet.py [--repos 100] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for p in [*(ROOT / "fixtures" / "pipelines").iterdir(), *(ROOT / "fixtures" / "coverage").iterdir()]
                 if p.is_dir())
ENV = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev",
       "GIT_COMMITTER_EMAIL": "dev@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str, date: str | None = None) -> None:
    env = {**ENV, **({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {})}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def make_repo(dest: Path, index: int) -> None:
    shutil.copytree(SOURCES[index % len(SOURCES)], dest)
    git(dest, "init", "-q", "-b", "main")
    now = int(time.time())
    for day in range(6):  # a few weeks of history: merges of pull requests, a tag
        (dest / "CHANGELOG.md").write_text(f"# change {day}\n", encoding="utf-8")
        git(dest, "add", "-A")
        git(dest, "commit", "-q", "-m", f"Change {day} (#{day + 1})", date=f"@{now - (6 - day) * 5 * 86400}")
    git(dest, "tag", "v1.0.0")


def build(folder: Path, count: int) -> Path:
    lines = []
    for index in range(count):
        repo = folder / f"repo{index:05d}"
        make_repo(repo, index)
        lines.append(f"file://{repo}" if index % 4 == 0 else str(repo))
    listing = folder / f"repos-{count}.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


def measure(listing: Path, jobs: int, work: Path) -> tuple[float, float, float]:
    """(repositories per second, peak RSS MiB of the main process by getrusage, peak RSS MiB of the whole
    process tree, sampled every 20 ms from /proc) for one fresh `fleet scan` process."""
    store = work / f"bench-{jobs}-{time.monotonic_ns()}.db"
    code = ("import resource, sys, time\n"
            "from devops_audit.cli import main\n"
            "t = time.perf_counter(); rc = main(sys.argv[1:]); elapsed = time.perf_counter() - t\n"
            "peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "print(elapsed, peak, file=sys.stderr)\n")
    args = ["fleet", "scan", "--repos", str(listing), "--jobs", str(jobs), "--store", str(store),
            "--cache-dir", str(work / "cache"), "--force", "--progress", "lines"]
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    tree_peak = 0
    while child.poll() is None:
        tree_peak = max(tree_peak, tree_rss_kib(child.pid))
        time.sleep(0.02)
    elapsed, peak = child.stderr.read().strip().splitlines()[-1].split()
    count = sum(1 for line in listing.read_text().splitlines() if line.strip())
    return count / float(elapsed), int(peak) / 1024, tree_peak / 1024


def tree_rss_kib(root: int) -> int:
    """Sum of VmRSS over `root` and all its descendants (git subprocesses included)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip())
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    total = 0
    for pid in rss:
        node = pid
        while node and node != root:
            node = parents.get(node, 0)
        if node == root:
            total += rss[pid]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as temp:
        work = Path(temp)
        started = time.perf_counter()
        small, large = build(work / "a", args.repos), build(work / "b", 2 * args.repos)
        print(f"built {3 * args.repos} repositories in {time.perf_counter() - started:.1f} s "
              f"(sources: {len(SOURCES)} fixtures)")
        print(f"{'repos':>6} {'jobs':>4} {'repos/s':>8} {'main MiB':>9} {'tree MiB':>9}")
        for listing, count in ((small, args.repos), (large, 2 * args.repos)):
            for jobs in args.jobs:
                rate, peak, tree = measure(listing, jobs, work)
                print(f"{count:>6} {jobs:>4} {rate:>8.1f} {peak:>9.0f} {tree:>9.0f}")
    print("main: getrusage peak of the fleet process (self + reaped children); tree: sampled sum over all its processes")


if __name__ == "__main__":
    main()
