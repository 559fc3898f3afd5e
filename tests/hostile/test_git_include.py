"""A repository's git configuration that includes a FIFO (or is one) would make every git command wait for
its time limit: the scan refuses that git directory at once, names why, and reads the files as a folder."""

from __future__ import annotations

import os
import time

from hostile_repos import example_repo, inventory, scan_cli, statuses


def _git_entry(report: dict) -> dict:
    return next(e for e in inventory(report, ".git") if e["status"] == "error")


def test_an_include_of_a_fifo_is_refused_without_waiting(tmp_path):
    repo = example_repo(tmp_path / "repo")
    fifo = tmp_path / "blocking-fifo"
    os.mkfifo(fifo)
    with open(repo / ".git" / "config", "a", encoding="utf-8") as config:
        config.write(f'[includeIf "gitdir:/"]\n\tpath = {fifo}\n')

    started = time.monotonic()
    code, out, err, report = scan_cli(repo)

    assert time.monotonic() - started < 60  # git would have waited 120 s per command
    assert code in (0, 1), err
    entry = _git_entry(report)
    assert "includes" in entry["reason"] and "a FIFO" in entry["reason"] and "refused" in entry["reason"]
    assert statuses(report)["CD.VC.01"] in ("fail", "error")  # its history is not read
    assert statuses(report)["CD.BP.01"] == "pass"  # the files are still read


def test_a_config_that_is_a_fifo_is_refused(tmp_path):
    repo = example_repo(tmp_path / "repo")
    config = repo / ".git" / "config"
    config.unlink()
    os.mkfifo(config)

    code, _, err, report = scan_cli(repo)

    assert code in (0, 1), err
    assert "git configuration config is a FIFO" in _git_entry(report)["reason"]


def test_a_missing_include_is_what_git_ignores_too(tmp_path):
    repo = example_repo(tmp_path / "repo")
    with open(repo / ".git" / "config", "a", encoding="utf-8") as config:
        config.write(f"[include]\n\tpath = {tmp_path / 'absent.inc'}\n")

    code, _, err, report = scan_cli(repo)

    assert code in (0, 1), err
    assert not [e for e in inventory(report, ".git") if e["status"] == "error"]
