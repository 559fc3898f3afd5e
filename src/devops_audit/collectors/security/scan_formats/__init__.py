"""Scanner report formats: one module per format, each turning a parsed JSON document into `Run`s of `Finding`s.

A format module exposes `FORMAT` (its name), `detect(document, filename) -> bool` and
`runs(document, mapper) -> Iterator[Run]`. Results are produced lazily, so a caller can count them and keep
only the few it needs. `tool_categories` says what kind of scanning a tool does, even when its report is
empty ("SAST ran, nothing found"). The format modules and the finding model (`common`) are imported only
when a report is read.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Any

__all__ = ["FORMATS", "SEVERITIES", "CATEGORIES", "detect_format", "tool_name", "tool_categories"]

SEVERITIES = ("critical", "high", "medium", "low", "info")
CATEGORIES = ("sast", "sca", "secret", "iac", "other")
# order matters: the first module whose `detect` accepts a document reads it
FORMATS = ("sarif", "trivy", "npm_audit", "pip_audit", "gitleaks", "osv", "semgrep", "bandit")

_ALIASES = {
    "semgrep oss": "semgrep", "semgrep pro": "semgrep", "semgrep-oss": "semgrep",
    "osv scanner": "osv-scanner", "osv-scanner": "osv-scanner", "dependency check": "dependency-check",
    "owasp dependency-check": "dependency-check", "sonarqube": "sonar", "sonarcloud": "sonar",
    "github codeql": "codeql", "npm": "npm-audit", "pip-audit": "pip-audit",
}
_TOOL_CATEGORIES = {
    "sast": ("codeql", "semgrep", "bandit", "sonar", "gosec", "eslint", "brakeman", "spotbugs", "pmd",
             "snyk-code", "psalm", "flawfinder", "njsscan", "horusec", "pyre", "devskim", "phpstan"),
    "sca": ("pip-audit", "npm-audit", "osv-scanner", "grype", "snyk", "dependency-check", "safety",
            "yarn-audit", "govulncheck", "cargo-audit", "dependabot", "dependency-review"),
    "secret": ("gitleaks", "trufflehog", "detect-secrets", "ggshield", "secretlint", "talisman"),
    "iac": ("zizmor", "checkov", "kics", "tfsec", "terrascan", "hadolint", "kube-linter", "actionlint",
            "tflint", "poutine", "kubescape"),
}
_BY_TOOL = {tool: category for category, tools in _TOOL_CATEGORIES.items() for tool in tools}


def tool_name(raw: Any) -> str:
    """A scanner's name as reports spell it ("Semgrep OSS", "Bandit") in one stable form ("semgrep")."""
    name = " ".join(str(raw or "unknown").lower().split())
    name = _ALIASES.get(name, name)
    return re.sub(r"[^a-z0-9.+-]+", "-", name).strip("-") or "unknown"


def tool_categories(tool: str) -> set[str]:
    """What a tool scans for; trivy's depends on the report, so it gets none here."""
    category = _BY_TOOL.get(tool)
    return {category} if category else set()


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"devops_audit.collectors.security.scan_formats.{name}")


def detect_format(document: Any, filename: str) -> ModuleType | None:
    """The format module that reads `document` (the file name breaks ties for empty reports)."""
    for name in FORMATS:
        module = _module(name)
        if module.detect(document, filename.lower()):
            return module
    return None
