"""osv-scanner's JSON report (`osv-scanner --format json`).

Understood: `results[]` with `source.path` (the lockfile) and `packages[]` (`package.name`/`version`,
`vulnerabilities[]` with `id`, `summary`, `database_specific.severity`; `groups[]` with `ids` and
`max_severity`, a CVSS score). Severity: the group's `max_severity` score, else the advisory's own word
(MODERATE -> medium), else high. One finding per group (aliases collapse). Category: sca.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devops_audit.collectors.security.scan_formats.common import (
    Finding,
    Malformed,
    Run,
    fingerprint,
    locate,
    redact,
    severity_from_score,
    severity_from_word,
)
from devops_audit.collectors.security.scan_formats.paths import PathMapper

__all__ = ["FORMAT", "detect", "runs"]

FORMAT = "osv-scanner"


def detect(document: Any, filename: str) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        return False
    first = document["results"][0] if document["results"] else None
    if isinstance(first, dict):
        return "packages" in first and "source" in first
    return "osv" in filename


def runs(document: dict[str, Any], mapper: PathMapper) -> Iterator[Run]:
    run = Run("osv-scanner", {"sca"}, [])
    run.results = _results(document["results"], mapper, run)
    yield run


def _results(sources: list[Any], mapper: PathMapper, run: Run) -> Iterator[Finding | Malformed]:
    for index, source in enumerate(sources):
        if not isinstance(source, dict) or not isinstance(source.get("packages", []), list):
            yield Malformed(index, "result is not an object with a `packages` list")
            continue
        origin = source.get("source") if isinstance(source.get("source"), dict) else {}
        location = locate(mapper, run, index, origin.get("path"), 1)
        for entry in source.get("packages") or []:
            if not isinstance(entry, dict):
                yield Malformed(index, "package entry is not an object")
                continue
            yield from _package(entry, location)


def _package(entry: dict[str, Any], location: Any) -> Iterator[Finding]:
    package = entry.get("package") if isinstance(entry.get("package"), dict) else {}
    name = f"{package.get('name', '?')} {package.get('version', '')}".strip()
    vulns = {str(v.get("id")): v for v in entry.get("vulnerabilities") or [] if isinstance(v, dict)}
    groups = [g for g in entry.get("groups") or [] if isinstance(g, dict) and g.get("ids")]
    if not groups:
        groups = [{"ids": [vid]} for vid in vulns]
    for group in groups:
        ids = [str(i) for i in group["ids"]]
        rule = ids[0]
        vuln = vulns.get(rule, {})
        specific = vuln.get("database_specific")
        word = specific.get("severity") if isinstance(specific, dict) else None
        severity = severity_from_score(group.get("max_severity") or None) or severity_from_word(word) or "high"
        message = redact(f"{name}: {vuln.get('summary') or ', '.join(ids)}")
        yield Finding(tool="osv-scanner", rule=rule, severity=severity, category="sca", message=message,
                      location=location, fingerprint=fingerprint("osv-scanner", rule, name, ""))
