"""A fleet worker gives each scan's freed memory back to the system, so its resident memory stays flat."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from devops_audit import heap
from devops_audit.fleet import executors
from devops_audit.fleet.clone import CloneSettings
from devops_audit.fleet.sources import RepoSpec
from devops_audit.scan import ScanOptions

ROOT = Path(__file__).resolve().parent.parent
needs_trim = pytest.mark.skipif(heap._malloc_trim() is None, reason="the C library has no malloc_trim")


def resident_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@needs_trim
def test_freed_memory_of_a_thread_goes_back_to_the_system():
    """Blocks freed between blocks still in use (as a scan leaves them, in the history thread's own malloc
    arena) stay resident until the heap is trimmed."""
    kept: list[bytes] = []

    def allocate() -> None:
        blocks = [b"x" * 100_000 for _ in range(2_000)]  # 200 MB written, below the mmap threshold: heap memory
        kept.extend(blocks[::2])
        blocks.clear()

    thread = threading.Thread(target=allocate)
    thread.start()
    thread.join()
    before = resident_mib()
    heap.release_free_memory()
    after = resident_mib()
    kept.clear()
    assert before - after > 50  # the ~100 MB freed between the kept blocks


def test_each_repository_of_a_fleet_gives_its_memory_back(monkeypatch, tmp_path):
    released = []
    monkeypatch.setattr(heap, "release_free_memory", lambda: released.append(True))
    task = executors.Task(RepoSpec("example", path=str(ROOT / "fixtures" / "example")), ScanOptions(offline=True),
                          CloneSettings(cache_dir=str(tmp_path)))
    missing = executors.Task(RepoSpec("gone", path=str(tmp_path / "gone")), ScanOptions(offline=True),
                             CloneSettings(cache_dir=str(tmp_path)))
    assert executors.process(task).status == "scanned"
    assert executors.process(missing).status == "failed"
    assert released == [True, True]
