"""Collectors: one module per evidence kind. Each turns files (or an API) into facts; none decides.

A collector module exposes `NAME` (the fact namespace policies read, e.g. `ci`) and
`collect(workspace, options) -> Evidence`. It must never raise for a bad file: a file that cannot be
read becomes an `InventoryEntry` with status `error`, its path, line and reason, and the rest goes on.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from devops_audit.facts import Evidence, InventoryEntry
from devops_audit.untrusted import clean
from devops_audit.workspace import Workspace

__all__ = ["Collector", "CollectOptions", "COLLECTORS", "BESIDE", "collect_all", "unexpected_content"]

# namespace -> module; imported only when a scan runs
COLLECTORS: dict[str, str] = {
    "repo": "devops_audit.collectors.repo",
    "files": "devops_audit.collectors.files",
    "ci": "devops_audit.collectors.ci.pipelines",
    "coverage": "devops_audit.collectors.testing.coverage",
    "tests": "devops_audit.collectors.testing.junit",
    "protection": "devops_audit.collectors.protection.protection",
    "codeowners": "devops_audit.collectors.protection.codeowners",
    "history": "devops_audit.collectors.history.history",
    "security": "devops_audit.collectors.security.scan_results",
    "project": "devops_audit.collectors.project",  # after `ci`: deploy and publish jobs say what the project is
}
# collectors that mostly wait for git: each runs in a thread beside the others (git's run releases the GIL), so
# its waits overlap their work; it reads no other collector's facts and writes nothing the others read
BESIDE = frozenset({"history"})


@dataclass
class CollectOptions:
    """What the user told us about where evidence is (config `evidence:` and `--evidence KIND=PATH`)."""

    evidence_paths: dict[str, list[str]] = field(default_factory=dict)  # kind -> globs, e.g. coverage, junit, sarif
    classification: list[dict[str, Any]] = field(default_factory=list)  # extra rows for tools.yaml
    history_window_days: int = 90
    api_url: str | None = None  # GitHub Enterprise / self-managed GitLab API base
    offline: bool = False  # never call a forge API, even with a token
    run_scanners: bool = False
    scanner_timeout: float = 300.0
    cache_dir: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # the config's free-form `collectors:` section
    collected: dict[str, Evidence] = field(default_factory=dict)  # what the collectors before this one found


class Collector(Protocol):
    NAME: str

    def collect(self, workspace: Workspace, options: CollectOptions) -> Evidence: ...


def collect_all(workspace: Workspace, options: CollectOptions, names: list[str] | None = None) -> dict[str, Evidence]:
    """Run every collector (or those named), in `COLLECTORS` order; a collector that crashes is reported, not
    fatal."""
    results: dict[str, Evidence] = {}
    options.collected = results
    chosen = [(name, module) for name, module in COLLECTORS.items() if names is None or name in names]
    beside = {name: _Beside(lambda name=name, module=module: _collect_one(name, module, workspace, options))
              for name, module in chosen if name in BESIDE}
    for started in beside.values():
        started.start()
    for name, module_name in chosen:
        evidence = beside[name].result() if name in beside else _collect_one(name, module_name, workspace, options)
        if evidence is not None:
            results[name] = evidence
    for entry in workspace.problems:  # what the file list could not cover reaches the evidence it would feed
        if entry.evidence != "repo" and entry.evidence in results:
            results[entry.evidence].inventory.append(entry)
    return results


def _collect_one(name: str, module_name: str, workspace: Workspace, options: CollectOptions) -> Evidence | None:
    """One collector's evidence (None when its module is not installed in this build); never raises."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None  # not installed in this build: indicators that need it answer `unknown`
        module = exc
    except Exception as exc:  # a broken collector must not take the other indicators down
        module = exc
    try:
        if isinstance(module, Exception):
            raise module
        evidence = module.collect(workspace, options)
        if not evidence.clean:  # plain JSON values, what CEL and the reports read (dataclasses become dicts):
            evidence.facts = clean(evidence.facts)  # no lone surrogate, non-finite number or odd key
            evidence.clean = True
        return evidence
    except Exception as exc:  # a collector bug must not take the other indicators down
        path = _file_being_read(exc, workspace) or "."
        return Evidence(
            name, False, None,
            [InventoryEntry(path, name, "error", f"collector crashed: {_describe(exc)}", evidence=name)],
            hint=f"the {name} collector failed on {path}; please report this as a bug",
        )


class _Beside(threading.Thread):
    """A collector running in a thread; `result()` waits for its evidence. A daemon: an interrupted scan does
    not wait for it (its git commands are bounded in time anyway)."""

    def __init__(self, collect: Callable[[], Evidence | None]) -> None:
        super().__init__(name="collector", daemon=True)
        self._collect = collect
        self._evidence: Evidence | None = None

    def run(self) -> None:
        self._evidence = self._collect()

    def result(self) -> Evidence | None:
        self.join()
        return self._evidence


def unexpected_content(path: str, kind: str, exc: Exception, namespace: str | None = None) -> InventoryEntry:
    """The inventory entry for a file whose content had a shape the collector did not expect: the file is
    lost, the collector carries on with the others."""
    return InventoryEntry(path, kind, "error", f"unexpected content, file skipped: {_describe(exc)}", None, namespace)


def _describe(exc: Exception) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}{'...' if len(text) > 200 else ''}"


def _file_being_read(exc: Exception, workspace: Workspace) -> str | None:
    """The repository file a crashed collector was working on: the innermost `path` variable naming one."""
    paths = []
    traceback = exc.__traceback__
    while traceback is not None:
        candidate = traceback.tb_frame.f_locals.get("path")
        if isinstance(candidate, str) and candidate in workspace.file_set:
            paths.append(candidate)
        traceback = traceback.tb_next
    return paths[-1] if paths else None
