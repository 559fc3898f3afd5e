"""npm audit's JSON report (`npm audit --json`): v2 (`auditReportVersion: 2`, `vulnerabilities`) and v1
(`advisories`).

Understood: v2 `vulnerabilities.<package>` with `severity` (critical / high / moderate -> medium / low /
info) and `via[]` (advisory objects with `source`, `title`, `url`, `cvss.score`; strings name the package
that brings it in); v1 `advisories.<id>` with `module_name`, `severity`, `title`, `cves`, `cvss.score`.
A CVSS score, when given, decides the severity. Category: sca; location: the lockfile or `package.json`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devops_audit.collectors.security.scan_formats.common import (
    Finding,
    Malformed,
    Run,
    fingerprint,
    redact,
    severity_from_score,
    severity_from_word,
)
from devops_audit.collectors.security.scan_formats.paths import PathMapper
from devops_audit.collectors.security.scan_formats.pip_audit import manifest
from devops_audit.facts import Location

__all__ = ["FORMAT", "detect", "runs"]

FORMAT = "npm-audit"
_MANIFESTS = ("package-lock.json", "npm-shrinkwrap.json", "package.json")


def detect(document: Any, filename: str) -> bool:
    return isinstance(document, dict) and (
        "auditReportVersion" in document or isinstance(document.get("advisories"), dict)
        or isinstance(document.get("vulnerabilities"), dict) and "npm" in filename
    )


def runs(document: dict[str, Any], mapper: PathMapper) -> Iterator[Run]:
    where = manifest(mapper, _MANIFESTS)
    if isinstance(document.get("vulnerabilities"), dict):
        yield Run("npm-audit", {"sca"}, _v2(document["vulnerabilities"], where))
    else:
        yield Run("npm-audit", {"sca"}, _v1(document.get("advisories") or {}, where))


def _severity(cvss: Any, word: Any) -> str:
    score = cvss.get("score") if isinstance(cvss, dict) else None
    return (severity_from_score(score) if score else None) or severity_from_word(word) or "high"


def _v2(vulnerabilities: dict[str, Any], where: Location | None) -> Iterator[Finding | Malformed]:
    for index, (package, entry) in enumerate(vulnerabilities.items()):
        if not isinstance(entry, dict):
            yield Malformed(index, f"vulnerability entry of {package!r} is not an object")
            continue
        advisories = [v for v in entry.get("via") or [] if isinstance(v, dict)]
        if not advisories:
            continue  # vulnerable only through another package, which has its own entry
        for advisory in advisories:
            rule = str(advisory.get("url") or advisory.get("source") or f"npm:{package}").rsplit("/", 1)[-1]
            message = redact(f"{package} {entry.get('range', '')}: {advisory.get('title') or rule}")
            yield Finding(tool="npm-audit", rule=rule,
                          severity=_severity(advisory.get("cvss"), advisory.get("severity") or entry.get("severity")),
                          category="sca", message=message, location=where,
                          fingerprint=fingerprint("npm-audit", rule, package, ""))


def _v1(advisories: dict[str, Any], where: Location | None) -> Iterator[Finding | Malformed]:
    for index, (key, advisory) in enumerate(advisories.items()):
        if not isinstance(advisory, dict):
            yield Malformed(index, f"advisory {key!r} is not an object")
            continue
        package = str(advisory.get("module_name") or "?")
        cves = advisory.get("cves") if isinstance(advisory.get("cves"), list) else []
        rule = str(cves[0] if cves else advisory.get("github_advisory_id") or f"npm-advisory-{key}")
        message = redact(f"{package} {advisory.get('vulnerable_versions', '')}: {advisory.get('title') or rule}")
        yield Finding(tool="npm-audit", rule=rule, severity=_severity(advisory.get("cvss"), advisory.get("severity")),
                      category="sca", message=message, location=where,
                      fingerprint=fingerprint("npm-audit", rule, package, ""))
