"""GitLab SAST report (`artifacts:reports:sast`), schema 15.x, one vulnerability per finding.

- `version` "15.0.7"; `scan` names devops-audit as both analyzer and scanner, with the scan's time as
  `start_time`/`end_time` (`YYYY-MM-DDTHH:MM:SS`, as the schema wants) and `status: success`;
- each vulnerability: `id` (a UUID derived from the finding's fingerprint, stable across runs),
  `name` (indicator title), `description` (what is wrong, then how to fix), `severity`
  (Info/Low/Medium/High/Critical), `identifiers` (`devops_audit_indicator` = the indicator id, plus the
  finding's fingerprint so GitLab tracks it across pipelines), `location {file, start_line, end_line}`;
- only security indicators (area SR) are vulnerabilities: process indicators go to the Code Quality
  report only;
- waived findings are left out: GitLab decides dismissals in its own UI.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from devops_audit.reporters.fingerprints import findings, waiver_of
from devops_audit.reporters.sarif import SECURITY_AREAS

__all__ = ["SCHEMA_VERSION", "SEVERITY", "render"]

SCHEMA_VERSION = "15.0.7"
SEVERITY = {"info": "Info", "low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}
_NAMESPACE = uuid.UUID("6f0c1d9e-5d2b-4c1a-9a57-3d1e8f0b7a42")


def render(result: Any, options: Any) -> str:
    from devops_audit import __version__
    from devops_audit.docs import DOCS_URL, anchor
    from devops_audit.result import INFORMATION_URI, TOOL_NAME

    tool = {"id": TOOL_NAME, "name": TOOL_NAME, "version": __version__, "vendor": {"name": TOOL_NAME},
            "url": INFORMATION_URI}
    when = _timestamp(result.generated_at)
    vulnerabilities = []
    for finding in findings(result):
        indicator = finding.verdict.indicator
        if indicator.area not in SECURITY_AREAS or waiver_of(result, finding):
            continue
        vulnerabilities.append({
            "id": str(uuid.uuid5(_NAMESPACE, finding.fingerprint)),
            "name": indicator.title,
            "description": f"{finding.message}\n\nHow to fix: {indicator.remediation}",
            "severity": SEVERITY[indicator.severity],
            "solution": indicator.remediation,
            "identifiers": [
                {"type": "devops_audit_indicator", "name": indicator.id, "value": indicator.id,
                 "url": f"{DOCS_URL}#{anchor(indicator)}"},
                {"type": "devops_audit_fingerprint", "name": f"{indicator.id} {finding.locator or 'repository'}",
                 "value": finding.fingerprint},
            ],
            "location": {"file": finding.path, "start_line": finding.line, "end_line": finding.line},
        })
    report = {
        "version": SCHEMA_VERSION,
        "scan": {"analyzer": tool, "scanner": tool, "start_time": when, "end_time": when,
                 "status": "success", "type": "sast"},
        "vulnerabilities": vulnerabilities,
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _timestamp(iso: str) -> str:
    """`2026-05-01T10:00:00+00:00` -> `2026-05-01T10:00:00`; a bare date gets midnight."""
    text = iso[:19]
    return text if "T" in text else f"{text[:10]}T00:00:00"
