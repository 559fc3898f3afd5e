"""The coverage.py data file (`.coverage`), read through coverage.py's own API.

The file records which lines ran, not how many statements each file has: totals need the measured
source files. Their recorded paths (often absolute, from the CI runner) are mapped onto repository
files; when any is missing the file is an inventory error, since `coverage report` would fail the same
way. A copy of the data is remapped in a temporary folder and reported with `Coverage.json_report`, using
the repository's `[report]` options (read as data by `coverage_config`, never by coverage.py itself,
which could import plugins): the numbers are those `coverage report` prints.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from devops_audit.collectors.testing.coverage_formats import MAX_REPORT_BYTES, Counts, ParsedReport
from devops_audit.collectors.testing.coverage_paths import PathMapper
from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

__all__ = ["SQLITE_MAGIC", "read_coverage_data"]

SQLITE_MAGIC = b"SQLite format 3\x00"


def read_coverage_data(workspace: Workspace, path: str, mapper: PathMapper,
                       report_options: dict[str, Any]) -> ParsedReport:
    from coverage import Coverage, CoverageData
    from coverage.exceptions import CoverageException

    content = workspace.read_bytes(path, MAX_REPORT_BYTES)
    if not content.startswith(SQLITE_MAGIC):
        raise EvidenceError(path, "not a coverage.py data file (coverage.py 5+ writes SQLite)")
    with tempfile.TemporaryDirectory(prefix="devops-audit-") as tmp:
        original = Path(tmp) / "original.coverage"
        original.write_bytes(content)
        try:
            data = CoverageData(basename=str(original))
            data.read()
            mapping = _map_sources(workspace, path, mapper, data.measured_files())
            mapped = CoverageData(basename=str(Path(tmp) / "mapped.coverage"))
            mapped.update(data, map_path=mapping.__getitem__)
            mapped.write()
            cov = Coverage(data_file=str(Path(tmp) / "mapped.coverage"), config_file=False)
            for key, value in _report_options(cov, report_options).items():
                cov.set_option(f"report:{key}", _absolute_patterns(workspace, key, value))
            cov.load()
            cov.json_report(outfile=str(Path(tmp) / "report.json"))
            summary = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
        except (CoverageException, sqlite3.Error, OSError, ValueError, SyntaxError) as exc:
            raise EvidenceError(path, f"coverage.py could not report on it: {exc}") from None
    return _parsed(summary, mapper)


def _map_sources(workspace: Workspace, path: str, mapper: PathMapper, measured: set[str]) -> dict[str, str]:
    """Recorded path -> real path of the repository file; every one must exist."""
    if not measured:
        raise EvidenceError(path, "the coverage.py data file measured no files")
    mapping: dict[str, str] = {}
    missing: list[str] = []
    for recorded in sorted(measured):
        found = mapper.find(recorded)
        if found is None:
            missing.append(recorded)
            continue
        try:
            mapping[recorded] = str(workspace.resolve(found))
        except EvidenceError as exc:
            raise EvidenceError(path, f"measured source {found}: {exc.reason}") from None
    if missing:
        raise EvidenceError(
            path,
            f"{len(missing)} of {len(measured)} measured source files are missing from this checkout "
            f"(e.g. {missing[0]}); `.coverage` needs them to compute totals: run `coverage xml` where the "
            "tests ran and keep coverage.xml",
        )
    return mapping


def _report_options(cov: Any, options: dict[str, Any]) -> dict[str, Any]:
    """`exclude_also` / `partial_also` extend the (default or configured) lists, as coverage.py does on read."""
    result = dict(options)
    for also, base in (("exclude_also", "exclude_lines"), ("partial_also", "partial_branches")):
        extra = result.pop(also, None)
        if extra:
            result[base] = [*(result.get(base) or cov.get_option(f"report:{base}")), *extra]
    return result


def _absolute_patterns(workspace: Workspace, key: str, value: Any) -> Any:
    """coverage.py resolves relative `omit`/`include` patterns against the current folder: use the root."""
    if key not in ("omit", "include") or not isinstance(value, list):
        return value
    return [p if p.startswith("*") else str(workspace.root / p) for p in value]


def _parsed(summary: dict[str, Any], mapper: PathMapper) -> ParsedReport:
    """coverage.py names files relative to the (real) current folder when under it, else absolute."""
    cwd = os.path.realpath(os.getcwd())
    files: dict[str, Counts] = {}
    for key, entry in summary.get("files", {}).items():
        files[mapper.relative(os.path.join(cwd, key))] = _counts(entry.get("summary", {}))
    return ParsedReport("coverage.py-data", _counts(summary.get("totals", {})), files)


def _counts(summary: dict[str, Any]) -> Counts:
    counts = Counts(int(summary.get("covered_lines", 0)), int(summary.get("num_statements", 0)))
    if "num_branches" in summary:
        counts.branches_covered = int(summary.get("covered_branches", 0))
        counts.branches_valid = int(summary["num_branches"])
    return counts
