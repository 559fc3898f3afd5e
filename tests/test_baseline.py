"""Baselines: record today's violations, then gate only on new ones and list the fixed ones."""

from __future__ import annotations

import json
import os
import shlex

import pytest
from doc_snippets import snippet
from gate_support import REPO, as_json, gate_repo, rendered, scan

from devops_audit.cli import main

NEW_STEP = "      - uses: actions/cache@v4\n"


def _create(repo, out) -> dict:
    assert main(["baseline", "create", str(repo), "--target", "cd=1,sr=1", "-o", str(out)]) == 0
    return json.loads(out.read_text())


def test_baseline_file_lists_every_violation_by_fingerprint(tmp_path):
    repo = gate_repo(tmp_path)
    data = _create(repo, tmp_path / "base.json")
    assert data["version"] == 1 and data["tool"]["name"] == "devops-audit" and data["created_at"]
    pinned = [e for e in data["entries"] if e["indicator"] == "SR.BD.03"]
    assert [e["locator"] for e in pinned] == ["jobs.deploy.steps[0].uses", "jobs.test.steps[0].uses",
                                              "jobs.test.steps[1].uses"]
    assert all(len(e["fingerprint"]) == 64 and e["path"] == ".github/workflows/ci.yml" for e in pinned)


def test_known_violations_do_not_gate_new_ones_do(tmp_path):
    repo = gate_repo(tmp_path)
    base = tmp_path / "base.json"
    _create(repo, base)
    assert scan(repo, fail_on=["high"]).gate.passed is False
    result = scan(repo, fail_on=["high"], baseline=str(base))
    assert result.gate.passed, result.gate.reasons
    assert result.extras["baseline"]["new"] == [] and "SR.BD.03" in result.extras["baseline"]["baselined"]
    assert next(v for v in result.verdicts if v.indicator.id == "SR.BD.03").status == "fail"  # still reported

    workflow = repo / ".github/workflows/ci.yml"
    workflow.write_text(workflow.read_text().replace("      - run: pytest\n", "      - run: pytest\n" + NEW_STEP))
    result = scan(repo, fail_on=["high"], baseline=str(base))
    assert not result.gate.passed
    assert [r for r in result.gate.reasons if r.startswith("SR.BD.03")]
    assert [(e["indicator"], e["locator"]) for e in result.extras["baseline"]["new"]] == \
        [("SR.BD.03", "jobs.test.steps[4].uses")]
    states = {r["locations"][0]["physicalLocation"]["region"]["startLine"]: r["baselineState"]
              for r in as_json(result, "sarif")["runs"][0]["results"] if r["ruleId"] == "SR.BD.03"}
    assert sorted(states.values()) == ["new", "unchanged", "unchanged", "unchanged"]


def test_baselined_failures_do_not_hold_the_level_gate_but_levels_stay_honest(tmp_path):
    repo = gate_repo(tmp_path)
    pack = str(REPO.parent / "policies")  # area GT: level 2 needs every job to set a timeout
    base = tmp_path / "base.json"
    assert main(["baseline", "create", str(repo), "--policy", pack, "-o", str(base)]) == 0
    before = scan(repo, policy_paths=[pack], targets={"CD": 1, "SR": 1, "GT": 2})
    after = scan(repo, policy_paths=[pack], targets={"CD": 1, "SR": 1, "GT": 2}, baseline=str(base))
    level = {a.id: a.level for a in after.areas}
    assert level["GT"] == 1 and [a.level for a in after.areas] == [a.level for a in before.areas]
    assert before.gate.reasons == ["Gate test (GT) is at level 1, target 2"]
    assert after.gate.passed, after.gate.reasons
    assert "GT.FB.01" in after.extras["baseline"]["baselined"]


def test_fixed_violations_are_listed(tmp_path):
    repo = gate_repo(tmp_path)
    base = tmp_path / "base.json"
    _create(repo, base)
    workflow = repo / ".github/workflows/ci.yml"
    workflow.write_text(workflow.read_text().replace("    timeout-minutes: 120\n", "    timeout-minutes: 10\n"))
    result = scan(repo, baseline=str(base))
    fixed = result.extras["baseline"]["fixed"]
    assert [(e["indicator"], e["locator"]) for e in fixed] == [("CD.CI.04", "jobs.deploy")]
    report = json.loads(rendered(result, "json"))
    assert report["baseline"]["fixed"][0]["locator"] == "jobs.deploy"
    assert report["baseline"]["unchanged"] == len(json.loads(base.read_text())["entries"]) - 1
    markdown = rendered(result, "markdown")
    assert "0 new" in markdown and "1 fixed" in markdown and "fixed: CD.CI.04" in markdown


@pytest.mark.parametrize("content, message", [
    (None, "cannot read baseline"), ("{not json", "not a JSON baseline"),
    ('{"version": 7, "entries": []}', "not a devops-audit baseline"),
    ('{"version": 1, "entries": [{"path": "x"}]}', "must be a list of objects with a `fingerprint`"),
])
def test_bad_baseline_is_a_usage_error(tmp_path, capsys, content, message):
    repo = gate_repo(tmp_path)
    base = tmp_path / "base.json"
    if content is not None:
        base.write_text(content)
    assert main(["scan", str(repo), "--baseline", str(base)]) == 2
    assert message in capsys.readouterr().err


def test_documented_commands_work(tmp_path, monkeypatch):
    repo = gate_repo(tmp_path, "targets: {CD: 1, SR: 1}\n")
    monkeypatch.chdir(repo)
    commands = [shlex.split(line) for line in snippet("baseline").splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["devops-audit", "baseline"], ["devops-audit", "scan"]]
    assert [main(c[1:]) for c in commands] == [0, 0]
    report = json.loads((repo / "report.json").read_text())
    assert report["gate"]["passed"] and report["baseline"]["new"] == []
    assert os.path.isfile(repo / ".devops-audit-baseline.json")
