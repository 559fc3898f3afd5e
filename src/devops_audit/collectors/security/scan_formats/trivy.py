"""trivy's JSON report (`trivy fs|image|config --format json`).

Understood: `Results[]` with `Target`, `Class` and three lists. `Vulnerabilities[]` (sca): `VulnerabilityID`,
`PkgName`, `InstalledVersion`, `FixedVersion`, `Severity` (CRITICAL/HIGH/MEDIUM/LOW; UNKNOWN falls back to the
highest CVSS v3 score, else high). `Misconfigurations[]` (iac): `ID`, `Title`, `Severity`, `Status` (PASS is
no finding, EXCEPTION is suppressed), `CauseMetadata.StartLine`. `Secrets[]` (secret): `RuleID`, `Title`,
`Severity`, `StartLine`; `Match` and `Code` hold the secret and are never read. `Target` is a location when
it names a repository file (not for image targets). `Metadata.ImageConfig`/`ArtifactName` are not needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devops_audit.collectors.security.scan_formats.common import (
    Finding,
    Malformed,
    Run,
    fingerprint,
    int_or_none,
    redact,
    severity_from_score,
    severity_from_word,
)
from devops_audit.collectors.security.scan_formats.paths import OUTSIDE, PathMapper
from devops_audit.facts import Location

__all__ = ["FORMAT", "detect", "runs"]

FORMAT = "trivy"
_CLASS_CATEGORY = {"os-pkgs": "sca", "lang-pkgs": "sca", "config": "iac", "secret": "secret", "license": "other"}


def detect(document: Any, filename: str) -> bool:
    return isinstance(document, dict) and (
        "SchemaVersion" in document and "ArtifactName" in document
        or isinstance(document.get("Results"), list) and "trivy" in filename
    )


def runs(document: dict[str, Any], mapper: PathMapper) -> Iterator[Run]:
    results = document.get("Results") if isinstance(document.get("Results"), list) else []
    categories = {_CLASS_CATEGORY.get(str(r.get("Class")), "other") for r in results if isinstance(r, dict)}
    run = Run("trivy", categories or {"sca"}, [])
    run.results = _results(results, mapper, run)
    yield run


def _results(results: list[Any], mapper: PathMapper, run: Run) -> Iterator[Finding | Malformed]:
    index = 0
    for target_index, target in enumerate(results):
        if not isinstance(target, dict):
            yield Malformed(target_index, "`Results` entry is not an object")
            continue
        path = _target(mapper, run, target_index, target.get("Target"))
        for kind, reader in (("Vulnerabilities", _vulnerability), ("Misconfigurations", _misconfiguration),
                             ("Secrets", _secret)):
            for item in target.get(kind) or []:
                index += 1
                if not isinstance(item, dict):
                    yield Malformed(index - 1, f"{kind} entry of {target.get('Target')!r} is not an object")
                    continue
                finding = reader(item, path)
                if finding is not None:
                    yield finding


def _target(mapper: PathMapper, run: Run, index: int, target: Any) -> str | None:
    mapped = mapper.map(target)
    if mapped == OUTSIDE:
        run.out_of_repo.append(index)
        return None
    return mapped if mapped in mapper.files else None


def _at(path: str | None, line: Any) -> Location | None:
    return Location(path, int_or_none(line) or 1) if path else None


def _vulnerability(item: dict[str, Any], path: str | None) -> Finding:
    rule = str(item.get("VulnerabilityID") or "unknown-vulnerability")
    package = f"{item.get('PkgName', '?')} {item.get('InstalledVersion', '')}".strip()
    severity = severity_from_word(item.get("Severity")) if item.get("Severity") != "UNKNOWN" else None
    fixed = item.get("FixedVersion")
    message = redact(f"{package}: {item.get('Title') or rule}" + (f" (fixed in {fixed})" if fixed else ""))
    return Finding(tool="trivy", rule=rule, severity=severity or _cvss(item.get("CVSS")) or "high", category="sca",
                   message=message, location=_at(path, 1), fingerprint=fingerprint("trivy", rule, package, path or ""))


def _cvss(cvss: Any) -> str | None:
    if not isinstance(cvss, dict):
        return None
    scores = [v.get("V3Score") for v in cvss.values() if isinstance(v, dict)]
    numbers = [s for s in scores if isinstance(s, (int, float)) and not isinstance(s, bool)]
    return severity_from_score(max(numbers)) if numbers else None


def _misconfiguration(item: dict[str, Any], path: str | None) -> Finding | None:
    status = str(item.get("Status") or "FAIL").upper()
    if status == "PASS":
        return None
    rule = str(item.get("AVDID") or item.get("ID") or "unknown-misconfiguration")
    cause = item.get("CauseMetadata") if isinstance(item.get("CauseMetadata"), dict) else {}
    message = redact(str(item.get("Message") or item.get("Title") or rule))
    location = _at(path, cause.get("StartLine"))
    return Finding(tool="trivy", rule=rule, severity=severity_from_word(item.get("Severity")) or "medium",
                   category="iac", message=message, location=location, suppressed=status == "EXCEPTION",
                   fingerprint=fingerprint("trivy", rule, path, message))


def _secret(item: dict[str, Any], path: str | None) -> Finding:
    rule = str(item.get("RuleID") or "unknown-secret")
    message = redact(str(item.get("Title") or rule), secret=True)
    location = _at(path, item.get("StartLine"))
    return Finding(tool="trivy", rule=rule, severity=severity_from_word(item.get("Severity")) or "high",
                   category="secret", message=message, location=location,
                   fingerprint=fingerprint("trivy", rule, path, f"{message}:{location.line if location else ''}"))
