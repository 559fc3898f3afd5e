"""semgrep's JSON report (`semgrep --json`).

Understood: `results[]` with `check_id`, `path`, `start.line`, `extra.severity` (ERROR -> high,
WARNING -> medium, INFO -> low; newer CRITICAL/HIGH/MEDIUM/LOW as they are), `extra.message`,
`extra.metadata.confidence`, `extra.is_ignored` (a `nosemgrep` comment: suppressed), `extra.fingerprint`
(unless it is semgrep's "requires login" placeholder). Category: `extra.metadata.devops-audit-category` when
set (our shipped rules), `secret` for rules whose metadata lists the `secrets` technology, else sast.
`extra.lines` (the matched source) is never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devops_audit.collectors.security.scan_formats.common import (
    CATEGORIES,
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

FORMAT = "semgrep"


def detect(document: Any, filename: str) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        return False
    first = document["results"][0] if document["results"] else None
    if isinstance(first, dict):
        return "check_id" in first
    return "paths" in document and "errors" in document or "semgrep" in filename


def runs(document: dict[str, Any], mapper: PathMapper) -> Iterator[Run]:
    run = Run("semgrep", {"sast"}, [])
    run.results = _results(document["results"], mapper, run)
    yield run


def _results(results: list[Any], mapper: PathMapper, run: Run) -> Iterator[Finding | Malformed]:
    for index, item in enumerate(results):
        if not isinstance(item, dict) or not item.get("check_id"):
            yield Malformed(index, "result is not an object with a `check_id`")
            continue
        extra = item.get("extra") if isinstance(item.get("extra"), dict) else {}
        metadata = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
        rule = str(item["check_id"])
        category = _category(metadata)
        start = item.get("start") if isinstance(item.get("start"), dict) else {}
        location = locate(mapper, run, index, item.get("path"), start.get("line"))
        message = redact(str(extra.get("message") or rule),
                         secret=category == "secret" or is_credential_rule(rule))
        yield Finding(
            tool="semgrep", rule=rule, severity=severity_from_word(extra.get("severity")) or "medium",
            category=category, message=message, location=location,
            confidence=severity_from_word(metadata.get("confidence")) or "",
            suppressed=bool(extra.get("is_ignored")),
            fingerprint=fingerprint("semgrep", rule, location.path if location else None, message,
                                    extra.get("fingerprint")),
        )


def _category(metadata: dict[str, Any]) -> str:
    declared = str(metadata.get("devops-audit-category", ""))
    if declared in CATEGORIES:
        return declared
    technology = metadata.get("technology")
    if isinstance(technology, list) and "secrets" in technology:
        return "secret"
    return "sast"
