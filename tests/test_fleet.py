"""`devops-audit fleet scan` / `fleet report`: mixed sources, failures, cache, resume, store history."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from conftest import FIXTURES, git, make_git_repo

from devops_audit.cli import main
from devops_audit.fleet.clone import CloneSettings, prepare
from devops_audit.fleet.run import FleetOptions, run_fleet
from devops_audit.fleet.sources import RepoSpec, read_repo_list
from devops_audit.fleet.store import open_store
from devops_audit.scan import ScanOptions, run_scan

SOURCES = [FIXTURES / "pipelines" / "gitlab-full", FIXTURES / "coverage" / "python-pass",
           FIXTURES / "pipelines" / "jenkins-declarative", FIXTURES / "coverage" / "js-fail"]


@pytest.fixture
def fleet(tmp_path: Path) -> dict[str, Path]:
    """Two local git repositories, two bare-ish origins reached by file:// URLs, a list file."""
    local_a = make_git_repo(SOURCES[0], tmp_path / "local" / "a")
    local_b = make_git_repo(SOURCES[1], tmp_path / "local" / "b")
    origin_c = make_git_repo(SOURCES[2], tmp_path / "origins" / "c")
    origin_d = make_git_repo(SOURCES[3], tmp_path / "origins" / "d")
    listing = tmp_path / "repos.txt"
    listing.write_text(
        "# the fleet\n"
        "local/a\n"
        f"{local_b}   # absolute path\n"
        f"file://{origin_c}\n"
        f"file://{origin_d}#main\n"
        "\n", encoding="utf-8")
    return {"list": listing, "a": local_a, "b": local_b, "c": origin_c, "d": origin_d, "root": tmp_path}


def _options(root: Path, **overrides) -> FleetOptions:
    values = {"jobs": 1, "clone": CloneSettings(cache_dir=str(root / "cache")), "store": str(root / "fleet.db"),
              "output": str(root / "out.jsonl"), "attempts": 2, "backoff": 0.01, "progress": False}
    return FleetOptions(**{**values, **overrides})


def _raise_cd_level(repo: Path) -> tuple[int, int]:
    """Commit a `.devops-audit.yml` that disables whatever blocks the next CD level; (level before, after)."""
    disabled: list[str] = []
    start = None
    for _ in range(4):
        cd = next(a for a in run_scan(repo).areas if a.id == "CD")
        start = cd.level if start is None else start
        if cd.level > start:
            return start, cd.level
        disabled += [v.indicator.id for v in cd.blocking]
        (repo / ".devops-audit.yml").write_text("disable:\n" + "".join(f"  - {i}\n" for i in disabled), encoding="utf-8")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "Adopt a devops-audit config (#2)")
    raise AssertionError("could not raise the CD level by disabling its blocking indicators")


