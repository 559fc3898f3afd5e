"""The opt-in `history_timeline`: every default-branch change with its merged branch, size and lead time."""

from __future__ import annotations

from conftest import git
from test_history import Repo, facts_of


def _file(repo: Repo, name: str, message: str, day: float) -> None:
    (repo.path / name).write_text(f"{name}\n", encoding="utf-8")
    git(repo.path, "add", name)
    repo.run("commit", "-q", "-m", message, day=day)


def test_timeline_lists_merges_with_their_branch_size_and_lead_time(tmp_path):
    repo = Repo(tmp_path / "repo")
    _file(repo, "README.md", "Initial import", day=0)
    git(repo.path, "checkout", "-q", "-b", "feature/login")
    _file(repo, "login.py", "Add login (#12)", day=1)
    _file(repo, "test_login.py", "Test login", day=2)
    git(repo.path, "checkout", "-q", "main")
    repo.run("merge", "-q", "--no-ff", "feature/login", "-m",
             "Merge pull request #12 from acme/feature/login", day=3)
    _file(repo, "CHANGES.md", "Changelog", day=4)

    assert facts_of(repo.path)["timeline"] is None  # only on request
    timeline = facts_of(repo.path, history_timeline=True)["timeline"]
    assert [c["subject"] for c in timeline] == ["Changelog", "Merge pull request #12 from acme/feature/login",
                                                "Initial import"]
    merge = timeline[1]
    assert merge["merge"] and merge["pr"] == "12" and merge["branch"] == "feature/login"
    assert merge["branch_commits"] == 2 and merge["files"] == 2 and merge["insertions"] == 2
    assert merge["lead_hours"] == 48.0  # first branch commit (day 1) to the merge (day 3)
    direct = timeline[0]
    assert not direct["merge"] and direct["branch_commits"] == 0 and direct["files"] == 1
    assert direct["lead_hours"] == 0.0


def test_sizes_stay_unknown_when_git_cannot_diff_and_the_history_survives(tmp_path):
    import shutil

    repo = Repo(tmp_path / "repo")
    _file(repo, "README.md", "Initial import", day=0)
    _file(repo, "app.py", "Add app (#3)", day=1)
    blob = git(repo.path, "rev-parse", "HEAD:app.py").strip()
    shutil.rmtree(repo.path / ".git" / "objects" / blob[:2])  # as in a partial clone without that blob
    facts = facts_of(repo.path, history_timeline=True)
    assert facts["commit_count"] == 2
    assert [c["files"] for c in facts["timeline"]] == [None, None]
