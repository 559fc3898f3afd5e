"""Temporary folders this process made, removed when it exits (normally, or through `cli.run`'s fast exit)
or when a fleet worker finishes a repository (`remove_all`)."""

from __future__ import annotations

import atexit

__all__ = ["make", "shared", "remove_all"]

_FOLDERS: list[str] = []
_SHARED: dict[str, str] = {}  # prefix -> the folder `shared` gives until `remove_all`


def make(prefix: str) -> str:
    """A new private temporary folder, removed at exit."""
    import tempfile  # only when a folder is made: `cli.run` imports this module at every exit

    if not _FOLDERS:
        atexit.register(remove_all)
    folder = tempfile.mkdtemp(prefix=prefix)
    _FOLDERS.append(folder)
    return folder


def shared(prefix: str) -> str:
    """One private temporary folder per prefix for this process (git's empty home), made again after
    `remove_all`."""
    if prefix not in _SHARED:
        _SHARED[prefix] = make(prefix)
    return _SHARED[prefix]


def remove_all() -> None:
    _SHARED.clear()
    if not _FOLDERS:
        return
    import shutil

    while _FOLDERS:
        shutil.rmtree(_FOLDERS.pop(), ignore_errors=True)
