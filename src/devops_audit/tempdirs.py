"""Temporary folders this process made, removed when it exits (normally, or through `cli.run`'s fast exit)."""

from __future__ import annotations

import atexit

__all__ = ["make", "remove_all"]

_FOLDERS: list[str] = []


def make(prefix: str) -> str:
    """A new private temporary folder, removed at exit."""
    import tempfile  # only when a folder is made: `cli.run` imports this module at every exit

    if not _FOLDERS:
        atexit.register(remove_all)
    folder = tempfile.mkdtemp(prefix=prefix)
    _FOLDERS.append(folder)
    return folder


def remove_all() -> None:
    if not _FOLDERS:
        return
    import shutil

    while _FOLDERS:
        shutil.rmtree(_FOLDERS.pop(), ignore_errors=True)
