"""The `history` collector on real git repositories built in tmp_path with controlled dates."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import git

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.history.history import collect
from devops_audit.collectors.history.metrics import has_issue_ref, is_hotfix_message, parse_version, pr_number
from devops_audit.workspace import Workspace

MONDAY = datetime(2024, 3, 4, tzinfo=UTC)


def when(day: float, hour: int = 10) -> str:
    return (MONDAY + timedelta(days=day, hours=hour)).isoformat()


class Repo:
    """A git repository whose commits carry chosen dates (days after Monday 2024-03-04)."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", branch)

    def run(self, *args: str, day: float = 0, hour: int = 10, email: str = "dev@example.com") -> str:
        env = {"GIT_AUTHOR_DATE": when(day, hour), "GIT_COMMITTER_DATE": when(day, hour), "GIT_AUTHOR_EMAIL": email}
        return git(self.path, *args, env=env)

    def commit(self, message: str, day: float, hour: int = 10, email: str = "dev@example.com") -> str:
        self.run("commit", "-q", "--allow-empty", "-m", message, day=day, hour=hour, email=email)
        return self.head()

    def head(self) -> str:
        return git(self.path, "rev-parse", "HEAD").strip()

    def branch(self, name: str, commits: list[tuple[str, float]], message: str, merge_day: float) -> None:
        """Commit on `name` from the current branch, then merge it back with --no-ff on `merge_day`."""
        base = git(self.path, "rev-parse", "--abbrev-ref", "HEAD").strip()
        git(self.path, "checkout", "-q", "-b", name)
        for text, day in commits:
            self.commit(text, day)
        git(self.path, "checkout", "-q", base)
        self.run("merge", "-q", "--no-ff", name, "-m", message, day=merge_day)

    def signed_commit(self, message: str, day: float) -> str:
        """A commit object with a `gpgsig` header (shape only; nothing verifies it), on top of HEAD."""
        tree = git(self.path, "rev-parse", "HEAD^{tree}").strip()
        stamp = int((MONDAY + timedelta(days=day, hours=10)).timestamp())
        raw = (f"tree {tree}\nparent {self.head()}\nauthor Dev <dev@example.com> {stamp} +0000\n"
               f"committer Dev <dev@example.com> {stamp} +0000\n"
               "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEexample\n -----END PGP SIGNATURE-----\n"
               f"\n{message}\n")
        sha = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=self.path, input=raw,
                             text=True, capture_output=True, check=True).stdout.strip()
        branch = git(self.path, "symbolic-ref", "HEAD").strip()
        git(self.path, "update-ref", branch, sha)
        return sha

    def tag(self, name: str, day: float | None = None, annotated: bool = False, ref: str = "HEAD") -> None:
        if annotated:
            self.run("tag", "-a", name, "-m", f"Release {name}", ref, day=day or 0)
        else:
            git(self.path, "tag", name, ref)


def scan(path: Path, **settings: object):
    return collect(Workspace(path), CollectOptions(settings=dict(settings)))


def facts_of(path: Path, **settings: object):
    evidence = scan(path, **settings)
    assert evidence.present, evidence.inventory
    return json.loads(json.dumps(evidence.facts))  # what policies and reports see: plain JSON data


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


