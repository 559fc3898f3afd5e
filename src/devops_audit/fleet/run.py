"""A fleet run: the repositories through an executor, each outcome stored and streamed as it finishes.

- The cache key of a scan is (repository, commit, policy digest, config hash); the config hash covers the
  scan options, the `--config` file's text, the clone depth and the devops-audit version. A repository whose
  commit was already scanned under the same key is `cached` (not scanned again) unless `force`.
- A run is recorded in the store before the first repository; each outcome is committed as it arrives.
  Interrupted (Ctrl-C, a crash), the run stays open; `resume` continues it: repositories it already scanned
  or found cached are skipped, failed ones are tried again. Without `resume`, a new run still skips the
  unchanged repositories through the cache.
- `--output FILE.jsonl`: one line per repository, the `scan` JSON plus `repository` and `status` (`failed`
  lines carry `error` and `attempts` instead). A new run rewrites the file, a resumed one appends to it.
- Progress: a rich progress bar on stderr when it is a terminal, else one plain line per repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from devops_audit.fleet.clone import CloneSettings
from devops_audit.fleet.executors import Outcome, Task, make_executor
from devops_audit.fleet.sources import RepoSpec
from devops_audit.fleet.store import Store, open_store

__all__ = ["FleetOptions", "FleetSummary", "run_fleet", "config_hash"]


@dataclass
class FleetOptions:
    """How a fleet run goes (the scan options themselves are a `ScanOptions`)."""

    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    executor: str = "local"  # local | ray
    ray_address: str | None = None
    clone: CloneSettings = field(default_factory=CloneSettings)
    store: str | None = None
    output: str | None = None
    force: bool = False
    resume: str | None = None  # a run id, or "latest": the newest run that did not finish
    attempts: int = 3
    backoff: float = 1.0
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    source: str = ""


@dataclass
class FleetSummary:
    """What a run did; counts cover the whole run, including the part done before a resume."""

    run_id: str
    total: int
    scanned: int = 0
    cached: int = 0
    failed: int = 0
    gate_failed: int = 0
    skipped: int = 0  # already done by the run before it was resumed
    interrupted: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)


def config_hash(scan_options: Any, clone: CloneSettings) -> str:
    """What besides the commit and the policies changes a scan's result."""
    from devops_audit import __version__

    options = {k: v for k, v in asdict(scan_options).items() if k != "cache_dir"}
    config_text = ""
    if scan_options.config_path:
        config_text = Path(scan_options.config_path).read_text(encoding="utf-8", errors="replace")
    data = {"version": __version__, "options": options, "config": config_text,
            "window": clone.window_days, "full_clone": clone.full}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_fleet(specs: list[RepoSpec], scan_options: Any, options: FleetOptions, *,
              on_result: Callable[[Outcome], None] | None = None, stream: IO[str] | None = None) -> FleetSummary:
    """Scan every repository of `specs`; raises KeyboardInterrupt after recording an interrupted run."""
    from devops_audit.config import load_config
    from devops_audit.scan import compiled_policies

    stream = stream or sys.stderr
    if scan_options.config_path:
        load_config(Path(scan_options.config_path), required=True)  # a bad --config fails now, not N times
    digest = compiled_policies(tuple(scan_options.policy_paths)).digest  # compiled once: the scans reuse them
    key = config_hash(scan_options, options.clone)
    store = open_store(options.store)
    try:
        run_id, done = _open_run(store, options, digest, key, len(specs), stream)
        summary = FleetSummary(run_id, len(specs), skipped=sum(1 for s in specs if s.repository in done))
        todo = [s for s in specs if s.repository not in done]
        tasks = (Task(s, scan_options, options.clone, store.known_commits(s.repository, digest, key),
                      options.force, options.attempts, options.backoff) for s in todo)
        executor = make_executor(options.executor, options.jobs, options.ray_address)
        with _Output(options.output, append=bool(options.resume)) as output, \
                _progress(options.progress, stream, len(specs), summary.skipped) as progress:
            try:
                for outcome in executor.run(tasks):
                    _handle(store, run_id, outcome, digest, key, output)
                    progress(outcome)
                    if on_result:
                        on_result(outcome)
            except BaseException:
                store.finish_run(run_id, "interrupted")
                summary.interrupted = True
                print(f"devops-audit: fleet run {run_id} interrupted; continue it with "
                      f"`devops-audit fleet scan ... --resume {run_id}`", file=stream)
                raise
        counts = store.finish_run(run_id, "finished")
        _fill(summary, store, run_id, counts)
        return summary
    finally:
        store.close()


