"""The `coverage` namespace: coverage reports (C) and the coverage thresholds a build enforces.

Reports are found on disk (they are usually untracked build output) at their usual paths (`DEFAULT_REPORTS`)
and at the user's globs (config `evidence: {coverage: [...]}`, CLI `--evidence coverage=PATH`), which come
first. Formats: Cobertura, LCOV, JaCoCo and Clover (`coverage_formats`), and the coverage.py data file
`.coverage` (`coverage_data`), which is read only when the user names it or no other report exists, since
it needs the measured sources and costs an analysis.

Facts (`CoverageFacts`): the overall `line_rate` / `branch_rate` (0-1; `branch_rate` None when no report
measures branches, `line_rate` None when no report was read), covered/valid counts, `files` (least
covered first, at most `MAX_FILES`; `file_count` counts all), each report, the `thresholds`
(`coverage_thresholds`) and the globs `tried`. With several reports, a file listed by more than one
counts once (from the first report) and the totals are the sums over files.

`present` is True when a report, a threshold or an unreadable report was found: a repository with a
threshold but no report has `line_rate == null`, which coverage indicators treat as `unknown`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devops_audit.collectors import unexpected_content
from devops_audit.collectors.testing.coverage_config import read_coverage_config
from devops_audit.collectors.testing.coverage_paths import PathMapper, default_reports, evidence_globs
from devops_audit.collectors.testing.coverage_thresholds import Threshold, find_thresholds
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence, InventoryEntry, Location
from devops_audit.workspace import Workspace

if TYPE_CHECKING:
    from devops_audit.collectors.testing.coverage_formats import Counts, ParsedReport

__all__ = ["NAME", "DEFAULT_REPORTS", "MAX_FILES", "CoverageFacts", "CoverageReport", "CoverageFile", "collect"]

NAME = "coverage"
DEFAULT_REPORTS = (
    "coverage.xml", "cobertura.xml", "cobertura-coverage.xml", "coverage/cobertura-coverage.xml",
    "coverage/cobertura.xml", "coverage/coverage.xml", "reports/coverage.xml", "build/coverage.xml",
    "target/site/cobertura/coverage.xml",
    "lcov.info", "coverage.lcov", "coverage/lcov.info",
    "target/site/jacoco/jacoco.xml", "target/site/jacoco-aggregate/jacoco.xml", "*/target/site/jacoco/jacoco.xml",
    "build/reports/jacoco/**/*.xml", "*/build/reports/jacoco/**/*.xml",
    "clover.xml", "coverage/clover.xml", "build/logs/clover.xml",
    ".coverage",
)
MAX_FILES = 500
HINT = ("no coverage report found (looked for {tried}); generate one (`coverage xml`, `pytest --cov "
        "--cov-report=xml`, jest `--coverage`, `mvn jacoco:report`) or pass `--evidence coverage=PATH`")


@dataclass
class CoverageReport:
    """One report file as read: format is cobertura, lcov, jacoco, clover or coverage.py-data."""

    path: str
    format: str
    line_rate: float | None
    branch_rate: float | None
    lines_covered: int
    lines_valid: int
    branches_covered: int | None
    branches_valid: int | None
    file_count: int
    location: Location


@dataclass
class CoverageFile:
    """One measured source file; `report` is the report its numbers come from."""

    path: str
    line_rate: float | None
    branch_rate: float | None
    lines_covered: int
    lines_valid: int
    report: str


@dataclass
class CoverageFacts:
    """Coverage of the repository: totals over every report read, per-file rates, thresholds."""

    line_rate: float | None = None
    branch_rate: float | None = None
    lines_covered: int = 0
    lines_valid: int = 0
    branches_covered: int | None = None
    branches_valid: int | None = None
    file_count: int = 0
    files: list[CoverageFile] = field(default_factory=list)
    reports: list[CoverageReport] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)


def collect(workspace: Workspace, options: Any) -> Evidence:
    inventory: list[InventoryEntry] = []
    config, config_errors = read_coverage_config(workspace)
    inventory.extend(InventoryEntry(e.path, "coverage-config", "error", e.reason, e.line) for e in config_errors)
    thresholds, threshold_inventory = find_thresholds(workspace, config)
    inventory.extend(threshold_inventory)
    user = list(getattr(options, "evidence_paths", {}).get(NAME, []))
    candidates, tried = _discover(workspace, user, inventory)
    parsed = _read_all(workspace, candidates, config.report, inventory)
    facts = _facts(parsed, thresholds, tried)
    for entry in inventory:
        entry.evidence = NAME
    return Evidence(
        NAME,
        present=bool(parsed) or bool(thresholds) or any(e.status == "error" for e in inventory),
        facts=facts,
        inventory=inventory,
        hint=HINT.format(tried=", ".join(tried)),
    )


def _discover(workspace: Workspace, user: list[str],
              inventory: list[InventoryEntry]) -> tuple[list[tuple[str, bool]], list[str]]:
    """(path, named by the user) in priority order, and every glob tried."""
    usable, refused = evidence_globs(workspace, user)
    for pattern in refused:
        inventory.append(InventoryEntry(pattern, "coverage-report", "error", "outside the repository; refused"))
    found: dict[str, bool] = {}
    for pattern in usable:
        hits = workspace.on_disk(pattern)
        if not hits:
            inventory.append(InventoryEntry(pattern, "coverage-report", "error", "no file matches this evidence path"))
        for hit in hits:
            found.setdefault(hit, True)
    for hit in default_reports(workspace, DEFAULT_REPORTS):
        found.setdefault(hit, False)
    order = {pattern: index for index, pattern in enumerate(DEFAULT_REPORTS)}
    ranked = sorted(found.items(), key=lambda item: (not item[1], _rank(item[0], order), item[0]))
    return ranked, list(dict.fromkeys(usable + list(DEFAULT_REPORTS)))


def _rank(path: str, order: dict[str, int]) -> int:
    return min((i for pattern, i in order.items() if fnmatch.fnmatch(path, pattern)), default=len(order))


def _is_data_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == ".coverage" or (name.startswith(".coverage.") and not name.endswith((".xml", ".json")))


def _read_all(workspace: Workspace, candidates: list[tuple[str, bool]], report_options: dict[str, Any],
              inventory: list[InventoryEntry]) -> list[tuple[str, ParsedReport]]:
    mapper = PathMapper(workspace)
    parsed: list[tuple[str, ParsedReport]] = []
    data_files = []
    for path, named in candidates:
        if _is_data_file(path) and not named:
            data_files.append(path)
        elif _is_data_file(path):
            _read_one(path, lambda p=path: _read_data(workspace, p, mapper, report_options), parsed, inventory)
        else:
            _read_one(path, lambda p=path: _read_report(workspace, p, mapper), parsed, inventory)
    for path in data_files:
        if parsed:
            inventory.append(InventoryEntry(path, "coverage.py-data", "skipped",
                                            f"{parsed[0][0]} already gives the numbers"))
        else:
            _read_one(path, lambda p=path: _read_data(workspace, p, mapper, report_options), parsed, inventory)
    return parsed


def _read_report(workspace: Workspace, path: str, mapper: PathMapper) -> ParsedReport:
    from devops_audit.collectors.testing.coverage_formats import read_report  # only when there is a report

    return read_report(workspace, path, mapper)


def _read_data(workspace: Workspace, path: str, mapper: PathMapper, report_options: dict[str, Any]) -> ParsedReport:
    from devops_audit.collectors.testing.coverage_data import (
        read_coverage_data,  # imports coverage.py: only when needed
    )

    return read_coverage_data(workspace, path, mapper, report_options)


def _read_one(path: str, reader: Any, parsed: list[tuple[str, ParsedReport]], inventory: list[InventoryEntry]) -> None:
    try:
        report = reader()
    except EvidenceError as exc:
        inventory.append(InventoryEntry(exc.path or path, "coverage-report", "error", exc.reason, exc.line))
        return
    except Exception as exc:  # an unexpected shape in one report loses only that report
        inventory.append(unexpected_content(path, "coverage-report", exc))
        return
    parsed.append((path, report))
    inventory.append(InventoryEntry(path, f"coverage-{report.format}", "parsed"))


def _rate(covered: int | None, valid: int | None) -> float | None:
    return round(covered / valid, 6) if covered is not None and valid else None


def _facts(parsed: list[tuple[str, ParsedReport]], thresholds: list[Threshold], tried: list[str]) -> CoverageFacts:
    if not parsed:  # nothing measured: zero lines, branches unknown
        return CoverageFacts(thresholds=thresholds, tried=tried)
    reports = [
        CoverageReport(path, r.format, _rate(r.totals.lines_covered, r.totals.lines_valid),
                       _rate(r.totals.branches_covered, r.totals.branches_valid), r.totals.lines_covered,
                       r.totals.lines_valid, r.totals.branches_covered, r.totals.branches_valid, len(r.files),
                       Location(path, 1))
        for path, r in parsed
    ]
    totals, files = _combine(parsed)
    listed = sorted(files, key=lambda f: (f.line_rate is None, f.line_rate or 0.0, f.path))[:MAX_FILES]
    return CoverageFacts(
        line_rate=_rate(totals.lines_covered, totals.lines_valid),
        branch_rate=_rate(totals.branches_covered, totals.branches_valid),
        lines_covered=totals.lines_covered, lines_valid=totals.lines_valid,
        branches_covered=totals.branches_covered, branches_valid=totals.branches_valid,
        file_count=len(files), files=listed, reports=reports, thresholds=thresholds, tried=tried,
    )


def _combine(parsed: list[tuple[str, ParsedReport]]) -> tuple[Counts, list[CoverageFile]]:
    """One report: its own totals. Several: each file once (first report wins), totals summed over files."""
    from devops_audit.collectors.testing.coverage_formats import Counts  # loaded: a report was read

    seen: dict[str, CoverageFile] = {}
    totals = Counts()
    for path, report in parsed:
        if not report.files:
            totals.add(report.totals)
        for name, counts in report.files.items():
            if name in seen:
                continue
            seen[name] = CoverageFile(name, _rate(counts.lines_covered, counts.lines_valid),
                                      _rate(counts.branches_covered, counts.branches_valid),
                                      counts.lines_covered, counts.lines_valid, path)
            totals.add(counts)
    if len(parsed) == 1:
        totals = parsed[0][1].totals
    return totals, list(seen.values())
