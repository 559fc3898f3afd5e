"""What kind of project the repository is (namespace `project`): service, library, infrastructure, packaging
recipe, documentation or other, with the reasons. Recognised from the files and the pipelines with the
table in `project.yaml`; `.devops-audit.yml` can say it instead (`project: {kind: library}`).

Indicators read the profile in `applies` (rollback only for deployables, migrations only with a database);
every report prints it, so a reader sees which kind of project was judged.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from devops_audit.collectors.security.secret_files import is_test_path
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence
from devops_audit.workspace import Workspace

__all__ = ["NAME", "KINDS", "collect", "profile"]

NAME = "project"
KINDS = ("service", "library", "infrastructure", "recipe", "documentation", "other")
_READ_LIMIT = 256 * 1024
_WILDCARD = re.compile(r"[*?\[]")
_ARTICLE = {"service": "a deployable service or application", "library": "a library or package published to a registry",
            "infrastructure": "infrastructure code", "recipe": "a packaging recipe",
            "documentation": "documentation only", "other": "of no recognised kind"}


@dataclass
class Reason:
    """One sign of the project's kind: the trait, the file that shows it and why."""

    trait: str
    path: str
    reason: str
    weak: bool = False  # counts only when nothing says the project is published


@dataclass
class Profile:
    """The kind of project detected (or configured), with the reasons and the lock-file gaps."""

    kind: str
    source: str  # detected | config
    traits: list[str]
    reasons: list[Reason]
    lockless: dict[str, dict[str, Any]] = field(default_factory=dict)  # ecosystem -> {pinned, pinned_by, fix}
    lock_fixes: dict[str, str] = field(default_factory=dict)  # ecosystem -> how to lock it

    @property
    def summary(self) -> str:
        shown = [r for r in self.reasons if r.trait in self.traits][:4]
        why = "; ".join(f"{r.reason}: {r.path}" for r in shown)
        how = "set in .devops-audit.yml" if self.source == "config" else why or "no recognised files"
        return f"{_ARTICLE[self.kind]} ({how})"

    def facts(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "source": self.source, "summary": self.summary, "traits": self.traits,
            "reasons": [{"trait": r.trait, "path": r.path, "reason": r.reason} for r in self.reasons],
            **{trait: trait in self.traits for trait in ("deployable", "published", "infrastructure", "recipe",
                                                         "database", "documentation")},
            "lockless": self.lockless, "lock_fixes": self.lock_fixes,
        }


def collect(workspace: Workspace, options: Any) -> Evidence:
    ci = options.collected.get("ci") if hasattr(options, "collected") else None
    ci_facts = ci.facts if ci is not None and ci.present else None
    settings = (options.settings or {}).get("project") or {}
    return Evidence(NAME, True, profile(workspace, ci_facts, settings).facts())


def profile(workspace: Workspace, ci_facts: dict[str, Any] | None, settings: dict[str, Any]) -> Profile:
    table = _table()
    reasons = _file_reasons(workspace, table) + _ci_reasons(ci_facts, table) + _action_tests(workspace, ci_facts, table)
    if any(r.trait == "published" for r in reasons):
        reasons = [r for r in reasons if not r.weak]
    has_code = any(not is_test_path(p) for p in workspace.index.matches(table["code_files"]))
    if has_code or reasons:
        reasons = [r for r in reasons if r.trait != "documentation" or not has_code]
    elif documents := _matching(workspace, ("*.md", "*.rst", "*.adoc")):
        reasons.append(Reason("documentation", documents[0], "only documentation sources, no code"))
    traits = sorted({r.trait for r in reasons})
    kind = next((row["kind"] for row in table["kinds"] if set(row["traits"]) <= set(traits)), "other")
    source = "detected"
    if settings.get("kind"):
        kind, source = str(settings["kind"]), "config"
        implied = set(table["implies"][kind])
        structural = {"deployable", "published", "infrastructure", "recipe", "documentation"}
        traits = sorted(implied | (set(traits) - structural))
    if "database" in settings:
        traits = sorted(set(traits) - {"database"} | ({"database"} if settings["database"] else set()))
    lockless = {name: _pinning(workspace, row) for name, row in table["ecosystems"].items() if not row["lockfile"]}
    fixes = {name: " ".join(str(row["fix"]).split()) for name, row in table["ecosystems"].items()}
    return Profile(kind, source, traits, reasons, lockless, fixes)


def _matching(workspace: Workspace, globs: tuple[str, ...]) -> list[str]:
    """Files outside test folders whose path or name matches one of the globs (`*` crosses `/`), in file order."""
    return [p for p in sorted(set(workspace.index.matches(globs))) if not is_test_path(p)]


def _file_reasons(workspace: Workspace, table: dict[str, Any]) -> list[Reason]:
    """The first file of each signal row (in file order) that gives its trait; only the files a row's globs
    match are looked at, and a file's content only until one qualifies."""
    private = table["private_packages"]
    reasons = []
    for row in table["signals"]:
        unless = _path_matcher(tuple(row.get("unless") or ()))
        hits: Iterator[str] = (p for p in _matching(workspace, tuple(row["files"]))
                               if not unless(p) and not (row.get("root") and "/" in p))
        if row.get("content"):
            hits = (p for p in hits if _contains(workspace, p, row["content"]))
        if row["trait"] == "published":
            hits = (p for p in hits if not (_path_matcher(tuple(private["files"]))(p)
                                             and _contains(workspace, p, private["content"])))
        hit = next(hits, None)
        if hit is not None:
            reasons.append(Reason(row["trait"], hit, row["reason"], bool(row.get("weak"))))
    return reasons


