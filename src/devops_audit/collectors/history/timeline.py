"""Opt-in detail of the `history` namespace: every change that landed on the default branch in the window.

Asked for with the collector setting `history_timeline: true` (the `assess` command sets it): the branch
graph, merge-request size and lead-time charts of the assessment pack are drawn from it. One extra bounded
`git log --first-parent --shortstat` gives the size of each landed change against the first parent (a merge's
whole merge request; sizes stay None when git cannot diff, e.g. blobs missing from a partial clone); the rest
comes from the commits and graph the collector already read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devops_audit.collectors.history.metrics import HOUR, merged_branch, pr_number

__all__ = ["LandedChange", "timeline", "MAX_CHANGES"]

MAX_CHANGES = 500


@dataclass
class LandedChange:
    """One default-branch (first-parent) commit: a direct commit or a merge bringing a branch in."""

    sha: str
    time: str  # committer date, UTC ISO
    subject: str
    merge: bool
    pr: str | None
    branch: str | None
    branch_commits: int  # commits only this merge brings in (0 for a direct commit)
    started: str | None  # oldest author date of the change (a merged branch's first commit)
    lead_hours: float | None  # from `started` to landing
    files: int | None = None
    insertions: int | None = None
    deletions: int | None = None


def timeline(commits: list[Any], graph: dict[str, Any], log: Callable[..., str], ref: str,
             since: float) -> list[LandedChange]:
    """`commits` newest first (the collector's first-parent commits), `graph` every reachable commit node."""
    mainline = {c.sha for c in commits}
    node = graph.get(commits[-1].sha) if commits else None
    while node and node.parents:
        mainline.add(node.parents[0])
        node = graph.get(node.parents[0])
    seen: set[str] = set()
    changes: list[LandedChange] = []
    for commit in reversed(commits[:MAX_CHANGES]):
        count, oldest = _side(commit.parents[1:], graph, mainline, seen)
        started = min(oldest, commit.author_time) if oldest is not None else commit.author_time
        merge = len(commit.parents) > 1
        changes.append(LandedChange(
            sha=commit.sha, time=_iso(commit.commit_time), subject=commit.subject[:100], merge=merge,
            pr=pr_number(commit.message), branch=merged_branch(commit.subject) if merge else None,
            branch_commits=count, started=_iso(started),
            lead_hours=round(max(0.0, commit.commit_time - started) / HOUR, 2),
        ))
    changes.reverse()
    try:
        stat = log(f"--since=@{int(since)}", "--first-parent", "--shortstat", "--format=%x00%H", ref, "--")
    except Exception:  # a blob git cannot read (partial clone, broken object): sizes stay unknown, the rest stands
        return changes
    _sizes(changes, stat)
    return changes


def _side(heads: list[str], graph: dict[str, Any], mainline: set[str], seen: set[str]) -> tuple[int, float | None]:
    """Commits a merge brings in that no earlier merge did, and the oldest author time among them."""
    count, oldest = 0, None
    queue = deque(h for h in heads if h not in mainline)
    while queue:
        sha = queue.popleft()
        if sha in seen or sha in mainline or sha not in graph:
            continue
        seen.add(sha)
        node = graph[sha]
        count += 1
        oldest = node.author_time if oldest is None else min(oldest, node.author_time)
        queue.extend(node.parents)
    return count, oldest


def _sizes(changes: list[LandedChange], text: str) -> None:
    by_sha = {c.sha: c for c in changes}
    for record in text.split("\0")[1:]:
        sha, _, stat = record.strip().partition("\n")
        change = by_sha.get(sha.strip())
        if change is None:
            continue
        numbers = {"file": 0, "insertion": 0, "deletion": 0}
        for part in stat.strip().split(","):
            words = part.split()
            if len(words) >= 2 and words[0].isdigit():
                numbers[words[1].rstrip("s()+-")] = int(words[0])  # "3 files", "1 insertion(+)"
        change.files, change.insertions, change.deletions = numbers["file"], numbers["insertion"], numbers["deletion"]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat().replace("+00:00", "Z")

