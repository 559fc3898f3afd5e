"""Benchmark of the `history` collector on a generated 16,000-commit repository with a 90-day window.

The repository is written in one `git fast-import` stream (a few seconds): three years of a main branch
where every fourth change is a `--no-ff` style merge of a two-commit feature branch, squash-style
"(#N)" subjects, issue keys, a revert now and then, and an annotated release tag every two weeks.

    PYTHONPATH=src python benchmarks/bench_history.py [--commits 16000] [--days 1100] [--repeat 5]

Prints the time of `history.collect` (its git commands run through `gitcmd`) and the main facts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.history.history import collect
from devops_audit.workspace import Workspace

START = 1_600_000_000  # 2020-09-13


def _blob(text: str) -> str:
    data = text.encode()
    return f"data {len(data)}\n{text}\n"


def _commit(ref: str, mark: int, when: int, message: str, parents: list[int], content: str) -> str:
    lines = [f"commit {ref}", f"mark :{mark}",
             f"author Dev{mark % 7} <dev{mark % 7}@example.com> {when} +0000",
             f"committer Dev <dev@example.com> {when} +0000", _blob(message).rstrip("\n")]
    if parents:
        lines.append(f"from :{parents[0]}")
    lines += [f"merge :{p}" for p in parents[1:]]
    lines += ["M 644 inline file.txt", _blob(content).rstrip("\n"), ""]
    return "\n".join(lines) + "\n"


def stream(commits: int, days: int) -> str:
    """A fast-import stream of `commits` commits spread evenly over `days` days."""
    step = days * 86400 // commits
    parts: list[str] = []
    mark = 0
    main: int | None = None
    when = START
    release = 0
    next_tag = START + 14 * 86400
    while mark < commits:
        mark += 1
        when += step
        change = mark // 4
        if mark % 4 == 0 and main is not None and mark + 2 <= commits:  # a feature branch, then its merge
            first = mark
            parts.append(_commit("refs/heads/topic", first, when - 3 * step, f"ABC-{change}: start", [main], f"{mark}a"))
            parts.append(_commit("refs/heads/topic", first + 1, when - step, "Address review", [first], f"{mark}b"))
            mark += 2
            message = f"Merge pull request #{change} from org/feature-{change}\n\nFeature {change}"
            parts.append(_commit("refs/heads/main", mark, when, message, [main, first + 1], f"{mark}"))
        elif mark % 97 == 0 and main is not None:
            message = f'Revert "Change {change - 1}"\n\nThis reverts commit {"0" * 40}.'
            parts.append(_commit("refs/heads/main", mark, when, message, [main], f"{mark}"))
        else:
            parts.append(_commit("refs/heads/main", mark, when, f"Change {change} (#{change})", [main] if main else [],
                                 f"{mark}"))
        main = mark
        if when >= next_tag:
            release += 1
            parts.append(f"tag v1.{release}.0\nfrom :{main}\ntagger Dev <dev@example.com> {when + 600} +0000\n"
                         + _blob(f"Release 1.{release}.0"))
            next_tag += 14 * 86400
    return "".join(parts)


def build(path: Path, commits: int, days: int) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=stream(commits, days).encode(), check=True,
                   env=env)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--commits", type=int, default=16_000)
    parser.add_argument("--days", type=int, default=1100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        began = time.perf_counter()
        build(repo, args.commits, args.days)
        print(f"built {args.commits} commits over {args.days} days in {time.perf_counter() - began:.2f} s")

        timings = []
        for _ in range(args.repeat):
            workspace = Workspace(repo)  # fresh: nothing cached between runs
            began = time.perf_counter()
            evidence = collect(workspace, CollectOptions())
            timings.append(time.perf_counter() - began)
        facts = evidence.facts
        print(f"history.collect: best {min(timings) * 1000:.1f} ms, worst {max(timings) * 1000:.1f} ms "
              f"over {args.repeat} runs")
        print(f"window {facts['window_start']} .. {facts['window_end']}: {facts['commit_count']} default-branch commits, "
              f"{facts['merge_count']} merges, median branch age {facts['median_branch_age_days']} d, "
              f"{facts['release_count']} releases, pr_share {facts['pr_share']}, issue_ref_share {facts['issue_ref_share']}")


if __name__ == "__main__":
    main()
