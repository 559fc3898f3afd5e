"""Map the file paths a report recorded (often absolute, from the CI machine) onto repository files.

A report written on a runner names `/home/runner/work/app/app/src/app/core.py`, `src\\app\\core.py` or
`app/core.py` (relative to a `<source>`); the repository lists `src/app/core.py`. A path inside the
repository root is made relative; otherwise the repository file sharing the longest path suffix wins
(only when that longest suffix is unique). Unmatched paths are kept as normalised.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path, PurePosixPath

from devops_audit.workspace import MiB, Workspace

__all__ = ["PathMapper", "evidence_globs", "command_line_evidence", "default_reports", "MAX_REPORT_BYTES"]

MAX_REPORT_BYTES = 64 * MiB  # a coverage or JUnit report (here, not with the formats: the JUnit reader needs no more)
_WILDCARD = re.compile(r"[*?\[]")


class PathMapper:
    """Repository-relative paths for report paths; `find` returns None when no repository file matches."""

    def __init__(self, workspace: Workspace) -> None:
        self._root = workspace.root.as_posix().rstrip("/") + "/"
        self._files = workspace.file_set
        self._workspace = workspace
        self._by_name = workspace.index.names
        self._cache: dict[str, str | None] = {}

    def find(self, raw: str) -> str | None:
        if raw not in self._cache:
            self._cache[raw] = self._find(raw)
        return self._cache[raw]

    def relative(self, raw: str) -> str:
        """The repository path when one matches, else the normalised recorded path."""
        return self.find(raw) or _normalise(raw)

    def _find(self, raw: str) -> str | None:
        path = _normalise(raw)
        if path.startswith(self._root):
            path = path[len(self._root):]
        if path in self._files or (not path.startswith("/") and self._on_disk(path)):
            return path
        parts = PurePosixPath(path).parts
        if not parts:
            return None
        best: list[str] = []
        best_len = 0
        for candidate in self._by_name.get(parts[-1], ()):
            common = _common_suffix(parts, PurePosixPath(candidate).parts)
            if common > best_len:
                best, best_len = [candidate], common
            elif common == best_len:
                best.append(candidate)
        return best[0] if len(best) == 1 else None

    def _on_disk(self, path: str) -> bool:
        return ".." not in path.split("/") and self._workspace.exists(path)


def _normalise(raw: str) -> str:
    path = raw.strip().replace("\\", "/")
    if len(path) > 2 and path[1] == ":" and path[2] == "/":  # C:/agent/_work/1/s/src/x.py
        path = "/" + path[3:]
    path = posixpath.normpath(path) if path else path
    return path[2:] if path.startswith("./") else path


def _common_suffix(left: tuple[str, ...], right: tuple[str, ...]) -> int:
    count = 0
    for a, b in zip(reversed(left), reversed(right)):
        if a != b:
            break
        count += 1
    return count


def default_reports(workspace: Workspace, patterns: tuple[str, ...]) -> list[str]:
    """`workspace.on_disk(*patterns)` for a table of usual report paths: a plain path is globbed only when
    `exists` finds its file (a stat is far cheaper than a glob, and most usual paths name no file)."""
    return workspace.on_disk(*(p for p in patterns if _WILDCARD.search(p) or workspace.exists(p)))


def evidence_globs(workspace: Workspace, patterns: list[str]) -> tuple[list[str], list[str]]:
    """User-given evidence globs as repository-relative globs, plus those refused (outside the repository).
    Absolute globs named on the command line (`workspace.named_outside`) are usable as they are."""
    root = workspace.root.as_posix().rstrip("/") + "/"
    usable: list[str] = []
    refused: list[str] = []
    for pattern in patterns:
        normal = pattern.replace("\\", "/")
        if normal.startswith(root):
            normal = normal[len(root):]
        if pattern in workspace.named_outside:
            usable.append(pattern)
        elif normal.startswith("/") or ".." in normal.split("/"):
            refused.append(pattern)
        else:
            usable.append(normal[2:] if normal.startswith("./") else normal)
    return usable, refused


def command_line_evidence(root: Path, evidence: dict[str, list[str]], cwd: Path) -> tuple[dict[str, list[str]], tuple[str, ...]]:
    """`--evidence KIND=PATH` as the person running the tool meant it: a path inside the repository stays
    repository-relative; any other path (absolute, or relative to the current folder) is read where it is.
    Returns the paths per kind and the absolute globs that may be read outside the repository."""
    from glob import glob

    paths: dict[str, list[str]] = {}
    outside: list[str] = []
    for kind, values in evidence.items():
        for value in values:
            path = Path(value).expanduser()
            if not path.is_absolute() and (glob(str(root / value)) or not glob(str(cwd / value))):
                paths.setdefault(kind, []).append(value)  # in the repository (or nowhere: say so there)
                continue
            absolute = Path(os.path.abspath(path if path.is_absolute() else cwd / path)).as_posix()
            if absolute.startswith(root.as_posix().rstrip("/") + "/"):
                paths.setdefault(kind, []).append(absolute[len(root.as_posix().rstrip("/")) + 1:])
                continue
            paths.setdefault(kind, []).append(absolute)
            outside.append(absolute)
    return paths, tuple(dict.fromkeys(outside))
