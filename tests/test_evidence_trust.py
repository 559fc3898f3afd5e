"""Where evidence may come from (issue 11, item 5): reports named on the command line are read wherever they are
(CI writes them to $RUNNER_TEMP); paths from the repository's own `.devops-audit.yml` stay inside it; and every
message that tells the user to pass `--evidence` works when run as written."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, copy_fixture, scan_dict, verdicts, write

SAMPLES = {  # kind -> (a report of that kind from the fixtures, the indicator it informs)
    "coverage": (FIXTURES / "coverage" / "python-pass" / "coverage.xml", "CD.TM.02"),
    "junit": (FIXTURES / "coverage" / "python-pass" / "junit.xml", "CD.TM.04"),
    "sarif": (FIXTURES / "scans" / "repo" / "reports" / "semgrep.json", "SR.TC.04"),
    "protection": (FIXTURES / "protection" / "ruleset-strong" / ".github" / "rulesets" / "main.json", "SR.BD.01"),
}


@pytest.fixture
def repo_and_runner_temp(tmp_path):
    """A Python project without reports in it, and the reports CI wrote to a folder outside it."""
    repo = copy_fixture("coverage/python-pass", tmp_path)
    (repo / "coverage.xml").unlink()
    (repo / "junit.xml").unlink()
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    for kind, (sample, _) in SAMPLES.items():
        shutil.copy(sample, runner_temp / f"{kind}-{sample.name}")
    return repo, runner_temp


def cli(*args: str, cwd: Path | None = None) -> dict:
    run = subprocess.run([sys.executable, "-m", "devops_audit", "scan", *args, "--offline", "--format", "json"],
                         capture_output=True, text=True, cwd=cwd)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def test_a_report_named_on_the_command_line_is_read_outside_the_repository(repo_and_runner_temp):
    repo, runner_temp = repo_and_runner_temp
    report_path = runner_temp / "coverage-coverage.xml"
    report = cli(str(repo), "--evidence", f"coverage={report_path}")
    tm02 = verdicts(report)["CD.TM.02"]
    assert tm02["status"] == "pass"
    assert str(report_path) in tm02["message"]
    assert {"path": str(report_path), "status": "parsed"}.items() <= next(
        e for e in report["inventory"] if e["path"] == str(report_path)).items()


def test_a_relative_command_line_path_is_relative_to_where_the_tool_runs(repo_and_runner_temp):
    repo, runner_temp = repo_and_runner_temp
    report = cli(str(repo), "--evidence", "junit=junit-junit.xml", cwd=runner_temp)
    assert verdicts(report)["CD.TM.04"]["status"] in ("pass", "fail")
    assert verdicts(report)["CD.TM.04"]["status"] != "unknown"


def test_a_relative_path_inside_the_repository_still_means_the_repository_file(repo_and_runner_temp, tmp_path):
    repo, runner_temp = repo_and_runner_temp
    shutil.copy(runner_temp / "coverage-coverage.xml", repo / "coverage.xml")
    report = cli(str(repo), "--evidence", "coverage=coverage.xml", cwd=tmp_path)
    assert verdicts(report)["CD.TM.02"]["status"] == "pass"
    assert any(e["path"] == "coverage.xml" and e["status"] == "parsed" for e in report["inventory"])


def test_paths_from_the_repository_config_stay_confined_to_the_repository(repo_and_runner_temp):
    repo, runner_temp = repo_and_runner_temp
    outside = runner_temp / "coverage-coverage.xml"
    write(repo, {".devops-audit.yml": f"evidence:\n  coverage: ['{outside}', '../runner-temp/coverage-coverage.xml']\n"})
    report = scan_dict(repo, offline=True)
    assert verdicts(report)["CD.TM.02"]["status"] == "unknown"
    refused = {e["path"]: e["reason"] for e in report["inventory"] if e["kind"] == "coverage-report"}
    assert refused == {str(outside): "outside the repository; refused",
                       "../runner-temp/coverage-coverage.xml": "outside the repository; refused"}


def test_a_symlink_in_the_repository_to_a_named_report_is_still_refused(repo_and_runner_temp):
    repo, runner_temp = repo_and_runner_temp
    (repo / "coverage.xml").symlink_to(runner_temp / "coverage-coverage.xml")
    report = scan_dict(repo, offline=True)
    (entry,) = [e for e in report["inventory"] if e["path"] == "coverage.xml"]
    assert entry["status"] == "error" and "outside the repository" in entry["reason"]


SUGGESTION = re.compile(r"--evidence (?P<kind>[a-z]+)=(?P<path>[A-Za-z_.\-/]+)")


def test_every_message_suggesting_evidence_works_as_written(repo_and_runner_temp):
    repo, runner_temp = repo_and_runner_temp
    before = scan_dict(repo, offline=True)
    texts = [v["message"] + " " + v["remediation"] for v in before["indicators"]]
    suggested = {m["kind"] for text in texts for m in SUGGESTION.finditer(text)}
    assert suggested == set(SAMPLES), "a message suggests an --evidence kind this test cannot check"
    for kind in sorted(suggested):
        sample, indicator_id = SAMPLES[kind]
        path = runner_temp / f"{kind}-{sample.name}"
        after = cli(str(repo), "--evidence", f"{kind}={path}")
        (entry,) = [e for e in after["inventory"] if e["path"] == str(path)]
        assert entry["status"] == "parsed", (kind, entry)
        assert verdicts(before)[indicator_id]["status"] == "unknown"
        assert verdicts(after)[indicator_id]["status"] in ("pass", "fail"), (kind, verdicts(after)[indicator_id])
