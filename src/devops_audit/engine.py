"""Facts + policies -> one verdict per indicator. Small and boring on purpose.

Order of judgement for an indicator:
1. a required evidence namespace is absent -> `unknown` (with the collector's hint);
2. `applies` is false -> `not_applicable`;
3. `unknown_if` is true -> `unknown` (evidence exists but cannot answer, e.g. a shallow clone);
4. `assert` / `violations` -> `pass` or `fail`;
5. a `pass` that relied on evidence with unreadable files becomes `error`: we never pass on what we
   could not read. A `fail` stays a fail (what was read already fails) and names the unreadable files.
A CEL error while evaluating is `error` too, naming the expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devops_audit.celexpr import Overrun
from devops_audit.facts import Evidence, InventoryEntry, Location
from devops_audit.policy import Indicator, PolicySet

__all__ = ["Violation", "Verdict", "evaluate", "STATUSES"]

STATUSES = ("pass", "fail", "not_applicable", "unknown", "error")
MAX_VIOLATIONS = 200
_DEFAULT_MESSAGES = {
    "pass": "Requirement met.",
    "fail": "Requirement not met.",
    "not_applicable": "Does not apply to this repository.",
    "unknown": "The evidence needed is not available.",
}


@dataclass
class Violation:
    """One offending fact, located precisely; `locator` is structural (stable when lines move)."""

    path: str
    line: int
    message: str
    locator: str = ""


@dataclass
class Verdict:
    indicator: Indicator
    status: str
    message: str
    violations: list[Violation] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    evidence_errors: list[InventoryEntry] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    waiver: dict[str, Any] | None = None


def evaluate(policies: PolicySet, evidence: dict[str, Evidence],
             overrides: dict[str, dict[str, Any]] | None = None, disabled: set[str] = frozenset()) -> list[Verdict]:
    """A verdict for every enabled indicator, in policy order."""
    from devops_audit.celexpr import bounded_map, new_context

    overrides = overrides or {}
    # every namespace a policy names exists for CEL, as null / false when nothing was collected
    named = {n for i in policies.indicators for n in i.required_namespaces}
    variables: dict[str, Any] = {name: None for name in named}
    variables.update({name: (ev.facts if ev.present else None) for name, ev in evidence.items()})
    variables["evidence"] = {**{name: False for name in named}, **{n: ev.present for n, ev in evidence.items()}}
    variables["params"] = {}
    context = new_context(variables)
    tasks = [(indicator, {**indicator.params, **overrides.get(indicator.id, {})})
             for indicator in policies.indicators if indicator.id not in disabled]
    # each indicator within the CEL time budget (a forked child: the Rust core cannot be interrupted)
    judged = bounded_map(lambda task: _detached(_judge(task[0], task[1], evidence, context)), tasks)
    return [_attached(verdict, indicator, params, evidence) for verdict, (indicator, params) in zip(judged, tasks)]


def _detached(verdict: Verdict) -> Verdict:
    verdict.indicator = None  # compiled programs do not pickle; `_attached` puts it back
    return verdict


def _attached(verdict: Verdict | Overrun, indicator: Indicator, params: dict[str, Any],
              evidence: dict[str, Evidence]) -> Verdict:
    if isinstance(verdict, Overrun):
        return Verdict(indicator, "error", f"policy evaluation stopped after {verdict.seconds:g} s (the CEL time "
                       "budget per indicator): its expressions cost too much on this repository's facts",
                       locations=[Location(_anchor(indicator, evidence), 1)], params=params)
    verdict.indicator = indicator
    return verdict


def _judge(indicator: Indicator, params: dict[str, Any], evidence: dict[str, Evidence], context: Any) -> Verdict:
    messages = {**_DEFAULT_MESSAGES, **indicator.messages}
    missing = [name for name in indicator.evidence if not _present(evidence, name)]
    if indicator.evidence_any and not any(_present(evidence, name) for name in indicator.evidence_any):
        missing.extend(indicator.evidence_any)
    anchor = [Location(_anchor(indicator, evidence), 1)]
    if missing:
        hints = [evidence[n].hint if n in evidence and evidence[n].hint else f"no `{n}` evidence was collected"
                 for n in missing]
        return Verdict(indicator, "unknown", f"Missing {' or '.join(missing)} evidence: {_join_hints(hints)}",
                       locations=anchor, params=params)
    errors = [e for name in indicator.required_namespaces if name in evidence for e in evidence[name].errors]
    context.add_variable("params", params)
    try:
        if "applies" in indicator.programs and not indicator.programs["applies"].execute(context):
            return Verdict(indicator, "not_applicable", messages["not_applicable"], locations=anchor, params=params)
        if "unknown_if" in indicator.programs and indicator.programs["unknown_if"].execute(context):
            message = _join(messages["unknown"], _summary(indicator, context))
            if errors:
                message = _join(message, f"Unreadable evidence: {_describe(errors)}.")
            return Verdict(indicator, "unknown", message, locations=anchor, evidence_errors=errors, params=params)
        violations: list[Violation] = []
        if "violations" in indicator.programs:
            raw = indicator.programs["violations"].execute(context)
            violations = [_violation(item, indicator) for item in raw or []]
            passed = not violations
        else:
            passed = indicator.programs["assert"].execute(context) is True
        summary = _summary(indicator, context)
    except Exception as exc:  # a CEL runtime error: the policy (or its facts) is broken, say which
        return Verdict(indicator, "error", f"policy expression failed: {type(exc).__name__}: {str(exc).splitlines()[0]}",
                       locations=anchor, params=params)
    status = "pass" if passed else "fail"
    message = _join(messages[status], summary)
    if violations:
        shown = violations[:MAX_VIOLATIONS]
        message = _join(message, f"({len(violations)} violation{'s' if len(violations) != 1 else ''})")
        violations = shown
    if errors:
        unreadable = _describe(errors)
        if status == "pass":
            status = "error"
            message = f"Cannot confirm: evidence could not be read ({unreadable}). What was read: {message}"
        else:
            message = _join(message, f"Also unreadable: {unreadable}.")
    locations = [Location(v.path, v.line) for v in violations if v.path] or anchor
    return Verdict(indicator, status, message, violations, locations, evidence=_evidence_summary(summary),
                   evidence_errors=errors, params=params)


def _anchor(indicator: Indicator, evidence: dict[str, Evidence]) -> str:
    """Where a repository-level verdict points: the policy's `anchor`, else the `anchor` fact of the first
    namespace it reads that has one (e.g. the first pipeline file), else the repository root."""
    if indicator.anchor:
        return indicator.anchor
    for name in indicator.required_namespaces:
        facts = evidence[name].facts if name in evidence and evidence[name].present else None
        if isinstance(facts, dict) and facts.get("anchor"):
            return str(facts["anchor"])
    return "."


def _describe(errors: list[InventoryEntry]) -> str:
    return "; ".join(f"{e.path or e.kind}{f':{e.line}' if e.line else ''}: {e.reason}" for e in errors[:5])


def _present(evidence: dict[str, Evidence], name: str) -> bool:
    return name in evidence and evidence[name].present


def _summary(indicator: Indicator, context: Any) -> str:
    program = indicator.programs.get("summary")
    if program is None:
        return ""
    try:
        value = program.execute(context)
    except Exception:
        return ""
    return str(value) if value is not None else ""


def _violation(item: Any, indicator: Indicator) -> Violation:
    if isinstance(item, dict):
        location = item.get("location") if isinstance(item.get("location"), dict) else item
        return Violation(str(location.get("path") or indicator.anchor or "."), int(location.get("line") or 1),
                         str(item.get("message") or indicator.title), str(item.get("locator") or ""))
    return Violation(indicator.anchor or ".", 1, str(item))


def _evidence_summary(summary: str) -> dict[str, Any]:
    return {"summary": summary} if summary else {}


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _join_hints(hints: list[str]) -> str:
    return "; ".join(dict.fromkeys(h.rstrip(".") for h in hints)) + "."