# -- no usable history -------------------------------------------------------------------------------
def test_a_folder_without_git_has_no_history_and_says_how_to_get_it(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello\n")
    evidence = scan(tmp_path)
    assert not evidence.present
    assert "not a git repository" in evidence.hint and "fetch-depth: 0" in evidence.hint


def test_a_repository_without_commits_is_absent_with_a_reason(repo: Repo) -> None:
    evidence = scan(repo.path)
    assert not evidence.present
    assert evidence.hint == "the repository has no commits"
    assert [e.status for e in evidence.inventory] == ["skipped"]


def test_a_broken_git_folder_is_an_inventory_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    evidence = scan(tmp_path)
    assert not evidence.present
    assert evidence.errors and evidence.errors[0].reason.startswith("cannot read the git repository")


def test_an_unreadable_setting_is_an_inventory_error_not_a_crash(repo: Repo) -> None:
    repo.commit("Initial commit", 0)
    evidence = scan(repo.path, history_now="next tuesday")
    assert not evidence.present
    assert evidence.errors and "history_now" in evidence.errors[0].reason


# -- which branch --------------------------------------------------------------------------------------
def test_the_default_branch_is_what_origin_head_points_to(tmp_path: Path) -> None:
    origin = Repo(tmp_path / "origin", branch="trunk")
    origin.commit("On trunk", 0)
    git(origin.path, "checkout", "-q", "-b", "main")
    origin.commit("Only on a side branch called main", 1)
    git(origin.path, "checkout", "-q", "trunk")
    git(tmp_path, "clone", "-q", str(origin.path), "clone")
    git(tmp_path / "clone", "checkout", "-q", "main")
    facts = facts_of(tmp_path / "clone")
    assert (facts["default_branch"], facts["ref"], facts["branch_source"]) == ("trunk", "refs/remotes/origin/trunk", "origin/HEAD")
    assert facts["commit_count"] == 1


def test_without_a_remote_main_or_master_is_the_default_branch(repo: Repo) -> None:
    repo.commit("Initial commit", 0)
    git(repo.path, "checkout", "-q", "-b", "topic")
    repo.commit("Topic work", 1)
    facts = facts_of(repo.path)
    assert (facts["default_branch"], facts["ref"], facts["branch_source"]) == ("main", "refs/heads/main", "convention")
    assert facts["commit_count"] == 1


def test_a_detached_head_with_no_conventional_branch_reads_head_and_says_so(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo", branch="develop")
    first = repo.commit("First (#1)", 0)
    repo.commit("Second (#2)", 1)
    git(repo.path, "checkout", "-q", "--detach", first)
    facts = facts_of(repo.path)
    assert (facts["default_branch"], facts["ref"], facts["branch_source"]) == (None, "HEAD", "HEAD")
    assert facts["commit_count"] == 1


# -- the window ----------------------------------------------------------------------------------------
def test_the_window_counts_back_from_the_newest_commit_and_ignores_older_ones(repo: Repo) -> None:
    repo.commit("Ancient history", -200)
    repo.commit("Recent (#1)", 0)
    repo.commit("Newest (#2)", 10)
    facts = facts_of(repo.path, history_now="2025-01-01T00:00:00Z")
    assert facts["window_end"] == "2024-03-14T10:00:00Z"
    assert facts["window_start"] == "2023-12-15T10:00:00Z"
    assert facts["commit_count"] == 2
    assert facts["idle_days"] == pytest.approx(292.58, abs=0.01)
    assert facts["now"] == "2025-01-01T00:00:00Z"


def test_the_window_ends_at_the_newest_commit_even_when_the_tip_is_older(repo: Repo) -> None:
    repo.commit("Written on a good clock (#1)", 30)
    repo.commit("Written on a slow clock (#2)", 0)
    facts = facts_of(repo.path)
    assert facts["window_end"] == "2024-04-03T10:00:00Z"
    assert facts["commit_count"] == 2


def test_an_annotated_tag_without_a_tagger_date_counts_at_its_commits_date(repo: Repo) -> None:
    repo.commit("Base (#1)", 0)
    git(repo.path, "checkout", "-q", "-b", "release")
    released = repo.commit("Release fix (#2)", 20)
    git(repo.path, "checkout", "-q", "main")
    raw = f"object {released}\ntype commit\ntag v1.0.0\n\nRelease made by an old tool, without a tagger line\n"
    tag = subprocess.run(["git", "hash-object", "-t", "tag", "-w", "--stdin", "--literally"], cwd=repo.path,
                         input=raw, text=True, capture_output=True, check=True).stdout.strip()
    git(repo.path, "update-ref", "refs/tags/v1.0.0", tag)
    facts = facts_of(repo.path)
    assert facts["window_end"] == "2024-03-24T10:00:00Z"  # the tagged commit, newer than the branch tip
    assert [(t["name"], t["date"], t["commit"]) for t in facts["tags"]] == []  # undated: not in the window's list
    assert facts["tag_count"] == 1


def test_anchoring_at_now_sees_no_commit_in_an_idle_repository(repo: Repo) -> None:
    repo.commit("Recent (#1)", 0)
    facts = facts_of(repo.path, history_now="2025-01-01T00:00:00Z", history_anchor="now")
    assert facts["window_end"] == "2025-01-01T00:00:00Z"
    assert facts["commit_count"] == 0
    assert facts["issue_ref_share"] is None and facts["daily_integration_share"] is None


# -- commits, PRs, issues, signatures -------------------------------------------------------------------------
def test_trunk_based_squash_merges_count_as_reviewed_daily_integration(repo: Repo) -> None:
    for day in range(10):  # Monday to the next Wednesday, with one Saturday commit
        if day % 7 < 6:
            repo.commit(f"Change {day} (#{day + 10})", day, email=f"dev{day % 3}@example.com")
    facts = facts_of(repo.path)
    assert facts["commit_count"] == 9
    assert facts["author_count"] == 3
    assert facts["pr_share"] == 1.0 and facts["issue_ref_share"] == 1.0
    assert (facts["activity_working_days"], facts["integration_working_days"]) == (8, 8)
    assert facts["daily_integration_share"] == 1.0
    assert facts["active_days"] == 9


def test_merged_branches_have_their_age_and_only_first_parent_commits_count(repo: Repo) -> None:
    repo.commit("Initial commit", 0)
    repo.branch("feature/a", [("ABC-1 start", 1), ("ABC-1 finish", 2)], "Merge pull request #5 from org/feature/a",
                merge_day=4)
    repo.branch("feature/b", [("Quick fix", 7)], "Merge branch 'feature/b'", merge_day=7.5)
    facts = facts_of(repo.path)
    assert facts["commit_count"] == 3  # initial + two merges; branch commits are not default-branch commits
    assert facts["merge_count"] == 2 and facts["merged_branch_count"] == 2
    assert facts["merged_branch_ages_days"] == [0.5, 3.0]  # newest first
    assert facts["median_branch_age_days"] == 1.75
    assert facts["pr_commit_count"] == 1 and facts["pr_share"] == pytest.approx(0.333)
    assert [s["subject"] for s in facts["commits_without_issue_ref"]] == ["Merge branch 'feature/b'", "Initial commit"]


def test_long_branches_integrate_less_than_daily(repo: Repo) -> None:
    repo.commit("Initial commit (#1)", -3)  # the Friday before
    repo.branch("feature/slow", [(f"Part {d}", d) for d in range(4)], "Merge pull request #2 from org/feature/slow",
                merge_day=4)
    facts = facts_of(repo.path)
    # worked Mon..Thu on the branch, landed Friday (and the previous Friday)
    assert (facts["activity_working_days"], facts["integration_working_days"]) == (6, 2)
    assert facts["daily_integration_share"] == pytest.approx(0.333)
    assert facts["merged_branch_ages_days"] == [4.0]


def test_a_branch_merged_twice_is_aged_from_what_the_second_merge_brings(repo: Repo) -> None:
    repo.commit("Initial commit", 0)
    git(repo.path, "checkout", "-q", "-b", "long")
    repo.commit("First half", 1)
    git(repo.path, "checkout", "-q", "main")
    repo.run("merge", "-q", "--no-ff", "long", "-m", "Merge branch 'long'", day=2)
    git(repo.path, "checkout", "-q", "long")
    repo.commit("Second half", 9)
    git(repo.path, "checkout", "-q", "main")
    repo.run("merge", "-q", "--no-ff", "long", "-m", "Merge branch 'long' again", day=10)
    assert facts_of(repo.path)["merged_branch_ages_days"] == [1.0, 1.0]


def test_issue_references_in_their_common_forms(repo: Repo) -> None:
    messages = ["Fix login (#12)", "Handle timeouts\n\nFixes #7", "PROJ-42 add retries", "Tune cache\n\nSee group/app!3",
                "Bump UTF-8 handling", "Update README"]
    for day, message in enumerate(messages):
        repo.commit(message, day)
    facts = facts_of(repo.path)
    assert facts["issue_ref_count"] == 4
    assert facts["issue_ref_share"] == pytest.approx(0.667)
    assert {s["subject"] for s in facts["commits_without_issue_ref"]} == {"Bump UTF-8 handling", "Update README"}


def test_signed_share_counts_commits_with_a_gpgsig_header(repo: Repo) -> None:
    repo.commit("Unsigned start", 0)
    signed = [repo.signed_commit(f"Signed change {d}", d) for d in (1, 2, 3)]
    facts = facts_of(repo.path)
    assert facts["commit_count"] == 4 and facts["signed_count"] == 3
    assert facts["signed_share"] == 0.75
    assert repo.head() == signed[-1]


def test_reverts_and_hotfixes_are_counted(repo: Repo) -> None:
    repo.commit("Add feature (#1)", 0)
    repo.commit('Revert "Add feature (#1)"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.', 1)
    repo.branch("hotfix/login", [("Fix login", 2)], "Merge pull request #3 from org/hotfix/login", merge_day=2)
    facts = facts_of(repo.path)
    assert (facts["revert_count"], facts["hotfix_count"]) == (1, 1)


# -- tags, releases and DORA proxies -------------------------------------------------------------------------
def test_tags_are_read_as_versions_with_their_dates(repo: Repo) -> None:
    repo.commit("Initial commit", 0)
    repo.tag("v1.0.0")
    repo.commit("Second", 7)
    repo.tag("v1.1.0-rc.1")
    repo.tag("nightly")
    repo.tag("v1.1.0", day=9, annotated=True)
    facts = facts_of(repo.path)
    assert (facts["tag_count"], facts["semver_tags"]) == (4, 3)
    by_name = {t["name"]: t for t in facts["tags"]}
    assert by_name["v1.1.0"]["date"] == "2024-03-13T10:00:00Z" and by_name["v1.1.0"]["annotated"]
    assert by_name["v1.0.0"]["date"] == "2024-03-04T10:00:00Z" and by_name["v1.0.0"]["release"]
    assert not by_name["v1.1.0-rc.1"]["release"] and by_name["nightly"]["version"] is None
    assert facts["release_count"] == 2
    assert facts["release_intervals_days"] == [9.0]


def test_weekly_releases_give_dora_proxies_with_buckets(repo: Repo) -> None:
    repo.commit("Initial commit", 0)
    for week in range(1, 5):
        repo.commit(f"Feature {week} (#{week})", week * 7 - 2)
        repo.tag(f"v1.{week}.0", day=week * 7, annotated=True)
    repo.commit('Revert "Feature 4 (#4)"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.', 29)
    repo.tag("v1.4.1", day=30, annotated=True)
    facts = facts_of(repo.path)
    assert facts["median_release_interval_days"] == 7.0
    dora = facts["dora"]
    assert dora["deployment_frequency"]["value"] == pytest.approx(0.39, abs=0.01)  # 5 releases in 90 days
    assert dora["deployment_frequency"]["bucket"] == "medium"  # between weekly and monthly
    assert dora["lead_time_for_changes"]["value"] == 48.0  # each feature lands two days before its release tag
    assert dora["lead_time_for_changes"]["bucket"] == "high"
    assert dora["change_failure_rate"]["value"] == 0.2 and dora["change_failure_rate"]["bucket"] == "low"
    assert dora["failed_releases"] == ["v1.4.0"]
    assert dora["time_to_restore"]["value"] == 48.0 and dora["time_to_restore"]["bucket"] == "medium"


def test_without_release_tags_the_dora_proxies_are_not_available(repo: Repo) -> None:
    repo.commit("Initial commit (#1)", 0)
    dora = facts_of(repo.path)["dora"]
    assert not dora["deployment_frequency"]["available"] and dora["deployment_frequency"]["value"] is None
    assert not dora["lead_time_for_changes"]["available"]
    assert not dora["change_failure_rate"]["available"] and not dora["time_to_restore"]["available"]


def test_releases_without_failures_leave_time_to_restore_empty_but_available(repo: Repo) -> None:
    repo.commit("Initial commit (#1)", 0)
    repo.tag("v1.0.0")
    repo.commit("Feature (#2)", 10)
    repo.tag("v1.1.0")
    ttr = facts_of(repo.path)["dora"]["time_to_restore"]
    assert ttr["available"] and ttr["value"] is None and "no failed release" in ttr["basis"]


# -- shallow clones ------------------------------------------------------------------------------------------
def _history_of(repo: Repo, days: int) -> None:
    for day in range(days):
        repo.commit(f"Change {day} (#{day + 1})", day)


def test_a_shallow_clone_that_stops_inside_the_window_is_incomplete(tmp_path: Path, repo: Repo) -> None:
    _history_of(repo, 20)
    git(tmp_path, "clone", "-q", "--depth", "5", f"file://{repo.path}", "shallow")
    facts = facts_of(tmp_path / "shallow")
    assert facts["shallow"] and not facts["history_complete"]
    assert "shallow clone" in facts["incomplete_reason"]
    assert facts["commit_count"] == 5


def test_a_shallow_clone_deeper_than_the_window_is_complete(tmp_path: Path, repo: Repo) -> None:
    _history_of(repo, 20)
    git(tmp_path, "clone", "-q", "--depth", "12", f"file://{repo.path}", "shallow")
    evidence = collect(Workspace(tmp_path / "shallow"), CollectOptions(history_window_days=7))
    facts = evidence.facts
    assert facts["shallow"] and facts["history_complete"]
    assert facts["commit_count"] == 8


# -- message and tag helpers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("message", "number"), [
    ("Merge pull request #123 from octo/feature-x\n\nAdd x", "123"),
    ("Add retries to the client (#4567)", "4567"),
    ("Merge branch 'feat' into 'main'\n\nAdd feat\n\nSee merge request group/sub/app!89", "89"),
    ("Merged PR 321: Fix the build", "321"),
    ("Merged in feature/x (pull request #12)\n\nAdd x", "12"),
    ("Fix the build\n\nFixes #12", None),
])
def test_pull_request_references(message: str, number: str | None) -> None:
    assert pr_number(message) == number


