"""Branch protection read live from the forge API, when a token is in the environment.

GitHub: `GET /repos/O/R` (default branch), `/rules/branches/B` (the rulesets in force; a read token is
enough), `/branches/B` and `/branches/B/protection` (classic protection; needs admin, so a 403/404 there
is recorded as "needs admin" and the answer is marked incomplete). GitLab: `GET /projects/:id`,
`/protected_branches`, `/approval_rules`, `/approvals`. A failed request becomes an inventory entry and an
`api_status` with its reason, never an exception. The token never reaches a fact or a message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from devops_audit.collectors.protection.formats import (
    BranchRule,
    GitLabBundle,
    from_protection,
    from_rule_list,
    gitlab_rules,
)
from devops_audit.facts import InventoryEntry
from devops_audit.forge import (
    TOKEN_VARIABLES,
    ForgeClient,
    ForgeError,
    ForgeTarget,
    origin_remote,
    project_id,
    resolve_target,
)
from devops_audit.workspace import Workspace

__all__ = ["ApiOutcome", "fetch", "status_of"]

NAME = "protection"
DEFAULT_MAX_WAIT = 60.0
NEEDS_ADMIN = ("classic branch protection can be read only with admin access to the repository; "
               "the rulesets in force were read")


@dataclass
class ApiOutcome:
    """What the API said. `answered`: it gave protection facts (possibly "none"); `complete`: nothing was hidden."""

    status: str  # ok | partial | offline | no_token | unauthorized | forbidden | not_found | rate_limited | error
    reason: str = ""
    rules: list[BranchRule] = field(default_factory=list)
    default_branch: str | None = None
    inventory: list[InventoryEntry] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    answered: bool = False
    complete: bool = True


def status_of(error: ForgeError) -> str:
    if error.status == 401:
        return "unauthorized"
    if error.status == 404:
        return "not_found"
    if error.status in (403, 429):
        return "rate_limited" if "rate limited" in error.reason else "forbidden"
    return "error"


def fetch(workspace: Workspace, options: Any) -> ApiOutcome:
    """Ask the forge, unless offline or without a token."""
    if getattr(options, "offline", False):
        return ApiOutcome("offline", "the forge API is disabled (offline)")
    if not any(os.environ.get(variable) for variable in TOKEN_VARIABLES.values()):
        return ApiOutcome("no_token", "no GITHUB_TOKEN or GITLAB_TOKEN in the environment")
    settings = getattr(options, "settings", None) or {}
    target = resolve_target(origin_remote(workspace), settings, getattr(options, "api_url", None))
    if isinstance(target, str):
        return ApiOutcome("no_token", target)
    try:
        client = ForgeClient(target, max_wait=float(settings.get("forge_max_wait", DEFAULT_MAX_WAIT)))
        return _github(client, target) if target.kind == "github" else _gitlab(client, target)
    except ForgeError as exc:
        return ApiOutcome(status_of(exc), exc.reason,
                          inventory=[InventoryEntry(target.api_url, f"{target.kind}-api", _entry_status(exc),
                                                    exc.reason, evidence=NAME)])


def _entry_status(error: ForgeError) -> str:
    """Access problems (401/403/404) mean the evidence is unavailable; anything else is a failure."""
    return "skipped" if error.status in (401, 403, 404) and "rate limited" not in error.reason else "error"


class _Calls:
    """Records each request's outcome in the inventory and the sources."""

    def __init__(self, client: ForgeClient, outcome: ApiOutcome) -> None:
        self.client = client
        self.outcome = outcome
        self.kind = f"{client.target.kind}-api"

    def source(self, path: str) -> str:
        return self.client.target.api_url + path

    def ok(self, path: str) -> None:
        self.outcome.inventory.append(InventoryEntry(self.source(path), self.kind, "parsed", evidence=NAME))
        self.outcome.sources.append({"path": self.source(path), "kind": self.kind})

    def failed(self, path: str, error: ForgeError, reason: str = "") -> None:
        text = f"{reason} ({error.reason})" if reason else error.reason
        self.outcome.inventory.append(InventoryEntry(self.source(path), self.kind, _entry_status(error), text,
                                                     evidence=NAME))
        self.outcome.complete = False
        self.outcome.status = "partial"
        self.outcome.reason = text


