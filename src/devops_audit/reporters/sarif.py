"""SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).

- One rule per indicator, with the policy's text: `shortDescription` (title), `fullDescription`
  (description, <= 1024 chars), `help.text`/`help.markdown` (the generated indicator page),
  `defaultConfiguration.level` from the severity, `properties.tags` = area, domain, `level-N`, severity.
  Only security indicators (area SR) carry `properties.security-severity` (critical 9.5, high 8.0,
  medium 5.5, low 3.0, info 0.5) and the `security` tag, so process rules ("integrate daily") never rank
  among code-scanning security alerts.
- A repository-level result (no file of its own) is shown on the most relevant existing file
  (`fingerprints.relevant_files`) and says so: its message ends "(Repository-level result, shown on
  FILE.)" and `properties.repositoryLevel` is true.
- One result per violation of a failing indicator (one per indicator when it lists none), located on a
  file that exists (see `reporters.fingerprints`), with `partialFingerprints["devopsAudit/v1"]` from the
  structural key. Waived findings carry `suppressions[{kind: external, justification}]`; findings already
  in the baseline carry `baselineState: "unchanged"` (new ones `"new"`).
- `--sarif-include-pass` adds `kind: "pass"` results for passing indicators (evidence for auditors).
- `error` and `unknown` verdicts are not code alerts: they go to `invocations[0].toolExecutionNotifications`
  (level `error` and `note`), with `executionSuccessful: true` since the scan itself completed.
- `--sarif-category` sets `automationDetails.id` (`category/` so GitHub keeps one analysis per category).
"""

from __future__ import annotations

import json
from typing import Any

from devops_audit.reporters.fingerprints import (
    Finding,
    display_location,
    findings,
    is_baselined,
    relevant_files,
    waiver_of,
)

__all__ = ["FINGERPRINT_KEY", "LEVELS", "SECURITY_AREAS", "SECURITY_SEVERITY", "location_table", "render", "to_sarif"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "devopsAudit/v1"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.5"}
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_AREAS = ("SR",)  # areas whose indicators are security findings (SARIF security-severity, GitLab SAST)
_MAX_DESCRIPTION = 1024


def render(result: Any, options: Any) -> str:
    return json.dumps(to_sarif(result, options), indent=2, ensure_ascii=False) + "\n"


def to_sarif(result: Any, options: Any) -> dict[str, Any]:
    from devops_audit import __version__
    from devops_audit.result import INFORMATION_URI, TOOL_NAME

    indicators = _indicators(result)
    index = {indicator.id: i for i, indicator in enumerate(indicators)}
    areas = _areas(result)
    results = [_result(result, f, index) for f in findings(result)]
    if getattr(options, "sarif_include_pass", False):
        results += [_pass_result(result, v, index) for v in result.verdicts if v.status == "pass"]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": TOOL_NAME, "semanticVersion": __version__, "informationUri": INFORMATION_URI,
            "rules": [_rule(indicator, areas.get(indicator.area)) for indicator in indicators],
        }},
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [_notification(v, index) for v in result.verdicts
                                           if v.status in ("error", "unknown")],
        }],
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The root of the scanned repository."}}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    category = getattr(options, "sarif_category", None)
    if category:
        run["automationDetails"] = {"id": f"{category.rstrip('/')}/"}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _indicators(result: Any) -> list[Any]:
    return [v.indicator for v in result.verdicts]


def _areas(result: Any) -> dict[str, Any]:
    """The policy areas, rebuilt from the scan's levels (what `docs.indicator_markdown` needs)."""
    from devops_audit.policy import Area

    return {a.id: Area(a.id, a.name, a.max_level, a.target, {d.id: d.name for d in a.domains}) for a in result.areas}


def _rule(indicator: Any, area: Any) -> dict[str, Any]:
    from devops_audit.docs import DOCS_URL, anchor, indicator_markdown

    markdown = indicator_markdown(indicator, area) if area else _plain(indicator)
    return {
        "id": indicator.id,
        "name": _pascal(indicator.name),
        "shortDescription": {"text": _cap(indicator.title)},
        "fullDescription": {"text": _cap(indicator.description or indicator.title)},
        "help": {"text": _plain(indicator), "markdown": markdown},
        "helpUri": f"{DOCS_URL}#{anchor(indicator)}",
        "defaultConfiguration": {"level": LEVELS[indicator.severity]},
        "properties": _rule_properties(indicator),
    }


