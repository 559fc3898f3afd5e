"""Speed of `devops-audit scan`: cold processes, warm scans in one process, a fleet run, and a scaling table.

    python benchmarks/bench_scan.py [--runs 5] [--corpus ../shared/corpus] [REPO ...]
    python benchmarks/bench_scan.py --real [--runs 5] [--list benchmarks/real-repos.yaml] [--clone-from TEMPLATE]
    python benchmarks/bench_scan.py --scaling [--runs 5] [--max-size 100000]
    python benchmarks/bench_scan.py --phases [--runs 5] [--list benchmarks/real-repos.yaml]

Run it from the project root with the sources to measure first on the path
(`PYTHONPATH=src`); every figure comes from child processes started with that environment.

Without `--real` or `--scaling`: cold scans of the given folders (default: the corpus's `*/repo`).

`--real`: the repositories of `benchmarks/real-repos.yaml`, cloned with their whole history into the cache
(`--cache`, default `~/.cache/devops-audit-bench`) once and checked out at the listed commit, then `git status`
runs once (the index refreshed, as in a clone someone works in). `--clone-from`
is where to clone from, a template with `{origin}`, `{owner}` and `{name}` (default `{origin}`, the GitHub
URL; e.g. `/srv/mirrors/{owner}/{name}.git` for local mirrors). A repository that cannot be cloned, or whose
listed commit is missing, is skipped with the reason printed. Prints per repository: files, commits, the cold
wall time of `devops-audit scan REPO --offline -f json=/dev/null` as a new process (median and max of `--runs`,
after one warm-up run), its CPU time and peak RSS, and the warm wall and CPU time of the same scan inside one
long-lived process (`warm_scan.py`: median of 5 rounds after a warm-up round); then the medians, `--version`, the resident memory
of that process after each round (flat: nothing accumulates), and a `fleet scan --force --jobs 1` over the
same clones (median per-repository duration as the fleet reports it, wall time per repository, peak RSS).
A last row measures a one-file, one-commit repository the same way (not in the medians): the fixed cost
every scan pays whatever the repository.

`--scaling`: synthetic repositories (`synthetic.py`) with 1k/10k/100k files (1k commits) and 1k/10k/100k
commits (1k files), built once into the cache; cold scan median and peak RSS per size. The history window
(90 days at 20 commits a day) holds the same ~1,800 commits in each, so a flat column means the cost follows
the window and the CI files, not the totals.

`--phases`: where the CPU of a cold scan goes, per real repository (`scan_phases.py`): interpreter, imports,
policies, the git listing, each collector (its imports included), evaluation, JSON report; medians of
`--runs` fresh processes, in milliseconds.

Wall times depend on whatever else the machine runs (the load average is printed before and after); CPU
times (user + system of the process and its git children) much less so, which makes them the figure to
compare on a shared machine. Compare two versions by running both in the same conditions, one after the
other, more than once (e.g. `PYTHONPATH=/tmp/old/src python benchmarks/bench_scan.py --real`). The
children write their bytecode cache under `<cache>/pycache` (as an installed package has its own), so the
first process pays compilation and the warm-up run absorbs it.

Targets (issue 14): cold scan median <= 0.2 s over the real clones, peak RSS <= 60 MB, `--version` <= 0.05 s,
<= 50 ms per repository in one process with flat memory; no growth with total files or commits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402  (a sibling module of this script)

DEFAULT_CACHE = Path("~/.cache/devops-audit-bench").expanduser()
TOOL = [sys.executable, "-m", "devops_audit"]
SIZES = (1_000, 10_000, 100_000)
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}


def child_env(cache: Path) -> dict[str, str]:
    """The environment of every measured process: bytecode cached, as an installed package has it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache / "pycache")
    return env


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, its git children included) and peak RSS (MiB) of one child
    process; the peak is the largest single process of the tree, not their sum."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def cold(repos: list[Path], runs: int, env: dict[str, str]) -> dict[Path, tuple[float, float, float, float]]:
    """(median wall s, max wall s, median CPU s, peak MiB) per repository; runs go round-robin so a noisy
    moment hits them all."""
    samples: dict[Path, list[tuple[float, float, float]]] = {repo: [] for repo in repos}
    for run in range(runs + 1):
        for repo in repos:
            sample = timed([*TOOL, "scan", str(repo), "--offline", "-f", "json=/dev/null"], env)
            if run:  # the first round is the warm-up
                samples[repo].append(sample)
    return {repo: (statistics.median(w for w, _, _ in s), max(w for w, _, _ in s), statistics.median(c for _, c, _ in s),
                   max(m for _, _, m in s)) for repo, s in samples.items()}