def _open_run(store: Store, options: FleetOptions, digest: str, key: str, total: int,
              stream: IO[str]) -> tuple[str, set[str]]:
    from devops_audit.errors import UsageError

    if not options.resume:
        return store.start_run(digest, key, options.source, total), set()
    run = store.latest_open_run() if options.resume == "latest" else store.run(options.resume)
    if run is None:
        if options.resume != "latest":
            raise UsageError(f"--resume: no run {options.resume} in the store")
        print("devops-audit: no unfinished fleet run to resume; starting a new one", file=stream)
        return store.start_run(digest, key, options.source, total), set()
    if (run["policy_digest"], run["config_hash"]) != (digest, key):
        raise UsageError(f"--resume: run {run['run_id']} used other policies or options; start a new run instead")
    store.reopen_run(run["run_id"], total)
    return run["run_id"], store.done_in_run(run["run_id"])


def _handle(store: Store, run_id: str, outcome: Outcome, digest: str, key: str, output: _Output) -> None:
    scan_id = store.record(run_id, outcome, digest, key)
    if not output.file:
        return
    head = {"repository": outcome.repository, "status": outcome.status}
    if outcome.status == "failed":
        output.write(json.dumps({**head, "error": outcome.error, "attempts": outcome.attempts}, ensure_ascii=False,
                                separators=(",", ":")))
        return
    report = outcome.report if outcome.status == "scanned" else (store.report(scan_id) if scan_id else None)
    body = zlib.decompress(report).decode("utf-8") if report else "{}"
    prefix = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    output.write(prefix + ("," + body[1:] if body != "{}" else "}"))


def _fill(summary: FleetSummary, store: Store, run_id: str, counts: dict[str, int]) -> None:
    summary.scanned, summary.cached, summary.failed = counts["scanned"], counts["cached"], counts["failed"]
    summary.failures = store.failures(run_id)
    summary.gate_failed = store.gate_failures(run_id)


class _Output:
    """The JSONL stream: each line written and flushed as its repository finishes."""

    def __init__(self, path: str | None, *, append: bool) -> None:
        self.path = path
        self.append = append
        self.file: IO[str] | None = None

    def __enter__(self) -> _Output:
        if self.path:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "a" if self.append else "w", encoding="utf-8")  # noqa: SIM115
        return self

    def write(self, line: str) -> None:
        assert self.file is not None
        self.file.write(line + "\n")
        self.file.flush()

    def __exit__(self, *exc: object) -> None:
        if self.file:
            self.file.close()


class _progress:  # noqa: N801 - a context manager used like a function
    """A rich progress bar (a terminal) or plain lines; calling it with an outcome advances it."""

    def __init__(self, enabled: bool | None, stream: IO[str], total: int, done: int) -> None:
        self.rich = stream.isatty() if enabled is None else enabled
        self.stream, self.total, self.done = stream, total, done
        self.counts = {"scanned": 0, "cached": 0, "failed": 0}
        self.started = time.monotonic()
        self.bar: Any = None

    def __enter__(self) -> Callable[[Outcome], None]:
        if self.rich:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("fleet"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[stats]}"), TimeRemainingColumn(),
                                console=Console(file=self.stream), transient=False)
            self.bar.start()
            self.task = self.bar.add_task("fleet", total=self.total, completed=self.done, stats=self._stats())
        return self.advance

    def _stats(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = sum(self.counts.values()) / elapsed
        return (f"scanned {self.counts['scanned']} cached {self.counts['cached']} failed {self.counts['failed']} "
                f"{rate:.1f}/s")

    def advance(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, stats=self._stats())
            return
        detail = f": {outcome.error}" if outcome.error else f" ({outcome.duration:.2f} s)"
        print(f"[{self.done}/{self.total}] {outcome.status} {outcome.repository}{detail}", file=self.stream, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

