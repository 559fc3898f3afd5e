"""GitLab Code Quality and SAST reports match their schemas; the gate's exit code ignores --format."""

from __future__ import annotations

import re
import uuid

import jsonschema
import pytest
from gate_support import as_json, gate_repo, scan

from devops_audit.cli import main
from devops_audit.reporters import FORMATS
from devops_audit.resources import load_schema


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return scan(gate_repo(tmp_path_factory.mktemp("gitlab")))


def test_code_quality_issues_are_valid_unique_and_located(result):
    issues = as_json(result, "gitlab-codequality")
    jsonschema.validate(issues, load_schema("gitlab-codequality"))
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    pinned = [i for i in issues if i["check_name"] == "SR.BD.03"]
    assert [i["location"] for i in pinned] == [
        {"path": ".github/workflows/ci.yml", "lines": {"begin": line}} for line in (12, 13, 24)]
    assert {i["severity"] for i in pinned} == {"critical"}  # high -> critical
    timeout = next(i for i in issues if i["check_name"] == "CD.CI.04")
    assert timeout["severity"] == "minor"  # low -> minor


def test_sast_report_follows_schema_15(result):
    report = as_json(result, "gitlab-sast")
    jsonschema.validate(report, load_schema("gitlab-sast"))
    assert report["version"].startswith("15.")
    assert report["scan"]["type"] == "sast" and report["scan"]["status"] == "success"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", report["scan"]["start_time"])
    vulns = report["vulnerabilities"]
    assert len({v["id"] for v in vulns}) == len(vulns)
    assert all(uuid.UUID(v["id"]).version == 5 for v in vulns)
    critical = [v for v in vulns if v["identifiers"][0]["value"] == "SR.BD.03"]
    assert {v["severity"] for v in critical} == {"High"}
    assert critical[0]["location"] == {"file": ".github/workflows/ci.yml", "start_line": 12, "end_line": 12}


def test_schemas_reject_what_gitlab_rejects(result):
    issues = as_json(result, "gitlab-codequality")
    issues[0]["severity"] = "high"  # not a Code Quality severity
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(issues, load_schema("gitlab-codequality"))
    report = as_json(result, "gitlab-sast")
    report["version"] = "14.1.2"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, load_schema("gitlab-sast"))


@pytest.mark.parametrize("fail_on, expected", [([], 0), (["critical"], 0), (["high"], 1), (["CD.CI.04"], 1)])
def test_exit_code_is_the_same_whatever_the_formats(tmp_path, fail_on, expected):
    repo = gate_repo(tmp_path)
    flags = [arg for f in fail_on for arg in ("--fail-on", f)]
    codes = set()
    for formats in (["terminal"], ["json"], list(FORMATS)):
        outputs = [arg for f in formats for arg in ("-f", f"{f}={tmp_path / ('out.' + f)}")]
        codes.add(main(["scan", str(repo), "--target", "cd=1,sr=1", *flags, *outputs]))
    assert codes == {expected}
