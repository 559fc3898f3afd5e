"""Decide each checklist item from the scan's verdicts and the generated artefacts, and each sub-item's level.

- `verified`: every indicator the item names passes (or does not apply) and every artefact it names was drawn;
- `failed`: an indicator fails (a definite violation wins over missing evidence);
- `unknown`: an indicator is unknown/error/disabled, or an artefact that is evidence itself (`decides`, e.g. the
  branch graph) or the item's only evidence has no data to be drawn from;
- `attestation`: the map says the repository cannot prove it; its indicators are supporting evidence only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devops_audit.assess.mapping import MapItem, SubItem

__all__ = ["ArtefactState", "IndicatorState", "ItemResult", "SubItemResult", "decide_item", "rate_sub_item",
           "STATUSES"]

STATUSES = ("verified", "failed", "unknown", "attestation")
_OK = ("pass", "not_applicable")
_MAX_VIOLATIONS = 5


@dataclass
class ArtefactState:
    """What generating one artefact gave: the files written, the evidence it read, or why it has no data."""

    id: str
    available: bool
    files: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass
class IndicatorState:
    id: str
    status: str  # a verdict status, or `disabled` when the scan did not evaluate it
    message: str = ""


@dataclass
class ItemResult:
    sub: SubItem
    item: MapItem
    status: str
    reason: str
    indicators: list[IndicatorState]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    artefacts: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    fix: list[str] = field(default_factory=list)
    how_to_provide: list[str] = field(default_factory=list)


@dataclass
class SubItemResult:
    sub: SubItem
    level_reached: int | None  # None: every item is an attestation
    gap: int | None
    blocking: list[str]
    pending_attestations: list[str]


def decide_item(sub: SubItem, item: MapItem, verdicts: dict[str, Any], artefacts: dict[str, ArtefactState],
                deciding: frozenset[str] = frozenset(), is_file: Callable[[str], bool] = lambda _: True) -> ItemResult:
    """`deciding`: the artefact ids that are evidence themselves; `is_file` keeps the evidence locations that are
    files of the repository (history verdicts point at the history, which the artefacts show)."""
    states = [_state(i, verdicts.get(i)) for i in item.indicators]
    result = ItemResult(sub, item, "attestation", "", states)
    if item.decide == "attestation":
        result.reason = "a document or demonstration the repository cannot prove; supply it as described"
        return result
    failing = [verdicts[s.id] for s in states if s.status == "fail"]
    open_ = [s for s in states if s.status not in _OK and s.status != "fail"]
    undrawn = [artefacts[a] for a in item.artefacts if not artefacts[a].available
               and (a in deciding or not item.indicators)]
    if failing:
        result.status = "failed"
        result.reason = "; ".join(f"{v.indicator.id} fails" for v in failing)
        for verdict in failing:
            result.missing.append(f"{verdict.indicator.id}: {verdict.message}")
            result.missing += [f"{v.path}:{v.line}: {v.message}" for v in verdict.violations[:_MAX_VIOLATIONS]]
            result.fix.append(f"{verdict.indicator.id}: {verdict.indicator.remediation}")
        return result
    if open_ or undrawn:
        result.status = "unknown"
        result.reason = "evidence not found: " + ", ".join([s.id for s in open_] + [a.id for a in undrawn])
        for state in open_:
            verdict = verdicts.get(state.id)
            result.missing.append(f"{state.id} ({state.status}): {state.message}")
            result.how_to_provide.append(
                f"{state.id}: {verdict.indicator.remediation}" if verdict else
                f"{state.id}: enable the indicator (it is disabled in the configuration)")
        for art in undrawn:
            result.missing.append(f"artefact {art.id}: {art.reason}")
            result.how_to_provide.append(f"artefact {art.id}: {art.reason}")
        return result
    result.status = "verified"
    not_applicable = [s.id for s in states if s.status == "not_applicable"]
    result.reason = "the repository proves it" + (f" ({', '.join(not_applicable)} not applicable)"
                                                   if not_applicable else "")
    for state in states:
        for loc in (loc for loc in verdicts[state.id].locations if is_file(loc.path)):
            result.evidence.append({"path": loc.path, "line": loc.line, "indicator": state.id})
    result.artefacts = [f for a in item.artefacts for f in artefacts[a].files]  # the ones drawn
    return result


def _state(indicator_id: str, verdict: Any) -> IndicatorState:
    if verdict is None:
        return IndicatorState(indicator_id, "disabled", "not evaluated: disabled in the configuration")
    return IndicatorState(indicator_id, verdict.status, verdict.message)


def rate_sub_item(sub: SubItem, results: list[ItemResult], target: int) -> SubItemResult:
    """The highest level up to which nothing the repository shows stands in the way (failed or unknown items
    block), capped at the highest level the checklist asks evidence for; attestations still owed are listed.
    A sub-item whose items are all attestations gets no level (None): the repository says nothing about it."""
    pending = [r.item.code for r in results if r.status == "attestation" and r.item.level <= target]
    if all(r.item.decide == "attestation" for r in results):
        return SubItemResult(sub, None, None, [], pending)
    cap = max(i.level for i in sub.items)
    reached, blocking = cap, []
    for level in range(1, cap + 1):
        blocking = [r.item.code for r in results if r.item.level == level and r.status in ("failed", "unknown")]
        if blocking:
            reached = level - 1
            break
    pending = [r.item.code for r in results if r.status == "attestation" and r.item.level <= max(reached, target)]
    return SubItemResult(sub, reached, max(0, target - reached), blocking, pending)