def _github(client: ForgeClient, target: ForgeTarget) -> ApiOutcome:
    outcome = ApiOutcome("ok")
    calls = _Calls(client, outcome)
    base = f"/repos/{target.repository}"
    info = client.get(base)  # a failure here means no access at all: the caller reports it
    calls.ok(base)
    branch = str(info.get("default_branch") or "") if isinstance(info, dict) else ""
    if not branch:
        raise ForgeError(200, f"GET {base}: the answer names no default branch")
    outcome.default_branch = branch
    quoted = quote(branch, safe="")
    rules_path = f"{base}/rules/branches/{quoted}"
    try:
        items = client.get_all(rules_path)
        outcome.rules.extend(from_rule_list(items, branch, calls.source(rules_path), "github-rules-api", None))
        outcome.answered = True
        calls.ok(rules_path)
    except ForgeError as exc:
        calls.failed(rules_path, exc, "the rulesets in force could not be read")
    _github_classic(client, calls, base, branch, quoted)
    return outcome


def _github_classic(client: ForgeClient, calls: _Calls, base: str, branch: str, quoted: str) -> None:
    branch_path = f"{base}/branches/{quoted}"
    try:
        info = client.get(branch_path)
        calls.ok(branch_path)
    except ForgeError as exc:
        calls.failed(branch_path, exc, "the default branch could not be read")
        return
    if isinstance(info, dict) and info.get("protected") is False:
        return  # no classic protection (and the rulesets were asked separately)
    protection_path = f"{branch_path}/protection"
    try:
        data = client.get(protection_path)
    except ForgeError as exc:
        if exc.status == 404 and "not protected" in exc.reason.lower():
            return
        calls.failed(protection_path, exc, NEEDS_ADMIN)
        contexts = _visible_checks(info)
        if contexts:  # what a read token sees of classic protection: its required checks
            calls.outcome.rules.append(BranchRule(branch, calls.source(branch_path), "github-branch-api", None,
                                                  name="classic protection (partial view)",
                                                  required_status_checks=contexts))
        return
    calls.ok(protection_path)
    if isinstance(data, dict):
        calls.outcome.rules.append(from_protection(data, branch, calls.source(protection_path),
                                                   "github-protection-api", None))


def _visible_checks(info: Any) -> list[str]:
    protection = info.get("protection") if isinstance(info, dict) else None
    checks = protection.get("required_status_checks") if isinstance(protection, dict) else None
    contexts = checks.get("contexts") if isinstance(checks, dict) else None
    return [str(c) for c in contexts or [] if c]


def _gitlab(client: ForgeClient, target: ForgeTarget) -> ApiOutcome:
    outcome = ApiOutcome("ok")
    calls = _Calls(client, outcome)
    base = f"/projects/{project_id(target.repository)}"
    project = client.get(base)
    calls.ok(base)
    bundle = GitLabBundle(project=project if isinstance(project, dict) else {})
    outcome.default_branch = str(bundle.project.get("default_branch") or "") or None
    path = f"{base}/protected_branches"
    try:
        bundle.protected_branches = [(item, calls.source(path), None) for item in client.get_all(path)
                                     if isinstance(item, dict)]
        outcome.answered = True
        calls.ok(path)
    except ForgeError as exc:
        calls.failed(path, exc, "protected branches could not be read (needs at least the Maintainer role)")
    path = f"{base}/approval_rules"
    try:
        bundle.approval_rules = [item for item in client.get_all(path) if isinstance(item, dict)]
        outcome.answered = True
        calls.ok(path)
    except ForgeError as exc:
        calls.failed(path, exc, "approval rules could not be read (GitLab Premium, or a token with more access)")
    path = f"{base}/approvals"
    try:
        approvals = client.get(path)
        bundle.approvals = approvals if isinstance(approvals, dict) else {}
        calls.ok(path)
    except ForgeError as exc:
        calls.failed(path, exc, "the project's approval settings could not be read")
    outcome.rules.extend(gitlab_rules(bundle, calls.source(base)))
    return outcome
