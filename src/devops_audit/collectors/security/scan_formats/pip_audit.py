"""pip-audit's JSON report (`pip-audit -f json`): `{"dependencies": [...]}` or, from old versions, a bare list.

Understood: each dependency's `name`, `version` and `vulns[]` (`id`, `aliases`, `fix_versions`). pip-audit
reports no severity: a known vulnerability counts as `high` (a gate must not pass a vulnerable dependency
for want of a score). Category: sca. The location is the first dependency manifest of the repository
(`requirements.txt`, `pyproject.toml`, ...), when there is one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devops_audit.collectors.security.scan_formats.common import Finding, Malformed, Run, fingerprint, redact
from devops_audit.collectors.security.scan_formats.paths import PathMapper
from devops_audit.facts import Location

__all__ = ["FORMAT", "detect", "runs", "manifest"]

FORMAT = "pip-audit"
_MANIFESTS = ("requirements.txt", "pyproject.toml", "poetry.lock", "Pipfile.lock", "setup.py", "setup.cfg")


def detect(document: Any, filename: str) -> bool:
    if isinstance(document, dict):
        return isinstance(document.get("dependencies"), list) and ("fixes" in document or "pip-audit" in filename)
    return isinstance(document, list) and bool(document) and isinstance(document[0], dict) \
        and {"name", "version", "vulns"} <= set(document[0])


def manifest(mapper: PathMapper, names: tuple[str, ...]) -> Location | None:
    """The first of `names` the repository has at its root."""
    return next((Location(name, 1) for name in names if name in mapper.files), None)


def runs(document: Any, mapper: PathMapper) -> Iterator[Run]:
    dependencies = document["dependencies"] if isinstance(document, dict) else document
    yield Run("pip-audit", {"sca"}, _results(dependencies, manifest(mapper, _MANIFESTS)))


def _results(dependencies: list[Any], where: Location | None) -> Iterator[Finding | Malformed]:
    for index, dependency in enumerate(dependencies):
        if not isinstance(dependency, dict) or not isinstance(dependency.get("vulns", []), list):
            yield Malformed(index, "dependency is not an object with a `vulns` list")
            continue
        package = f"{dependency.get('name', '?')} {dependency.get('version', '')}".strip()
        for vuln in dependency.get("vulns") or []:
            if not isinstance(vuln, dict) or not vuln.get("id"):
                yield Malformed(index, f"a vulnerability of {package} has no `id`")
                continue
            rule = str(vuln["id"])
            fixes = ", ".join(str(v) for v in vuln.get("fix_versions") or [])
            message = redact(f"{package} is affected by {rule}" + (f" (fixed in {fixes})" if fixes else ""))
            yield Finding(tool="pip-audit", rule=rule, severity="high", category="sca", message=message,
                          location=where, fingerprint=fingerprint("pip-audit", rule, package, ""))
