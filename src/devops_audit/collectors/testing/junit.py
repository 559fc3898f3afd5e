"""The `tests` namespace: JUnit XML test reports (T).

Understood: `<testsuites>` and bare `<testsuite>` roots, nested suites, as written by pytest
(`--junitxml`), Maven Surefire/Failsafe (`TEST-*.xml`), Gradle, Jest (jest-junit), Go (gotestsum,
go-junit-report) and most other runners. Each `<testcase>` counts once: `<failure>` is a failure, `<error>`
an error, `<skipped>` skipped (Surefire's `<flakyFailure>` / `<rerunFailure>` of a test that passed on rerun
is a pass). A suite without test cases counts by its `tests`/`failures`/`errors`/`skipped` attributes.

Reports are found on disk at `DEFAULT_REPORTS` and at the user's globs (`evidence: {junit: [...]}`,
`--evidence junit=PATH`). An XML file whose root is not a test suite is `skipped`; a malformed one is an
inventory `error`, and the other reports still count.

Facts (`TestFacts`): totals, each report, and the first `MAX_FAILING` failing tests with their file and
line when the report gives them (the `file`/`line` attributes; pytest's 0-based line is made 1-based) or a
`path:line` in the failure text names a repository file. Failure messages are not kept: test output can
hold secrets.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from devops_audit.collectors import unexpected_content
from devops_audit.collectors.testing.coverage_paths import MAX_REPORT_BYTES, PathMapper, default_reports, evidence_globs
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence, InventoryEntry, Location
from devops_audit.workspace import Workspace

__all__ = ["NAME", "DEFAULT_REPORTS", "MAX_FAILING", "TestFacts", "TestReport", "FailingTest", "collect"]

NAME = "tests"
DEFAULT_REPORTS = (
    "junit.xml", "report.xml", "test-results.xml", "junit-report.xml", "TEST-*.xml", "junit/*.xml",
    "test-results/**/*.xml", "test-reports/**/*.xml", "reports/junit*.xml", "reports/tests/**/*.xml",
    "target/surefire-reports/*.xml", "target/failsafe-reports/*.xml",
    "*/target/surefire-reports/*.xml", "*/target/failsafe-reports/*.xml",
    "build/test-results/**/*.xml", "*/build/test-results/**/*.xml",
)
MAX_FAILING = 20
HINT = ("no JUnit XML test report found (looked for {tried}); write one (`pytest --junitxml=junit.xml`, "
        "Maven Surefire, jest-junit, `gotestsum --junitfile junit.xml`) or pass `--evidence junit=PATH`")
_SOURCE_LINE = r"([\w./\\-]+\.[A-Za-z]{1,5}):(\d+)"  # compiled by `re` when a failure is first read


@dataclass
class FailingTest:
    """A test that failed (`kind` failure) or broke (`kind` error); `type` is the exception type, if given."""

    name: str
    classname: str
    kind: str
    type: str
    report: str
    file: str | None
    line: int | None
    location: Location


@dataclass
class TestReport:
    """The totals of one JUnit XML report."""

    path: str
    suites: int
    tests: int
    failures: int
    errors: int
    skipped: int
    time: float
    location: Location


@dataclass
class TestFacts:
    """Test results over every JUnit report read."""

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    passed: int = 0
    time: float = 0.0
    report_count: int = 0
    reports: list[TestReport] = field(default_factory=list)
    failing: list[FailingTest] = field(default_factory=list)
    failing_count: int = 0
    tried: list[str] = field(default_factory=list)


class _NotJUnit(Exception):
    """An XML file that is not a test report (e.g. testng-results.xml beside Surefire's reports)."""


def collect(workspace: Workspace, options: Any) -> Evidence:
    inventory: list[InventoryEntry] = []
    paths = getattr(options, "evidence_paths", {})
    usable, refused = evidence_globs(workspace, list(paths.get("junit", [])) + list(paths.get(NAME, [])))
    inventory.extend(InventoryEntry(p, "junit", "error", "outside the repository; refused") for p in refused)
    candidates: dict[str, None] = {}
    for pattern in usable:
        hits = workspace.on_disk(pattern)
        if not hits:
            inventory.append(InventoryEntry(pattern, "junit", "error", "no file matches this evidence path"))
        candidates.update(dict.fromkeys(hits))
    candidates.update(dict.fromkeys(default_reports(workspace, DEFAULT_REPORTS)))
    facts = TestFacts(tried=list(dict.fromkeys(usable + list(DEFAULT_REPORTS))))
    mapper = PathMapper(workspace)
    for path in candidates:
        _read(workspace, path, mapper, facts, inventory)
    facts.passed = facts.tests - facts.failures - facts.errors - facts.skipped
    for entry in inventory:
        entry.evidence = NAME
    return Evidence(NAME, present=bool(facts.reports) or any(e.status == "error" for e in inventory),
                    facts=facts, inventory=inventory, hint=HINT.format(tried=", ".join(facts.tried)))


def _read(workspace: Workspace, path: str, mapper: PathMapper, facts: TestFacts,
          inventory: list[InventoryEntry]) -> None:
    try:
        report, failing = read_junit(workspace, path, mapper)
    except _NotJUnit as exc:
        inventory.append(InventoryEntry(path, "junit", "skipped", str(exc)))
        return
    except EvidenceError as exc:
        inventory.append(InventoryEntry(exc.path, "junit", "error", exc.reason, exc.line))
        return
    except Exception as exc:  # an unexpected shape in one report loses only that report
        inventory.append(unexpected_content(path, "junit", exc))
        return
    inventory.append(InventoryEntry(path, "junit", "parsed"))
    facts.reports.append(report)
    facts.report_count += 1
    facts.tests += report.tests
    facts.failures += report.failures
    facts.errors += report.errors
    facts.skipped += report.skipped
    facts.time = round(facts.time + report.time, 3)
    facts.failing_count += len(failing)
    facts.failing.extend(failing[:MAX_FAILING - len(facts.failing)])


def read_junit(workspace: Workspace, path: str, mapper: PathMapper) -> tuple[TestReport, list[FailingTest]]:
    root = workspace.parse_xml(path, MAX_REPORT_BYTES)
    tag = _local(root.tag)
    if tag not in ("testsuites", "testsuite"):
        raise _NotJUnit(f"not a JUnit report (root element <{tag}>)")
    report = TestReport(path, 0, 0, 0, 0, 0, 0.0, Location(path, 1))
    failing: list[FailingTest] = []
    suite_time = 0.0
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        if not cases and suite.find("testsuite") is not None:
            continue  # a grouping suite: its children count
        report.suites += 1
        suite_time += _number(suite.get("time"))
        if cases:
            pytest_lines = suite.get("name") == "pytest"
            for case in cases:
                _count_case(case, report, failing, path, mapper, pytest_lines)
        else:
            _count_attributes(suite, report)
    report.time = round(_number(root.get("time")) if root.get("time") else suite_time, 3)
    return report, failing


def _count_case(case: Any, report: TestReport, failing: list[FailingTest], path: str, mapper: PathMapper,
                pytest_lines: bool) -> None:
    report.tests += 1
    for kind in ("failure", "error"):
        problem = case.find(kind)
        if problem is not None:
            setattr(report, kind + "s", getattr(report, kind + "s") + 1)
            failing.append(_failing(case, problem, kind, path, mapper, pytest_lines))
            return
    if case.find("skipped") is not None:
        report.skipped += 1


def _count_attributes(suite: Any, report: TestReport) -> None:
    report.tests += int(_number(suite.get("tests")))
    report.failures += int(_number(suite.get("failures")))
    report.errors += int(_number(suite.get("errors")))
    report.skipped += int(_number(suite.get("skipped") or suite.get("disabled")))


def _failing(case: Any, problem: Any, kind: str, path: str, mapper: PathMapper, pytest_lines: bool) -> FailingTest:
    classname = case.get("classname") or ""
    file, line = _source(case, problem, classname, mapper, pytest_lines)
    return FailingTest(
        name=(case.get("name") or "")[:200], classname=classname[:200], kind=kind,
        type=(problem.get("type") or "")[:100], report=path, file=file, line=line,
        location=Location(file, line or 1) if file and mapper.find(file) else Location(path, 1),
    )


def _source(case: Any, problem: Any, classname: str, mapper: PathMapper,
            pytest_lines: bool) -> tuple[str | None, int | None]:
    """File and 1-based line: from attributes, else the first `path:line` in the text naming a repository file."""
    if case.get("file"):
        line = _number(case.get("line")) if case.get("line") else None
        file = mapper.relative(case.get("file"))
        return file, (int(line) + (1 if pytest_lines else 0)) if line is not None else None
    text = (problem.text or "")[:4000]
    for match in re.finditer(_SOURCE_LINE, text):
        name = match.group(1)
        found = mapper.find(name)
        if found is None and "/" not in name and classname:
            found = mapper.find(classname.replace(".", "/") + "/" + name) or mapper.find(classname + "/" + name)
        if found:
            return found, int(match.group(2))
    return None, None


def _number(value: str | None) -> float:
    try:
        number = float((value or "0").replace(",", ""))
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]
