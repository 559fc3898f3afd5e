"""gitleaks' JSON report (`gitleaks detect --report-format json`): a list of leaks.

Understood: `RuleID`, `Description`, `File`, `StartLine`, `Commit`, `Fingerprint`. Every leak is a `high`
`secret` finding. `Secret` and `Match` hold the leaked value: they are never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devops_audit.collectors.security.scan_formats.common import Finding, Malformed, Run, fingerprint, locate, redact
from devops_audit.collectors.security.scan_formats.paths import PathMapper

__all__ = ["FORMAT", "detect", "runs"]

FORMAT = "gitleaks"


def detect(document: Any, filename: str) -> bool:
    if not isinstance(document, list):
        return False
    if document and isinstance(document[0], dict):
        return "RuleID" in document[0]
    return "gitleaks" in filename


def runs(document: list[Any], mapper: PathMapper) -> Iterator[Run]:
    run = Run("gitleaks", {"secret"}, [])
    run.results = _results(document, mapper, run)
    yield run


def _results(leaks: list[Any], mapper: PathMapper, run: Run) -> Iterator[Finding | Malformed]:
    for index, leak in enumerate(leaks):
        if not isinstance(leak, dict) or not leak.get("RuleID"):
            yield Malformed(index, "leak is not an object with a `RuleID`")
            continue
        rule = str(leak["RuleID"])
        location = locate(mapper, run, index, leak.get("File"), leak.get("StartLine"))
        message = redact(str(leak.get("Description") or rule), secret=True)
        commit = str(leak.get("Commit") or "")
        if commit:
            message = f"{message} (commit {commit[:12]})"
        given = leak.get("Fingerprint")
        yield Finding(
            tool="gitleaks", rule=rule, severity="high", category="secret", message=message, location=location,
            fingerprint=fingerprint("gitleaks", rule, location.path if location else None, message,
                                    given if isinstance(given, str) else None),
        )
