"""A fleet tries again only what can heal: the network, a server, a lock. The rest fails at the first try."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, make_git_repo

from devops_audit.errors import ConfigError
from devops_audit.fleet import executors
from devops_audit.fleet.clone import CloneError, CloneSettings
from devops_audit.fleet.executors import is_transient
from devops_audit.fleet.run import FleetOptions, run_fleet
from devops_audit.fleet.sources import read_repo_list
from devops_audit.scan import ScanOptions


def _fleet(tmp_path: Path, lines: list[str]) -> dict[str, dict]:
    listing = tmp_path / "repos.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = FleetOptions(jobs=1, clone=CloneSettings(cache_dir=str(tmp_path / "cache")),
                           store=str(tmp_path / "fleet.db"), output=str(tmp_path / "out.jsonl"), attempts=3,
                           backoff=0.01, progress=False)
    run_fleet(read_repo_list(listing), ScanOptions(), options)
    lines_out = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    return {d["repository"]: d for d in map(json.loads, lines_out)}


def test_a_missing_folder_or_repository_fails_once_while_a_refused_connection_is_tried_again(tmp_path):
    good = make_git_repo(FIXTURES / "coverage" / "python-pass", tmp_path / "good")
    missing_folder = tmp_path / "no-such-folder"
    missing_repo = f"file://{tmp_path}/missing.git"
    refused = "http://127.0.0.1:9/org/repo.git"  # nothing listens on the discard port: connection refused
    out = _fleet(tmp_path, [str(good), str(missing_folder), missing_repo, refused])
    assert out[str(good)]["status"] == "scanned"
    assert out[str(missing_folder)]["attempts"] == 1 and "no such directory" in out[str(missing_folder)]["error"]
    assert out[missing_repo]["attempts"] == 1 and "does not appear to be a git repository" in out[missing_repo]["error"]
    assert out[refused]["status"] == "failed" and out[refused]["attempts"] == 3
    assert "connect" in out[refused]["error"].lower()


def test_a_scan_that_crashes_on_a_repository_is_not_scanned_three_times(tmp_path, monkeypatch):
    repo = make_git_repo(FIXTURES / "coverage" / "python-pass", tmp_path / "repo")
    calls: list[str] = []

    def crash(target, options):
        calls.append(str(target))
        raise ValueError("unexpected shape in coverage.xml")

    monkeypatch.setattr("devops_audit.scan.run_scan", crash)
    out = _fleet(tmp_path, [str(repo)])
    assert out[str(repo)]["status"] == "failed" and out[str(repo)]["attempts"] == 1
    assert calls == [str(repo)]


def test_a_lock_held_by_another_git_heals_and_the_second_try_scans(tmp_path, monkeypatch):
    repo = make_git_repo(FIXTURES / "coverage" / "python-pass", tmp_path / "repo")
    real_prepare = executors.prepare
    tries: list[int] = []

    def locked_once(spec, settings):
        tries.append(1)
        if len(tries) == 1:
            raise CloneError(f"git fetch: fatal: Unable to create '{repo}/.git/index.lock': File exists.")
        return real_prepare(spec, settings)

    monkeypatch.setattr(executors, "prepare", locked_once)
    out = _fleet(tmp_path, [str(repo)])
    assert out[str(repo)]["status"] == "scanned" and len(tries) == 2


@pytest.mark.parametrize(("error", "transient"), [
    (CloneError("git clone: fatal: unable to access 'https://github.com/o/r.git/': Could not resolve host: github.com"), True),
    (CloneError("git fetch: fatal: unable to access 'https://gitlab.example/o/r.git/': Failed to connect to "
                "gitlab.example port 443 after 130 ms: Connection refused"), True),
    (CloneError("git clone: fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned "
                "error: 503"), True),
    (CloneError("git clone: error: RPC failed; curl 92 HTTP/2 stream 5 was not closed cleanly"), True),
    (CloneError("git fetch: fatal: the remote end hung up unexpectedly"), True),
    (CloneError("git clone: timed out after 600 s"), True),
    (CloneError("git clone: fatal: repository 'https://github.com/o/gone.git/' not found"), False),
    (CloneError("git clone: fatal: Authentication failed for 'https://github.com/o/private.git/'"), False),
    (CloneError("git clone: fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned "
                "error: 403"), False),
    (CloneError("/srv/repos/app: no such directory"), False),
    (CloneError("git clone: fatal: Remote branch release-9 not found in upstream origin"), False),
    (ConfigError(".devops-audit.yml:3: unknown key 'targte'"), False),
    (ValueError("could not convert string to float: 'n/a'"), False),
    (ConnectionResetError("connection reset by peer"), True),
])
def test_what_counts_as_transient(error, transient):
    assert is_transient(error) is transient
