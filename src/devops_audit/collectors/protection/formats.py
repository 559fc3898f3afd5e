"""Branch-protection formats, each normalised into `BranchRule`s: one per protected branch pattern.

Understood (the same shapes come from committed exports and from the forge APIs):
- GitHub rulesets (`gh api repos/O/R/rulesets/ID`, the UI's export/import JSON): `target: branch`,
  `enforcement`, `conditions.ref_name.include/exclude` (`~DEFAULT_BRANCH`, `~ALL`, `refs/heads/...`),
  `bypass_actors`, `rules[]` of types `deletion`, `non_fast_forward`, `pull_request`,
  `required_status_checks`, `required_signatures`, `required_linear_history` (others are listed only).
- GitHub effective rules (`gh api repos/O/R/rules/branches/B`): a list of rules with `ruleset_id`.
- GitHub classic branch protection, as `GET .../branches/B/protection` returns it (`{enabled: bool}`
  flags) or as `PUT` and the Probot settings app write it (plain booleans, `null` to disable).
- Probot `.github/settings.yml` (`branches[].protection`, `rulesets[]`, `repository.default_branch`) and
  Apache `.asf.yaml` (`github.protected_branches`; protected branches never allow force pushes or deletion).
- GitLab `/projects/:id/protected_branches`, `/approval_rules`, `/approvals` and `/projects/:id`.

A value a source does not state takes the permissive default (no approvals, force pushes allowed), so a
rule only ever adds protection; `effective` combines the active rules as GitHub and GitLab do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from devops_audit.facts import Location

__all__ = [
    "BranchRule", "GitLabBundle", "json_kind", "from_ruleset", "from_rule_list", "from_protection",
    "unprotected", "from_settings", "from_asf", "gitlab_rules", "effective", "line_of_json", "strip_ref",
]

_PROTECTION_KEYS = frozenset({"required_pull_request_reviews", "required_status_checks", "enforce_admins",
                              "allow_force_pushes", "allow_deletions", "required_signatures",
                              "required_linear_history", "restrictions"})
_RULE_TYPES = frozenset({"creation", "update", "deletion", "required_linear_history", "merge_queue",
                         "required_deployments", "required_signatures", "pull_request", "required_status_checks",
                         "non_fast_forward", "commit_message_pattern", "commit_author_email_pattern",
                         "committer_email_pattern", "branch_name_pattern", "tag_name_pattern", "workflows",
                         "code_scanning", "file_path_restriction", "max_file_path_length",
                         "file_extension_restriction", "max_file_size", "copilot_code_review"})
_BRANCH_IN_URL = re.compile(r"/branches/([^/]+)/protection/?$")


@dataclass
class BranchRule:
    """What one source says about one branch pattern. `branch` is the pattern without `refs/heads/`."""

    branch: str
    source: str  # the file it came from, or the API request
    kind: str  # github-ruleset | github-rules-api | github-protection | probot-settings | asf-yaml | gitlab-...
    location: Location | None
    name: str = ""
    enforcement: str = "active"  # active | evaluate | disabled
    requires_pull_request: bool = False
    required_approvals: int = 0
    require_code_owner_review: bool = False
    dismiss_stale_reviews: bool = False
    required_status_checks: list[str] = field(default_factory=list)
    allows_force_push: bool = True
    allows_deletion: bool = True
    requires_signatures: bool = False
    linear_history: bool = False
    enforce_admins: bool = False
    exclude: list[str] = field(default_factory=list)
    rule_types: list[str] = field(default_factory=list)


@dataclass
class GitLabBundle:
    """The GitLab API answers (or their exports) that together describe protection."""

    protected_branches: list[tuple[dict[str, Any], str, Location | None]] = field(default_factory=list)
    approval_rules: list[dict[str, Any]] = field(default_factory=list)
    approvals: dict[str, Any] = field(default_factory=dict)
    project: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.protected_branches or self.approval_rules or self.approvals or self.project)


# -- recognising a JSON document ---------------------------------------------------------------
def json_kind(data: Any) -> str | None:
    """Which export `data` is, or None when it is none we know."""
    if isinstance(data, dict):
        if isinstance(data.get("rules"), list) and ({"target", "enforcement", "conditions"} & data.keys()):
            return "github-ruleset"
        if "push_access_levels" in data or "merge_access_levels" in data:
            return "gitlab-protected-branches"
        if "approvals_before_merge" in data or "reset_approvals_on_push" in data:
            return "gitlab-approvals"
        if "only_allow_merge_if_pipeline_succeeds" in data or "path_with_namespace" in data:
            return "gitlab-project"
        if _PROTECTION_KEYS & data.keys():
            return "github-protection"
        return None
    if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
        return None
    if all(isinstance(item.get("rules"), list) for item in data):
        return "github-rulesets"
    if all(item.get("type") in _RULE_TYPES for item in data):
        return "github-rules"
    if all("push_access_levels" in item or "merge_access_levels" in item for item in data):
        return "gitlab-protected-branches"
    if all("approvals_required" in item for item in data):
        return "gitlab-approval-rules"
    return None


def line_of_json(text: str, key: str, value: Any) -> int:
    """1-based line where `"key": value` first appears in a JSON text (1 when not found)."""
    needle = re.compile(rf'"{re.escape(key)}"\s*:\s*{re.escape(json.dumps(value))}')
    match = needle.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def strip_ref(pattern: str) -> str:
    return pattern[len("refs/heads/"):] if pattern.startswith("refs/heads/") else pattern


# -- GitHub ------------------------------------------------------------------------------------
def from_ruleset(data: dict[str, Any], source: str, kind: str, location: Location | None) -> list[BranchRule]:
    """One rule per included branch pattern; none for tag or push rulesets, or one targeting nothing."""
    if str(data.get("target") or "branch") != "branch":
        return []
    enforcement = str(data.get("enforcement") or "active")
    conditions = data.get("conditions") if isinstance(data.get("conditions"), dict) else {}
    ref_name = conditions.get("ref_name") if isinstance(conditions.get("ref_name"), dict) else {}
    include = [strip_ref(p) for p in _strings(ref_name.get("include"))]
    exclude = [strip_ref(p) for p in _strings(ref_name.get("exclude"))]
    rules = _items(data.get("rules"))
    facts = []
    for pattern in include:
        fact = BranchRule(pattern, source, kind, location, name=str(data.get("name") or ""),
                          enforcement=enforcement.lower(),
                          exclude=exclude, enforce_admins=not data.get("bypass_actors"))
        _apply_rules(fact, rules)
        facts.append(fact)
    return facts


def from_rule_list(items: list[dict[str, Any]], branch: str, source: str, kind: str,
                   location: Location | None) -> list[BranchRule]:
    """Effective rules of one branch (`rules/branches/B`), one fact per ruleset they come from."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if isinstance(item, dict):
            groups.setdefault(str(item.get("ruleset_id", "")), []).append(item)
    facts = []
    for ruleset_id, rules in groups.items():
        origin = rules[0].get("ruleset_source") or ""
        name = f"ruleset {ruleset_id}" + (f" ({origin})" if origin else "") if ruleset_id else ""
        fact = BranchRule(branch, source, kind, location, name=name)
        _apply_rules(fact, rules)
        facts.append(fact)
    return facts


