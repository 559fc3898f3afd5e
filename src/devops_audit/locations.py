"""Verdict locations are existing files of the repository, or its root `.`: checked once, after evaluation.

A policy may point at a file the repository lacks (the `.gitignore` to create, the anchor of a missing
SECURITY.md, a pipeline-wide `ci.anchor` when there is no pipeline): the file to create belongs in the
remediation, not in `locations`, so such a location becomes the repository root. Violations keep their
own paths (their fingerprints and waiver globs depend on them); reporters that need a file use
`reporters.fingerprints.display_location`.
"""

from __future__ import annotations

from pathlib import Path

from devops_audit.engine import Verdict
from devops_audit.facts import Location

__all__ = ["ROOT", "check_locations", "is_repository_file"]

ROOT = "."


def is_repository_file(root: Path, path: str) -> bool:
    """A repository-relative path naming a regular file inside `root`, not through a symlink."""
    if not path or path in (".", "./") or path.startswith(("/", "../")) or "/../" in f"/{path}/":
        return False
    candidate = root / path
    return candidate.is_file() and not candidate.is_symlink()


def check_locations(verdicts: list[Verdict], root: Path) -> None:
    """Replace every location that is not an existing file by the repository root (once per verdict)."""
    known: dict[str, bool] = {}
    for verdict in verdicts:
        kept: list[Location] = []
        for location in verdict.locations:
            if location.path not in known:
                known[location.path] = is_repository_file(root, location.path)
            checked = location if known[location.path] else Location(ROOT, 1)
            if checked not in kept:
                kept.append(checked)
        verdict.locations = kept
