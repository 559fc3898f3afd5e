"""SARIF 2.1.0 for GitHub code scanning: valid, one rule per indicator, located results, GitHub's rules."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from gate_support import as_json, gate_repo, scan

from devops_audit.cli import main
from devops_audit.reporters.sarif import SECURITY_SEVERITY

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests/schemas/sarif-2.1.0.json").read_text())
MULTITOOL = ROOT / ".ci/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return scan(gate_repo(tmp_path_factory.mktemp("sarif")))


def test_valid_against_the_official_schema(result):
    sarif = as_json(result, "sarif", sarif_include_pass=True, sarif_category="devops-audit")
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA).validate(sarif)
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1


def test_one_rule_per_indicator_with_github_metadata(result):
    rules = as_json(result, "sarif")["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [v.indicator.id for v in result.verdicts]
    bd03 = next(r for r in rules if r["id"] == "SR.BD.03")
    assert bd03["properties"]["security-severity"] == "8.0"  # high, as a string
    assert bd03["defaultConfiguration"]["level"] == "error"
    assert {"SR", "SR.BD", "level-2"} <= set(bd03["properties"]["tags"])
    assert "How to fix" in bd03["help"]["markdown"] and bd03["help"]["text"].strip()
    assert bd03["helpUri"].endswith("#srbd03")
    for rule in rules:  # only security indicators rank among security alerts
        if rule["id"].startswith("SR."):
            assert isinstance(rule["properties"]["security-severity"], str) and "security" in rule["properties"]["tags"]
        else:
            assert "security-severity" not in rule["properties"] and "security" not in rule["properties"]["tags"]
        assert len(rule["fullDescription"]["text"]) <= 1024 and len(rule["shortDescription"]["text"]) <= 1024
    assert SECURITY_SEVERITY == {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.5"}


def test_one_located_result_per_violation(result):
    run = as_json(result, "sarif")["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    pinned = [r for r in run["results"] if r["ruleId"] == "SR.BD.03"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in pinned] == [12, 13, 24]
    assert pinned[0]["message"]["text"].startswith("Third-party CI steps pinned: ")
    for item in run["results"]:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
        artifact = item["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%" and not artifact["uri"].startswith(("/", "../"))
        assert (Path(result.target) / artifact["uri"]).is_file()
        assert item["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
        assert re.fullmatch(r"[0-9a-f]{64}", item["partialFingerprints"]["devopsAudit/v1"])
    failing = {v.indicator.id for v in result.verdicts if v.status == "fail"}
    assert {r["ruleId"] for r in run["results"]} == failing


def test_pass_results_only_on_request(result):
    plain = as_json(result, "sarif")["runs"][0]["results"]
    with_pass = as_json(result, "sarif", sarif_include_pass=True)["runs"][0]["results"]
    passing = {v.indicator.id for v in result.verdicts if v.status == "pass"}
    assert passing and not any(r["kind"] == "pass" for r in plain)
    assert {r["ruleId"] for r in with_pass if r["kind"] == "pass"} == passing


def test_unknown_and_error_verdicts_are_tool_notifications(result):
    invocation = as_json(result, "sarif")["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notified = {n["associatedRule"]["id"]: n["level"] for n in invocation["toolExecutionNotifications"]}
    expected = {v.indicator.id: ("error" if v.status == "error" else "note")
                for v in result.verdicts if v.status in ("unknown", "error")}
    assert expected and notified == expected


def test_category_sets_automation_details(result):
    assert as_json(result, "sarif", sarif_category="maturity")["runs"][0]["automationDetails"] == {"id": "maturity/"}
    assert "automationDetails" not in as_json(result, "sarif")["runs"][0]


def test_cli_writes_sarif_with_the_flags(tmp_path):
    repo = gate_repo(tmp_path)
    out = tmp_path / "out" / "r.sarif"
    main(["scan", str(repo), "--target", "cd=1,sr=1", "-f", f"sarif={out}", "--sarif-include-pass",
          "--sarif-category", "ci"])
    run = json.loads(out.read_text())["runs"][0]
    assert run["automationDetails"]["id"] == "ci/" and any(r["kind"] == "pass" for r in run["results"])


@pytest.mark.skipif(not MULTITOOL.is_file(), reason="npm install --prefix .ci @microsoft/sarif-multitool")
def test_microsoft_validator_with_github_rules_reports_nothing(result, tmp_path):
    path = tmp_path / "report.sarif"
    sarif = as_json(result, "sarif", sarif_include_pass=True, sarif_category="devops-audit")
    path.write_text(json.dumps(sarif))
    run = subprocess.run([str(MULTITOOL), "validate", "--rule-kind", "Gh;Sarif", str(path)],
                         capture_output=True, text=True, timeout=120)
    problems = [line for line in (run.stdout + run.stderr).splitlines()
                if re.search(r": (error|warning) [A-Z]+[0-9]+", line)]
    assert "Analysis completed successfully" in run.stdout
    assert problems == []


@pytest.mark.skipif(not MULTITOOL.is_file(), reason="npm install --prefix .ci @microsoft/sarif-multitool")
def test_microsoft_validator_does_catch_a_broken_report(result, tmp_path):
    sarif = as_json(result, "sarif")
    del sarif["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    path = tmp_path / "broken.sarif"
    path.write_text(json.dumps(sarif))
    run = subprocess.run([str(MULTITOOL), "validate", "--rule-kind", "Gh;Sarif", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert "GH2012" in run.stdout


def test_documented_location_table_matches_the_policies():
    from devops_audit.policy import load_policies
    from devops_audit.reporters.sarif import location_table

    doc = (ROOT / "docs/integrations.md").read_text()
    table = doc.split("<!-- locations:begin -->\n")[1].split("<!-- locations:end -->")[0]
    assert table == location_table(load_policies(compile_all=False).indicators), \
        "regenerate the table in docs/integrations.md with reporters.sarif.location_table"
