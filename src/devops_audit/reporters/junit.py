"""JUnit XML: one testcase per indicator, so CI test tabs (GitLab `reports:junit`, Jenkins, Azure) show it.

- one `testsuite` per area (`CD`, `SR`), `testcase name="<id> <title>" classname="<area>.<domain>"`;
- `fail` -> `<failure>` (message = verdict, body = one line per violation `path:line: message`, waived
  ones marked `[waived]`); a waived failure is `<skipped message="waived: reason (owner, until)">`; a
  baselined one is a
  `<failure>` too (the report is about the repository, the gate is what the baseline relaxes), marked
  `[baselined]` in its message;
- `error` -> `<error>`; `not_applicable` and `unknown` -> `<skipped message=...>`;
- `pass` -> an empty testcase, the one format that shows passes to GitLab users.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from devops_audit.reporters.fingerprints import keyed_violations

__all__ = ["render"]


def render(result: Any, options: Any) -> str:
    baselined = set((result.extras.get("baseline") or {}).get("baselined", []))
    waived = {fp for w in (result.extras.get("waivers") or {}).get("applied", []) for fp in w["fingerprints"]}
    root = Element("testsuites", name="devops-audit")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for area in _area_ids(result):
        verdicts = [v for v in result.verdicts if v.indicator.area == area]
        suite = SubElement(root, "testsuite", name=area, timestamp=result.generated_at[:19])
        counts = {"tests": len(verdicts), "failures": 0, "errors": 0, "skipped": 0}
        for verdict in verdicts:
            kind = _case(suite, verdict, verdict.indicator.id in baselined, waived)
            if kind:
                counts[kind] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode") + "\n"


def _area_ids(result: Any) -> list[str]:
    return list(dict.fromkeys([*(a.id for a in result.areas), *(v.indicator.area for v in result.verdicts)]))


def _case(suite: Element, verdict: Any, baselined: bool, waived: set[str]) -> str | None:
    """Add one testcase; returns the counter it bumps (failures / errors / skipped) or None for a pass."""
    indicator = verdict.indicator
    case = SubElement(suite, "testcase", name=f"{indicator.id} {indicator.title}",
                      classname=f"{indicator.area}.{indicator.domain}", time="0")
    status = verdict.status
    if status == "fail" and verdict.waiver:
        w = verdict.waiver
        SubElement(case, "skipped", message=_clean(
            f"waived: {w.get('reason')} (owner {w.get('owner')}, until {w.get('expires')}). {verdict.message}"))
        return "skipped"
    if status == "fail":
        prefix = "[baselined] " if baselined else ""
        failure = SubElement(case, "failure", message=_clean(prefix + verdict.message), type=indicator.severity)
        failure.text = _clean("\n".join(f"{v.path}:{v.line}: {v.message}{' [waived]' if fp in waived else ''}"
                                         for v, fp in keyed_violations(verdict) if v) or verdict.message)
        return "failures"
    if status == "error":
        SubElement(case, "error", message=_clean(verdict.message), type="evidence-or-policy-error")
        return "errors"
    if status in ("not_applicable", "unknown"):
        SubElement(case, "skipped", message=_clean(f"{status}: {verdict.message}"))
        return "skipped"
    return None


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters from hostile file names)."""
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
