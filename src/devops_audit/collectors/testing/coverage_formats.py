"""Readers for coverage report formats; each returns per-file counts and the report's own totals.

Understood:
- Cobertura XML (coverage.py `coverage xml`, pytest-cov, gcovr, istanbul `cobertura`): root `lines-covered`
  / `lines-valid` / `branches-covered` / `branches-valid` when present, else counted from `<class><lines>`;
  branches from `condition-coverage="50% (1/2)"`.
- LCOV (`lcov.info`): `SF`, `DA`, `LF`/`LH`, `BRDA`, `BRF`/`BRH`; a file recorded twice is merged.
- JaCoCo XML: the report-level `LINE` and `BRANCH` counters; per file `package/sourcefile`.
- Clover XML (istanbul `clover`, PHPUnit, OpenClover): statements count as lines, conditionals as branches.

A branch total is None when the report carries no branch data. Paths go through `PathMapper`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from devops_audit.collectors.testing.coverage_paths import MAX_REPORT_BYTES, PathMapper
from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

__all__ = ["Counts", "ParsedReport", "MAX_REPORT_BYTES", "read_report", "xml_format"]

_CONDITION = re.compile(r"\((\d+)\s*/\s*(\d+)\)")


@dataclass
class Counts:
    """Covered / valid lines and branches (branches None when not measured)."""

    lines_covered: int = 0
    lines_valid: int = 0
    branches_covered: int | None = None
    branches_valid: int | None = None

    def add(self, other: Counts) -> None:
        self.lines_covered += other.lines_covered
        self.lines_valid += other.lines_valid
        if other.branches_valid is not None:
            self.branches_covered = (self.branches_covered or 0) + (other.branches_covered or 0)
            self.branches_valid = (self.branches_valid or 0) + other.branches_valid


@dataclass
class ParsedReport:
    """One report: its format, totals and per-file counts (repository paths)."""

    format: str
    totals: Counts
    files: dict[str, Counts] = field(default_factory=dict)


def read_report(workspace: Workspace, path: str, mapper: PathMapper) -> ParsedReport:
    """Parse an XML or LCOV coverage report; raises `EvidenceError` on anything unreadable."""
    if _looks_like_lcov(path):
        return read_lcov(workspace.read_text(path, MAX_REPORT_BYTES), path, mapper)
    root = workspace.parse_xml(path, MAX_REPORT_BYTES)
    kind = xml_format(root)
    if kind == "cobertura":
        return read_cobertura(root, mapper)
    if kind == "jacoco":
        return read_jacoco(root, mapper)
    if kind == "clover":
        return read_clover(root, path, mapper)
    raise EvidenceError(path, f"not a coverage report this tool reads (root element <{_local(root.tag)}>)")


def xml_format(root: Any) -> str | None:
    tag = _local(root.tag)
    if tag == "report":
        return "jacoco"
    if tag == "coverage":
        if root.find("project") is not None or root.get("clover") is not None:
            return "clover"
        if root.get("line-rate") is not None or root.find("packages") is not None:
            return "cobertura"
    return None


def _looks_like_lcov(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith((".info", ".lcov")) or ("lcov" in name and not name.endswith(".xml"))


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _int(value: str | None) -> int | None:
    """A count attribute; None when missing or not a number."""
    try:
        return int(float(value)) if value else None
    except (ValueError, OverflowError):
        return None


# -- Cobertura -----------------------------------------------------------------------------------
def read_cobertura(root: Any, mapper: PathMapper) -> ParsedReport:
    sources = [s.text.strip() for s in root.iter("source") if s.text and s.text.strip()]
    lines: dict[str, dict[int, int]] = {}
    branches: dict[str, dict[int, tuple[int, int]]] = {}
    for cls in root.iter("class"):
        name = cls.get("filename") or ""
        path = _cobertura_path(name, sources, mapper)
        file_lines = lines.setdefault(path, {})
        file_branches = branches.setdefault(path, {})
        for line in cls.findall("lines/line"):
            number = _int(line.get("number"))
            if number is None:
                continue
            hits = _int(line.get("hits")) or 0
            file_lines[number] = max(hits, file_lines.get(number, 0))
            match = _CONDITION.search(line.get("condition-coverage") or "")
            if line.get("branch") == "true" and match:
                covered, total = int(match.group(1)), int(match.group(2))
                previous = file_branches.get(number, (0, 0))
                file_branches[number] = (max(covered, previous[0]), max(total, previous[1]))
    files = {path: _line_counts(lines[path], branches[path].values(), bool(branches[path])) for path in lines}
    totals = Counts()
    for counts in files.values():
        totals.add(counts)
    covered, valid = _int(root.get("lines-covered")), _int(root.get("lines-valid"))
    if covered is not None and valid is not None:
        totals.lines_covered, totals.lines_valid = covered, valid
    b_covered, b_valid = _int(root.get("branches-covered")), _int(root.get("branches-valid"))
    if b_covered is not None and b_valid is not None:
        totals.branches_covered, totals.branches_valid = (b_covered, b_valid) if b_valid else (None, None)
    return ParsedReport("cobertura", totals, files)


def _cobertura_path(filename: str, sources: list[str], mapper: PathMapper) -> str:
    for source in sources:
        found = mapper.find(f"{source.rstrip('/')}/{filename}")
        if found:
            return found
    return mapper.relative(filename)


def _line_counts(hits: dict[int, int], branch_pairs: Any, has_branches: bool) -> Counts:
    counts = Counts(sum(1 for h in hits.values() if h > 0), len(hits))
    if has_branches:
        pairs = list(branch_pairs)
        counts.branches_covered = sum(c for c, _ in pairs)
        counts.branches_valid = sum(t for _, t in pairs)
    return counts


# -- LCOV ----------------------------------------------------------------------------------------
def read_lcov(text: str, path: str, mapper: PathMapper) -> ParsedReport:
    lines: dict[str, dict[int, int]] = {}
    branches: dict[str, dict[tuple[str, ...], int]] = {}
    summary: dict[str, list[int]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        record, _, value = raw.strip().partition(":")
        if record == "SF":
            current = mapper.relative(value)
            lines.setdefault(current, {})
            branches.setdefault(current, {})
            summary.setdefault(current, [0, 0, 0, 0])
        elif record == "end_of_record":
            current = None
        elif current is not None and record in ("DA", "BRDA", "LF", "LH", "BRF", "BRH"):
            _lcov_record(record, value, current, lines, branches, summary, path, number)
    if not lines:
        raise EvidenceError(path, "not an LCOV report: no `SF:` source file record")
    files = {}
    for name, hits in lines.items():
        counts = _line_counts(hits, (), False) if hits else Counts(summary[name][1], summary[name][0])
        if branches[name]:
            counts.branches_covered = sum(1 for taken in branches[name].values() if taken > 0)
            counts.branches_valid = len(branches[name])
        elif summary[name][2]:
            counts.branches_covered, counts.branches_valid = summary[name][3], summary[name][2]
        files[name] = counts
    totals = Counts()
    for counts in files.values():
        totals.add(counts)
    return ParsedReport("lcov", totals, files)


def _lcov_record(record: str, value: str, current: str, lines: dict[str, dict[int, int]],
                 branches: dict[str, dict[tuple[str, ...], int]], summary: dict[str, list[int]],
                 path: str, number: int) -> None:
    fields = value.split(",")
    try:
        if record == "DA":
            line, hits = int(fields[0]), int(float(fields[1]))
            lines[current][line] = max(hits, lines[current].get(line, 0))
        elif record == "BRDA":
            key = tuple(fields[:3])
            taken = 0 if fields[3].strip() == "-" else int(float(fields[3]))
            branches[current][key] = max(taken, branches[current].get(key, 0))
        else:
            summary[current][("LF", "LH", "BRF", "BRH").index(record)] += int(fields[0])
    except (ValueError, IndexError):
        raise EvidenceError(path, f"malformed LCOV record `{record}:{value[:60]}`", number) from None


# -- JaCoCo --------------------------------------------------------------------------------------
def read_jacoco(root: Any, mapper: PathMapper) -> ParsedReport:
    files: dict[str, Counts] = {}
    for package in root.iter("package"):
        prefix = (package.get("name") or "").strip("/")
        for source in package.findall("sourcefile"):
            name = f"{prefix}/{source.get('name')}" if prefix else str(source.get("name"))
            counts = _jacoco_counts(source)
            path = mapper.relative(name)
            if path in files:
                files[path].add(counts)
            else:
                files[path] = counts
    totals = _jacoco_counts(root)
    return ParsedReport("jacoco", totals, files)


def _jacoco_counts(element: Any) -> Counts:
    counters = {c.get("type"): c for c in element.findall("counter")}
    counts = Counts()
    if "LINE" in counters:
        covered = _int(counters["LINE"].get("covered")) or 0
        counts.lines_covered, counts.lines_valid = covered, covered + (_int(counters["LINE"].get("missed")) or 0)
    if "BRANCH" in counters:
        covered = _int(counters["BRANCH"].get("covered")) or 0
        counts.branches_covered = covered
        counts.branches_valid = covered + (_int(counters["BRANCH"].get("missed")) or 0)
    return counts


# -- Clover --------------------------------------------------------------------------------------
def read_clover(root: Any, path: str, mapper: PathMapper) -> ParsedReport:
    project = root.find("project")
    if project is None:
        project = root.find("testproject")
    if project is None:
        raise EvidenceError(path, "Clover report without a <project>")
    files: dict[str, Counts] = {}
    for element in project.iter("file"):
        name = element.get("path") or element.get("name") or ""
        counts = _clover_counts(element.find("metrics"))
        relative = mapper.relative(name)
        if relative in files:
            files[relative].add(counts)
        else:
            files[relative] = counts
    return ParsedReport("clover", _clover_counts(project.find("metrics")), files)


def _clover_counts(metrics: Any) -> Counts:
    if metrics is None:
        return Counts()
    counts = Counts(_int(metrics.get("coveredstatements")) or 0, _int(metrics.get("statements")) or 0)
    conditionals = _int(metrics.get("conditionals"))
    if conditionals:
        counts.branches_covered, counts.branches_valid = _int(metrics.get("coveredconditionals")) or 0, conditionals
    return counts