def _apply_rules(fact: BranchRule, rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        kind = str(rule.get("type", ""))
        params = rule.get("parameters") if isinstance(rule.get("parameters"), dict) else {}
        fact.rule_types.append(kind)
        if kind == "deletion":
            fact.allows_deletion = False
        elif kind == "non_fast_forward":
            fact.allows_force_push = False
        elif kind == "required_signatures":
            fact.requires_signatures = True
        elif kind == "required_linear_history":
            fact.linear_history = True
        elif kind == "pull_request":
            fact.requires_pull_request = True
            fact.required_approvals = max(fact.required_approvals, _int(params.get("required_approving_review_count")))
            fact.require_code_owner_review |= params.get("require_code_owner_review") is True
            fact.dismiss_stale_reviews |= params.get("dismiss_stale_reviews_on_push") is True
        elif kind == "required_status_checks":
            contexts = [str(c["context"]) for c in _items(params.get("required_status_checks")) if c.get("context")]
            fact.required_status_checks = _unique([*fact.required_status_checks, *contexts])


def from_protection(data: dict[str, Any], branch: str | None, source: str, kind: str,
                    location: Location | None) -> BranchRule:
    """Classic protection in the API's GET form (`{enabled: ...}`) or its PUT / settings.yml form."""
    if branch is None:
        found = _BRANCH_IN_URL.search(str(data.get("url") or ""))
        branch = unquote(found.group(1)) if found else "~DEFAULT_BRANCH"
    fact = BranchRule(branch, source, kind, location, allows_force_push=_flag(data.get("allow_force_pushes")),
                      allows_deletion=_flag(data.get("allow_deletions")),
                      requires_signatures=_flag(data.get("required_signatures")),
                      linear_history=_flag(data.get("required_linear_history")),
                      enforce_admins=_flag(data.get("enforce_admins")))
    reviews = data.get("required_pull_request_reviews")
    if isinstance(reviews, dict):
        fact.requires_pull_request = True
        fact.required_approvals = _int(reviews.get("required_approving_review_count"))
        fact.require_code_owner_review = reviews.get("require_code_owner_reviews") is True
        fact.dismiss_stale_reviews = reviews.get("dismiss_stale_reviews") is True
    checks = data.get("required_status_checks")
    if isinstance(checks, dict):
        contexts = _strings(checks.get("contexts"))
        contexts += [str(c["context"]) for c in _items(checks.get("checks")) if c.get("context")]
        fact.required_status_checks = _unique(contexts)
    return fact


def unprotected(branch: str, source: str, kind: str, location: Location | None) -> BranchRule:
    """A branch a settings file explicitly leaves unprotected (`protection: null`)."""
    return BranchRule(branch, source, kind, location, name="protection: null")


def from_settings(document: dict[str, Any], path: str) -> tuple[list[BranchRule], str | None]:
    """Probot settings app: branch protections and rulesets, plus `repository.default_branch`."""
    from devops_audit.yamlsafe import line_of

    rules: list[BranchRule] = []
    branches = document.get("branches")
    for index, entry in enumerate(branches if isinstance(branches, list) else []):
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        location = Location(path, line_of(branches, index))
        protection = entry.get("protection")
        if isinstance(protection, dict):
            rules.append(from_protection(protection, str(entry["name"]), path, "probot-settings", location))
        elif protection is None and "protection" in entry:
            rules.append(unprotected(str(entry["name"]), path, "probot-settings", location))
    rulesets = document.get("rulesets")
    for index, ruleset in enumerate(rulesets if isinstance(rulesets, list) else []):
        if isinstance(ruleset, dict):
            rules.extend(from_ruleset(ruleset, path, "probot-settings", Location(path, line_of(rulesets, index))))
    repository = document.get("repository")
    default = repository.get("default_branch") if isinstance(repository, dict) else None
    return rules, str(default) if default else None


def from_asf(document: dict[str, Any], path: str) -> list[BranchRule]:
    """Apache `.asf.yaml`: `github.protected_branches.<name>` (force pushes and deletion always blocked)."""
    from devops_audit.yamlsafe import line_of

    github = document.get("github")
    branches = github.get("protected_branches") if isinstance(github, dict) else None
    if not isinstance(branches, dict):
        return []
    rules = []
    for name, body in branches.items():
        body = body if isinstance(body, dict) else {}
        fact = from_protection(body, str(name), path, "asf-yaml", Location(path, line_of(branches, name)))
        fact.allows_force_push = False
        fact.allows_deletion = False
        rules.append(fact)
    return rules


# -- GitLab ------------------------------------------------------------------------------------
def gitlab_rules(bundle: GitLabBundle, source_of_rules: str) -> list[BranchRule]:
    """Protected branches with the approval rules and project settings that apply to each."""
    pipeline = bundle.project.get("only_allow_merge_if_pipeline_succeeds") is True
    reset = bundle.approvals.get("reset_approvals_on_push") is True
    facts = []
    for data, source, location in bundle.protected_branches:
        name = str(data.get("name") or "")
        pushes = _items(data.get("push_access_levels"))
        fact = BranchRule(name, source, "gitlab-protected-branch", location,
                          requires_pull_request=bool(pushes) and all(_no_one(level) for level in pushes),
                          allows_force_push=data.get("allow_force_push") is True, allows_deletion=False,
                          require_code_owner_review=data.get("code_owner_approval_required") is True)
        _gitlab_approvals(fact, bundle, name, protected=True)
        fact.dismiss_stale_reviews = reset
        fact.required_status_checks = ["pipeline"] if pipeline else []
        facts.append(fact)
    if not bundle.protected_branches and (bundle.approval_rules or bundle.approvals):
        fact = BranchRule("*", source_of_rules, "gitlab-approval-rules", None, dismiss_stale_reviews=reset,
                          required_status_checks=["pipeline"] if pipeline else [])
        _gitlab_approvals(fact, bundle, None, protected=False)
        facts.append(fact)
    return facts


def _no_one(level: dict[str, Any]) -> bool:
    """A push access level of 0 ("No one") with no user, group or deploy key exception."""
    return level.get("access_level") == 0 and not any(level.get(k) for k in ("user_id", "group_id", "deploy_key_id"))


def _gitlab_approvals(fact: BranchRule, bundle: GitLabBundle, branch: str | None, protected: bool) -> None:
    required = _int(bundle.approvals.get("approvals_before_merge"))
    for rule in bundle.approval_rules:
        if rule.get("rule_type") == "report_approver":
            continue  # only applies when a security report finds something
        scoped = [b.get("name") for b in _items(rule.get("protected_branches"))]
        applies = (not scoped or branch in scoped
                   or (protected and rule.get("applies_to_all_protected_branches") is True))
        if applies:
            required = max(required, _int(rule.get("approvals_required")))
            if rule.get("rule_type") == "code_owner":
                fact.require_code_owner_review = True
    fact.required_approvals = required


# -- combining ---------------------------------------------------------------------------------
def effective(rules: list[BranchRule]) -> dict[str, Any]:
    """What the active rules enforce together: the strictest value of each setting."""
    active = [r for r in rules if r.enforcement == "active"]
    return {
        "rule_count": len(active),
        "requires_pull_request": any(r.requires_pull_request for r in active),
        "required_approvals": max((r.required_approvals for r in active), default=0),
        "require_code_owner_review": any(r.require_code_owner_review for r in active),
        "dismiss_stale_reviews": any(r.dismiss_stale_reviews for r in active),
        "required_status_checks": sorted({c for r in active for c in r.required_status_checks}),
        "allows_force_push": all(r.allows_force_push for r in active),
        "allows_deletion": all(r.allows_deletion for r in active),
        "requires_signatures": any(r.requires_signatures for r in active),
        "linear_history": any(r.linear_history for r in active),
        "enforce_admins": any(r.enforce_admins for r in active),
    }


def _flag(value: Any) -> bool:
    """`{enabled: true}` (GET form) or `true` (PUT/settings form); absent or null is false."""
    return value.get("enabled") is True if isinstance(value, dict) else value is True


def _int(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def _strings(value: Any) -> list[str]:
    """A list of non-empty strings from a list (or a lone string); anything else is empty."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [str(v) for v in values if isinstance(v, (str, int, float)) and str(v)]


def _items(value: Any) -> list[dict[str, Any]]:
    """The mappings of a list; anything else is empty."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
