"""The `protection` namespace: how the default branch is protected, from exported files and the forge API.

Offline sources (see `protection_formats` for what each field means): `.github/rulesets/*.json`,
`.github/*protection*.json`, `.github/settings.yml` (Probot), `.asf.yaml` (Apache), GitLab exports under
`.gitlab/` (`*protected*branch*.json`, `*approval*.json`, `project.json`), and any file given with
`--evidence protection=PATH` (JSON exports are recognised by their shape, not their name). Online, with
`GITHUB_TOKEN` / `GITLAB_TOKEN` and not `--offline`, the forge API is asked (`protection_api`).

Facts: `rules` (one per source and branch pattern), `default_branch` and `default_branch_source`
(api | export | settings | git-remote | git-head | unknown), `default_branch_rules` (the rules whose
pattern covers the default branch: `~DEFAULT_BRANCH`, `~ALL`, globs; `main`/`master` when the default
branch is unknown), `effective` (what the active ones enforce together), `sources`, `api_status`,
`api_reason`, and `complete` (false when the API hid part of the answer, e.g. classic protection needs admin).
When the API answered completely, `effective` is computed from its answer: it is what is in force, and
committed files may be out of date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from devops_audit.collectors import unexpected_content
from devops_audit.collectors.protection.formats import (
    BranchRule,
    GitLabBundle,
    effective,
    from_asf,
    from_protection,
    from_rule_list,
    from_ruleset,
    from_settings,
    gitlab_rules,
    json_kind,
    line_of_json,
)
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence, InventoryEntry, Location, to_data
from devops_audit.untrusted import load_json
from devops_audit.workspace import Workspace

__all__ = ["NAME", "collect", "applies_to", "HINT"]

NAME = "protection"
EXPORTS = re.compile(r"^(?:\.github/rulesets/.+|\.github/[^/]*protection[^/]*"
                     r"|\.gitlab/(?:[^/]*protected[^/]*branch[^/]*|[^/]*approval[^/]*|project))\.json$")
SETTINGS = ".github/settings.yml"
ASF = ".asf.yaml"
HINT = ("no branch protection evidence. Provide it in one of three ways: commit or export the rulesets or "
        "protection JSON (e.g. `gh api repos/OWNER/REPO/rulesets/ID > .github/rulesets/main.json` or "
        "`gh api repos/OWNER/REPO/branches/main/protection > .github/branch-protection.json`; GitLab: "
        "`/projects/:id/protected_branches` and `/approval_rules` into .gitlab/), pass "
        "`--evidence protection=FILE`, or set GITHUB_TOKEN / GITLAB_TOKEN so the forge API is read")
_STRONG_SOURCES = ("api", "export", "settings", "git-remote")


@dataclass
class _Found:
    """Everything the offline files gave."""

    rules: list[BranchRule] = field(default_factory=list)
    inventory: list[InventoryEntry] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    gitlab: GitLabBundle = field(default_factory=GitLabBundle)
    gitlab_paths: list[str] = field(default_factory=list)
    default_branch: str | None = None
    default_source: str = ""

    def read(self, path: str, kind: str, added: int, reason: str) -> None:
        """Record a file that parsed: `parsed` when it gave rules, else `skipped` with `reason`."""
        self.inventory.append(InventoryEntry(path, kind, "parsed" if added else "skipped",
                                             "" if added else reason, evidence=NAME))
        if added:
            self.sources.append({"path": path, "kind": kind})


def collect(workspace: Workspace, options: Any) -> Evidence:
    from devops_audit.collectors.protection import api as protection_api

    found = _offline(workspace, options)
    api = protection_api.fetch(workspace, options)
    rules = found.rules + api.rules
    default, default_source = _default_branch(workspace, found, api.default_branch, ask_git=bool(rules))
    judged = api.rules if api.answered and api.complete else rules
    candidates = [default] if default and default_source in _STRONG_SOURCES else \
        [*([default] if default else []), "main", "master"]
    on_default = [r for r in judged if applies_to(r, candidates)]
    facts = {
        "rules": [to_data(r) for r in rules],
        "default_branch": default,
        "default_branch_source": default_source,
        "default_branch_rules": [to_data(r) for r in on_default],
        "effective": effective(on_default),
        "sources": found.sources + api.sources,
        "api_status": api.status,
        "api_reason": api.reason,
        "complete": api.complete,
    }
    inventory = found.inventory + api.inventory
    present = bool(found.sources) or api.answered
    return Evidence(NAME, present, facts, inventory, hint=_hint(inventory, api))


def _hint(inventory: list[InventoryEntry], api: Any) -> str:
    notes = [f"{e.path}: {e.reason}" for e in inventory if e.status == "error"][:3]
    if api.status not in ("ok", "no_token", "offline"):
        notes.append(f"forge API: {api.reason}")
    return HINT + (f" ({'; '.join(notes)})" if notes else "")


def applies_to(rule: BranchRule, candidates: list[str]) -> bool:
    """Whether a rule's branch pattern covers the default branch (any of the candidate names)."""
    def matches(pattern: str, name: str) -> bool:
        return pattern in ("~ALL", "~DEFAULT_BRANCH") or fnmatchcase(name, pattern)

    return any(matches(rule.branch, name) and not any(matches(x, name) for x in rule.exclude)
               for name in candidates or ["~"])