def _lines(path: Path) -> dict[str, dict]:
    return {d["repository"]: d for d in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_list_file_reads_paths_urls_branches_and_comments(fleet):
    specs = read_repo_list(fleet["list"])
    assert [(s.is_local, s.branch) for s in specs] == [(True, None), (True, None), (False, None), (False, "main")]
    assert specs[0].path == str(fleet["a"])  # relative to the list file
    assert specs[3].repository == f"file://{fleet['d']}#main"


def test_mixed_local_paths_and_git_urls_are_scanned_and_streamed(fleet, tmp_path):
    summary = run_fleet(read_repo_list(fleet["list"]), ScanOptions(), _options(tmp_path))
    assert (summary.total, summary.scanned, summary.cached, summary.failed) == (4, 4, 0, 0)
    lines = _lines(tmp_path / "out.jsonl")
    assert set(lines) == {str(fleet["a"]), str(fleet["b"]), f"file://{fleet['c']}", f"file://{fleet['d']}#main"}
    cloned = lines[f"file://{fleet['c']}"]
    assert cloned["status"] == "scanned"
    assert cloned["target"]["path"].startswith(str(tmp_path / "cache"))  # cloned into the cache ...
    assert cloned["target"]["commit"] == git(fleet["c"], "rev-parse", "HEAD").strip()
    assert lines[str(fleet["a"])]["target"]["path"] == str(fleet["a"])  # ... local paths scanned in place
    assert {"areas", "gate", "indicators", "policy_digest"} <= set(lines[str(fleet["b"])])


def test_a_failing_repository_is_recorded_with_its_error_and_not_retried(fleet, tmp_path):
    listing = tmp_path / "bad.txt"
    listing.write_text(f"file://{tmp_path}/missing.git\nlocal/a\n", encoding="utf-8")
    summary = run_fleet(read_repo_list(listing), ScanOptions(), _options(tmp_path, attempts=3))
    assert (summary.scanned, summary.failed) == (1, 1)
    assert summary.failures[0][0] == f"file://{tmp_path}/missing.git"
    assert "does not appear to be a git repository" in summary.failures[0][1]
    failed = _lines(tmp_path / "out.jsonl")[f"file://{tmp_path}/missing.git"]
    assert failed["status"] == "failed" and failed["attempts"] == 1 and "git clone" in failed["error"]  # cannot heal


def test_unchanged_repositories_are_cached_and_force_scans_again(fleet, tmp_path):
    specs = read_repo_list(fleet["list"])
    run_fleet(specs, ScanOptions(), _options(tmp_path))
    second = run_fleet(specs, ScanOptions(), _options(tmp_path, jobs=2))
    assert (second.scanned, second.cached) == (0, 4)
    cached = _lines(tmp_path / "out.jsonl")[f"file://{fleet['c']}"]
    assert cached["status"] == "cached" and cached["indicators"]  # the stored report, streamed again
    forced = run_fleet(specs, ScanOptions(), _options(tmp_path, force=True))
    assert (forced.scanned, forced.cached) == (4, 0)


def test_a_cached_line_is_the_scanned_line_read_back_from_the_store_whatever_its_zlib_level(fleet, tmp_path):
    import sqlite3
    import zlib

    specs = read_repo_list(fleet["list"])
    run_fleet(specs, ScanOptions(), _options(tmp_path))
    scanned = _lines(tmp_path / "out.jsonl")
    with sqlite3.connect(tmp_path / "fleet.db") as db:  # as an older devops-audit stored them: level 6
        for scan_id, report in db.execute("SELECT scan_id, report FROM fleet_scans").fetchall():
            db.execute("UPDATE fleet_scans SET report = ? WHERE scan_id = ?",
                       (zlib.compress(zlib.decompress(report), 6), scan_id))
    run_fleet(specs, ScanOptions(), _options(tmp_path))
    cached = _lines(tmp_path / "out.jsonl")
    assert {r: d["status"] for r, d in cached.items()} == dict.fromkeys(scanned, "cached")
    assert {r: {**d, "status": "scanned"} for r, d in cached.items()} == scanned


def test_a_new_commit_or_a_dirty_tree_is_scanned_again(fleet, tmp_path):
    specs = read_repo_list(fleet["list"])
    run_fleet(specs, ScanOptions(), _options(tmp_path))
    (fleet["c"] / "CHANGELOG.md").write_text("# 1.1\n", encoding="utf-8")
    git(fleet["c"], "add", "-A")
    git(fleet["c"], "commit", "-q", "-m", "Release 1.1")
    (fleet["a"] / "coverage.xml").write_text("<coverage/>", encoding="utf-8")  # untracked: a CI step wrote it
    seen: list[tuple[str, str]] = []
    run_fleet(specs, ScanOptions(), _options(tmp_path), on_result=lambda o: seen.append((o.repository, o.status)))
    assert dict(seen) == {str(fleet["a"]): "scanned", str(fleet["b"]): "cached",
                          f"file://{fleet['c']}": "scanned", f"file://{fleet['d']}#main": "cached"}
    commit = _lines(tmp_path / "out.jsonl")[f"file://{fleet['c']}"]["target"]["commit"]
    assert commit == git(fleet["c"], "rev-parse", "HEAD").strip()


def test_an_interrupted_run_resumes_with_the_remaining_repositories(fleet, tmp_path):
    specs = read_repo_list(fleet["list"])
    first: list[str] = []

    def interrupt_after_two(outcome):
        first.append(outcome.repository)
        if len(first) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_fleet(specs, ScanOptions(), _options(tmp_path), on_result=interrupt_after_two)
    store = open_store(str(tmp_path / "fleet.db"))
    (interrupted,) = store.runs()
    assert interrupted["state"] == "interrupted"
    store.close()
    second: list[str] = []
    summary = run_fleet(specs, ScanOptions(), _options(tmp_path, resume="latest"),
                        on_result=lambda o: second.append(o.repository))
    assert sorted(second) == sorted(s.repository for s in specs if s.repository not in first)
    assert (summary.run_id, summary.skipped, summary.scanned, summary.failed) == (interrupted["run_id"], 2, 4, 0)
    assert set(_lines(tmp_path / "out.jsonl")) == {s.repository for s in specs}  # appended, not rewritten


def test_two_runs_form_a_history_and_the_report_shows_the_trend(fleet, tmp_path):
    specs = read_repo_list(fleet["list"])
    run_fleet(specs, ScanOptions(), _options(tmp_path))
    level_before, level_after = _raise_cd_level(fleet["c"])
    run_fleet(specs, ScanOptions(), _options(tmp_path))
    assert main(["fleet", "report", "--store", str(tmp_path / "fleet.db"), "-f", "json",
                 "-o", str(tmp_path / "report.json")]) == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [(h["scanned"], h["cached"]) for h in report["history"]] == [(4, 0), (1, 3)]
    assert report["trend"]["improved"] == 1 and report["trend"]["unchanged"] == 3
    assert report["trend"]["changes"][0] == {"repository": f"file://{fleet['c']}", "area": "CD",
                                             "from": level_before, "to": level_after}
    assert sum(report["distribution"]["CD"].values()) == 4
    assert report["top_failing"][0]["count"] <= 4
    assert main(["fleet", "report", "--store", str(tmp_path / "fleet.db"), "-f", "csv",
                 "-o", str(tmp_path / "report.csv")]) == 0
    rows = {r["repository"]: r for r in csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text()))}
    assert rows[f"file://{fleet['c']}"]["CD_change"] == str(level_after - level_before)
    assert rows[f"file://{fleet['c']}"]["CD_level"] == str(level_after)


