"""Waivers: accepted failures with reason, owner and end date; whole, partial by path, expired, unused."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import jsonschema
from doc_snippets import snippet
from gate_support import as_json, gate_repo, rendered, scan

from devops_audit.cli import main
from devops_audit.resources import load_schema
from devops_audit.waivers import today_from
from devops_audit.yamlsafe import load_documents


def _config(*waivers: str) -> str:
    return "waivers:\n" + "".join(waivers)


PINNING = """  - indicator: SR.BD.03
    reason: pinned by the platform mirror
    owner: platform@example.com
    expires: {expires}
{paths}"""


def _pinning(expires: str = "2026-12-31", paths: str = "") -> str:
    return PINNING.format(expires=expires, paths=paths)


def _verdict(result, indicator_id):
    return next(v for v in result.verdicts if v.indicator.id == indicator_id)


def test_waived_failure_counts_as_satisfied_and_does_not_gate(tmp_path):
    unwaived = scan(gate_repo(tmp_path / "a"), fail_on=["high"])
    assert any("SR.BD.03" in reason for reason in unwaived.gate.reasons)
    result = scan(gate_repo(tmp_path / "b", _config(_pinning())), fail_on=["high"])
    verdict = _verdict(result, "SR.BD.03")
    assert verdict.status == "fail"
    assert verdict.waiver == {"reason": "pinned by the platform mirror", "owner": "platform@example.com",
                              "expires": "2026-12-31", "paths": []}
    assert not any("SR.BD.03" in reason for reason in result.gate.reasons)
    assert result.counts()["waived"] == 1
    bd = next(d for a in result.areas if a.id == "SR" for d in a.domains if d.id == "BD")
    assert "SR.BD.03" not in bd.blocking


def test_waiver_shows_in_every_report(tmp_path):
    result = scan(gate_repo(tmp_path, _config(_pinning())))
    report = json.loads(rendered(result, "json"))
    jsonschema.validate(report, load_schema("verdict"))
    indicator = next(i for i in report["indicators"] if i["id"] == "SR.BD.03")
    assert indicator["waiver"]["owner"] == "platform@example.com" and report["summary"]["waived"] == 1
    sarif = [r for r in as_json(result, "sarif")["runs"][0]["results"] if r["ruleId"] == "SR.BD.03"]
    assert len(sarif) == 3
    assert all(r["suppressions"] == [{"kind": "external", "status": "accepted", "justification":
               "pinned by the platform mirror (owner platform@example.com, expires 2026-12-31)"}] for r in sarif)
    assert "waived: pinned by the platform mirror" in rendered(result, "junit")
    markdown = rendered(result, "markdown")
    assert "### Waived (1)" in markdown and "pinned by the platform mirror" in markdown
    assert not [i for i in as_json(result, "gitlab-codequality") if i["check_name"] == "SR.BD.03"]


def test_partial_path_coverage_waives_only_those_violations(tmp_path):
    repo = gate_repo(tmp_path, _config(_pinning(paths="    paths: [.github/workflows/release.yml]\n")))
    workflow = repo / ".github/workflows/ci.yml"
    release = repo / ".github/workflows/release.yml"
    release.write_text("on: push\njobs:\n  r:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
                       "    steps:\n      - uses: actions/checkout@v4\n")
    result = scan(repo, fail_on=["high"])
    verdict = _verdict(result, "SR.BD.03")
    assert verdict.status == "fail" and verdict.waiver is None
    assert any("SR.BD.03" in reason for reason in result.gate.reasons)
    sarif = [r for r in as_json(result, "sarif")["runs"][0]["results"] if r["ruleId"] == "SR.BD.03"]
    suppressed = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif if "suppressions" in r}
    open_ = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif if "suppressions" not in r}
    assert suppressed == {".github/workflows/release.yml"} and open_ == {str(workflow.relative_to(repo))}
    assert result.counts()["waived"] == 0
    assert "*(waived)*" in rendered(result, "markdown")


def test_waiver_covering_every_violation_path_waives_the_indicator(tmp_path):
    repo = gate_repo(tmp_path, _config(_pinning(paths="    paths: ['.github/workflows/*']\n")))
    assert _verdict(scan(repo), "SR.BD.03").waiver is not None


def test_expired_waiver_stops_applying_and_is_reported(tmp_path):
    repo = gate_repo(tmp_path, _config(_pinning(expires="2026-11-24")))
    result = scan(repo, fail_on=["high"])  # the scan's clock says 2026-11-25
    assert _verdict(result, "SR.BD.03").waiver is None
    assert any("SR.BD.03" in reason for reason in result.gate.reasons)
    report = json.loads(rendered(result, "json"))
    assert [w["indicator"] for w in report["waivers"]["expired"]] == ["SR.BD.03"]
    assert "Waiver for SR.BD.03 expired on 2026-11-24" in rendered(result, "markdown")
    still_valid = scan(repo, now="2026-11-24T23:59:00+00:00")  # the last day still counts
    assert _verdict(still_valid, "SR.BD.03").waiver is not None


def test_unused_waiver_is_listed(tmp_path):
    config = _config(_pinning(), "  - indicator: SR.DS.01\n    reason: x\n    owner: y\n    expires: 2030-01-01\n")
    result = scan(gate_repo(tmp_path, config))
    assert [w["indicator"] for w in result.extras["waivers"]["unused"]] == ["SR.DS.01"]


def test_scan_clock_is_the_date_of_now_else_today():
    assert today_from("2026-03-04T05:06:07+00:00") == date(2026, 3, 4)
    assert today_from("2026-03-04") == date(2026, 3, 4)
    assert today_from(None) >= date(2026, 1, 1)


def test_documented_waivers_are_valid_config_and_apply(tmp_path):
    text = snippet("waivers")
    jsonschema.validate(load_documents(text)[0], load_schema("config"))  # the config loader's own YAML
    repo = gate_repo(tmp_path, text)
    out = tmp_path / "report.json"
    assert main(["scan", str(repo), "--target", "cd=1,sr=1", "--fail-on", "low", "-f", f"json={out}"]) == 1
    report = json.loads(out.read_text())
    waived = {i["id"] for i in report["indicators"] if i["waiver"]}
    assert waived == {"SR.BD.03", "CD.CI.04"}
    assert not any(r.startswith(("SR.BD.03", "CD.CI.04")) for r in report["gate"]["reasons"])


def test_terminal_report_warns_about_expired_waivers_and_counts_baseline(tmp_path):
    repo = tmp_path / "legacy"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / "legacy-service", repo)
    (repo / ".devops-audit.yml").write_text(
        "waivers:\n  - indicator: CD.CI.04\n    reason: split planned\n    owner: release-team\n    expires: 2020-01-31\n")
    assert main(["baseline", "create", str(repo), "-o", str(tmp_path / "base.json")]) == 0
    out = tmp_path / "report.txt"
    main(["scan", str(repo), "--baseline", str(tmp_path / "base.json"), "-f", f"terminal={out}"])
    text = " ".join(out.read_text().split())  # the terminal report wraps long lines
    assert "waiver for CD.CI.04 expired on 2020-01-31 (owner release-team)" in text
    assert "0 new finding(s)" in text and "0 fixed" in text