def _ci_reasons(ci: dict[str, Any] | None, table: dict[str, Any]) -> list[Reason]:
    if not ci:
        return []
    reasons = []
    steps: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for step in ci.get("steps") or []:
        steps.setdefault((step.get("pipeline", ""), step.get("job", "")), []).append(step)
    deploys = [j for j in ci.get("jobs") or [] if "deploy" in j.get("kinds", [])
               and _is_deployment(j, steps.get((j.get("pipeline", ""), j.get("id", ""))) or [], table["ci"])]
    if deploys:
        job = deploys[0]
        where = f"{job['location']['path']}:{job['location']['line']}"
        reasons.append(Reason("deployable", where, f"deploy job {job['id']}"
                              + (f" (environment {job['environment']})" if job.get("environment") else "")))
    publishes = [j for j in ci.get("jobs") or [] if "publish" in j.get("kinds", [])]
    if publishes:
        job = publishes[0]
        reasons.append(Reason("published", f"{job['location']['path']}:{job['location']['line']}",
                              f"publish job {job['id']} ({', '.join(job.get('tools') or []) or 'publish step'})"))
    return reasons


def _action_tests(workspace: Workspace, ci: dict[str, Any] | None, table: dict[str, Any]) -> list[Reason]:
    """A GitHub Action (`action.yml` at the root) whose CI runs a local action outside `.github/`: the
    repository's own code (a smoke test, often of the action checked out to `./test`) is that job's test."""
    rules = table["ci"]["action_tests"]
    if not ci or not any(name in workspace.file_set for name in rules["files"]):
        return []
    own = re.compile(rules["uses"])
    step = next((s for s in ci.get("steps") or [] if own.match(s.get("uses") or "")), None)
    if step is None:
        return []
    where = f"{step['location']['path']}:{step['location']['line']}"
    return [Reason("action-tests", where, f"CI runs the repository's own action ({step['uses']})")]


def _is_deployment(job: dict[str, Any], steps: list[dict[str, Any]], rules: dict[str, Any]) -> bool:
    """A step that deploys, or a deployment-stage environment; documentation and registry uploads are not."""
    exclude = rules["not_deployments"]
    environment = str(job.get("environment") or "")
    if (environment and re.search(exclude["environments"], environment)) or re.search(
            exclude["names"], f"{job.get('id', '')} {job.get('name', '')}"):
        return False
    deploy_steps = [s for s in steps if "deploy" in s.get("kinds", [])]
    if deploy_steps:
        return not all(any(s.get("uses", "").startswith(u) for u in exclude["uses"])
                       or re.search(exclude["commands"], s.get("run", "")) for s in deploy_steps)
    target = environment or f"{job.get('id', '')} {job.get('name', '')}"  # an orb or template job: its name
    return re.search(rules["deployment_environments"], target) is not None


def _pinning(workspace: Workspace, row: dict[str, Any]) -> dict[str, Any]:
    """For an ecosystem without lockfiles: whether the build pins and enforces its versions another way
    (`pinned` true / false, or None when a parent definition outside the repository may do it)."""
    rule = row.get("pinned_by") or {}
    found = next((p for p in _matching(workspace, tuple(rule.get("files") or ()))
                  if _contains(workspace, p, rule["content"])), "") if rule else ""
    pinned: bool | None = bool(found)
    parent = ""
    inherits = row.get("inherited_from") or {}
    if not found and inherits:
        for path in (p for p in _matching(workspace, tuple(inherits["files"])) if "/" not in p):
            match = _search(workspace, path, inherits["content"])
            if match:
                pinned, parent = None, f"{match.group('group').strip()}:{match.group('artifact').strip()}"
    return {"pinned": pinned, "pinned_by": found, "parent": parent, "fix": " ".join(str(row["fix"]).split())}


def _contains(workspace: Workspace, path: str, pattern: str) -> bool:
    return _search(workspace, path, pattern) is not None


def _search(workspace: Workspace, path: str, pattern: str) -> re.Match[str] | None:
    try:
        text = workspace.read_bytes(path, max_bytes=_READ_LIMIT).decode("utf-8", errors="replace")
    except EvidenceError:
        return None  # the collectors that read it for their own evidence report it
    return re.search(pattern, text)


@cache
def _path_matcher(globs: tuple[str, ...]) -> Any:
    """One matcher for a group of globs (`*` crosses `/`), tried on the path and on its name. Plain names and
    `*suffix` / `prefix*` globs are string tests; only the rest are compiled (regex compiles cost milliseconds)."""
    exact = {g for g in globs if not _WILDCARD.search(g)}
    suffixes = tuple(g[1:] for g in globs if g.startswith("*") and not _WILDCARD.search(g[1:]))
    prefixes = tuple(g[:-1] for g in globs if g.endswith("*") and not _WILDCARD.search(g[:-1]))
    rest = [g for g in globs if g not in exact and g[1:] not in suffixes and g[:-1] not in prefixes]
    regex = re.compile("|".join(fnmatch.translate(g) for g in rest)) if rest else None

    def match(path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return (path in exact or name in exact or path.endswith(suffixes) or path.startswith(prefixes)
                or name.startswith(prefixes)
                or (regex is not None and (regex.match(path) is not None or regex.match(name) is not None)))
    return match


@cache
def _table() -> dict[str, Any]:
    from devops_audit.yamlsafe import load_documents

    (table,) = load_documents(Path(__file__).with_name("project.yaml").read_text(encoding="utf-8"))
    return table
