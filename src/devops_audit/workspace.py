"""The only door to the repository: its file list and safe, bounded reads.

Nothing here executes repository content. Paths are repository-relative POSIX strings; a path (or a
symlink) that resolves outside the root is refused, files over the size limit are refused, text is decoded
tolerantly, YAML goes through `yamlsafe`, XML through `defusedxml`.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from devops_audit.errors import EvidenceError, TargetError

__all__ = ["Workspace", "GitInfo", "MiB", "SKIPPED_DIRS"]

MiB = 1024 * 1024
MAX_XML_ELEMENTS = 4_000_000
SKIPPED_DIRS = frozenset(
    {".git", "node_modules", "vendor", "third_party", ".venv", "venv", ".tox", "__pycache__",
     ".mypy_cache", ".pytest_cache", "site-packages", "bower_components"}
)


@dataclass(frozen=True)
class GitInfo:
    """What the target's git metadata says, when it is a git repository."""

    commit: str | None
    branch: str | None


class Workspace:
    """Read-only, bounded access to one repository checkout."""

    def __init__(self, root: str | os.PathLike[str], *, max_file_bytes: int = 5 * MiB,
                 exclude: Iterable[str] = ()) -> None:
        path = Path(root)
        if not path.exists():
            raise TargetError(f"{root}: no such directory")
        if not path.is_dir():
            raise TargetError(f"{root}: not a directory")
        if not os.access(path, os.R_OK | os.X_OK):
            raise TargetError(f"{root}: directory is not readable")
        self.root = path.resolve()
        self.max_file_bytes = max_file_bytes
        self.exclude = tuple(exclude)

    # -- the file list -------------------------------------------------------------------------
    @cached_property
    def is_git(self) -> bool:
        return (self.root / ".git").exists()

    @cached_property
    def _repo(self) -> Any:
        import git  # GitPython: imported only for git repositories

        return git.Repo(self.root)

    @cached_property
    def files(self) -> list[str]:
        """Tracked files of a git repository, else every file outside skipped folders; sorted."""
        listed = self._git_files() if self.is_git else None
        if listed is None:
            listed = list(self._walk())
        if self.exclude:
            listed = [p for p in listed if not self.is_excluded(p)]
        return sorted(listed)

    @cached_property
    def file_set(self) -> frozenset[str]:
        return frozenset(self.files)

    def is_excluded(self, path: str) -> bool:
        return any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/")
                   for pattern in self.exclude)

    def _git_files(self) -> list[str] | None:
        try:
            out = self._repo.git.ls_files("-z")
        except Exception:  # not a usable repository (corrupt, bare, permission): fall back to a walk
            return None
        result = []
        for rel in out.split("\0"):
            full = self.root / rel
            if rel and (os.path.islink(full) or os.path.isfile(full)):
                result.append(rel)
        return result

    def _walk(self) -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
            base = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                yield name if base == "." else f"{base}/{name}"

    @cached_property
    def git(self) -> GitInfo | None:
        """Commit and branch of HEAD, or None when this is not a usable git repository."""
        if not self.is_git:
            return None
        try:
            repo = self._repo
            commit = repo.head.commit.hexsha if repo.head.is_valid() else None
            branch = None if repo.head.is_detached else repo.active_branch.name
        except Exception:
            return GitInfo(None, None)
        return GitInfo(commit, branch)

    # -- finding evidence ----------------------------------------------------------------------
    def matching(self, *patterns: str) -> list[str]:
        """Listed files matching any glob (`fnmatch`: `*` also crosses `/`)."""
        return [p for p in self.files if any(fnmatch.fnmatch(p, pat) for pat in patterns)]

    def on_disk(self, *patterns: str) -> list[str]:
        """Files on disk (tracked or not, e.g. reports a CI step just wrote) matching repo-relative globs."""
        found: set[str] = set()
        for pattern in patterns:
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                continue
            for hit in self.root.glob(pattern):
                rel = hit.relative_to(self.root).as_posix()
                if hit.is_file() and not any(part in SKIPPED_DIRS for part in Path(rel).parts[:-1]):
                    found.add(rel)
        return sorted(found)

    def exists(self, path: str) -> bool:
        try:
            return (self.root / path).is_file()
        except (OSError, ValueError):  # a name too long for the file system, or with a NUL: no such file
            return False

    # -- reading -------------------------------------------------------------------------------
    def resolve(self, path: str) -> Path:
        """The real path of a repository file; refuses anything that leaves the repository."""
        candidate = self.root / path
        try:
            real = Path(os.path.realpath(candidate))
        except (OSError, ValueError) as exc:  # a name too long for the file system, or with a NUL
            raise EvidenceError(path, f"not a usable file name: {exc.strerror if isinstance(exc, OSError) else exc}") from None
        if real != self.root and self.root not in real.parents:
            raise EvidenceError(path, f"resolves outside the repository (to {real}); refused")
        return real

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        limit = self.max_file_bytes if max_bytes is None else max_bytes
        real = self.resolve(path)
        try:
            size = real.stat().st_size
            if not real.is_file():
                raise EvidenceError(path, "not a regular file")
            if size > limit:
                raise EvidenceError(
                    path, f"file is {size / MiB:.1f} MiB, over the {limit / MiB:g} MiB limit (limits.max_file_mib)"
                )
            with real.open("rb") as handle:
                return handle.read(limit + 1)
        except FileNotFoundError:
            raise EvidenceError(path, "file not found") from None
        except OSError as exc:
            raise EvidenceError(path, f"cannot read: {exc.strerror or exc}") from None

    def read_text(self, path: str, max_bytes: int | None = None) -> str:
        """Text with a BOM removed; invalid UTF-8 becomes U+FFFD rather than an error."""
        return self.read_bytes(path, max_bytes).decode("utf-8-sig", errors="replace")

    def read_strict_text(self, path: str, max_bytes: int | None = None) -> str:
        """Text that must be valid UTF-8 (configuration files a CI system would reject otherwise)."""
        data = self.read_bytes(path, max_bytes)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise EvidenceError(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line) from None

    def load_yaml(self, path: str) -> list[Any]:
        """Every YAML document of a file (see `yamlsafe`); errors name the file and line."""
        from devops_audit.yamlsafe import YamlError, load_documents

        text = self.read_strict_text(path)
        if "\0" in text:
            raise EvidenceError(path, "binary content, not YAML")
        try:
            return load_documents(text)
        except YamlError as exc:
            raise EvidenceError(path, exc.reason, exc.line) from None

    def parse_xml(self, path: str, max_bytes: int | None = None) -> Any:
        """An ElementTree root parsed with defusedxml: no entities, no external DTDs, at most MAX_XML_ELEMENTS
        elements (a tree costs ~20 times its text in memory)."""
        from xml.etree.ElementTree import ParseError

        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import fromstring

        data = self.read_bytes(path, max_bytes)
        if data.count(b"<") > MAX_XML_ELEMENTS:
            raise EvidenceError(path, f"more than {MAX_XML_ELEMENTS:,} XML elements; refused (memory bound)")
        try:
            return fromstring(data)
        except DefusedXmlException as exc:
            raise EvidenceError(path, f"unsafe XML refused: {type(exc).__name__}") from None
        except ParseError as exc:
            raise EvidenceError(path, f"invalid XML: {exc}", exc.position[0] if exc.position else None) from None
        except (LookupError, ValueError) as exc:  # an encoding expat does not know, or a multi-byte one
            raise EvidenceError(path, f"unsupported XML encoding: {exc}") from None
