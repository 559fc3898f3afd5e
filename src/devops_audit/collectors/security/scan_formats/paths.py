"""Map the paths and URIs scanners write back to repository-relative paths.

Understood: relative paths (`src/x.py`, `./src/x.py`), `file://` URIs and absolute paths inside the
repository root, SARIF `uriBaseId` resolved through the run's `originalUriBaseIds` (an undefined base such
as `%SRCROOT%` means the repository root), percent-encoding, Windows separators.

Reports are usually written on a CI runner, whose checkout root differs from ours
(`file:///home/runner/work/app/app/src/x.py`). An absolute path outside our root is mapped when a suffix of
it of at least two components names a file of the repository; the prefix it stripped is then remembered, so
other paths under the same foreign root map too (a root-level file included). Anything else that leaves the
repository (`../../etc/passwd`, `/etc/passwd`, `https://...`) is refused: `map` returns `OUTSIDE`, and the
finding is kept without a location.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote, urlsplit

__all__ = ["PathMapper", "OUTSIDE"]

OUTSIDE: Final = "\0outside"
_MAX_PARTS = 64


class PathMapper:
    """Turns a scanner's path into a repository path, `None` (no path given) or `OUTSIDE`."""

    def __init__(self, root: str, files: frozenset[str]) -> None:
        self.root = root.rstrip("/")
        self.files = files
        self.prefixes: list[str] = []  # foreign checkout roots learned so far, each ending in "/"
        self._memo: dict[tuple[str, Any], str] = {}

    def map(self, uri: Any, base_id: Any = None, bases: Mapping[str, Any] | None = None) -> str | None:
        if not isinstance(uri, str) or not uri.strip():
            return None
        if bases:
            return self._map(uri, base_id, bases)
        key = (uri, base_id)
        if key not in self._memo:
            self._memo[key] = self._map(uri, base_id, None)
        return self._memo[key]

    def _map(self, uri: str, base_id: Any, bases: Mapping[str, Any] | None) -> str:
        path = self._plain(uri)
        if path is None:
            return OUTSIDE
        if not path.startswith("/") and isinstance(base_id, str) and bases:
            base = self._base(base_id, bases, depth=0)
            if base is None:
                return OUTSIDE
            path = posixpath.join(base, path) if base else path
        if path.startswith("/"):
            return self._absolute(posixpath.normpath(path))
        return self._relative(posixpath.normpath(path))

    def _plain(self, uri: str) -> str | None:
        """The path of a URI (`file:` or none); None for any other scheme."""
        uri = uri.strip().replace("\\", "/")
        parts = urlsplit(uri)
        if parts.scheme and len(parts.scheme) > 1:  # a one-letter scheme is a Windows drive
            if parts.scheme.lower() != "file":
                return None
            return unquote(parts.path)
        return unquote(uri)

    def _base(self, base_id: str, bases: Mapping[str, Any], depth: int) -> str | None:
        """The folder a `uriBaseId` names ("" for the repository root); None when it leaves the repo."""
        entry = bases.get(base_id)
        if not isinstance(entry, dict) or depth > 8:
            return ""  # undefined (e.g. %SRCROOT% without a definition): the repository root
        path = self._plain(str(entry.get("uri") or ""))
        if path is None:
            return None
        parent = entry.get("uriBaseId")
        if not path.startswith("/") and isinstance(parent, str):
            outer = self._base(parent, bases, depth + 1)
            if outer is None:
                return None
            path = posixpath.join(outer, path) if outer else path
        return path.rstrip("/")

    def _absolute(self, path: str) -> str:
        if path == self.root:
            return OUTSIDE
        if path.startswith(self.root + "/"):
            return path[len(self.root) + 1:]
        return self._rerooted(path) or OUTSIDE

    def _relative(self, path: str) -> str:
        if path == ".." or path.startswith("../"):
            return OUTSIDE
        if path in self.files:
            return path
        return self._rerooted("/" + path) or path

    def _rerooted(self, path: str) -> str | None:
        """A repository file named by a suffix of `path`, learning the prefix it strips."""
        for prefix in self.prefixes:
            if path.startswith(prefix):
                return path[len(prefix):]
        parts = path.strip("/").split("/")
        for start in range(1, min(len(parts) - 1, _MAX_PARTS)):
            candidate = "/".join(parts[start:])
            if candidate in self.files:
                self.prefixes.append("/" + "/".join(parts[:start]) + "/")
                return candidate
        return None
