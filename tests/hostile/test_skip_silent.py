"""Issue 13 class 8 and issue 11 item 6: nothing is skipped silently.

A checkout without an index, a bare repository, a FIFO, a device or a folder where a tracked file should be,
a tracked file missing from the folder, a folder that cannot be listed: each is read another way (HEAD's
tree) or named in the inventory with its reason, and never turns into "no CI configuration found".

Tests run as root, for whom `chmod 000` does not make anything unreadable: unreadable paths are simulated at
the operating-system boundary (`os.scandir` / `os.open` raising PermissionError) or with objects that fail
for root too (FIFOs, devices, folders where a file is expected, missing objects).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import FIXTURES, git
from helpers import scan_dict
from hostile_repos import example_repo, inventory, scan_cli, statuses

WORKFLOW = ".github/workflows/ci.yml"


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    repo = example_repo(tmp_path_factory.mktemp("clean") / "repo")
    code, _, _, report = scan_cli(repo)
    return code, statuses(report)


def test_checkout_without_index_is_read_from_head(tmp_path, clean):
    repo = example_repo(tmp_path / "repo")
    (repo / ".git" / "index").unlink()
    for child in repo.iterdir():  # `git clone --no-checkout` leaves nothing but .git
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()

    code, _, _, report = scan_cli(repo)

    assert (code, statuses(report)) == clean
    [entry] = [e for e in inventory(report, ".git") if e["evidence"] == "repo"]
    assert "no index" in entry["reason"] and "read from HEAD's tree" in entry["reason"]


def test_bare_repository_is_read_from_head(tmp_path, clean):
    repo = example_repo(tmp_path / "repo")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))

    code, _, _, report = scan_cli(bare)

    assert (code, statuses(report)) == clean
    assert report["target"]["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert "a bare repository" in next(e["reason"] for e in inventory(report, ".git") if e["evidence"] == "repo")


def test_broken_checkout_is_a_plain_refusal(tmp_path):
    repo = example_repo(tmp_path / "repo")
    (repo / ".git" / "index").unlink()
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    (repo / ".git" / "objects" / tree[:2] / tree[2:]).unlink()  # HEAD's tree is gone

    code, out, err, report = scan_cli(repo)

    assert code == 3 and report is None
    assert len(err.strip().splitlines()) == 1 and "broken git checkout" in err


@pytest.mark.parametrize("make, words", [
    (os.mkfifo, "a FIFO"),
    (os.mkdir, "a folder"),
])
def test_tracked_file_replaced_by_something_unreadable_is_an_error_entry(tmp_path, make, words):
    repo = example_repo(tmp_path / "repo")
    (repo / WORKFLOW).unlink()
    make(repo / WORKFLOW)

    code, out, _, report = scan_cli(repo)  # a FIFO must not hang the scan

    [entry] = inventory(report, WORKFLOW)
    assert entry["status"] == "error" and words in entry["reason"] and entry["evidence"] == "ci"
    assert code in (0, 1) and "No CI configuration" not in out


def test_config_that_is_a_device_is_refused(tmp_path):
    repo = example_repo(tmp_path / "repo")
    try:
        os.mknod(repo / ".devops-audit.yml", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: never ends
    except PermissionError:
        pytest.skip("no CAP_MKNOD here")

    code, _, err, _ = scan_cli(repo)

    assert code == 3 and "a character device" in err and len(err.strip().splitlines()) == 1


def test_tracked_file_missing_from_the_folder_is_named(tmp_path):
    repo = example_repo(tmp_path / "repo")
    (repo / "Dockerfile").unlink()

    report = scan_dict(repo)

    [entry] = inventory(report, "Dockerfile")
    assert entry["status"] == "skipped" and "missing from the working folder" in entry["reason"]


def test_unlistable_folder_is_an_error_entry(tmp_path, monkeypatch):
    folder = tmp_path / "plain"
    shutil.copytree(FIXTURES / "example", folder)  # not git: the folder is walked
    real_scandir = os.scandir

    def scandir(path=".", *args):
        if Path(path) == folder / "tests":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path, *args)

    monkeypatch.setattr(os, "scandir", scandir)

    report = scan_dict(folder)

    [entry] = inventory(report, "tests")
    assert entry["status"] == "error" and "cannot be listed (Permission denied)" in entry["reason"]
    assert entry["evidence"] == "files"  # the file list is incomplete: indicators on files hear about it


def test_unreadable_tracked_file_is_an_error_entry(tmp_path, monkeypatch):
    repo = example_repo(tmp_path / "repo")
    real_open = os.open

    def guarded_open(path, flags, *args, **kwargs):
        if str(path).endswith(WORKFLOW):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)

    report = scan_dict(repo)

    [entry] = inventory(report, WORKFLOW)
    assert entry["status"] == "error" and "Permission denied" in entry["reason"]


def test_repository_without_commits_says_so(tmp_path):
    folder = tmp_path / "fresh"
    shutil.copytree(FIXTURES / "example", folder)
    git(folder, "init", "-q", "-b", "main")

    report = scan_dict(folder)

    assert any("no commit and nothing staged" in e["reason"] for e in inventory(report, ".git"))
