"""Pure helpers of the `history` collector: what commit messages and tag names say, and the DORA proxies.

Nothing here runs git. Messages are classified with regular expressions (pull/merge-request references,
issue references, reverts, hotfixes); tag names are read as semantic versions; the four DORA keys are
approximated from release tags and default-branch commits and placed in the 2023 State of DevOps buckets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "Version", "Tag", "Release", "DoraProxy", "Dora",
    "pr_number", "has_issue_ref", "names_issue", "is_revert", "is_hotfix_message", "merged_branch",
    "parse_version", "median_or_none", "releases_of", "release_intervals", "dora",
]

_PR_PATTERNS = (
    re.compile(r"^Merge pull request #(\d+) from ", re.MULTILINE),  # GitHub merge commit
    re.compile(r"\(#(\d+)\)\s*$", re.MULTILINE),  # GitHub squash / rebase subject "title (#12)"
    re.compile(r"See merge request [\w./-]*!(\d+)"),  # GitLab merge commit body
    re.compile(r"^Merged PR (\d+):", re.MULTILINE),  # Azure DevOps
    re.compile(r"\(pull request #(\d+)\)"),  # Bitbucket "Merged in x (pull request #3)"
)
_ISSUE_PATTERNS = (
    re.compile(r"(?<![\w&/])#\d+\b"),  # #123, Fixes #123
    re.compile(r"\bGH-\d+\b"),
    re.compile(r"(?<![\w/])!\d+\b"),  # GitLab merge request !12
    re.compile(r"[\w.-]+/[\w.-]+[#!]\d+\b"),  # group/project#12, group/project!12
    re.compile(r"/(?:issues|pull|pulls|merge_requests|browse)/[\w-]*\d+\b"),  # links to an issue or PR
)
_JIRA_KEY = re.compile(r"\b([A-Z][A-Z0-9]{1,9})-(\d+)\b")
_NOT_ISSUE_KEYS = frozenset({"UTF", "SHA", "ISO", "RFC", "CVE", "CWE", "GHSA", "PEP", "TLS", "SSL", "MD5", "AES",
                             "RSA", "HTTP", "X509", "IPV4", "IPV6", "ES", "ECMA", "C", "UTC", "GMT", "COVID"})
_REVERT_SUBJECT = re.compile(r'^Revert "')
_REVERT_BODY = re.compile(r"^This reverts commit [0-9a-f]{7,64}", re.MULTILINE)
_BRANCH_PATTERNS = (
    re.compile(r"^Merge pull request #\d+ from \S+?/(\S+)"),
    re.compile(r"^Merge (?:remote-tracking )?branch '([^']+)'"),
    re.compile(r"^Merged in (\S+)"),
)
_HOTFIX = re.compile(r"(?:^|[/_\-\s(\[])hot-?fix(?:es)?(?:$|[/_\-:\s)\]])", re.IGNORECASE)
_VERSION = re.compile(
    r"^(?:.*?[-/@_])?[vV]?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
HOUR = 3600.0
DAY = 86400.0


def pr_number(message: str) -> str | None:
    """The pull/merge-request number a commit message says it came from, if any."""
    for pattern in _PR_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return None


def has_issue_ref(message: str) -> bool:
    """Whether a message names an issue or pull/merge request (`#12`, `ABC-12`, `!12`, a link)."""
    return pr_number(message) is not None or names_issue(message)


def names_issue(message: str) -> bool:
    """`has_issue_ref` without the pull/merge-request check (for a caller that already made it)."""
    if any(p.search(message) for p in _ISSUE_PATTERNS):
        return True
    return any(key not in _NOT_ISSUE_KEYS for key, _ in _JIRA_KEY.findall(message))


def is_revert(message: str) -> bool:
    return bool(_REVERT_SUBJECT.match(message) or _REVERT_BODY.search(message))


def merged_branch(subject: str) -> str | None:
    """The source branch a merge subject names (`Merge pull request #1 from org/branch`, `Merge branch 'x'`)."""
    for pattern in _BRANCH_PATTERNS:
        match = pattern.match(subject)
        if match:
            return match.group(1)
    return None


def is_hotfix_message(subject: str) -> bool:
    """A hotfix landing: a merged `hotfix/...` branch or a subject that says hotfix."""
    branch = merged_branch(subject)
    return bool(_HOTFIX.search(branch if branch is not None else subject))


class Version(NamedTuple):
    major: int
    minor: int
    patch: int
    prerelease: str


def parse_version(tag: str) -> Version | None:
    """`v1.2.3`, `1.2.3-rc.1`, `pkg@1.2.3`, `module/v1.2.3`, `release-1.2.3` -> a version; else None."""
    match = _VERSION.match(tag)
    if not match:
        return None
    major, minor, patch, pre = match.groups()
    return Version(int(major), int(minor), int(patch), pre or "")


@dataclass
class Tag:
    """A tag: its semantic version (None when the name is not one), date and tagged commit.

    `date` is the tagger date of an annotated tag, else the tagged commit's committer date (ISO 8601, UTC).
    `release` is a semver tag without a pre-release part (or one marked hotfix).
    """

    name: str
    version: str | None
    date: str | None
    commit: str
    annotated: bool
    release: bool
    hotfix: bool


class Release(NamedTuple):
    """One release event: the release tags on one commit, at the earliest of their dates (epoch seconds)."""

    time: float
    commit: str
    name: str
    version: Version
    hotfix: bool


def median_or_none(values: list[float]) -> float | None:
    """`statistics.median` (the mean of the two middle values of an even count), rounded; None without values
    (the `statistics` module costs a cold scan ~3 ms of imports)."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(float(value), 2)


