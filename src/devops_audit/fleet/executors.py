"""One repository's work (`process`: clone or update, then scan) and where it runs.

- `process(task)` never raises for a repository problem: it returns an `Outcome` with status `scanned`,
  `cached` (the commit is one already scanned with the same policy digest and config hash) or `failed` (with
  the error). Only failures that can heal by themselves are retried, with exponential backoff (`attempts`,
  `backoff` * 2^n seconds, capped at 30 s): git reaching the network or a server (refused or reset
  connections, DNS, timeouts, HTTP 429/5xx, a dropped transfer) and a lock another git process holds. Every
  other failure is the same on the next try and fails at once: a missing folder, a URL that is not a
  repository, denied access, a bad `.devops-audit.yml`, a scan that crashes on the repository's content.
- `SerialExecutor` runs tasks in this process (`--jobs 1`), `LocalExecutor` in a process pool (scanning is
  CPU-bound; the `forkserver` start method so workers never inherit the progress bar's thread),
  `RayExecutor` as Ray tasks (`ray.remote`). All yield outcomes as they finish, with at most `2 * jobs`
  tasks in flight, so memory does not grow with the number of repositories.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from devops_audit.fleet.clone import CloneError, CloneSettings, prepare
from devops_audit.fleet.sources import RepoSpec

__all__ = ["Task", "Outcome", "process", "process_in_worker", "is_transient", "make_executor", "SerialExecutor",
           "LocalExecutor", "RayExecutor", "summarize"]

MAX_BACKOFF = 30.0
_ZLIB_LEVEL = 1  # the fastest: a third of level 6's CPU for a fifth more bytes (15 kB a scan)
# what git says when the network, the server or another git process is in the way: worth another try
_TRANSIENT_GIT = re.compile(
    r"could not resolve host|failed to connect|couldn't connect to server|connection (refused|reset|timed out)"
    r"|network is unreachable|timed out|the remote end hung up|early eof|rpc failed|unexpected disconnect"
    r"|returned error: (429|5\d\d)|http (429|5\d\d)|temporary failure|service unavailable|tls connection"
    r"|gnutls|ssl_error|\.lock'?: file exists|unable to create '[^']*\.lock'",
    re.IGNORECASE,
)
_PRELOAD = ["devops_audit.scan", "devops_audit.collectors", "devops_audit.engine", "devops_audit.policy",
            "devops_audit.maturity", "devops_audit.gate", "devops_audit.fleet.executors", "devops_audit.gitcmd"]


@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one repository (picklable)."""

    spec: RepoSpec
    options: Any  # devops_audit.scan.ScanOptions
    clone: CloneSettings
    known_commits: tuple[str, ...] = ()  # commits already scanned with this policy digest and config hash
    force: bool = False
    attempts: int = 3
    backoff: float = 1.0


@dataclass
class Outcome:
    """What happened to one repository. `report` is the zlib-compressed scan JSON; `summary` its digest."""

    repository: str
    status: str  # scanned | cached | failed
    commit: str | None = None
    cacheable: bool = False
    attempts: int = 1
    error: str | None = None
    duration: float = 0.0
    report: bytes | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def process(task: Task) -> Outcome:
    """Clone or update, then scan; retried on transient failures. Never raises for a repository problem.
    The scan's memory is given back to the system before the next repository (`heap`): a worker's resident
    memory stays flat however many repositories it scans."""
    from devops_audit.heap import release_free_memory

    try:
        return _with_retries(task)
    finally:
        release_free_memory()


def _with_retries(task: Task) -> Outcome:
    started = time.monotonic()
    error = "not attempted"
    attempt = 0
    for attempt in range(1, max(1, task.attempts) + 1):
        try:
            outcome = _once(task)
            outcome.attempts, outcome.duration = attempt, time.monotonic() - started
            return outcome
        except Exception as exc:  # noqa: BLE001 - a clone or scan failure of one repository, recorded
            error = str(exc) or type(exc).__name__
            if not is_transient(exc) or attempt >= task.attempts:
                break
            time.sleep(min(MAX_BACKOFF, task.backoff * 2 ** (attempt - 1)))
    return Outcome(task.spec.repository, "failed", attempts=attempt, error=error,
                   duration=time.monotonic() - started)


def is_transient(error: Exception) -> bool:
    """Whether the same work may succeed later: git failing on the network, a server or a lock; a dropped
    connection or a timeout of our own."""
    if isinstance(error, CloneError):
        return _TRANSIENT_GIT.search(str(error)) is not None
    return isinstance(error, (ConnectionError, TimeoutError))