# -- offline files -----------------------------------------------------------------------------
def _offline(workspace: Workspace, options: Any) -> _Found:
    found = _Found()
    candidates = sorted({*workspace.index.under(".github"), *workspace.index.under(".gitlab")})
    paths = dict.fromkeys(p for p in candidates if EXPORTS.match(p))
    for path in _given(workspace, options, found):
        paths.setdefault(path)
    for path in paths:
        _contained(path, found, _yaml_file if path.endswith((".yml", ".yaml")) else _json_file, workspace, path, found)
    if SETTINGS in workspace.file_set and SETTINGS not in paths:
        _contained(SETTINGS, found, _yaml_file, workspace, SETTINGS, found)
    if ASF in workspace.file_set and ASF not in paths:
        _contained(ASF, found, _yaml_file, workspace, ASF, found)
    if found.gitlab:
        rules = _contained(found.gitlab_paths[0], found, gitlab_rules, found.gitlab, found.gitlab_paths[0]) or []
        found.rules.extend(rules)
        if rules:
            found.sources.extend({"path": p, "kind": "gitlab-export"} for p in found.gitlab_paths)
    return found


def _contained(path: str, found: _Found, read: Any, *args: Any) -> Any:
    """`read(*args)`; an unexpected shape in that file becomes its inventory error and loses only it."""
    try:
        return read(*args)
    except Exception as exc:
        found.inventory.append(unexpected_content(path, "protection-export", exc, NAME))
        return None


def _given(workspace: Workspace, options: Any, found: _Found) -> list[str]:
    """Files named with `--evidence protection=...` (repository-relative globs, tracked or not)."""
    from devops_audit.collectors.testing.coverage_paths import evidence_globs

    patterns = list((getattr(options, "evidence_paths", None) or {}).get(NAME, []))
    usable, refused = evidence_globs(workspace, patterns)
    for pattern in refused:
        found.inventory.append(InventoryEntry(pattern, "protection-export", "skipped",
                                              "outside the repository; copy the export into it", evidence=NAME))
    paths = workspace.on_disk(*usable) if usable else []
    for pattern in usable:
        if not any(fnmatchcase(p, pattern) for p in paths):
            found.inventory.append(InventoryEntry(pattern, "protection-export", "error", "no such file", evidence=NAME))
    return paths


