"""Two versions of devops-audit measured in turns on the real clones: on a shared machine the same command's
speed drifts by 20-30 % within minutes, so two versions are compared fairly only when their runs alternate.

    python benchmarks/bench_compare.py BEFORE [AFTER] [--runs 15]

BEFORE and AFTER are checkouts of the project (default AFTER: this one), e.g. `git worktree add /tmp/before
<commit>`; each runs with its own `src` first on PYTHONPATH. The repositories are those of `real-repos.yaml`,
cloned once by `bench_scan.py --real` into the same cache. In turns, BEFORE then AFTER: the cold `scan REPO
--offline -f json=/dev/null` of every repository (`--runs` rounds after a warm-up round), `--version`, the warm
scans of one process (`warm_scan.py`) and `fleet scan --force --jobs 1` (twice each). Prints the median cold CPU
per repository, then per version the medians of every figure (CPU and wall); CPU counts the git children.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import DEFAULT_CACHE, TOOL, child_env, fleet, real_clone, timed, warm  # noqa: E402

LIST = Path(__file__).with_name("real-repos.yaml")


def tree_env(tree: Path, cache: Path) -> dict[str, str]:
    return {**child_env(cache), "PYTHONPATH": str(tree / "src")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path, nargs="?", default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--clone-from", default="{origin}", metavar="TEMPLATE", help="as for bench_scan.py --real")
    args = parser.parse_args()
    entries = yaml.safe_load(LIST.read_text(encoding="utf-8"))["repositories"]
    repos = [clone for clone in (real_clone(entry, args.cache, args.clone_from) for entry in entries) if isinstance(clone, Path)]
    envs = {"before": tree_env(args.before.resolve(), args.cache), "after": tree_env(args.after.resolve(), args.cache)}
    cold: dict[str, dict[Path, list[float]]] = {name: {repo: [] for repo in repos} for name in envs}
    cold_wall: dict[str, dict[Path, list[float]]] = {name: {repo: [] for repo in repos} for name in envs}
    peak = dict.fromkeys(envs, 0.0)
    for round_number in range(args.runs + 1):
        for repo in repos:
            for name, env in envs.items():
                wall, cpu, rss = timed([*TOOL, "scan", str(repo), "--offline", "-f", "json=/dev/null"], env)
                if round_number:  # the first round is the warm-up
                    cold[name][repo].append(cpu * 1000)
                    cold_wall[name][repo].append(wall * 1000)
                    peak[name] = max(peak[name], rss)
    version = {name: statistics.median(timed([*TOOL, "--version"], env)[1] * 1000 for _ in range(10))
               for name, env in envs.items()}
    inside: dict[str, list[float]] = {name: [] for name in envs}
    inside_wall: dict[str, list[float]] = {name: [] for name in envs}
    fleets: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in envs}
    for _ in range(2):
        for name, env in envs.items():
            measured = warm(repos, env)
            inside[name].append(statistics.median(measured["cpu_ms"].values()))
            inside_wall[name].append(statistics.median(measured["ms"].values()))
            fleets[name].append(fleet(repos, env))
    print(f"{'cold scan CPU, ms (median of ' + str(args.runs) + ')':<44} {'before':>8} {'after':>8}")
    for repo in repos:
        print(f"{repo.name:<44} {statistics.median(cold['before'][repo]):>8.0f} {statistics.median(cold['after'][repo]):>8.0f}")
    for name in envs:
        cold_median = statistics.median(statistics.median(samples) for samples in cold[name].values())
        wall_median = statistics.median(statistics.median(samples) for samples in cold_wall[name].values())
        fleet_own = statistics.median(f[0] for f in fleets[name]) * 1000
        fleet_cpu = statistics.median(f[2] for f in fleets[name]) * 1000
        print(f"{name}: cold CPU {cold_median:.0f} ms and wall {wall_median:.0f} ms (medians of repositories), peak "
              f"RSS {peak[name]:.1f} MiB, --version {version[name]:.1f} ms, warm CPU {statistics.median(inside[name]):.0f}"
              f" ms and wall {statistics.median(inside_wall[name]):.0f} ms, fleet {fleet_own:.0f} ms per repository "
              f"(its own timing; CPU {fleet_cpu:.0f} ms)")


if __name__ == "__main__":
    main()
