"""The history collector's readers of git output: `--pretty=raw` records (headers read, continuation lines
skipped) and the refs (a remote HEAD's target dated without another git process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git

from devops_audit import workspace as workspace_module
from devops_audit.collectors import CollectOptions
from devops_audit.collectors.history.history import _parse_raw, collect
from devops_audit.workspace import Workspace

_MERGE = (
    "1111111111111111111111111111111111111111\n"
    "tree 2222222222222222222222222222222222222222\n"
    "parent 3333333333333333333333333333333333333333\n"
    "parent 4444444444444444444444444444444444444444\n"
    "author Ann Example <Ann@Example.org> 1700000000 +0130\n"
    "committer GitHub <noreply@github.com> 1700003600 -0800\n"
    "mergetag object 4444444444444444444444444444444444444444\n"
    " type commit\n"
    " author Not A Header <no@example.org> 1 +0000\n"
    " gpgsig inside a merged tag: not this commit's signature\n"
    "gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n"
    " \n"
    " parent 5555555555555555555555555555555555555555\n"
    " -----END PGP SIGNATURE-----\n"
    "\n"
    "    Merge pull request #12 from org/branch\n"
    "    \n"
    "    author a line of the message\n"
)


def test_a_signed_merge_reads_its_headers_and_skips_continuation_lines() -> None:
    commit = _parse_raw(_MERGE)
    assert commit.sha == "1111111111111111111111111111111111111111"
    assert commit.parents == ["3333333333333333333333333333333333333333", "4444444444444444444444444444444444444444"]
    assert (commit.author_email, commit.author_time, commit.author_offset) == ("ann@example.org", 1700000000.0, 90)
    assert (commit.commit_time, commit.commit_offset) == (1700003600.0, -480)
    assert commit.signed
    assert commit.record == _MERGE  # the message is read later, for default-branch commits only


def test_only_exact_signature_keys_count_and_odd_headers_read_as_empty() -> None:
    record = ("abc\n"
              "gpgsigx not a signature\n"
              "parent\n"
              "author broken\n"
              "committer Bob <bob@example.org> soon +99\n")  # no blank line: a record without a message
    commit = _parse_raw(record)
    assert commit.sha == "abc"
    assert not commit.signed
    assert commit.parents == [""]
    assert (commit.author_email, commit.author_time) == ("", 0.0)
    assert (commit.commit_time, commit.commit_offset) == (0.0, 0)


def test_a_default_branch_named_by_origin_head_is_dated_from_for_each_ref(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"GIT_AUTHOR_DATE": "2024-03-04T10:00:00+00:00", "GIT_COMMITTER_DATE": "2024-03-05T10:00:00+00:00"}
    git(tmp_path, "init", "-q", "-b", "trunk", "origin")
    git(tmp_path / "origin", "commit", "-q", "--allow-empty", "-m", "On trunk", env=env)
    git(tmp_path, "clone", "-q", str(tmp_path / "origin"), "clone")
    commands: list[str] = []
    run_git = workspace_module.run_git
    monkeypatch.setattr(workspace_module, "run_git", lambda args, **kw: commands.append(args[0]) or run_git(args, **kw))
    evidence = collect(Workspace(tmp_path / "clone"), CollectOptions(settings={"history_now": "2024-03-06T10:00:00Z"}))
    assert (evidence.facts["ref"], evidence.facts["window_end"]) == ("refs/remotes/origin/trunk", "2024-03-05T10:00:00Z")
    assert evidence.facts["idle_days"] == 1.0
    assert commands == ["for-each-ref", "log"]  # no `git log -1` for the tip's date
