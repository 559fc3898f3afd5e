"""The outcome of one scan, and its JSON form (validated by `schemas/verdict.schema.json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devops_audit import __version__
from devops_audit.engine import STATUSES, Verdict, Violation
from devops_audit.facts import InventoryEntry
from devops_audit.maturity import AreaLevel
from devops_audit.workspace import GitInfo

__all__ = ["Gate", "ScanResult", "TOOL_NAME", "INFORMATION_URI"]

TOOL_NAME = "devops-audit"
INFORMATION_URI = "https://github.com/devops-audit/devops-audit"


@dataclass
class Gate:
    """Whether the merge may go ahead, and why not. `exit_code` is 0 or 1."""

    passed: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


@dataclass
class ScanResult:
    """Everything one scan found and decided: what every reporter renders."""

    target: str
    git: GitInfo | None
    verdicts: list[Verdict]
    areas: list[AreaLevel]
    inventory: list[InventoryEntry]
    gate: Gate
    policy_digest: str
    generated_at: str
    facts: dict[str, Any] = field(default_factory=dict)  # namespace -> facts, for reporters that need them
    extras: dict[str, Any] = field(default_factory=dict)  # baseline / waiver bookkeeping from the gate

    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for verdict in self.verdicts:
            counts[verdict.status] += 1
        counts["waived"] = sum(1 for v in self.verdicts if v.waiver)
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": {"name": TOOL_NAME, "version": __version__, "information_uri": INFORMATION_URI},
            "generated_at": self.generated_at,
            "target": {
                "path": self.target,
                "commit": self.git.commit if self.git else None,
                "branch": self.git.branch if self.git else None,
                "is_git": self.git is not None,
            },
            "policy_digest": self.policy_digest,
            "gate": {"passed": self.gate.passed, "exit_code": self.gate.exit_code, "reasons": self.gate.reasons},
            "areas": [_area(a) for a in self.areas],
            "summary": self.counts(),
            "indicators": [_verdict(v) for v in self.verdicts],
            "inventory": [_inventory(e) for e in self.inventory],
            **{key: self.extras[key] for key in ("waivers", "baseline") if key in self.extras},
            **({"project": _project(self.facts["project"])} if isinstance(self.facts.get("project"), dict) else {}),
        }


def _area(area: AreaLevel) -> dict[str, Any]:
    return {
        "id": area.id, "name": area.name, "level": area.level, "target": area.target,
        "max_level": area.max_level, "met": area.met, "description": area.describe(),
        "blocking": [v.indicator.id for v in area.blocking],
        "domains": [{"id": d.id, "name": d.name, "level": d.level, "blocking": d.blocking} for d in area.domains],
    }


def _verdict(verdict: Verdict) -> dict[str, Any]:
    indicator = verdict.indicator
    return {
        "id": indicator.id, "name": indicator.name, "title": indicator.title,
        "area": indicator.area, "domain": indicator.domain, "level": indicator.level,
        "severity": indicator.severity, "status": verdict.status, "message": verdict.message,
        "locations": [{"path": loc.path, "line": loc.line} for loc in verdict.locations],
        "violations": [_violation(v) for v in verdict.violations],
        "evidence": {
            **verdict.evidence,
            "namespaces": indicator.required_namespaces,
            "unreadable": [_inventory(e) for e in verdict.evidence_errors],
        },
        "params": verdict.params,
        "remediation": indicator.remediation,
        "references": indicator.references,
        "waiver": verdict.waiver,
        "parts": [{"id": p.id, "status": p.status, "quantifier": p.quantifier, "message": p.message}
                  for p in verdict.parts],
    }


def _violation(violation: Violation) -> dict[str, Any]:
    return {"path": violation.path, "line": violation.line, "message": violation.message,
            "locator": violation.locator, "chain": list(violation.chain)}


def _project(facts: dict[str, Any]) -> dict[str, Any]:
    return {key: facts.get(key) for key in ("kind", "source", "summary", "traits", "reasons")}


def _inventory(entry: InventoryEntry) -> dict[str, Any]:
    return {"path": entry.path, "kind": entry.kind, "status": entry.status, "reason": entry.reason,
            "line": entry.line, "evidence": entry.evidence}