@pytest.mark.parametrize(("message", "referenced"), [
    ("Closes #12", True), ("ABC-123: tidy", True), ("See https://github.com/o/r/issues/77", True),
    ("Resolve GH-5", True), ("Fix !34 follow-up", True), ("Use SHA-256 and UTF-8", False),
    ("Colour &#123; entity", False), ("Bump version to 1.2.3", False),
])
def test_issue_reference_forms(message: str, referenced: bool) -> None:
    assert has_issue_ref(message) is referenced


@pytest.mark.parametrize(("subject", "hotfix"), [
    ("Merge pull request #9 from org/hotfix/login-crash", True), ("Merge branch 'hotfix-2.1'", True),
    ("Hotfix: null pointer in checkout", True), ("Merge branch 'feature/shotfix'", False),
    ("Add shotfixture", False),
])
def test_hotfix_recognition(subject: str, hotfix: bool) -> None:
    assert is_hotfix_message(subject) is hotfix


@pytest.mark.parametrize(("tag", "parsed"), [
    ("v1.2.3", (1, 2, 3, "")), ("1.2.3-rc.1", (1, 2, 3, "rc.1")), ("api/v0.4.0", (0, 4, 0, "")),
    ("pkg@2.0.1", (2, 0, 1, "")), ("release-3.1.4", (3, 1, 4, "")), ("v1.2", None), ("latest", None),
])
def test_semantic_version_tags(tag: str, parsed: tuple | None) -> None:
    version = parse_version(tag)
    assert (None if version is None else (version.major, version.minor, version.patch, version.prerelease)) == parsed
