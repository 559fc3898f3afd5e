"""Findings: what the code-scanning formats (SARIF, GitLab, baselines, waivers) report, one per violation.

A failing verdict gives one finding per violation, or a single repository-level finding when its policy
lists no violations. Each finding has:

- a **fingerprint**: sha256 of `indicator id`, the violation's own path and its structural locator
  (`jobs.build.steps[2]`, a rule key, ...), never a line number, so it survives lines moving and unrelated
  files changing. Two violations with the same path and locator get an occurrence suffix (`#1`, `#2`).
- a **display location**: a file that exists, because GitHub hides results without one. A violation keeps
  its own file and line; a repository-level verdict (no violation, or a violation on `.` or a missing file)
  points at line 1 of the most relevant existing file (`relevant_files`): the indicator's `anchor`, then per
  evidence namespace it reads (`ci`: the main pipeline, the one whose jobs build or test on pushes and pull
  requests; `codeowners`/`protection`: CODEOWNERS; `security`: SECURITY.md; `history`, `coverage`, `tests`:
  the README; `repo`, `files`: none), then the
  README, the main pipeline, CODEOWNERS; `README.md` as a last resort. `Finding.repository_level` says
  the location is such a stand-in, and the reporters say so.
- its **waiver** (from `waivers.apply_waivers`) and whether the **baseline** already knew it
  (`baseline.apply_baseline`), both read from `result.extras`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops_audit.engine import Verdict, Violation
from devops_audit.locations import is_repository_file

__all__ = [
    "Finding",
    "display_location",
    "findings",
    "fingerprint",
    "is_baselined",
    "keyed_violations",
    "relevant_files",
    "waiver_of",
]

_LAST_RESORT = "README.md"


@dataclass(frozen=True)
class Finding:
    """One reportable result (a violation, or a verdict as a whole) with its stable fingerprint."""

    verdict: Verdict
    violation: Violation | None  # None: the verdict as a whole (no violation listed)
    path: str                    # display file, repository-relative, POSIX
    line: int                    # >= 1
    locator: str
    message: str
    fingerprint: str
    repository_level: bool = False  # `path` stands in for the repository as a whole

    @property
    def indicator_id(self) -> str:
        return self.verdict.indicator.id


def fingerprint(indicator_id: str, path: str, locator: str) -> str:
    """The stable identity of one violation: no line number, no message text."""
    return hashlib.sha256(f"devops-audit/v1\0{indicator_id}\0{path}\0{locator}".encode()).hexdigest()


def keyed_violations(verdict: Verdict) -> list[tuple[Violation | None, str]]:
    """(violation, fingerprint) for every violation of a verdict; `[(None, fp)]` when it lists none."""
    indicator_id = verdict.indicator.id
    if not verdict.violations:
        return [(None, fingerprint(indicator_id, "", ""))]
    seen: dict[tuple[str, str], int] = {}
    keyed = []
    for violation in verdict.violations:
        key = (violation.path, violation.locator)
        count = seen.get(key, 0)
        seen[key] = count + 1
        locator = violation.locator if count == 0 else f"{violation.locator}#{count}"
        keyed.append((violation, fingerprint(indicator_id, violation.path, locator)))
    return keyed


def findings(result: Any, statuses: Iterable[str] = ("fail",)) -> list[Finding]:
    """Findings of every verdict whose status is in `statuses`, in verdict order."""
    wanted = set(statuses)
    out = []
    for verdict in result.verdicts:
        if verdict.status not in wanted:
            continue
        for violation, fp in keyed_violations(verdict):
            if violation is None:
                path, line = display_location(result, verdict)
                out.append(Finding(verdict, None, path, line, "", verdict.message, fp,
                                   not any(loc.path == path for loc in verdict.locations)))
            else:
                path, line = _violation_location(result, verdict, violation)
                out.append(Finding(verdict, violation, path, line, violation.locator, violation.message, fp,
                                   path != violation.path))
    return out


def display_location(result: Any, verdict: Verdict) -> tuple[str, int]:
    """Where a repository-level verdict is shown: an existing file, line 1 unless the verdict says more."""
    for location in verdict.locations:
        if _is_file(result, location.path):
            return location.path, max(1, int(location.line or 1))
    return _fallback(result, verdict), 1


def waiver_of(result: Any, finding: Finding) -> dict[str, Any] | None:
    """The waiver covering this finding: the verdict's own, or one that covers this violation's path."""
    if finding.verdict.waiver:
        return finding.verdict.waiver
    for entry in (result.extras.get("waivers") or {}).get("applied", []):
        if finding.fingerprint in entry.get("fingerprints", ()):
            return {k: entry[k] for k in ("reason", "owner", "expires", "paths") if k in entry}
    return None


def is_baselined(result: Any, finding: Finding) -> bool:
    """True when a baseline was given and this finding was already in it."""
    baseline = result.extras.get("baseline")
    if not baseline:
        return False
    return finding.fingerprint not in {entry["fingerprint"] for entry in baseline.get("new", [])}


def _violation_location(result: Any, verdict: Verdict, violation: Violation) -> tuple[str, int]:
    if _is_file(result, violation.path):
        return violation.path, max(1, int(violation.line or 1))
    return display_location(result, verdict)


# evidence namespace -> which file stands for it (a key of `_CANDIDATES`)
_NAMESPACE_FILE = {"ci": "main pipeline", "codeowners": "CODEOWNERS", "protection": "CODEOWNERS",
                   "security": "SECURITY.md"}
_TAIL = ("README", "main pipeline", "CODEOWNERS")
_GENERIC = ("repo", "files", "project")  # the repository itself: no file stands for them


def relevant_files(indicator: Any) -> list[str]:
    """The order in which a repository-level result looks for an existing file (names, for the docs too)."""
    chain = [f"`{indicator.anchor}`"] if indicator.anchor else []
    for name in [*(_NAMESPACE_FILE.get(n, "README") for n in indicator.required_namespaces if n not in _GENERIC),
                 *_TAIL]:
        if name not in chain:
            chain.append(name)
    return chain


def _fallback(result: Any, verdict: Verdict) -> str:
    for name in relevant_files(verdict.indicator):
        candidate = name.strip("`") if name.startswith("`") else _CANDIDATES[name](result)
        if isinstance(candidate, str) and _is_file(result, candidate):
            return candidate
    return _LAST_RESORT


def _security_policy(result: Any) -> str | None:
    return next((p for p in ("SECURITY.md", ".github/SECURITY.md", "docs/SECURITY.md") if _is_file(result, p)), None)


_CANDIDATES = {
    "main pipeline": lambda result: _fact(result, "ci", "anchor"),  # see collectors.ci.pipelines
    "CODEOWNERS": lambda result: _fact(result, "codeowners", "path"),
    "SECURITY.md": _security_policy,
    "README": lambda result: _fact(result, "files", "readme"),
}


def _fact(result: Any, namespace: str, key: str) -> Any:
    facts = (result.facts or {}).get(namespace)
    if isinstance(facts, dict):
        return facts.get(key)
    return getattr(facts, key, None)


def _is_file(result: Any, path: str | None) -> bool:
    """A repository-relative path naming a regular file inside the target (never through a symlink)."""
    return bool(path) and is_repository_file(Path(result.target), path)