def _rule_properties(indicator: Any) -> dict[str, Any]:
    tags = [indicator.area, f"{indicator.area}.{indicator.domain}", f"level-{indicator.level}", indicator.severity,
            "devops-maturity"]
    if indicator.area not in SECURITY_AREAS:
        return {"tags": tags, "precision": "high"}
    return {"tags": [*tags, "security"], "security-severity": SECURITY_SEVERITY[indicator.severity],
            "precision": "high"}


def _result(result: Any, finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    indicator = finding.verdict.indicator
    item: dict[str, Any] = {
        "ruleId": indicator.id,
        "ruleIndex": index[indicator.id],
        "kind": "fail",
        "level": LEVELS[indicator.severity],
        "message": {"text": _message(finding)},
        "locations": [_location(finding.path, finding.line)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    if finding.locator:
        item["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": finding.locator, "kind": "element"}]
    if finding.repository_level:
        item["properties"] = {"repositoryLevel": True}
    if finding.violation is not None and finding.violation.chain:
        item["relatedLocations"] = _chain(finding.violation.chain)
    waiver = waiver_of(result, finding)
    if waiver:
        item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": _justification(waiver)}]
    if result.extras.get("baseline"):
        item["baselineState"] = "unchanged" if is_baselined(result, finding) else "new"
    return item


def _pass_result(result: Any, verdict: Any, index: dict[str, int]) -> dict[str, Any]:
    path, line = display_location(result, verdict)
    return {"ruleId": verdict.indicator.id, "ruleIndex": index[verdict.indicator.id], "kind": "pass",
            "level": "none", "message": {"text": _sentence(f"{verdict.indicator.title}: {verdict.message}")},
            "locations": [_location(path, line)]}


def _notification(verdict: Any, index: dict[str, int]) -> dict[str, Any]:
    indicator = verdict.indicator
    word = "could not be evaluated" if verdict.status == "error" else "is unverified"
    return {"level": "error" if verdict.status == "error" else "note",
            "message": {"text": _sentence(f"{indicator.id} {indicator.title} {word}: {verdict.message}")},
            "associatedRule": {"id": indicator.id, "index": index[indicator.id]}}


def _chain(chain: list[str]) -> list[dict[str, Any]]:
    """The CI step and scripts that led to a violation in a followed file, as related locations."""
    related = []
    for number, where in enumerate(chain, 1):
        path, _, line = where.rpartition(":")
        location = _location(path or where, int(line) if line.isdigit() else 1)
        location["id"] = number
        location["message"] = {"text": f"called from here (step {number} of {len(chain)})"}
        related.append(location)
    return related


def _location(path: str, line: int) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                                 "region": {"startLine": max(1, line)}}}


def _message(finding: Finding) -> str:
    """First sentence = the alert title: "<title>: <what is wrong>." then the indicator's verdict."""
    indicator = finding.verdict.indicator
    if finding.violation is None:
        text = _sentence(f"{indicator.title}: {finding.message}")
    else:
        text = _sentence(f"{indicator.title}: {finding.message.rstrip('.')}") + f" {finding.verdict.message}"
    if finding.repository_level:
        text = _sentence(text) + f" (Repository-level result, shown on {finding.path}.)"
    return text


def _justification(waiver: dict[str, Any]) -> str:
    if "baseline" in waiver:
        return f"accepted by baseline {waiver['baseline']}"
    return f"{waiver.get('reason', '')} (owner {waiver.get('owner', '?')}, expires {waiver.get('expires', '?')})"


def _plain(indicator: Any) -> str:
    return f"{indicator.title}\n\n{indicator.description}\n\nHow to fix: {indicator.remediation}\n"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def _cap(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 1] + "…"


def _pascal(slug: str) -> str:
    return "".join(part.capitalize() for part in slug.split("-"))


def location_table(indicators: list[Any]) -> str:
    """The Markdown table of docs/integrations.md: where each indicator's repository-level result points."""
    rows = ["| Indicator | Title | Repository-level results point at (the first that exists) |", "|---|---|---|"]
    for indicator in indicators:
        rows.append(f"| {indicator.id} | {indicator.title} | {' → '.join(relevant_files(indicator))} |")
    return "\n".join(rows) + "\n"
