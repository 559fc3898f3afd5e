"""Facts + policies -> one verdict per indicator. Small and boring on purpose.

An indicator is a conjunction of parts (`parts:` in the policy, or one part `main` made of its own
`assert` / `violations`). The rules, documented in docs/architecture.md and tested as truth tables:

1. `applies` false -> `not_applicable` (evaluated first; if it cannot be evaluated because a namespace the
   indicator needs is absent, rule 2 answers), but `unknown` when it asks what jobs do (`kinds`) while a
   remote definition was not read (the job that would make it apply may be there);
2. a namespace in the indicator's `evidence` / `evidence_any` is absent -> `unknown` (with the collector's hint);
3. each part is judged on its own to pass (true) / fail (false) / unknown / not_applicable / error
   (`judge_part`): a part whose own namespaces are absent, or whose `unknown_if` holds, is `unknown`;
4. unreadable files in a part's namespaces can only change what they could have changed (`contain`):
   an `exists` part proven by readable evidence stays `pass` and an `all` part with a violation stays
   `fail`; an `all` part without violation, or an `exists` part not proven, becomes `error` naming the files;
5. parts combine in Kleene's strong conjunction (`combine`): any `fail` -> `fail` (even when another part
   lacks evidence), else any `error` -> `error`, else any `unknown` -> `unknown`, else `pass`; parts that do
   not apply are left out, and an indicator whose parts all do not apply is `not_applicable`.
The message names the part(s) that decided. A CEL error while evaluating is `error`, naming the expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devops_audit.celexpr import Overrun
from devops_audit.facts import Evidence, InventoryEntry, Location
from devops_audit.policy import Indicator, Part, PolicySet

__all__ = ["Violation", "Verdict", "PartResult", "evaluate", "combine", "contain", "judge_part", "STATUSES"]

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
    """One indicator's outcome: status, message, and the violations and locations that decided it."""

    indicator: Indicator
    status: str
    message: str
    violations: list[Violation] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    evidence_errors: list[InventoryEntry] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    waiver: dict[str, Any] | None = None
    parts: list[PartResult] = field(default_factory=list)


def evaluate(policies: PolicySet, evidence: dict[str, Evidence],
             overrides: dict[str, dict[str, Any]] | None = None, disabled: set[str] = frozenset()) -> list[Verdict]:
    """A verdict for every enabled indicator, in policy order."""
    from devops_audit.celexpr import bounded_map, load_functions, new_context
    from devops_audit.celview import narrowed

    overrides = overrides or {}
    # every namespace a policy names exists for CEL, as null / false when nothing was collected
    named = {n for i in policies.indicators for n in i.required_namespaces}
    variables: dict[str, Any] = {name: None for name in named}
    # CEL is given only the fields of fact records an expression reads (converting the facts is most of its cost)
    sources = tuple(e for i in policies.indicators for owner in (i, *i.parts) for e in owner.expressions.values())
    variables.update({name: (narrowed(name, ev.facts, sources) if ev.present else None) for name, ev in evidence.items()})
    variables["evidence"] = {**{name: False for name in named}, **{n: ev.present for n, ev in evidence.items()}}
    changing: dict[str, Any] = {"params": {}}  # the indicator's, set by `_judge`
    context = new_context(variables, changing)
    load_functions(sources)
    tasks = [(indicator, {**indicator.params, **overrides.get(indicator.id, {})})
             for indicator in policies.indicators if indicator.id not in disabled]
    # each indicator within the CEL time budget (a forked child: the Rust core cannot be interrupted)
    judged = bounded_map(lambda task: _detached(_judge(task[0], task[1], evidence, context, changing)), tasks)
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


def combine(statuses: list[str]) -> str:
    """Kleene's strong conjunction over part statuses (false < error < unknown < true; n/a is left out)."""
    relevant = [s for s in statuses if s != "not_applicable"]
    if not relevant:
        return "not_applicable"
    for status in ("fail", "error", "unknown"):
        if status in relevant:
            return status
    return "pass"


def contain(status: str, quantifier: str, unreadable: bool) -> str:
    """What unreadable files can still do to a part's status: flip only what they could have changed."""
    if not unreadable:
        return status
    if quantifier == "exists" and status == "fail":
        return "error"  # the missing thing may be in the file we could not read
    if quantifier == "all" and status == "pass":
        return "error"  # the violation may be in the file we could not read
    return status