def _once(task: Task) -> Outcome:
    from devops_audit.redact import redacted_result
    from devops_audit.scan import run_scan

    checkout = prepare(task.spec, task.clone)
    if checkout.cacheable and checkout.commit in task.known_commits and not task.force:
        return Outcome(task.spec.repository, "cached", commit=checkout.commit, cacheable=True)
    result = run_scan(checkout.path, task.options)
    data = redacted_result(result).to_dict()  # what the store keeps and the fleet reports print: no secret
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Outcome(task.spec.repository, "scanned", commit=checkout.commit, cacheable=checkout.cacheable,
                   report=zlib.compress(text.encode("utf-8"), _ZLIB_LEVEL), summary=summarize(data))


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """The few numbers the fleet report needs, from one scan JSON."""
    return {
        "gate": bool(report["gate"]["passed"]),
        "areas": [{"id": a["id"], "name": a["name"], "level": a["level"], "target": a["target"], "met": a["met"]}
                  for a in report["areas"]],
        "counts": report["summary"],
        "indicators": {i["id"]: i["status"] for i in report["indicators"]},
        "titles": {i["id"]: i["title"] for i in report["indicators"] if i["status"] in ("fail", "error")},
    }


# -- executors -------------------------------------------------------------------------------------
class SerialExecutor:
    """Runs every task in this process, one after the other."""

    jobs = 1

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        for task in tasks:
            yield process(task)


class LocalExecutor:
    """A `ProcessPoolExecutor` of `jobs` workers; a dead worker fails its task, the pool is rebuilt."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        from concurrent.futures.process import BrokenProcessPool

        source = iter(tasks)
        carry: list[Task] = []
        while True:
            pool = self._pool()
            pending: dict[Any, Task] = {}
            try:
                for task in [*carry, *islice(source, 2 * self.jobs - len(carry))]:
                    pending[pool.submit(process_in_worker, task)] = task
                carry = []
                while pending:
                    future = _first_done(pending)
                    task = pending.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        yield Outcome(task.spec.repository, "failed", error="worker process died (out of memory?)")
                        carry = [t for f, t in pending.items()]
                        pending.clear()
                        break
                    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result: recorded, not dropped
                        yield Outcome(task.spec.repository, "failed", error=f"worker error: {exc}")
                    for nxt in islice(source, 1):
                        pending[pool.submit(process_in_worker, nxt)] = nxt
            finally:
                for future in pending:
                    future.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
            if not carry:
                return

    def _pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=context)


def process_in_worker(task: Task) -> Outcome:
    """`process`, then the worker's temporary folders (git's empty home) removed: pool and Ray workers end
    without running exit handlers."""
    from devops_audit import tempdirs

    try:
        return process(task)
    finally:
        tempdirs.remove_all()


def _first_done(pending: dict[Any, Task]) -> Any:
    from concurrent.futures import FIRST_COMPLETED, wait

    done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
    return next(iter(done))


class RayExecutor:
    """Ray tasks (`ray.remote(process_in_worker)`), on `address` (a cluster) or a local instance of `jobs` CPUs.

    An already initialised Ray (e.g. by a test) is used as is. On a cluster, every node needs
    devops-audit installed and the cache directory is node-local.
    """

    def __init__(self, jobs: int, address: str | None = None) -> None:
        self.jobs = max(1, jobs)
        self.address = address

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        try:
            import ray
        except ImportError:
            from devops_audit.errors import UsageError

            raise UsageError("--executor ray needs the devops-audit[ray] extra (pip install 'devops-audit[ray]')") from None
        owned = not ray.is_initialized()
        if owned:
            ray.init(address=self.address, num_cpus=None if self.address else self.jobs,
                     include_dashboard=False, log_to_driver=False)
        remote = ray.remote(num_cpus=1, max_retries=1)(process_in_worker)
        width = 2 * max(self.jobs, int(ray.cluster_resources().get("CPU", self.jobs)))
        source = iter(tasks)
        pending: dict[Any, Task] = {}
        try:
            for task in islice(source, width):
                pending[remote.remote(task)] = task
            while pending:
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                task = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - a lost node or worker: recorded, not dropped
                    yield Outcome(task.spec.repository, "failed", error=f"ray task failed: {type(exc).__name__}")
                for nxt in islice(source, 1):
                    pending[remote.remote(nxt)] = nxt
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if owned:
                ray.shutdown()


def make_executor(kind: str, jobs: int, ray_address: str | None = None) -> Any:
    if kind == "ray":
        return RayExecutor(jobs, ray_address)
    return SerialExecutor() if jobs <= 1 else LocalExecutor(jobs)
