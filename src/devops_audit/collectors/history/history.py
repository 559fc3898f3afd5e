"""The `history` namespace: what the default branch's git history says over a time window.

Understood through the hardened git runner (`gitcmd`: the repository's config cannot run a program):

- the default branch: the target of `refs/remotes/origin/HEAD`, else `main`/`master` (local, then
  `origin/`), else the current `HEAD` (recorded in `branch_source`);
- the window: `history_window_days` (90) back from the newest activity (the default branch's newest commit or
  newest tag, so a scan of a given commit always gives the same facts), or back from "now" with the
  collector setting `history_anchor: now`; `history_now` fixes "now" (ISO date or epoch seconds);
- default-branch commits (first parent) in the window with `git log --first-parent --pretty=raw --since`:
  merges, pull/merge-request references, issue references, `gpgsig` headers (presence, not validity),
  reverts and hotfixes; every commit reachable in the window (plus a 30-day slack) with a second, cheap
  `git log --since` for merged-branch ages and the days work happened;
- tags with `git for-each-ref refs/tags`: semantic versions, dates, release intervals; DORA proxies;
- shallow clones (`shallow`, `history_complete`): what the window could not see is said, never guessed.

Every git command is bounded by `--since`, so the cost follows the window, not the repository's age.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from devops_audit.collectors.history.metrics import (
    DAY,
    HOUR,
    Dora,
    Release,
    Tag,
    Version,
    dora,
    is_hotfix_message,
    is_revert,
    median_or_none,
    names_issue,
    parse_version,
    pr_number,
    release_intervals,
    releases_of,
)
from devops_audit.facts import Evidence, InventoryEntry, to_data
from devops_audit.gitcmd import GitError
from devops_audit.workspace import Workspace

__all__ = ["NAME", "HistoryFacts", "CommitSample", "collect"]

NAME = "history"
BRANCH_SLACK_DAYS = 30  # extra days walked before the window to find where merged branches started
MAX_TAGS = 50
MAX_SAMPLES = 10
MAX_AGES = 100
_HINT = ("git history is needed: scan a git clone with its history (CI: `actions/checkout` with "
         "`fetch-depth: 0`, GitLab `GIT_DEPTH: 0`)")
# a commit's creator date is its committer date, so one date field serves tags and commits
_REF_FIELDS = ["%(refname)", "%(symref)", "%(objecttype)", "%(objectname)", "%(*objectname)", "%(*objecttype)",
               "%(creatordate:unix)"]
_PEELED_DATE = "%(*committerdate:unix)"  # reads the commit behind each annotated tag: asked for only when needed
# the raw headers read (a key, then a space or the line's end); continuation lines start with a space
_HEADER = re.compile(r"\n(parent|author|committer|gpgsig|gpgsig-sha256)(?: |$)(.*)", re.MULTILINE)
_HEAD_CANDIDATES = ("refs/heads/main", "refs/heads/master", "refs/remotes/origin/main", "refs/remotes/origin/master")


@dataclass
class CommitSample:
    """A default-branch commit shown as an example (e.g. one without an issue reference)."""

    sha: str
    date: str
    subject: str


@dataclass
class HistoryFacts:
    """Default-branch history over the window; shares are None when the window holds no commit.
    `collect` hands it to policies as plain data (`facts.to_data`)."""

    default_branch: str | None
    ref: str
    branch_source: str  # origin/HEAD | convention | HEAD
    window_anchor: str  # last_activity | now: what the window counts back from (`anchor` names files elsewhere)
    now: str
    window_days: int
    window_start: str
    window_end: str
    idle_days: float  # from the newest default-branch commit to now
    shallow: bool
    history_complete: bool
    incomplete_reason: str = ""
    commit_count: int = 0
    author_count: int = 0
    merge_count: int = 0
    active_days: int = 0
    activity_working_days: int = 0
    integration_working_days: int = 0
    daily_integration_share: float | None = None
    merged_branch_count: int = 0
    merged_branch_ages_days: list[float] = field(default_factory=list)  # newest first, at most MAX_AGES
    median_branch_age_days: float | None = None
    branch_ages_lower_bound: int = 0
    pr_commit_count: int = 0
    pr_share: float | None = None
    issue_ref_count: int = 0
    issue_ref_share: float | None = None
    commits_without_issue_ref: list[CommitSample] = field(default_factory=list)
    signed_count: int = 0
    signed_share: float | None = None
    revert_count: int = 0
    hotfix_count: int = 0
    tag_count: int = 0
    semver_tags: int = 0
    tags: list[Tag] = field(default_factory=list)
    release_count: int = 0
    release_intervals_days: list[float] = field(default_factory=list)
    median_release_interval_days: float | None = None
    dora: Dora | None = None
    timeline: list[Any] | None = None  # LandedChange per default-branch commit, with `history_timeline: true`


@dataclass(slots=True)
class _Commit:
    """One commit of the walk; the `graph` the merge and timeline walks use holds these too."""

    sha: str
    parents: list[str]
    author_email: str
    author_time: float
    commit_time: float
    commit_offset: int
    signed: bool
    record: str  # the commit as `--pretty=raw` prints it, its message indented
    author_offset: int = 0
    message: str = ""  # read from `record` for default-branch commits only (`_walk`)

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


def collect(workspace: Workspace, options: Any) -> Evidence:
    if not workspace.is_git:
        return Evidence(NAME, False, None, hint="not a git repository; " + _HINT)
    try:
        refs = _read_refs(workspace)
    except GitError as exc:  # corrupt or unreadable repository: say so, never crash the scan
        return _broken(f"cannot read the git repository: {exc}")
    branch = _default_branch(workspace, refs)
    if branch is None:
        return Evidence(NAME, False, None, [InventoryEntry(".git", "git", "skipped", "the repository has no commits",
                                                           evidence=NAME)], hint="the repository has no commits")
    try:
        facts = _history(workspace, refs, branch, options)
    except Exception as exc:  # git refused (a broken object) or a bad setting: the other collectors go on
        return _broken(f"cannot read the history: {type(exc).__name__}: {exc}")
    inventory = [InventoryEntry(".git", "git", "parsed", _describe(facts), evidence=NAME)]
    return Evidence(NAME, True, to_data(facts), inventory, hint=_HINT)


def _broken(reason: str) -> Evidence:
    return Evidence(NAME, False, None, [InventoryEntry(".git", "git", "error", reason, evidence=NAME)], hint=_HINT)


def _describe(facts: HistoryFacts) -> str:
    text = f"{facts.commit_count} commits on {facts.ref} in {facts.window_days} days"
    return text if facts.history_complete else f"{text}; {facts.incomplete_reason}"


# -- refs ------------------------------------------------------------------------------------------
class _Ref(NamedTuple):
    name: str
    symref: str
    commit: str
    annotated: bool
    tag_time: float | None
    commit_time: float | None


def _read_refs(workspace: Workspace) -> list[_Ref]:
    """Tags, `*/HEAD` of remotes and the conventional default-branch names, in one `for-each-ref`; a second
    one, with the tagged commits' dates, only when an annotated tag has no tagger date to use instead."""
    refs = _list_refs(workspace, _REF_FIELDS)
    if any(r.annotated and not r.tag_time for r in refs):
        refs = _list_refs(workspace, [*_REF_FIELDS, _PEELED_DATE])
    return refs


