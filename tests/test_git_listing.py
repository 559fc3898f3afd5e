"""The tracked-file list of a git checkout (`Workspace.files` from `git ls-files -z -s -t -d`): plain files,
executables, files missing from the folder, symlinked folders, submodule entries and merge conflicts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from devops_audit.workspace import Workspace

ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "a",
       "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}


def git(cwd: Path, *args: str, check: bool = True) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=ENV, check=check, capture_output=True)


def test_each_kind_of_index_entry(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "README.md").write_text("hi\n")
    (repo / "run.sh").write_text("#!/bin/sh\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "gone.txt").write_text("x\n")
    (repo / "docs" / "a b\tc.md").write_text("tab and space\n")
    (repo / "linked").symlink_to("docs")
    (repo / "file-link").symlink_to("README.md")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},vendor/sub")
    git(repo, "commit", "-q", "-m", "init")
    (repo / "gone.txt").unlink()

    workspace = Workspace(repo)

    assert workspace.files == ["README.md", "docs/a b\tc.md", "file-link", "run.sh"]
    reasons = {p.path: p.reason for p in workspace.problems}
    assert "missing from the working folder" in reasons["gone.txt"]
    assert "a symlink to a folder" in reasons["linked"]
    assert "submodule" in reasons["vendor/sub"]


def test_a_merge_conflict_lists_the_path_once(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.txt").write_text("base\n")
    (repo / "b.txt").write_text("b\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.txt").write_text("other\n")
    git(repo, "commit", "-q", "-am", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text("main\n")
    git(repo, "commit", "-q", "-am", "main")
    git(repo, "merge", "-q", "other", check=False)
    unmerged = subprocess.run(["git", "ls-files", "-u"], cwd=repo, env=ENV, capture_output=True, text=True).stdout
    assert len(unmerged.splitlines()) == 3  # a.txt at stages 1, 2 and 3

    assert Workspace(repo).files == ["a.txt", "b.txt"]
