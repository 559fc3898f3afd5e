"""The repository's coverage.py configuration, read as data (never through coverage.py, which may import
plugins the configuration names).

Files, in coverage.py's own order: `.coveragerc` (`[report]`, `[run]`), `setup.cfg` and `tox.ini`
(`[coverage:report]`, ...), `pyproject.toml` (`[tool.coverage.report]`, ...). coverage.py uses the first
file that has coverage settings; every `fail_under` found is reported, each with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

if TYPE_CHECKING:
    import configparser

__all__ = ["CoverageConfig", "FailUnder", "CONFIG_FILES", "read_coverage_config"]

CONFIG_FILES = (".coveragerc", "setup.cfg", "tox.ini", "pyproject.toml")
# `[report]` options that change the numbers `coverage report` prints
REPORT_OPTIONS = ("exclude_lines", "exclude_also", "partial_branches", "partial_also", "omit", "include")
_SECTION = r"^\s*\[([^\]]+)\]"  # compiled by `re` when a `fail_under` is first found


@dataclass
class FailUnder:
    """A `fail_under` setting as written, where it was found."""

    path: str
    line: int
    raw: str


@dataclass
class CoverageConfig:
    """`report` options of the effective file, and every `fail_under` of every file."""

    path: str | None = None
    report: dict[str, Any] = field(default_factory=dict)
    fail_under: list[FailUnder] = field(default_factory=list)


def read_coverage_config(workspace: Workspace) -> tuple[CoverageConfig, list[EvidenceError]]:
    config = CoverageConfig()
    errors: list[EvidenceError] = []
    for path in CONFIG_FILES:
        if path not in workspace.file_set and not workspace.exists(path):
            continue
        try:
            sections = _read(workspace, path)
        except EvidenceError as exc:
            errors.append(exc)
            continue
        if sections is None:
            continue
        report = sections.get("report", {})
        if "fail_under" in report:
            line = _key_line(workspace.read_text(path), _section_names(path, "report"), "fail_under")
            config.fail_under.append(FailUnder(path, line, str(report["fail_under"]).strip()))
        if config.path is None:
            config.path = path
            config.report = {k: report[k] for k in REPORT_OPTIONS if k in report}
    return config, errors


def _read(workspace: Workspace, path: str) -> dict[str, dict[str, Any]] | None:
    """Coverage sections as {"run": {...}, "report": {...}}; None when the file has none."""
    if path == "pyproject.toml":
        import tomllib  # only with a pyproject.toml: a Java repository never loads the TOML parser

        try:
            tool = workspace.load_toml(path).get("tool", {})
        except tomllib.TOMLDecodeError as exc:
            raise EvidenceError(path, f"invalid TOML: {exc}", getattr(exc, "lineno", None)) from None
        coverage = tool.get("coverage") if isinstance(tool, dict) else None
        return {k: v for k, v in coverage.items() if isinstance(v, dict)} if isinstance(coverage, dict) else None
    import configparser  # only for an INI file: most repositories have none

    text = workspace.read_text(path)
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise EvidenceError(path, f"invalid INI: {exc.message.splitlines()[0]}", getattr(exc, "lineno", None)) from None
    prefix = "" if path == ".coveragerc" else "coverage:"
    found = {name[len(prefix):]: _ini_section(parser, name) for name in parser.sections() if name.startswith(prefix)}
    return found if (found or path == ".coveragerc") else None


def _ini_section(parser: configparser.RawConfigParser, name: str) -> dict[str, Any]:
    section: dict[str, Any] = {}
    for key, value in parser.items(name):
        separators = r"[\n,]" if key in ("omit", "include") else r"\n"
        items = [item.strip() for item in re.split(separators, value) if item.strip()]
        section[key] = items if key in REPORT_OPTIONS else value
    return section


def _section_names(path: str, section: str) -> tuple[str, ...]:
    if path == "pyproject.toml":
        return (f"tool.coverage.{section}", "tool.coverage")
    return (section,) if path == ".coveragerc" else (f"coverage:{section}",)


def _key_line(text: str, sections: tuple[str, ...], key: str) -> int:
    """1-based line of `key =` (or `report.key =`) inside one of the sections; 1 when not found."""
    current = ""
    pattern = re.compile(rf"^\s*(?:report\.)?{key}\s*[=:]")
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(_SECTION, line)
        if header:
            current = header.group(1).strip().strip('"')
        elif current in sections and pattern.match(line):
            return number
    return 1
