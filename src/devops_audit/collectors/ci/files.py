"""The repository as one scan of the `ci` collector reads it: each file read, and each YAML file parsed, once.

The parsers and the injection analysis come back to the same files: a local composite action is read by
its own audit and by every step calling it, a local reusable workflow by its callers, every workflow again
for its comments and suppressions. `SharedFiles` wraps the scan's `Workspace` and remembers what it read
(errors included); everything else is the workspace's own. Parsed YAML is shared between its readers, so
they must not change it (GitLab resolves `!reference` in place: it reads through the workspace itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

__all__ = ["SharedFiles", "shared"]


class SharedFiles:
    """A `Workspace` whose `read_text`, `load_yaml` and `lines` are memoised for one scan."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._texts: dict[tuple[str, int | None], str | EvidenceError] = {}
        self._yaml: dict[str, list[Any] | EvidenceError] = {}
        self._lines: dict[str, list[str]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.workspace, name)

    def read_text(self, path: str, max_bytes: int | None = None) -> str:
        return _remembered(self._texts, (path, max_bytes), lambda: self.workspace.read_text(path, max_bytes))

    def load_yaml(self, path: str) -> list[Any]:
        """The file's YAML documents, shared with every other reader of this scan: read-only."""
        return _remembered(self._yaml, path, lambda: self.workspace.load_yaml(path))

    def lines(self, path: str) -> list[str]:
        """The file's lines; none when it cannot be read (its reader reports why)."""
        if path not in self._lines:
            try:
                self._lines[path] = self.read_text(path).splitlines()
            except EvidenceError:
                self._lines[path] = []
        return self._lines[path]


def shared(workspace: Workspace | SharedFiles) -> SharedFiles:
    """The scan's shared reader (a parser called on its own gets one of its own)."""
    return workspace if isinstance(workspace, SharedFiles) else SharedFiles(workspace)


def _remembered(memo: dict[Any, Any], key: Any, read: Callable[[], Any]) -> Any:
    """`read()` once per key; its EvidenceError too, raised again at every later call."""
    if key not in memo:
        try:
            memo[key] = read()
        except EvidenceError as exc:
            memo[key] = exc
    if isinstance(memo[key], EvidenceError):
        raise memo[key]
    return memo[key]
