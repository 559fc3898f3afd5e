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
    chain: list[str] = field(default_factory=list)  # `file:line` locations that led here (CI step -> script)


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
    from devops_audit.celexpr import new_context

    overrides = overrides or {}
    # every namespace a policy names exists for CEL, as null / false when nothing was collected
    named = {n for i in policies.indicators for n in i.required_namespaces}
    variables: dict[str, Any] = {name: None for name in named}
    variables.update({name: (ev.facts if ev.present else None) for name, ev in evidence.items()})
    variables["evidence"] = {**{name: False for name in named}, **{n: ev.present for n, ev in evidence.items()}}
    variables["params"] = {}
    context = new_context(variables)
    verdicts = []
    for indicator in policies.indicators:
        if indicator.id in disabled:
            continue
        params = {**indicator.params, **overrides.get(indicator.id, {})}
        verdicts.append(_judge(indicator, params, evidence, context))
    return verdicts


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
    unseen = _unseen(indicator, evidence, violations) if not passed else ""
    if unseen:  # what the jobs do may be in a definition we could not read: never fail on it
        return Verdict(indicator, "unknown", _join(messages["unknown"], summary, f"Not visible: {unseen}."),
                       locations=anchor, evidence_errors=errors, params=params)
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


def _unseen(indicator: Indicator, evidence: dict[str, Evidence], violations: list[Violation]) -> str:
    """The remote definitions not read (`unresolved` facts) when the failure says no job does something (the
    indicator asks what jobs do, `kinds`, and every violation is a pipeline-wide absence at `anchor:1`)."""
    if not any("kinds" in indicator.expressions.get(part, "") for part in ("assert", "violations")):
        return ""
    facts = [evidence[name].facts for name in indicator.required_namespaces
             if _present(evidence, name) and isinstance(evidence[name].facts, dict)]
    anchors = {f.get("anchor") for f in facts}
    if any(v.line != 1 or v.path not in anchors for v in violations):
        return ""  # a definite violation somewhere: it stays a fail
    unresolved = [u for f in facts for u in f.get("unresolved") or ()]
    return "; ".join(f"{u['ref']} ({u['location']['path']}:{u['location']['line']}: {u['reason']}; {u['hint']})"
                     for u in unresolved[:3]) + (f"; and {len(unresolved) - 3} more" if len(unresolved) > 3 else "")


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
        chain = item.get("chain") if isinstance(item.get("chain"), list) else []
        return Violation(str(location.get("path") or indicator.anchor or "."), int(location.get("line") or 1),
                         str(item.get("message") or indicator.title), str(item.get("locator") or ""),
                         [str(c) for c in chain])
    return Violation(indicator.anchor or ".", 1, str(item))


def _evidence_summary(summary: str) -> dict[str, Any]:
    return {"summary": summary} if summary else {}


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _join_hints(hints: list[str]) -> str:
    return "; ".join(dict.fromkeys(h.rstrip(".") for h in hints)) + "."