def _json_file(workspace: Workspace, path: str, found: _Found) -> None:
    try:
        text = workspace.read_text(path)
        data = load_json(text)
    except EvidenceError as exc:
        found.inventory.append(InventoryEntry(path, "protection-export", "error", exc.reason, exc.line, NAME))
        return
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        found.inventory.append(InventoryEntry(path, "protection-export", "error", f"invalid JSON: {exc}", line, NAME))
        return
    kind = json_kind(data)
    if kind is None:
        found.inventory.append(InventoryEntry(
            path, "protection-export", "error", "not a protection export this tool knows (GitHub ruleset, "
            "rules or branch protection; GitLab protected branches, approval rules or project)", 1, NAME))
        return
    if kind.startswith("gitlab-"):
        _gitlab_file(path, text, kind, data, found)
        return
    before = len(found.rules)
    if kind in ("github-ruleset", "github-rulesets"):
        for ruleset in [data] if kind == "github-ruleset" else data:
            line = line_of_json(text, "name", ruleset.get("name")) if ruleset.get("name") else 1
            found.rules.extend(from_ruleset(ruleset, path, "github-ruleset", Location(path, line)))
    elif kind == "github-rules":
        found.rules.extend(from_rule_list(data, "~DEFAULT_BRANCH", path, "github-rules", Location(path, 1)))
    else:
        found.rules.append(from_protection(data, None, path, "github-protection", Location(path, 1)))
    found.read(path, kind, len(found.rules) - before, "no branch rule in it (tag or push rulesets, or no target)")


def _gitlab_file(path: str, text: str, kind: str, data: Any, found: _Found) -> None:
    bundle = found.gitlab
    found.gitlab_paths.append(path)
    if kind == "gitlab-protected-branches":
        for item in data if isinstance(data, list) else [data]:
            location = Location(path, line_of_json(text, "name", item.get("name")) if item.get("name") else 1)
            bundle.protected_branches.append((item, path, location))
    elif kind == "gitlab-approval-rules":
        bundle.approval_rules.extend(data)
    elif kind == "gitlab-approvals":
        bundle.approvals.update(data)
    else:
        bundle.project.update(data)
        if data.get("default_branch") and not found.default_branch:
            found.default_branch, found.default_source = str(data["default_branch"]), "export"
    found.inventory.append(InventoryEntry(path, kind, "parsed", evidence=NAME))


def _yaml_file(workspace: Workspace, path: str, found: _Found) -> None:
    kind = "asf-yaml" if path.endswith(ASF) else "probot-settings"
    try:
        documents = workspace.load_yaml(path)
    except EvidenceError as exc:
        found.inventory.append(InventoryEntry(path, kind, "error", exc.reason, exc.line, NAME))
        return
    document = documents[0] if documents and isinstance(documents[0], dict) else {}
    if kind == "asf-yaml":
        rules = from_asf(document, path)
    else:
        rules, default = from_settings(document, path)
        if default and not found.default_branch:
            found.default_branch, found.default_source = default, "settings"
    found.rules.extend(rules)
    found.read(path, kind, len(rules), "no branch protection in it")


# -- the default branch ------------------------------------------------------------------------
def _default_branch(workspace: Workspace, found: _Found, from_api: str | None,
                    ask_git: bool) -> tuple[str | None, str]:
    """From the API, an export or settings file, else git (only when there are rules to match it against)."""
    if from_api:
        return from_api, "api"
    if found.default_branch:
        return found.default_branch, found.default_source
    if not ask_git:
        return None, "unknown"
    remote_head = _origin_head(workspace)
    if remote_head:
        return remote_head, "git-remote"
    git = workspace.git
    if git and git.branch:
        return git.branch, "git-head"
    return None, "unknown"


def _origin_head(workspace: Workspace) -> str | None:
    """The branch `refs/remotes/origin/HEAD` points at (set by `git clone`), if any."""
    if not workspace.is_git:
        return None
    ref = workspace.git_text("symbolic-ref", "-q", "refs/remotes/origin/HEAD")
    if not ref:  # no such ref (e.g. a CI checkout without it): fall back to HEAD
        return None
    prefix = "refs/remotes/origin/"
    return ref[len(prefix):] if ref.startswith(prefix) else None