@dataclass
class PartResult:
    """One part's own verdict, before the parts are combined."""

    id: str
    quantifier: str
    status: str
    message: str
    violations: list[Violation] = field(default_factory=list)
    errors: list[InventoryEntry] = field(default_factory=list)


def _judge(indicator: Indicator, params: dict[str, Any], evidence: dict[str, Evidence], context: Any,
           changing: dict[str, Any]) -> Verdict:
    messages = {**_DEFAULT_MESSAGES, **indicator.messages}
    missing = _missing(indicator.evidence, indicator.evidence_any, evidence)
    anchor = [Location(_anchor(indicator, evidence), 1)]
    changing["params"] = params
    if "applies" in indicator.programs:
        try:
            applies = indicator.programs["applies"].execute(context)
        except Exception as exc:
            if not missing:
                return _expression_error(indicator, exc, anchor, params)
            applies = True  # it needed the absent evidence: say that instead
        if applies is False:
            unseen = _unseen_jobs(indicator.expressions.get("applies", ""), evidence)
            if unseen:  # the job that would make it apply may be in a definition we could not read
                return Verdict(indicator, "unknown", _join(messages["unknown"], "Whether it applies is not "
                               f"visible: {unseen}."), locations=anchor, params=params)
            message = _join(messages["not_applicable"], _profile_reason(indicator, evidence))
            return Verdict(indicator, "not_applicable", message, locations=anchor, params=params)
    if missing:
        return Verdict(indicator, "unknown", _missing_message(missing, evidence), locations=anchor, params=params)
    summary = _summary(indicator, context)
    legacy = not indicator.named_parts
    results = [judge_part(part, indicator, evidence, context, summary if legacy else None) for part in indicator.parts]
    status = combine([r.status for r in results])
    deciding = [r for r in results if r.status == status]
    violations = [v for r in results if r.status == "fail" for v in r.violations]
    errors = list({id(e): e for r in results for e in r.errors}.values())
    if legacy and status != "not_applicable":
        message = _legacy_message(results[0])
    elif status == "not_applicable":
        message = _join(messages["not_applicable"], "; ".join(f"{r.id}: {r.message}" for r in results))
    else:
        told = deciding if status != "pass" else []
        message = _join(messages[status] if status != "error" else "",
                        "; ".join(f"{r.id}: {r.message}" for r in told), summary)
        if status == "error" and not any(r.message.startswith("policy expression failed") for r in deciding):
            message = _join("Cannot confirm:", message)
    if len(violations) > MAX_VIOLATIONS:
        violations = violations[:MAX_VIOLATIONS]
    locations = [Location(v.path, v.line) for v in violations if v.path] or anchor
    verdict = Verdict(indicator, status, message, violations, locations, evidence=_evidence_summary(summary),
                      evidence_errors=errors, params=params)
    verdict.parts = results
    return verdict


def judge_part(part: Part, indicator: Indicator, evidence: dict[str, Evidence], context: Any,
               summary: str | None = None) -> PartResult:
    """One part to pass / fail / unknown / not_applicable / error, with its own message and violations.
    `summary`: the indicator's, for its single part `main` (else the part's own is evaluated)."""
    messages = {**_DEFAULT_MESSAGES, **part.messages}
    errors = [e for name in part.required_namespaces if name in evidence for e in evidence[name].errors]
    try:
        if "applies" in part.programs and part.programs["applies"].execute(context) is False:
            return PartResult(part.id, part.quantifier, "not_applicable", messages["not_applicable"])
        missing = _missing(part.evidence, part.evidence_any, evidence)
        if missing:
            return PartResult(part.id, part.quantifier, "unknown", _missing_message(missing, evidence))
        summary = _summary(part, context) if summary is None else summary
        if "unknown_if" in part.programs and part.programs["unknown_if"].execute(context):
            message = _join(messages["unknown"], summary)
            if errors:
                message = _join(message, f"Unreadable evidence: {_describe(errors)}.")
            return PartResult(part.id, part.quantifier, "unknown", message, errors=errors)
        violations: list[Violation] = []
        if "violations" in part.programs:
            violations = [_violation(item, indicator) for item in part.programs["violations"].execute(context) or []]
            passed = not violations
        else:
            passed = part.programs["assert"].execute(context) is True
    except Exception as exc:  # a CEL runtime error: the policy (or its facts) is broken, say which
        return PartResult(part.id, part.quantifier, "error", _failed_expression(exc))
    read = "pass" if passed else "fail"
    unseen = _unseen(part, evidence, violations) if not passed else ""
    if unseen:  # what the jobs do may be in a definition we could not read: never fail on it
        return PartResult(part.id, part.quantifier, "unknown",
                          _join(messages["unknown"], summary, f"Not visible: {unseen}."), errors=errors)
    message = _join(messages[read], summary)
    if violations:
        message = _join(message, f"({len(violations)} violation{'s' if len(violations) != 1 else ''})")
    status = contain(read, part.quantifier, bool(errors))
    if errors:
        unreadable = _describe(errors)
        if status == "error":
            message = f"evidence could not be read ({unreadable}). What was read: {message}"
        elif read == "pass":
            message = _join(message, f"Proven by the readable files; also unreadable: {unreadable}.")
        else:
            message = _join(message, f"Also unreadable: {unreadable}.")
    return PartResult(part.id, part.quantifier, status, message, violations, errors)


