"""The `tests` collector (JUnit XML) and CD.TM.04."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import FIXTURES

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.testing.junit import collect
from devops_audit.facts import to_data
from devops_audit.workspace import Workspace

JUNIT = FIXTURES / "junit"


def scan_tests(root: Path, **evidence: list[str]):
    return collect(Workspace(root), CollectOptions(evidence_paths=evidence))


def test_surefire_report_counts_a_rerun_pass_as_passed_and_skips_testng_results():
    evidence = scan_tests(JUNIT / "maven-fail")
    facts = evidence.facts

    assert (facts.tests, facts.failures, facts.errors, facts.skipped, facts.passed) == (3, 0, 1, 0, 2)
    assert facts.time == 1021.5  # "1,021.5": Surefire's thousands separator
    assert {(e.path.rsplit("/", 1)[-1], e.status) for e in evidence.inventory} == {
        ("TEST-com.acme.billing.InvoiceTest.xml", "parsed"), ("testng-results.xml", "skipped")}


def test_failing_test_is_located_from_its_stack_trace():
    [failing] = scan_tests(JUNIT / "maven-fail").facts.failing

    assert (failing.name, failing.kind) == ("rejectsNegative", "error")
    assert failing.type == "java.lang.IllegalArgumentException"
    assert (failing.file, failing.line) == ("src/test/java/com/acme/billing/InvoiceTest.java", 15)


def test_test_output_never_reaches_the_facts():
    facts = json.dumps(to_data(scan_tests(JUNIT / "maven-fail").facts))

    assert "s3cr3t" not in facts and "negative" not in facts


def test_pytest_lines_become_one_based_and_a_broken_report_does_not_hide_the_others():
    evidence = scan_tests(JUNIT / "pytest-error")

    assert [(f.name, f.kind, f.file, f.line) for f in evidence.facts.failing] == [
        ("test_health", "error", "tests/test_api.py", 9),  # `def test_health(client):`
        ("test_version", "failure", "tests/test_api.py", 13),
    ]
    [error] = evidence.errors
    assert (error.path, error.line) == ("test-results/broken.xml", 4)
    assert evidence.facts.report_count == 1


def test_gotestsum_report_with_nested_suites_and_a_skip():
    facts = scan_tests(JUNIT / "go-pass").facts

    assert (facts.tests, facts.skipped, facts.failures, facts.errors) == (3, 1, 0, 0)
    assert facts.reports[0].suites == 2 and facts.reports[0].time == 0.412


def test_suites_without_test_cases_count_by_their_attributes(tmp_path):
    (tmp_path / "junit.xml").write_text(
        '<testsuites><testsuite name="a" tests="7" failures="2" errors="1" skipped="1" time="3"/></testsuites>')

    facts = scan_tests(tmp_path).facts

    assert (facts.tests, facts.failures, facts.errors, facts.skipped, facts.passed) == (7, 2, 1, 1, 3)
    assert facts.failing == [] and facts.failing_count == 0


def test_failing_tests_are_capped_at_twenty_but_all_are_counted(tmp_path):
    cases = "".join(f'<testcase classname="t" name="case{i}"><failure type="E"/></testcase>' for i in range(25))
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "nightly.xml").write_text(f'<testsuite name="t">{cases}</testsuite>')

    facts = scan_tests(tmp_path, junit=["reports/nightly.xml"]).facts

    assert facts.failures == 25 and facts.failing_count == 25
    assert [f.name for f in facts.failing] == [f"case{i}" for i in range(20)]


def test_no_report_is_absent_evidence_with_the_paths_tried(tmp_path):
    evidence = scan_tests(tmp_path)

    assert not evidence.present
    assert "target/surefire-reports/*.xml" in evidence.hint and "--evidence junit=PATH" in evidence.hint


# -- CD.TM.04, end to end -----------------------------------------------------------------------
def verdict(root: Path) -> tuple[str, str, list[tuple[str, int]]]:
    from devops_audit.scan import run_scan

    [found] = [v for v in run_scan(root).verdicts if v.indicator.id == "CD.TM.04"]
    return found.status, found.message, [(v.path, v.line) for v in found.violations]


def test_tests_pass_indicator_passes_on_green_reports():
    status, message, _ = verdict(JUNIT / "go-pass")

    assert status == "pass" and "3 tests, 0 failures, 0 errors" in message


def test_tests_pass_indicator_fails_pointing_at_each_failing_test():
    status, message, violations = verdict(JUNIT / "pytest-error")

    assert status == "fail" and "2 tests, 1 failures, 1 errors" in message
    assert violations == [("tests/test_api.py", 9), ("tests/test_api.py", 13)]
    assert "test-results/broken.xml" in message  # the unreadable report is named too


def test_tests_pass_indicator_fails_when_the_reports_hold_no_test(tmp_path):
    (tmp_path / "junit.xml").write_text('<testsuite name="empty" tests="0"/>')

    status, _, violations = verdict(tmp_path)

    assert status == "fail" and violations == [("junit.xml", 1)]


def test_tests_pass_indicator_is_unknown_without_reports(tmp_path):
    (tmp_path / "app.py").write_text("print('hi')\n")

    status, message, _ = verdict(tmp_path)

    assert status == "unknown" and "junit.xml" in message


def test_tests_pass_indicator_is_unknown_when_the_only_report_is_unreadable(tmp_path):
    (tmp_path / "junit.xml").write_text("<testsuite><testcase>")

    status, _, _ = verdict(tmp_path)

    assert status == "unknown"