def releases_of(tags: list[tuple[Tag, float, Version]]) -> list[Release]:
    """Release tags (with their epoch times) grouped per commit, oldest first."""
    by_commit: dict[str, Release] = {}
    for tag, time, version in tags:
        if not tag.release:
            continue
        known = by_commit.get(tag.commit)
        if known is None or time < known.time:
            by_commit[tag.commit] = Release(time, tag.commit, tag.name, version, tag.hotfix)
    return sorted(by_commit.values(), key=lambda r: r.time)


def release_intervals(releases: list[Release], start: float, end: float) -> list[float]:
    """Days between consecutive releases, for each release dated inside [start, end] that has a predecessor."""
    return [round((b.time - a.time) / DAY, 2) for a, b in zip(releases, releases[1:]) if start <= b.time <= end]


@dataclass
class DoraProxy:
    """One DORA key approximated from history. `available` says whether the inputs exist to compute it;
    `value` may still be None (time to restore with no failed release). `bucket`: elite/high/medium/low."""

    value: float | None
    unit: str
    bucket: str | None
    samples: int
    available: bool
    basis: str


@dataclass
class Dora:
    """The four DORA metrics, as proxies read from git history."""

    deployment_frequency: DoraProxy
    lead_time_for_changes: DoraProxy
    change_failure_rate: DoraProxy
    time_to_restore: DoraProxy
    note: str = "proxies computed from git history (release tags, default-branch commits), not measured deployments"
    buckets: str = "DORA 2023 State of DevOps report thresholds"
    failed_releases: list[str] = field(default_factory=list)


def _bucket(value: float | None, limits: tuple[float, float, float]) -> str | None:
    """elite / high / medium / low for a value where lower is better, given the upper limits of the first three."""
    if value is None:
        return None
    for name, limit in zip(("elite", "high", "medium"), limits):
        if value <= limit:
            return name
    return "low"


def _deployment_frequency(releases_in_window: list[Release], any_release: bool, window_days: int) -> DoraProxy:
    basis = "release tags (semver, not pre-release; one per tagged commit) dated in the window, per week"
    if not any_release:
        return DoraProxy(None, "releases/week", None, 0, False, basis + "; no release tag found at all")
    per_day = len(releases_in_window) / window_days
    bucket = "elite" if per_day >= 1 else "high" if per_day >= 1 / 7 else "medium" if per_day >= 1 / 30 else "low"
    return DoraProxy(round(per_day * 7, 2), "releases/week", bucket, len(releases_in_window), True, basis)


def _lead_time(samples_hours: list[float], basis: str) -> DoraProxy:
    value = median_or_none(samples_hours)
    return DoraProxy(value, "hours", _bucket(value, (24, 168, 720)), len(samples_hours), bool(samples_hours), basis)


def _failed(release: Release, following: Release | None, events: list[float], hotfix_days: float) -> bool:
    """A release failed when a revert or hotfix landed before the next release (or within `hotfix_days`
    when there is none yet), or the next release is a hotfix or a patch bump within `hotfix_days`."""
    horizon = following.time if following else release.time + hotfix_days * DAY
    if any(release.time < t <= horizon for t in events):
        return True
    if following is None:
        return False
    quick = following.time - release.time <= hotfix_days * DAY
    v, w = release.version, following.version
    patch_bump = (w.major, w.minor) == (v.major, v.minor) and w.patch > v.patch
    return following.hotfix or (quick and patch_bump)


def dora(releases: list[Release], start: float, end: float, window_days: int, lead_hours: list[float],
         lead_basis: str, failure_events: list[float], hotfix_days: float) -> Dora:
    """The four keys from release events, lead-time samples (hours) and failure events (epoch seconds)."""
    in_window = [r for r in releases if start <= r.time <= end]
    failed: list[Release] = []
    restore_hours: list[float] = []
    for index, release in enumerate(releases):
        if not start <= release.time <= end:
            continue
        following = releases[index + 1] if index + 1 < len(releases) else None
        if _failed(release, following, failure_events, hotfix_days):
            failed.append(release)
            if following is not None:
                restore_hours.append(round((following.time - release.time) / HOUR, 2))
    cfr_basis = ("share of releases in the window followed by a revert or hotfix before the next release, "
                 f"or by a hotfix or patch release within {hotfix_days:g} days")
    if in_window:
        rate = round(len(failed) / len(in_window), 3)
        cfr = DoraProxy(rate, "ratio", _bucket(rate, (0.05, 0.10, 0.15)), len(in_window), True, cfr_basis)
    else:
        cfr = DoraProxy(None, "ratio", None, 0, False, cfr_basis + "; no release in the window")
    ttr_basis = "hours from a failed release to the next release"
    restore = median_or_none(restore_hours)
    if not in_window:
        ttr = DoraProxy(None, "hours", None, 0, False, ttr_basis + "; no release in the window")
    elif not failed:
        ttr = DoraProxy(None, "hours", None, 0, True, ttr_basis + "; no failed release in the window")
    else:
        ttr = DoraProxy(restore, "hours", _bucket(restore, (1, 24, 168)), len(restore_hours),
                        bool(restore_hours), ttr_basis)
    return Dora(
        deployment_frequency=_deployment_frequency(in_window, bool(releases), window_days),
        lead_time_for_changes=_lead_time(lead_hours, lead_basis),
        change_failure_rate=cfr,
        time_to_restore=ttr,
        failed_releases=[r.name for r in failed],
    )
