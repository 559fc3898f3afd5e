"""Issue 11 item 6: git repositories as they come — shallow clones, linked worktrees, submodules, detached
HEADs and sparse checkouts are scanned, and the report says what the history window could not see."""

from __future__ import annotations

import pytest
from conftest import git
from hostile_repos import commit, example_repo, inventory, scan_cli, statuses


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The example repository with a few more commits, and its verdicts."""
    repo = example_repo(tmp_path_factory.mktemp("source") / "repo")
    for number in range(2, 6):
        commit(repo, {f"docs/note{number}.md": f"note {number}\n"}, f"Note {number} (#{number})")
    code, _, _, report = scan_cli(repo)
    return repo, code, statuses(report)


def history_entry(report: dict) -> dict:
    return next(e for e in inventory(report, ".git") if e["evidence"] == "history")


def test_shallow_clone_says_where_history_stops(source, tmp_path):
    repo, _, _ = source
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(shallow))

    code, _, _, report = scan_cli(shallow)

    entry = history_entry(report)
    assert entry["status"] == "parsed" and "shallow clone: history stops at" in entry["reason"]
    assert code in (0, 1)


def test_linked_worktree_is_its_repository(source, tmp_path):
    repo, code, clean = source
    worktree = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "--detach", str(worktree), "HEAD")
    try:
        found = scan_cli(worktree)
    finally:
        git(repo, "worktree", "remove", "--force", str(worktree))

    assert (found[0], statuses(found[3])) == (code, clean)
    assert found[3]["target"]["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert not [e for e in inventory(found[3], ".git") if e["status"] == "error"]


def test_submodule_is_named_and_scannable_on_its_own(source, tmp_path):
    repo, _, _ = source
    parent = example_repo(tmp_path / "parent")
    git(parent, "-c", "protocol.file.allow=always", "submodule", "add", "-q", f"file://{repo}", "vendored/lib")
    git(parent, "commit", "-q", "-m", "Add a submodule (#9)")

    _, _, _, report = scan_cli(parent)
    code, _, _, inner = scan_cli(parent / "vendored" / "lib")

    [entry] = inventory(report, "vendored/lib")
    assert entry["status"] == "skipped" and "submodule" in entry["reason"]
    assert code in (0, 1) and inner["target"]["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert not [e for e in inventory(inner, ".git") if e["status"] == "error"]  # .git file links back


def test_detached_head_keeps_the_default_branch_history(source, tmp_path):
    repo, code, clean = source
    detached = tmp_path / "detached"
    git(tmp_path, "clone", "-q", str(repo), str(detached))
    git(detached, "checkout", "-q", "--detach", "HEAD~1")

    found_code, _, _, report = scan_cli(detached)

    assert report["target"]["branch"] is None
    assert report["target"]["commit"] == git(repo, "rev-parse", "HEAD~1").strip()
    assert "commits on refs/remotes/origin/main" in history_entry(report)["reason"]


def test_sparse_checkout_reads_the_files_left_out(source, tmp_path):
    repo, code, clean = source
    sparse = tmp_path / "sparse"
    git(tmp_path, "clone", "-q", str(repo), str(sparse))
    git(sparse, "sparse-checkout", "set", "docs")
    assert not (sparse / ".github").exists()  # the workflows are not in the folder

    found_code, _, _, report = scan_cli(sparse)

    assert (found_code, statuses(report)) == (code, clean)