def _list_refs(workspace: Workspace, fields: list[str]) -> list[_Ref]:
    out = workspace.git_run("for-each-ref", "--format=" + "%00".join(fields), "refs/tags", "refs/remotes/*/HEAD",
                            *_HEAD_CANDIDATES).decode("utf-8", "replace")
    refs = []
    for line in out.splitlines():
        parts = line.split("\0")
        if len(parts) != len(fields):
            continue
        name, symref, kind, obj, peeled, peeled_kind, created = parts[:7]
        peeled_committed = parts[7] if len(parts) > 7 else ""  # empty: not asked for
        annotated = kind == "tag"
        commit = peeled if annotated and peeled_kind == "commit" else obj if kind == "commit" else ""
        commit_time = _epoch(peeled_committed if annotated else created)
        refs.append(_Ref(name, symref, commit, annotated, _epoch(created), commit_time))
    return refs


def _epoch(text: str) -> float | None:
    return float(text) if text.strip().isdigit() else None


class _Branch(NamedTuple):
    name: str | None
    ref: str
    source: str


def _default_branch(workspace: Workspace, refs: list[_Ref]) -> _Branch | None:
    by_name = {r.name: r for r in refs}
    remote_heads = sorted((r for r in refs if r.name.endswith("/HEAD") and r.symref),
                          key=lambda r: r.name != "refs/remotes/origin/HEAD")
    if remote_heads:
        target = remote_heads[0].symref
        return _Branch(target.split("/", 3)[-1], target, "origin/HEAD")
    for candidate in _HEAD_CANDIDATES:
        if candidate in by_name:
            return _Branch(candidate.rsplit("/", 1)[-1], candidate, "convention")
    head = workspace.git
    if head is None or head.commit is None:
        return None
    return _Branch(head.branch, "HEAD", "HEAD")


