"""bandit's JSON report (`bandit -r . -f json`).

Understood: `results[]` with `filename`, `line_number`, `test_id`, `test_name`, `issue_severity`
(HIGH -> high, MEDIUM -> medium, LOW -> low, UNDEFINED -> info), `issue_confidence`, `issue_text`;
`generated_at`. bandit drops `# nosec` results itself, so nothing is suppressed here. Category: sast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devops_audit.collectors.security.scan_formats.common import (
    Finding,
    Malformed,
    Run,
    fingerprint,
    is_credential_rule,
    locate,
    redact,
    severity_from_word,
)
from devops_audit.collectors.security.scan_formats.paths import PathMapper

__all__ = ["FORMAT", "detect", "runs"]

FORMAT = "bandit"


def detect(document: Any, filename: str) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        return False
    first = document["results"][0] if document["results"] else None
    if isinstance(first, dict):
        return "test_id" in first and "issue_severity" in first
    return "generated_at" in document and "metrics" in document or "bandit" in filename


def runs(document: dict[str, Any], mapper: PathMapper) -> Iterator[Run]:
    run = Run("bandit", {"sast"}, [])
    run.results = _results(document["results"], mapper, run)
    yield run


def _results(results: list[Any], mapper: PathMapper, run: Run) -> Iterator[Finding | Malformed]:
    for index, item in enumerate(results):
        if not isinstance(item, dict) or not item.get("test_id"):
            yield Malformed(index, "result is not an object with a `test_id`")
            continue
        rule = str(item["test_id"])
        location = locate(mapper, run, index, item.get("filename"), item.get("line_number"))
        message = redact(str(item.get("issue_text") or rule),
                         secret=is_credential_rule(rule, str(item.get("test_name", ""))))
        yield Finding(
            tool="bandit", rule=rule, severity=severity_from_word(item.get("issue_severity")) or "info",
            category="sast", message=message, location=location,
            confidence=severity_from_word(item.get("issue_confidence")) or "",
            fingerprint=fingerprint("bandit", rule, location.path if location else None, message),
        )
