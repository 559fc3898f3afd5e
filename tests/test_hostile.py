"""Hostile repositories: each bad file is an `error` inventory entry naming it; the scan completes and
every verdict that did not depend on the bad file is unchanged."""

from __future__ import annotations

import os

import pytest
from conftest import git, make_git_repo
from helpers import FIXTURES, scan_dict, verdicts, write

BOMB = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))

HOSTILE = {
    "bomb.yml": ("alias", lambda path: path.write_text("on: push\njobs:\n  x:\n    steps: *i\n" + BOMB)),
    "passwd.yml": ("outside the repository", lambda path: os.symlink("/etc/passwd", path)),
    "huge.yml": ("MiB limit", lambda path: path.write_bytes(b"# padding\n" * (5 * 1024 * 1024 + 10))),
    "latin1.yml": ("not valid UTF-8", lambda path: path.write_bytes("on: push\nname: caf\xe9\n".encode("latin-1"))),
    "list.yml": ("must be a mapping", lambda path: path.write_text("- on: push\n- jobs: {}\n")),
}


@pytest.fixture(scope="module")
def clean_and_hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    clean = make_git_repo(FIXTURES / "example", base / "clean")
    hostile = make_git_repo(FIXTURES / "example", base / "hostile")
    for name, (_, create) in HOSTILE.items():
        create(hostile / ".github" / "workflows" / name)
    git(hostile, "add", "-A")
    git(hostile, "commit", "-q", "-m", "Add hostile workflows (#2)")
    return scan_dict(clean), scan_dict(hostile)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_file_is_an_error_entry_naming_it(clean_and_hostile, name):
    _, report = clean_and_hostile
    entries = [e for e in report["inventory"] if e["path"] == f".github/workflows/{name}"]
    assert len(entries) == 1, entries
    assert entries[0]["status"] == "error"
    assert HOSTILE[name][0] in entries[0]["reason"]


def test_symlink_target_content_never_reaches_the_report(clean_and_hostile):
    _, report = clean_and_hostile
    import json

    assert "root:x:0:0" not in json.dumps(report)


def test_other_verdicts_are_intact(clean_and_hostile):
    clean, hostile = (verdicts(r) for r in clean_and_hostile)
    assert clean.keys() == hostile.keys()
    for indicator_id, before in clean.items():
        after = hostile[indicator_id]
        if "ci" not in after["evidence"]["namespaces"]:
            assert after["status"] == before["status"], indicator_id
        elif after["status"] != before["status"]:
            # a pass that relied on the pipelines can no longer be confirmed: it says which files failed
            assert (before["status"], after["status"]) == ("pass", "error"), indicator_id
            assert ".github/workflows/" in after["message"]


def test_pipeline_verdicts_name_the_unreadable_files(clean_and_hostile):
    _, hostile = clean_and_hostile
    bp01 = verdicts(hostile)["CD.BP.01"]
    unreadable = {e["path"] for e in bp01["evidence"]["unreadable"]}
    assert {f".github/workflows/{n}" for n in HOSTILE} <= unreadable


def test_a_tracked_symlink_outside_is_refused_in_a_plain_folder_too(tmp_path):
    write(tmp_path, {"pyproject.toml": "[project]\nname='x'\n"})
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    os.symlink("/etc/passwd", tmp_path / ".github" / "workflows" / "ci.yml")
    report = scan_dict(tmp_path)
    (entry,) = [e for e in report["inventory"] if e["path"] == ".github/workflows/ci.yml"]
    assert entry["status"] == "error" and "outside the repository" in entry["reason"]
