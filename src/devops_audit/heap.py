"""Giving the C heap's free pages back to the system between repositories of a long-lived process."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

__all__ = ["release_free_memory"]


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc's `malloc_trim`), as a fleet worker does after
    each repository. Without it the process keeps the peak of each of its malloc arenas (the history
    collector's thread has one of its own) and its resident memory creeps up scan after scan: ~0.8 MiB per
    10 scans of the benchmark clones, 42 -> 57 MiB over 160; with it, flat at ~45 MiB, for ~0.6 ms a call.
    Nothing happens where the C library has no `malloc_trim` (musl, macOS)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim  # the C library this process already runs on
    except (OSError, AttributeError):
        return None
