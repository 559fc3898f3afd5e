"""GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array, one issue per finding.

Each issue: `description` (indicator title and what is wrong), `check_name` (indicator id),
`fingerprint` (the finding's structural fingerprint, see `reporters.fingerprints`, unique in the report;
GitLab collapses duplicates), `severity` (info -> info, low -> minor, medium -> major, high -> critical,
critical -> blocker), `location {path, lines {begin}}`, plus `categories` and `content.body` (how to fix).
Waived findings are left out (GitLab has no suppression field); findings already in the baseline stay in,
so the merge request widget shows only what changed.
"""

from __future__ import annotations

import json
from typing import Any

from devops_audit.reporters.fingerprints import findings, waiver_of

__all__ = ["SEVERITY", "render"]

SEVERITY = {"info": "info", "low": "minor", "medium": "major", "high": "critical", "critical": "blocker"}


def render(result: Any, options: Any) -> str:
    issues = []
    for finding in findings(result):
        if waiver_of(result, finding):
            continue
        indicator = finding.verdict.indicator
        issues.append({
            "type": "issue",
            "description": f"{indicator.id} {indicator.title}: {finding.message}",
            "check_name": indicator.id,
            "fingerprint": finding.fingerprint[:32],
            "severity": SEVERITY[indicator.severity],
            "categories": ["Security" if indicator.area == "SR" else "Style"],
            "content": {"body": indicator.remediation},
            "location": {"path": finding.path, "lines": {"begin": finding.line}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