# -- time ------------------------------------------------------------------------------------------
def _now(settings: dict[str, Any]) -> float:
    value = settings.get("history_now")
    if value is None:
        return time.time()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"collectors setting history_now={value!r} is not an ISO date or epoch seconds") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat().replace("+00:00", "Z")


def _local_day(epoch: float, offset_minutes: int) -> int:
    """The calendar day (days since 1970-01-01) of a moment in the time zone of its UTC offset."""
    return int((epoch + offset_minutes * 60) // DAY)


def _offset_minutes(text: str) -> int:
    """`+0130` -> 90."""
    if len(text) != 5 or text[0] not in "+-" or not text[1:].isdigit():
        return 0
    minutes = int(text[1:3]) * 60 + int(text[3:])
    return -minutes if text[0] == "-" else minutes


def _is_working_day(day: int) -> bool:
    """Monday to Friday; `day` counts days since 1970-01-01, a Thursday."""
    return (day + 3) % 7 < 5


# -- git log -----------------------------------------------------------------------------------------
def _log_text(workspace: Workspace, *args: str) -> str:
    return workspace.git_run("log", *args).decode("utf-8", errors="replace")


def _tip_time(workspace: Workspace, branch: _Branch, refs: list[_Ref]) -> float:
    """The branch tip's commit time: from `for-each-ref` when the ref was listed (itself, or the remote HEAD that
    points to it and is listed resolved), else one `git log -1`."""
    listed = next((r.commit_time for r in refs if branch.ref in (r.name, r.symref) and r.commit_time is not None),
                  None)
    return listed if listed is not None else float(_log_text(workspace, "-1", "--format=%ct", branch.ref, "--").strip())


def _walk(workspace: Workspace, ref: str, since: float) -> tuple[list[_Commit], list[_Commit]]:
    """One `git log --pretty=raw` of every commit reachable from `ref` committed since `since` (newest first),
    and its first-parent chain from the tip."""
    text = _log_text(workspace, "--pretty=raw", "--no-decorate", f"--since=@{int(since)}", ref, "--")
    reachable = [_parse_raw(record.removeprefix("commit ")) for record in text.split("\ncommit ")
                 if record and not record.isspace()]
    by_sha = {c.sha: c for c in reachable}
    mainline: list[_Commit] = []
    sha = reachable[0].sha if reachable else None
    while sha in by_sha and len(mainline) < len(by_sha):
        mainline.append(by_sha[sha])
        sha = next(iter(by_sha[sha].parents), None)
    for commit in mainline:  # merged-branch commits are never read for their message
        body = commit.record.partition("\n\n")[2]
        commit.message = "\n".join(line[4:] for line in body.split("\n")).strip()
    return mainline, reachable


def _parse_raw(record: str) -> _Commit:
    """The headers of one `--pretty=raw` record; the message is left in `record` (most are never read)."""
    end = record.find("\n\n")
    head = record if end < 0 else record[:end]
    commit = _Commit(head.split("\n", 1)[0].strip(), [], "", 0.0, 0.0, 0, False, record, 0)
    for key, value in _HEADER.findall(head):  # the regex skips other headers and signature lines in C
        if key == "parent":
            commit.parents.append(value.strip())
        elif key == "gpgsig" or key == "gpgsig-sha256":
            commit.signed = True
        else:
            ident, _, stamp = value.rpartition("> ")
            seconds, _, offset = stamp.partition(" ")
            if key == "author":
                commit.author_email = ident.rpartition("<")[2].lower()
                commit.author_time = _seconds(seconds)
                commit.author_offset = _offset_minutes(offset.strip())
            else:
                commit.commit_time = _seconds(seconds)
                commit.commit_offset = _offset_minutes(offset.strip())
    return commit


def _seconds(text: str) -> float:
    """A raw header's timestamp; a malformed one (hand-made objects exist) reads as the epoch."""
    return float(text) if text.isdigit() else 0.0


def _graph(reachable: list[_Commit], since: float) -> dict[str, _Commit]:
    """Commits committed since `since`, by sha."""
    return {c.sha: c for c in reachable if c.commit_time >= since}


def _shallow_commits(workspace: Workspace) -> set[str] | None:
    """The shallow boundary (grafted commits), or None when the repository is complete."""
    if workspace.common_dir is None:
        return None
    path = workspace.common_dir / "shallow"
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return set(handle.read(1 << 20).decode("ascii", errors="replace").split())


# -- assembling --------------------------------------------------------------------------------------
def _history(workspace: Workspace, refs: list[_Ref], branch: _Branch, options: Any) -> HistoryFacts:
    settings = getattr(options, "settings", None) or {}
    window_days = int(getattr(options, "history_window_days", 90) or 90)
    hotfix_days = float(settings.get("history_hotfix_days", 3))
    now = _now(settings)
    tip = _tip_time(workspace, branch, refs)
    tag_refs = [r for r in refs if r.name.startswith("refs/tags/")]
    anchor = "now" if settings.get("history_anchor") == "now" else "last_activity"
    latest = max(now, tip)  # dates after this are clock errors, not activity
    newest_tag = max((t for r in tag_refs if (t := r.tag_time or r.commit_time) is not None and t <= latest),
                     default=tip)
    end = now if anchor == "now" else max(tip, newest_tag)
    commits, reachable = _walk(workspace, branch.ref, end - (window_days + BRANCH_SLACK_DAYS) * DAY)
    if anchor != "now":  # the tip is not always the newest commit (clock skew)
        end = max([end, *(c.commit_time for c in commits if c.commit_time <= latest)])
    start = end - window_days * DAY
    commits = [c for c in commits if start <= c.commit_time <= end]
    shallow = _shallow_commits(workspace)
    graph = _graph(reachable, start - BRANCH_SLACK_DAYS * DAY)
    facts = HistoryFacts(
        default_branch=branch.name, ref=branch.ref, branch_source=branch.source, window_anchor=anchor, now=_iso(now),
        window_days=window_days, window_start=_iso(start), window_end=_iso(end),
        idle_days=round(max(0.0, now - tip) / DAY, 2), shallow=shallow is not None, history_complete=True,
    )
    ages, lower_bounds, starts, truncated = _branch_ages(commits, graph, shallow or set())
    _completeness(facts, commits, shallow, truncated)
    failures = _commit_facts(facts, commits)
    _integration(facts, commits, graph, start, end)
    facts.merged_branch_count = len(ages)
    facts.merged_branch_ages_days = ages[:MAX_AGES]
    facts.median_branch_age_days = median_or_none(ages)
    facts.branch_ages_lower_bound = lower_bounds
    _tag_facts(facts, tag_refs, commits, starts, failures, start, end, window_days, hotfix_days)
    if settings.get("history_timeline"):
        from devops_audit.collectors.history.timeline import timeline

        facts.timeline = timeline(commits, graph, lambda *args: _log_text(workspace, *args), branch.ref, start)
    return facts


def _completeness(facts: HistoryFacts, commits: list[_Commit], shallow: set[str] | None, truncated: bool) -> None:
    if shallow is None:
        return
    if commits and commits[-1].sha in shallow:
        facts.history_complete = False
        facts.incomplete_reason = (f"shallow clone: history stops at {commits[-1].sha[:12]} "
                                   f"({_iso(commits[-1].commit_time)}), inside the window")
    elif truncated:
        facts.history_complete = False
        facts.incomplete_reason = "shallow clone: merged branches in the window reach the shallow boundary"


def _commit_facts(facts: HistoryFacts, commits: list[_Commit]) -> list[float]:
    """The commit counts and shares; returns the times of reverts and hotfixes (DORA failure events)."""
    count = len(commits)
    facts.commit_count = count
    facts.author_count = len({c.author_email for c in commits})
    facts.merge_count = sum(len(c.parents) > 1 for c in commits)
    from_pr = [pr_number(c.message) is not None for c in commits]
    facts.pr_commit_count = sum(from_pr)
    referenced = [pr or names_issue(c.message) for pr, c in zip(from_pr, commits)]
    facts.issue_ref_count = sum(referenced)
    facts.commits_without_issue_ref = [
        CommitSample(c.sha, _iso(c.commit_time), c.subject[:100])
        for c, ok in zip(commits, referenced) if not ok
    ][:MAX_SAMPLES]
    facts.signed_count = sum(c.signed for c in commits)
    reverts = [is_revert(c.message) for c in commits]
    hotfixes = [is_hotfix_message(c.subject) for c in commits]
    facts.revert_count = sum(reverts)
    facts.hotfix_count = sum(hotfixes)
    facts.active_days = len({_local_day(c.commit_time, c.commit_offset) for c in commits})
    if count:
        facts.pr_share = round(facts.pr_commit_count / count, 3)
        facts.issue_ref_share = round(facts.issue_ref_count / count, 3)
        facts.signed_share = round(facts.signed_count / count, 3)
    return [c.commit_time for c, revert, hotfix in zip(commits, reverts, hotfixes) if revert or hotfix]


def _integration(facts: HistoryFacts, commits: list[_Commit], graph: dict[str, _Commit], start: float,
                 end: float) -> None:
    """Working days (Mon-Fri) with activity (a reachable commit authored, or a default-branch commit landing)
    and, of those, the days with at least one default-branch commit landing (committer-local dates)."""
    landed = {day for c in commits if _is_working_day(day := _local_day(c.commit_time, c.commit_offset))}
    worked = {day for n in graph.values()
              if start <= n.author_time <= end and _is_working_day(day := _local_day(n.author_time, n.author_offset))}
    activity = worked | landed
    facts.activity_working_days = len(activity)
    facts.integration_working_days = len(landed)
    if activity:
        facts.daily_integration_share = round(len(landed) / len(activity), 3)


def _branch_ages(commits: list[_Commit], graph: dict[str, _Commit],
                 shallow: set[str]) -> tuple[list[float], int, dict[str, float], bool]:
    """For each merge in the window (oldest first): days from the oldest commit only its merged side brings
    (author date) to the merge (committer date). Also the start time of every landed change, for lead time.

    Commits are attributed to the first merge that brings them in; sides reaching commits older than the walked
    graph give a lower bound (counted), sides reaching the shallow boundary make the window incomplete.
    """
    mainline = {c.sha for c in commits}
    node = graph.get(commits[0].sha) if commits else None
    while node and node.parents:  # mainline commits before the window (the slack) are on the branch too
        mainline.add(node.parents[0])
        node = graph.get(node.parents[0])
    seen: set[str] = set()
    ages: list[float] = []
    starts: dict[str, float] = {}
    lower_bounds = 0
    truncated = False
    for commit in reversed(commits):
        starts[commit.sha] = commit.author_time
        if len(commit.parents) < 2:
            continue
        oldest, beyond, grafted = _merged_side(commit.parents[1:], graph, mainline, seen, shallow)
        truncated = truncated or grafted
        if oldest is None:
            continue
        starts[commit.sha] = min(oldest, commit.author_time)
        ages.append(round(max(0.0, commit.commit_time - oldest) / DAY, 2))
        lower_bounds += beyond
    return list(reversed(ages)), lower_bounds, starts, truncated


def _merged_side(heads: list[str], graph: dict[str, _Commit], mainline: set[str], seen: set[str],
                 shallow: set[str]) -> tuple[float | None, bool, bool]:
    """Walk a merge's non-first parents through commits not yet attributed (`seen` grows): the oldest author
    time found, whether a commit older than the walked graph was needed, whether the shallow boundary was
    reached."""
    oldest: float | None = None
    beyond = grafted = False
    queue = deque(h for h in heads if h not in mainline and h not in seen)
    while queue:
        sha = queue.popleft()
        if sha in seen or sha in mainline:
            continue
        node = graph.get(sha)
        if node is None:
            beyond = True
            continue
        seen.add(sha)
        oldest = node.author_time if oldest is None else min(oldest, node.author_time)
        grafted = grafted or sha in shallow
        queue.extend(p for p in node.parents if p not in seen and p not in mainline)
    return oldest, beyond, grafted


def _tag_facts(facts: HistoryFacts, tag_refs: list[_Ref], commits: list[_Commit], starts: dict[str, float],
               failures: list[float], start: float, end: float, window_days: int, hotfix_days: float) -> None:
    tags = []
    for ref in tag_refs:
        name = ref.name.removeprefix("refs/tags/")
        version = parse_version(name)
        when = ref.tag_time if ref.annotated else ref.commit_time
        hotfix = "hotfix" in name.lower()
        tag = Tag(name, None, None, ref.commit, ref.annotated, version is not None and (not version.prerelease or hotfix),
                  hotfix)
        tags.append((tag, when, version))
    facts.tag_count = len(tags)
    facts.semver_tags = sum(v is not None for _, _, v in tags)
    dated = [(t, w, v) for t, w, v in tags if w is not None and v is not None and t.commit]
    releases = releases_of(dated)
    in_window = sorted((x for x in tags if x[1] is not None and start <= x[1] <= end), key=lambda x: -x[1])
    facts.tags = [_shown(t, w, v) for t, w, v in in_window[:MAX_TAGS]]
    facts.release_count = sum(start <= r.time <= end for r in releases)
    facts.release_intervals_days = release_intervals(releases, start, end)
    facts.median_release_interval_days = median_or_none(facts.release_intervals_days)
    lead_hours, lead_basis = _lead_times(commits, starts, releases)
    facts.dora = dora(releases, start, end, window_days, lead_hours, lead_basis, failures, hotfix_days)


def _shown(tag: Tag, when: float, version: Version | None) -> Tag:
    """The tag with its version and date as text: made for the tags reported only (releases need neither)."""
    tag.version, tag.date = _version_text(version), _iso(when)
    return tag


def _version_text(version: Any) -> str | None:
    if version is None:
        return None
    text = f"{version.major}.{version.minor}.{version.patch}"
    return f"{text}-{version.prerelease}" if version.prerelease else text


def _lead_times(commits: list[_Commit], starts: dict[str, float],
                releases: list[Release]) -> tuple[list[float], str]:
    """Hours from each change's start (author date; a merged branch's oldest commit) to its first release.

    When release tags sit on the default branch, a change is released by the oldest release tag on a commit at
    or after it (exact containment along the first-parent chain); otherwise by the first release dated after
    the change landed.
    """
    position = {c.sha: i for i, c in enumerate(commits)}  # 0 = newest
    on_branch = sorted((position[r.commit], r.time) for r in releases if r.commit in position)
    hours: list[float] = []
    if on_branch:
        basis = "hours from each default-branch change's first commit to the first release tag containing it"
        released_at: float | None = None
        tags = deque(on_branch)
        for index, commit in enumerate(commits):
            while tags and tags[0][0] <= index:  # releases on this commit or newer ones contain it
                when = tags.popleft()[1]
                released_at = when if released_at is None else min(released_at, when)
            if released_at is not None:
                hours.append(round(max(0.0, released_at - starts[commit.sha]) / HOUR, 2))
        return hours, basis
    basis = "hours from each default-branch change's first commit to the next release tag dated after it landed"
    times = [r.time for r in releases]
    for commit in commits:
        later = bisect_left(times, commit.commit_time)
        if later < len(times):
            hours.append(round(max(0.0, times[later] - starts[commit.sha]) / HOUR, 2))
    return hours, basis