def version_time(runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall and CPU seconds of `--version`."""
    samples = [timed([*TOOL, "--version"], env) for _ in range(runs + 1)][1:]
    return statistics.median(w for w, _, _ in samples), statistics.median(c for _, c, _ in samples)


def warm(repos: list[Path], env: dict[str, str]) -> dict:
    script = Path(__file__).with_name("warm_scan.py")
    out = subprocess.run([sys.executable, str(script), *map(str, repos)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def fleet(repos: list[Path], env: dict[str, str]) -> tuple[float, float, float, float]:
    """(median per-repository seconds as the fleet reports them, wall and CPU seconds per repository, peak
    MiB of the largest process: the fleet or one of its git children)."""
    with tempfile.TemporaryDirectory(prefix="bench-scan-fleet-") as temp:
        listing = Path(temp) / "repos.txt"
        listing.write_text("".join(f"{repo}\n" for repo in repos), encoding="utf-8")
        command = [*TOOL, "fleet", "scan", "--repos", str(listing), "--jobs", "1", "--force", "--offline",
                   "--store", str(Path(temp) / "fleet.db"), "--progress", "lines"]
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        assert proc.stderr is not None
        lines = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    durations = [float(s) for s in re.findall(r"\] scanned .* \(([0-9.]+) s\)", lines)]
    if os.waitstatus_to_exitcode(status) != 0 or len(durations) != len(repos):
        raise SystemExit(f"fleet scan failed (exit {os.waitstatus_to_exitcode(status)}):\n{lines}")
    cpu = usage.ru_utime + usage.ru_stime
    return statistics.median(durations), elapsed / len(repos), cpu / len(repos), usage.ru_maxrss / 1024


# -- the real repositories --------------------------------------------------------------------------------
def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True).stdout


def real_clone(entry: dict, cache: Path, template: str) -> Path | str:
    """The clone at the listed commit (made once), or the reason it cannot be had."""
    owner, name = entry["origin"].rstrip("/").split("/")[-2:]
    commit = str(entry["commit"])  # an all-digit hash reads as a YAML number
    dest = cache / f"{owner}+{name}"
    try:
        fresh = not (dest / ".git").is_dir()
        if fresh:
            source = template.format(origin=entry["origin"], owner=owner, name=name)
            git("clone", "--quiet", "--no-checkout", "--", source, str(dest))
        if fresh or git("rev-parse", "HEAD", cwd=dest).strip() != commit:  # a --no-checkout clone has no tree yet
            git("checkout", "--quiet", "--force", "-B", str(entry["branch"]), commit, cwd=dest)
            # as a developer's clone is: `git status` run once, a second later. Right after a checkout every
            # file is "racily clean" (written in the index's second) and each status re-reads them all until
            # one writes the index back in a later second, which the fleet's own (read-only) status never does
            time.sleep(1.1)
            git("status", "--porcelain", cwd=dest)
    except subprocess.CalledProcessError as exc:
        reason = (exc.stderr or "").strip().splitlines()
        return f"git {exc.cmd[1]} failed: {reason[-1] if reason else f'exit {exc.returncode}'}"
    return dest


def run_real(args: argparse.Namespace, env: dict[str, str]) -> None:
    entries = yaml.safe_load(args.list.read_text(encoding="utf-8"))["repositories"]
    repos: list[Path] = []
    for entry in entries:
        clone = real_clone(entry, args.cache, args.clone_from)
        if isinstance(clone, str):
            print(f"skipped {entry['origin']}: {clone}")
        else:
            repos.append(clone)
    if not repos:
        raise SystemExit("no repository could be cloned")
    floor = floor_repo(args.cache)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    version = version_time(args.runs, env)
    results = cold([*repos, floor], args.runs, env)
    inside = warm([*repos, floor], env)
    fixed = results.pop(floor), inside["ms"].pop(str(floor)), inside["cpu_ms"].pop(str(floor))
    fleet_median, fleet_wall, fleet_cpu, fleet_peak = fleet(repos, env)
    print(f"{'repository':<36} {'files':>6} {'commits':>7} {'cold wall':>9} {'wall max':>9} {'cold CPU':>9} "
          f"{'peak MiB':>8} {'warm ms':>8} {'warm CPU':>8}")
    for repo in repos:
        files = len(git("ls-files", "-z", cwd=repo).split("\0")) - 1
        commits = int(git("rev-list", "--count", "HEAD", cwd=repo))
        median, worst, cpu, peak = results[repo]
        print(f"{repo.name:<36} {files:>6} {commits:>7} {median:>8.3f}s {worst:>8.3f}s {cpu:>8.3f}s {peak:>8.1f} "
              f"{inside['ms'][str(repo)]:>8.1f} {inside['cpu_ms'][str(repo)]:>8.1f}")
    column = list(zip(*results.values()))
    print(f"{'median of ' + str(len(repos)) + ' repositories':<51} {statistics.median(column[0]):>8.3f}s "
          f"{max(column[1]):>8.3f}s {statistics.median(column[2]):>8.3f}s {max(column[3]):>8.1f} "
          f"{statistics.median(inside['ms'].values()):>8.1f} {statistics.median(inside['cpu_ms'].values()):>8.1f}")
    print(f"{'fixed cost: a one-file repository':<51} {fixed[0][0]:>8.3f}s {fixed[0][1]:>8.3f}s {fixed[0][2]:>8.3f}s "
          f"{fixed[0][3]:>8.1f} {fixed[1]:>8.1f} {fixed[2]:>8.1f}")
    print(f"--version: median {version[0]:.3f} s wall, {version[1]:.3f} s CPU")
    print(f"one process, RSS after each round over all repositories (MiB): {inside['rss_mib_after_round']}")
    print(f"fleet scan --jobs 1: median {fleet_median * 1000:.0f} ms per repository (fleet's own timing), "
          f"wall {fleet_wall * 1000:.0f} ms and CPU {fleet_cpu * 1000:.0f} ms per repository, peak RSS {fleet_peak:.1f} MiB")
    print(f"load average after: {os.getloadavg()[0]:.2f}  ({args.runs} cold runs per repository)")


def floor_repo(cache: Path) -> Path:
    """A repository of one file and one commit (built once): what every scan pays before the repository's own
    work (start-up, imports, policies, git, evaluation, report)."""
    path = cache / "synthetic" / "one-file"
    if not (path / ".git").is_dir():
        path.mkdir(parents=True, exist_ok=True)
        (path / "README.md").write_text("# one file\n", encoding="utf-8")
        identity = ["-c", "user.name=Bench", "-c", "user.email=bench@example.com"]
        for command in (["init", "--quiet", "--initial-branch", "main"], ["add", "README.md"],
                        [*identity, "commit", "--quiet", "--message", "one file"]):
            git(*command, cwd=path)
    return path


def run_phases(args: argparse.Namespace, env: dict[str, str]) -> None:
    repos = [clone for clone in (real_clone(e, args.cache, args.clone_from) for e in
                                 yaml.safe_load(args.list.read_text(encoding="utf-8"))["repositories"])
             if isinstance(clone, Path)]
    script = Path(__file__).with_name("scan_phases.py")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    table: dict[str, dict[str, float]] = {}
    for repo in repos:
        runs = [json.loads(subprocess.run([sys.executable, str(script), str(repo)], env=env, check=True,
                                          capture_output=True, text=True).stdout) for _ in range(args.runs + 1)][1:]
        table[repo.name] = {phase: statistics.median(run[phase] for run in runs) for phase in runs[0]}
    phases = list(next(iter(table.values())))
    short = [p.removeprefix("collector ") for p in phases]
    print(f"{'CPU ms':<36}" + "".join(f"{name[:10]:>11}" for name in short) + f"{'total':>8}")
    for name, row in [*table.items(), ("median", {p: statistics.median(r[p] for r in table.values()) for p in phases})]:
        print(f"{name:<36}" + "".join(f"{row[p]:>11.1f}" for p in phases) + f"{sum(row.values()):>8.0f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}  ({args.runs} processes per repository)")


# -- the scaling table ------------------------------------------------------------------------------------
def run_scaling(args: argparse.Namespace, env: dict[str, str]) -> None:
    shapes = sorted({(files, 1_000) for files in SIZES if files <= args.max_size}
                    | {(1_000, commits) for commits in SIZES if commits <= args.max_size})
    repos = {}
    for files, commits in shapes:
        path = args.cache / "synthetic" / f"files{files}-commits{commits}"
        if not (path / ".git").is_dir():
            started = time.perf_counter()
            temp = path.with_name(path.name + ".tmp")
            subprocess.run(["rm", "-rf", str(temp)], check=True)
            temp.parent.mkdir(parents=True, exist_ok=True)
            synthetic.build(temp, files, commits)
            temp.rename(path)
            print(f"built {path.name} in {time.perf_counter() - started:.1f} s")
        repos[(files, commits)] = path
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    results = cold(list(repos.values()), args.runs, env)
    print(f"{'files':>7} {'commits':>7} {'cold wall':>9} {'wall max':>9} {'cold CPU':>9} {'peak MiB':>8}")
    for (files, commits), path in repos.items():
        median, worst, cpu, peak = results[path]
        print(f"{files:>7} {commits:>7} {median:>8.3f}s {worst:>8.3f}s {cpu:>8.3f}s {peak:>8.1f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}  ({args.runs} cold runs per size)")


def run_corpus(args: argparse.Namespace, env: dict[str, str]) -> None:
    repos = args.repos or sorted(args.corpus.glob("*/repo"))
    if not repos:
        raise SystemExit(f"no repositories: pass paths or a corpus folder ({args.corpus} not found)")
    print(f"{'--version':<42} median {version_time(args.runs, env)[0]:6.3f} s")
    results = cold(repos, args.runs, env)
    for repo, (median, worst, cpu, peak) in results.items():
        name = repo.parent.name if repo.name == "repo" else repo.name
        print(f"{name:<42} median {median:6.3f} s  max {worst:6.3f} s  CPU {cpu:6.3f} s  peak RSS {peak:6.1f} MiB")
    print(f"{'all repositories':<42} median {statistics.median(r[0] for r in results.values()):6.3f} s  "
          f"worst median {max(r[0] for r in results.values()):6.3f} s  "
          f"peak RSS {max(r[3] for r in results.values()):6.1f} MiB  ({len(repos)} repos x {args.runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repos", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--real", action="store_true", help="the real repositories of --list")
    mode.add_argument("--scaling", action="store_true", help="synthetic repositories of growing size")
    mode.add_argument("--phases", action="store_true", help="CPU per step of a cold scan, per real repository")
    parser.add_argument("--list", type=Path, default=Path(__file__).with_name("real-repos.yaml"))
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--clone-from", default="{origin}", metavar="TEMPLATE")
    parser.add_argument("--max-size", type=int, default=max(SIZES), help="largest synthetic size to build")
    args = parser.parse_args()
    args.cache = args.cache.expanduser().resolve()
    args.cache.mkdir(parents=True, exist_ok=True)
    env = child_env(args.cache)
    if args.real:
        run_real(args, env)
    elif args.scaling:
        run_scaling(args, env)
    elif args.phases:
        run_phases(args, env)
    else:
        run_corpus(args, env)


if __name__ == "__main__":
    main()