def test_cli_fleet_scan_summary_and_exit_codes(fleet, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["fleet", "scan", "--repos", str(fleet["list"]), "--cache-dir", str(tmp_path / "c"), "--jobs", "2",
            "--progress", "lines"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "4 repositories: 4 scanned, 0 cached, 0 failed" in captured.out
    assert captured.err.count("] scanned ") == 4
    assert (tmp_path / "devops-audit-fleet.db").is_file()  # default store: the current folder
    assert (tmp_path / "c" / "repos").is_dir()  # clones under --cache-dir/repos
    assert main([*args, "--fail-on-gate"]) == 1  # the fixtures do not reach the default targets
    assert "0 scanned, 4 cached" in capsys.readouterr().out


def test_cli_rejects_a_bad_store_url_and_an_unknown_run(tmp_path, capsys):
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{FIXTURES / 'coverage' / 'python-pass'}\n", encoding="utf-8")
    assert main(["fleet", "scan", "--repos", str(listing), "--store", "mysql://x/y"]) == 2
    assert main(["fleet", "report", "--store", str(tmp_path / "missing.db")]) == 3
    assert "missing.db: no results store there" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()  # reporting never creates an empty store
    from devops_audit.fleet.store import open_store

    open_store(str(tmp_path / "empty.db")).close()
    assert main(["fleet", "report", "--store", str(tmp_path / "empty.db")]) == 2
    assert "no finished fleet run" in capsys.readouterr().err


def _local_state(repo: Path, state: str) -> None:
    """Put a local repository (one commit on `main`, `.gitignore` ignoring `*.log`) in `state`."""
    changes = {
        "clean": lambda: None,
        "ignored file": lambda: (repo / "debug.log").write_text("x\n"),
        "untracked file": lambda: (repo / "coverage.xml").write_text("<coverage/>"),
        "modified file": lambda: (repo / "README.md").write_text("changed\n"),
        "staged file": lambda: ((repo / "NEW.md").write_text("new\n"), git(repo, "add", "NEW.md")),
        "deleted file": lambda: (repo / "README.md").unlink(),
        "detached clean": lambda: git(repo, "checkout", "-q", "--detach"),
        "detached modified": lambda: (git(repo, "checkout", "-q", "--detach"),
                                      (repo / "README.md").write_text("changed\n")),
        "behind its upstream": lambda: (git(repo, "branch", "-q", "up"), git(repo, "commit", "-q", "--allow-empty",
                                        "-m", "ahead"), git(repo, "branch", "-q", "--set-upstream-to=up")),
    }
    changes[state]()


@pytest.mark.parametrize("state, cacheable", [
    ("clean", True), ("ignored file", True), ("untracked file", False), ("modified file", False),
    ("staged file", False), ("deleted file", False), ("detached clean", True), ("detached modified", False),
    ("behind its upstream", True)])
def test_a_local_repository_is_cacheable_only_when_clean(tmp_path, state, cacheable):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("# r\n")
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial import (#1)")
    _local_state(repo, state)

    checkout = prepare(RepoSpec(repository=str(repo), path=str(repo)), CloneSettings(cache_dir=str(tmp_path / "c")))

    assert (checkout.commit, checkout.cacheable) == (git(repo, "rev-parse", "HEAD").strip(), cacheable)


@pytest.mark.parametrize("untracked", [False, True])
def test_a_local_repository_without_a_commit_or_git_is_never_cacheable(tmp_path, untracked):
    unborn, plain, broken = tmp_path / "unborn", tmp_path / "plain", tmp_path / "broken"
    for folder in (unborn, plain, broken):
        folder.mkdir()
        if untracked:
            (folder / "README.md").write_text("# r\n")
    git(unborn, "init", "-q", "-b", "main")
    (broken / ".git").write_text("gitdir: /nonexistent\n")
    settings = CloneSettings(cache_dir=str(tmp_path / "c"))

    for folder in (unborn, plain, broken):
        checkout = prepare(RepoSpec(repository=str(folder), path=str(folder)), settings)
        assert (checkout.path, checkout.commit, checkout.cacheable) == (str(folder), None, False)
