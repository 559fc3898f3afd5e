"""The `coverage` collector: report formats, the `.coverage` data file, thresholds, and CD.TM.02 / CD.TM.03."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.testing.coverage import collect
from devops_audit.facts import to_data
from devops_audit.workspace import Workspace

COVERAGE = FIXTURES / "coverage"

MODULE = '''\
DEBUG = False


def classify(n):
    if n < 0:
        return "negative"
    if n == 0:
        return "zero"
    return "positive"


def unused(x):
    total = 0
    for i in range(x):
        total += i
    return total


def debug_dump(value):
    if DEBUG:
        print(value)
'''


def scan_coverage(root: Path, *paths: str) -> tuple[dict, list]:
    evidence = collect(Workspace(root), CollectOptions(evidence_paths={"coverage": list(paths)} if paths else {}))
    return to_data(evidence.facts), evidence.inventory


def coverage_cli(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV")}
    return subprocess.run([sys.executable, "-m", "coverage", *args], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True).stdout


def measured_project(tmp_path: Path, *, branch: bool, config: str = "") -> Path:
    """A tiny package measured by a real coverage.py run, with `coverage xml` written beside `.coverage`."""
    project = tmp_path / "project"
    (project / "src" / "calc").mkdir(parents=True)
    (project / "src" / "calc" / "__init__.py").write_text("")
    (project / "src" / "calc" / "core.py").write_text(MODULE)
    (project / "run.py").write_text("import sys\nsys.path.insert(0, 'src')\nfrom calc.core import classify\n"
                                    "classify(5)\nclassify(-1)\n")
    if config:
        (project / "pyproject.toml").write_text(config)
    coverage_cli(project, "run", *(["--branch"] if branch else []), "--source=src", "run.py")
    coverage_cli(project, "xml", "-o", "coverage.xml")
    return project


def test_cobertura_and_data_file_match_coverage_report_to_a_tenth_of_a_point(tmp_path):
    project = measured_project(tmp_path, branch=False)
    printed = float(coverage_cli(project, "report", "--format=total", "--precision=3"))

    from_xml, _ = scan_coverage(project)
    from_data, inventory = scan_coverage(project, ".coverage")

    assert from_xml["reports"][0]["format"] == "cobertura"
    assert from_xml["line_rate"] * 100 == pytest.approx(printed, abs=0.1)
    data_report = next(r for r in from_data["reports"] if r["format"] == "coverage.py-data")
    assert data_report["line_rate"] * 100 == pytest.approx(printed, abs=0.1)
    assert {f["path"] for f in from_data["files"]} == {"src/calc/__init__.py", "src/calc/core.py"}
    assert from_xml["branch_rate"] is None
    assert all(e.status == "parsed" for e in inventory)


def test_branch_data_and_the_repositorys_exclusions_match_coverage_json(tmp_path):
    config = '[tool.coverage.report]\nexclude_also = ["if DEBUG:"]\n'
    project = measured_project(tmp_path, branch=True, config=config)
    coverage_cli(project, "json", "-o", "expected.json")
    totals = json.loads((project / "expected.json").read_text())["totals"]
    (project / "coverage.xml").unlink()

    facts, _ = scan_coverage(project)

    assert facts["reports"][0]["format"] == "coverage.py-data"
    assert facts["lines_valid"] == totals["num_statements"]
    assert facts["lines_covered"] == totals["covered_lines"]
    assert facts["branches_valid"] == totals["num_branches"]
    assert facts["branch_rate"] == pytest.approx(totals["covered_branches"] / totals["num_branches"], abs=0.001)


def test_data_file_without_its_sources_is_an_inventory_error(tmp_path):
    project = measured_project(tmp_path, branch=False)
    (project / "coverage.xml").unlink()
    shutil.rmtree(project / "src")

    facts, inventory = scan_coverage(project)

    assert facts["line_rate"] is None and facts["reports"] == []
    [error] = [e for e in inventory if e.status == "error"]
    assert error.path == ".coverage"
    assert "2 of 2 measured source files are missing" in error.reason


def test_data_file_is_skipped_when_an_xml_report_gives_the_numbers(tmp_path):
    project = measured_project(tmp_path, branch=False)

    facts, inventory = scan_coverage(project)

    assert [r["path"] for r in facts["reports"]] == ["coverage.xml"]
    assert [(e.path, e.status) for e in inventory if e.path == ".coverage"] == [(".coverage", "skipped")]


def test_ci_report_paths_are_mapped_to_repository_files():
    facts, _ = scan_coverage(COVERAGE / "python-pass")

    assert facts["line_rate"] == 0.9 and facts["branch_rate"] == 0.75
    assert facts["file_count"] == 2
    assert facts["files"][0] == {"path": "src/shop/cart.py", "line_rate": 0.9, "branch_rate": 0.75,
                                 "lines_covered": 9, "lines_valid": 10, "report": "coverage.xml"}


def test_lcov_and_clover_of_the_same_run_count_each_file_once():
    facts, _ = scan_coverage(COVERAGE / "js-fail")

    assert [(r["path"], r["format"], r["line_rate"]) for r in facts["reports"]] == [
        ("coverage/lcov.info", "lcov", 0.6), ("coverage/clover.xml", "clover", 0.6)]
    assert (facts["lines_covered"], facts["lines_valid"]) == (6, 10)
    assert facts["branch_rate"] == 0.5
    assert [f["path"] for f in facts["files"]] == ["src/round.js", "src/format.js"]  # least covered first


@pytest.mark.parametrize(("report", "kind", "line_rate", "branch_rate", "first_file"), [
    ("jacoco.xml", "jacoco", 0.833333, 0.5, "com/acme/billing/Invoice.java"),
    ("gcovr-cobertura.xml", "cobertura", 0.75, 0.5, "src/area.cpp"),
    ("phpunit-clover.xml", "clover", 0.75, None, "/var/www/app/src/Mailer.php"),
])
def test_report_formats(report, kind, line_rate, branch_rate, first_file):
    facts, _ = scan_coverage(COVERAGE / "reports", report)

    [read] = facts["reports"]
    assert (read["format"], read["line_rate"], read["branch_rate"]) == (kind, line_rate, branch_rate)
    assert facts["files"][0]["path"] == first_file


def test_bad_reports_are_inventory_errors_and_the_others_still_count():
    facts, inventory = scan_coverage(COVERAGE / "reports", "truncated.xml", "not-coverage.xml", "jacoco.xml")

    errors = {e.path: (e.reason, e.line) for e in inventory if e.status == "error"}
    assert errors["truncated.xml"] == ("invalid XML: mismatched tag: line 5, column 4", 5)
    assert "root element <checkstyle>" in errors["not-coverage.xml"][0]
    assert facts["line_rate"] == 0.833333


def test_evidence_paths_outside_the_repository_or_matching_nothing_are_reported(tmp_path):
    facts, inventory = scan_coverage(COVERAGE / "reports", "/etc/passwd", "missing/*.xml")

    assert facts["reports"] == []
    assert {(e.path, e.reason) for e in inventory} == {
        ("/etc/passwd", "outside the repository; refused"),
        ("missing/*.xml", "no file matches this evidence path"),
    }
    assert facts["tried"][0] == "missing/*.xml"


def test_a_report_symlinked_outside_the_repository_is_refused(tmp_path):
    outside = tmp_path / "secret.xml"
    outside.write_text('<coverage line-rate="1" lines-covered="1" lines-valid="1"><packages/></coverage>')
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "coverage.xml").symlink_to(outside)

    facts, inventory = scan_coverage(repo)

    assert facts["line_rate"] is None
    assert "resolves outside the repository" in inventory[0].reason


def test_entity_expansion_is_refused(tmp_path):
    (tmp_path / "coverage.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<coverage line-rate="1"><packages>&b;</packages></coverage>')

    facts, inventory = scan_coverage(tmp_path)

    assert facts["line_rate"] is None
    assert inventory[0].reason.startswith("unsafe XML refused")


def thresholds(root: Path) -> list[tuple]:
    facts, _ = scan_coverage(root)
    return [(t["source"], t["metric"], t["value"], t["enforced"], t["location"]["path"], t["location"]["line"])
            for t in facts["thresholds"]]


def test_thresholds_of_every_tool_with_their_lines():
    assert thresholds(COVERAGE / "thresholds") == [
        ("coverage.py", "total", 72.5, True, "setup.cfg", 8),
        ("coverage.py", "total", 85.0, True, ".gitlab-ci.yml", 4),
        ("gcovr", "line", 80.0, True, "Makefile", 2),
        ("gcovr", "branch", 60.0, True, "Makefile", 2),
        ("jacoco", "line", 75.0, True, "service/build.gradle.kts", 11),
        ("pytest-cov", "total", 70.0, True, "tox.ini", 7),
        ("jest", "statement", 90.0, True, "web/jest.config.js", 5),
        ("jest", "function", None, True, "web/jest.config.js", 6),
        ("vitest", "line", 80.0, True, "web/vitest.config.ts", 8),
        ("vitest", "branch", 70.0, True, "web/vitest.config.ts", 9),
        ("codecov", "project", 90.0, False, ".github/codecov.yml", 6),
        ("codecov", "project", 85.0, True, ".github/codecov.yml", 9),
        ("codecov", "patch", None, True, ".github/codecov.yml", 12),
    ]


def test_pylint_fail_under_and_commented_out_commands_are_not_coverage_thresholds():
    assert thresholds(COVERAGE / "python-pass") == [
        ("coverage.py", "total", 80.0, True, "pyproject.toml", 17),
        ("pytest-cov", "total", 85.0, True, ".github/workflows/ci.yml", 10),
    ]


def test_jacoco_rules_in_a_pom_without_any_report():
    evidence = collect(Workspace(COVERAGE / "java-threshold-only"), CollectOptions())

    assert evidence.present and evidence.facts.line_rate is None
    assert [(t.metric, t.value, t.raw, t.location.line) for t in evidence.facts.thresholds] == [
        ("line", 80.0, "0.80", 36), ("branch", 70.0, "70%", 41)]


def test_real_repositories_thresholds(corpus_dir):
    os2mo = thresholds(corpus_dir / "os2mo" / "repo")
    assert ("pytest-cov", "total", 60.0, True, ".gitlab/ci/test.gitlab-ci.yml", 57) in os2mo
    assert ("coverage.py", "total", 85.0, True, ".gitlab/ci/test.gitlab-ci.yml", 106) in os2mo
    assert thresholds(corpus_dir / "sphinx-gallery" / "repo") == [  # both targets are `informational: true`
        ("codecov", "project", 90.0, False, "codecov.yml", 22), ("codecov", "patch", 95.0, False, "codecov.yml", 14)]
    assert thresholds(corpus_dir / "cibuildwheel" / "repo") == []  # its `fail-under` is pylint's


# -- indicators, end to end ---------------------------------------------------------------------
def verdicts(root: Path, **evidence: list[str]) -> dict[str, tuple[str, str]]:
    from devops_audit.scan import ScanOptions, run_scan

    result = run_scan(root, ScanOptions(evidence=evidence))
    return {v.indicator.id: (v.status, v.message) for v in result.verdicts}


def test_line_coverage_indicator_passes_fails_and_is_unknown_naming_the_paths_tried():
    status, message = verdicts(COVERAGE / "python-pass")["CD.TM.02"]
    assert status == "pass" and "line coverage 90.0% (9/10 lines" in message

    status, message = verdicts(COVERAGE / "js-fail")["CD.TM.02"]
    assert status == "fail" and "line coverage 60.0%" in message and "threshold 75.0%" in message

    status, message = verdicts(COVERAGE / "java-threshold-only")["CD.TM.02"]
    assert status == "unknown" and "target/site/jacoco/jacoco.xml" in message


def test_line_coverage_indicator_is_unknown_without_any_coverage_evidence(tmp_path):
    (tmp_path / "main.py").write_text("print('hi')\n")

    status, message = verdicts(tmp_path)["CD.TM.02"]

    assert status == "unknown" and "coverage/lcov.info" in message


def test_threshold_indicator():
    status, message = verdicts(COVERAGE / "java-threshold-only")["CD.TM.03"]
    assert status == "pass" and "jacoco 0.80 at pom.xml:36" in message

    assert verdicts(COVERAGE / "js-fail")["CD.TM.03"][0] == "fail"


def test_only_an_informational_codecov_target_is_not_an_enforced_threshold(tmp_path):
    (tmp_path / "codecov.yml").write_text(
        "coverage:\n  status:\n    project:\n      default:\n        target: 80%\n        informational: true\n")

    status, message = verdicts(tmp_path)["CD.TM.03"]

    assert status == "fail" and "codecov 80% (informational) at codecov.yml:5" in message
