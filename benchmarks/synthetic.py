"""Synthetic git repositories for the scaling table of `bench_scan.py --scaling`, written with `git fast-import`.

A small Python project (pyproject, a GitHub Actions workflow that lints, tests and measures coverage, a test
file) plus `files - 5` filler modules in nested folders, and `commits` commits at a fixed rate of
`COMMITS_PER_DAY` ending on `END`: a repository with more commits is an older one, so the 90-day history window
holds about the same number of commits whatever the total. Every tenth change is a merged pull request (a
topic-branch commit and a merge), and there is a release tag every two weeks. 100,000 commits take seconds.

    python benchmarks/synthetic.py DEST --files 10000 --commits 1000
"""

from __future__ import annotations

import argparse
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

END = 1_767_225_600  # 2026-01-01
COMMITS_PER_DAY = 20
ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
PROJECT = {
    "pyproject.toml": '[project]\nname = "synthetic"\nversion = "1.0"\n\n[tool.ruff]\nline-length = 100\n',
    "README.md": "# synthetic\n",
    ".github/workflows/ci.yml": (
        "name: ci\non:\n  push:\n    branches: [main]\n  pull_request:\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/setup-python@v5\n"
        "      - run: pip install -e . ruff pytest pytest-cov\n      - run: ruff check .\n"
        "      - run: pytest --cov=synthetic --cov-fail-under=80\n"),
    "tests/test_app.py": "def test_app():\n    assert True\n",
    "src/synthetic/__init__.py": "",
}


def _data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


def _commit(ref: str, mark: int, when: int, message: str, parents: list[int], changes: list[str]) -> str:
    lines = [f"commit {ref}", f"mark :{mark}", f"author Dev{mark % 7} <dev{mark % 7}@example.com> {when} +0000",
             f"committer Dev <dev@example.com> {when} +0000", _data(message).rstrip("\n")]
    if parents:
        lines.append(f"from :{parents[0]}")
    lines += [f"merge :{p}" for p in parents[1:]]
    return "\n".join([*lines, *changes, ""]) + "\n"


def _file(path: str, text: str) -> str:
    return f"M 644 inline {path}\n" + _data(text).rstrip("\n")


def _filler(count: int) -> Iterator[str]:
    for index in range(count):
        yield _file(f"src/synthetic/p{index // 1000:03d}/m{index // 100 % 10}/f{index}.py", f"VALUE = {index}\n")


def stream(files: int, commits: int) -> Iterator[str]:
    """The fast-import stream, piece by piece (100,000 files need not sit in memory as one string)."""
    step = 86400 // COMMITS_PER_DAY
    when = END - commits * step
    first = [_file(path, text) for path, text in PROJECT.items()]
    yield _commit("refs/heads/main", 1, when, "Initial import", [], [*first, *_filler(max(0, files - len(PROJECT)))])
    main, mark, change, next_tag, release = 1, 1, 0, when + 14 * 86400, 0
    while mark < commits:
        change += 1
        when += step
        edit = [_file("src/synthetic/changes.py", f"CHANGE = {change}\n")]
        if change % 10 == 0 and mark + 2 <= commits:  # a pull request: topic commit, then its merge
            when += step
            yield _commit("refs/heads/topic", mark + 1, when - step // 2, f"ABC-{change}: feature", [main], edit)
            message = f"Merge pull request #{change} from org/feature-{change}\n\nFeature {change}"
            yield _commit("refs/heads/main", mark + 2, when, message, [main, mark + 1], [])
            mark += 2
        else:
            mark += 1
            yield _commit("refs/heads/main", mark, when, f"Change {change} (#{change})", [main], edit)
        main = mark
        if when >= next_tag:
            release += 1
            yield (f"tag v1.{release}.0\nfrom :{main}\ntagger Dev <dev@example.com> {when + 600} +0000\n"
                   + _data(f"Release 1.{release}.0"))
            next_tag += 14 * 86400


def build(path: Path, files: int, commits: int) -> None:
    """Create the repository at `path` (which must not exist), checked out on `main`."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=ENV)
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE, env=ENV)
    assert importer.stdin is not None
    for piece in stream(files, commits):
        importer.stdin.write(piece.encode())
    importer.stdin.close()
    if importer.wait() != 0:
        raise RuntimeError(f"git fast-import failed for {path}")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True, env=ENV)
    subprocess.run(["git", "branch", "-q", "-D", "topic"], cwd=path, check=True, env=ENV)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=1000)
    args = parser.parse_args()
    build(args.dest, args.files, args.commits)


if __name__ == "__main__":
    main()
