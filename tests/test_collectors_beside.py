"""Collectors that mostly wait for git (`BESIDE`: the history) run in a thread beside the others: the scan
sees the same evidence, in the same order, and a crash in that thread is still contained."""

from __future__ import annotations

from conftest import git
from helpers import write

from devops_audit import collectors
from devops_audit.collectors import COLLECTORS, CollectOptions, collect_all
from devops_audit.collectors.history import history
from devops_audit.workspace import Workspace


def _repository(root):
    write(root, {".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                 "    steps:\n      - run: pytest\n", "pyproject.toml": "[project]\nname = 'x'\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    for number in range(3):
        git(root, "commit", "-q", "--allow-empty", "-m", f"fix: change {number} (#{number + 1})")
    git(root, "tag", "v1.0.0")
    return root


def test_the_history_runs_beside_and_gives_what_it_gives_alone(tmp_path, monkeypatch):
    root = _repository(tmp_path / "repo")
    assert "history" in collectors.BESIDE
    clock = {"history_now": "2026-12-01T12:00:00Z"}  # both runs on one clock: `now` is in the facts
    beside = collect_all(Workspace(root), CollectOptions(settings=clock))
    monkeypatch.setattr(collectors, "BESIDE", frozenset())
    alone = collect_all(Workspace(root), CollectOptions(settings=clock))
    assert list(beside) == list(alone) == [name for name in COLLECTORS if name in alone]  # the usual order
    assert beside["history"].present and beside["history"].facts["commit_count"] == 3
    assert beside["history"].facts == alone["history"].facts
    assert beside["ci"].facts == alone["ci"].facts


def test_a_crash_of_the_history_beside_the_others_is_its_own_error(tmp_path, monkeypatch):
    root = _repository(tmp_path / "repo")

    def broken(workspace):
        raise RuntimeError("a bug in the history collector")

    monkeypatch.setattr(history, "_read_refs", broken)
    evidence = collect_all(Workspace(root), CollectOptions())
    assert not evidence["history"].present
    (entry,) = evidence["history"].inventory
    assert entry.status == "error" and entry.reason == "collector crashed: RuntimeError: a bug in the history collector"
    assert evidence["ci"].present and evidence["files"].present  # the others are intact
    assert list(evidence) == [name for name in COLLECTORS if name in evidence]