def _unseen(part: Part, evidence: dict[str, Evidence], violations: list[Violation]) -> str:
    """The remote definitions not read (`unresolved` facts) when the failure says no job does something (the
    part asks what jobs do, `kinds`, and every violation is a pipeline-wide absence at `anchor:1`)."""
    if not any("kinds" in part.expressions.get(name, "") for name in ("assert", "violations")):
        return ""
    facts = [evidence[name].facts for name in part.required_namespaces
             if _present(evidence, name) and isinstance(evidence[name].facts, dict)]
    anchors = {f.get("anchor") for f in facts}
    if any(v.line != 1 or v.path not in anchors for v in violations):
        return ""  # a definite violation somewhere: it stays a fail
    return _unresolved(facts)


def _unseen_jobs(applies: str, evidence: dict[str, Evidence]) -> str:
    """The remote definitions not read when `applies` asks what jobs do (`kinds`) and says no job does it."""
    if "kinds" not in applies or not _present(evidence, "ci") or not isinstance(evidence["ci"].facts, dict):
        return ""
    return _unresolved([evidence["ci"].facts])


def _unresolved(facts: list[dict[str, Any]]) -> str:
    unresolved = [u for f in facts for u in f.get("unresolved") or ()]
    return "; ".join(f"{u['ref']} ({u['location']['path']}:{u['location']['line']}: {u['reason']}; {u['hint']})"
                     for u in unresolved[:3]) + (f"; and {len(unresolved) - 3} more" if len(unresolved) > 3 else "")


def _legacy_message(result: PartResult) -> str:
    """A single-part indicator: its part `main` speaks with the indicator's own messages and summary."""
    prefix = "Cannot confirm:" if result.message.startswith("evidence could not be read") else ""
    return _join(prefix, result.message)


def _missing(required: list[str], any_of: list[str], evidence: dict[str, Evidence]) -> list[str]:
    missing = [name for name in required if not _present(evidence, name)]
    if any_of and not any(_present(evidence, name) for name in any_of):
        missing.extend(any_of)
    return missing


def _missing_message(missing: list[str], evidence: dict[str, Evidence]) -> str:
    hints = [evidence[n].hint if n in evidence and evidence[n].hint else f"no `{n}` evidence was collected"
             for n in missing]
    return f"Missing {' or '.join(missing)} evidence: {_join_hints(hints)}"


def _profile_reason(indicator: Indicator, evidence: dict[str, Evidence]) -> str:
    """Why an indicator that depends on the project's kind does not apply: the profile, with its reasons."""
    if "project." not in indicator.expressions.get("applies", "") or not _present(evidence, "project"):
        return ""
    project = evidence["project"].facts
    return f"Project profile: {project['summary']}." if isinstance(project, dict) and project.get("summary") else ""


def _expression_error(indicator: Indicator, exc: Exception, anchor: list[Location], params: dict[str, Any]) -> Verdict:
    return Verdict(indicator, "error", _failed_expression(exc), locations=anchor, params=params)


def _failed_expression(exc: Exception) -> str:
    return f"policy expression failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


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


def _summary(owner: Indicator | Part, context: Any) -> str:
    program = owner.programs.get("summary")
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
