"""Output formats. Each module has `render(result, options) -> str`; reporters only format.

Every format renders through `render` below, which hands the module a redacted copy of the result
(`devops_audit.redact`): no reporter can print a credential the repository holds.

`--format FMT[=FILE]` is repeatable: one scan, several outputs. Without `=FILE` the output goes to stdout.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from devops_audit.errors import UsageError

__all__ = ["FORMATS", "OutputRequest", "parse_format", "render"]

FORMATS: dict[str, str] = {
    "terminal": "devops_audit.reporters.terminal",
    "json": "devops_audit.reporters.json_report",
    "sarif": "devops_audit.reporters.sarif",
    "junit": "devops_audit.reporters.junit",
    "gitlab-codequality": "devops_audit.reporters.gitlab_codequality",
    "gitlab-sast": "devops_audit.reporters.gitlab_sast",
    "markdown": "devops_audit.reporters.markdown",
}


@dataclass(frozen=True)
class OutputRequest:
    """One `--format FMT[=FILE]`."""

    format: str
    path: str | None  # None: standard output


@dataclass
class RenderOptions:
    """Format-specific switches from the command line."""

    sarif_include_pass: bool = False
    sarif_category: str | None = None
    color: bool | None = None


def parse_format(text: str) -> OutputRequest:
    name, sep, path = text.partition("=")
    name = name.strip().lower()
    if name not in FORMATS:
        raise UsageError(f"--format: unknown format {name!r} (known: {', '.join(FORMATS)})")
    if sep and not path:
        raise UsageError(f"--format {text}: missing file name after '='")
    return OutputRequest(name, path or None)


def render(result: Any, request: OutputRequest, options: RenderOptions) -> str:
    try:
        module = importlib.import_module(FORMATS[request.format])
    except ModuleNotFoundError as exc:
        if exc.name == FORMATS[request.format]:
            raise UsageError(f"--format {request.format}: not available in this version") from None
        raise
    from devops_audit.redact import redacted_result

    return module.render(redacted_result(result), options)
