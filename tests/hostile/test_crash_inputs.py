"""Whole-scan crashes, each stopped where the value enters: lone surrogates, non-finite numbers, huge
integers, impossible dates, policy files that are not UTF-8, reports too big to hold in memory."""

from __future__ import annotations

import json
import os

import pytest
from helpers import scan_dict, verdicts
from robust_support import example_copy, run_scan_cli, statuses

SARIF = "reports/bandit.sarif"


def _sarif(result: str) -> str:
    return ('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "bandit", "rules": []}}, '
            f'"results": [{result}]}}]}}')


@pytest.fixture(scope="module")
def clean_report(tmp_path_factory):
    return scan_dict(example_copy(tmp_path_factory.mktemp("clean") / "repo"))


def test_lone_surrogates_in_a_report_reach_neither_cel_nor_the_reporters(tmp_path, capsys, clean_report):
    repo = example_copy(tmp_path / "repo")
    (repo / SARIF).write_text(_sarif(
        '{"ruleId": "B105\\ud800", "level": "error", "message": {"text": "hard-coded \\udcff password"}, '
        '"locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/payments/api.py"}, '
        '"region": {"startLine": 3}}}]}'))
    run = run_scan_cli(capsys, repo, tmp_path / "out")
    assert run.code in (0, 1), run.stderr
    assert set(run.outputs) == {"terminal", "json", "sarif", "junit", "gitlab-codequality", "gitlab-sast", "markdown"}
    report = json.loads(run.outputs["json"])
    (entry,) = [e for e in report["inventory"] if e["path"] == SARIF]
    assert entry["status"] == "parsed" and "1 result(s)" in entry["reason"]
    violations = [v["message"] for i in report["indicators"] for v in i.get("violations") or []]
    assert "bandit B105\ufffd (high): hard-coded \ufffd password" in violations  # the finding still counts
    assert "B105\ufffd" in run.outputs["sarif"] and "B105\ufffd" in run.outputs["markdown"]
    assert statuses(report)["CD.BP.01"] == statuses(clean_report)["CD.BP.01"]


def test_a_file_name_that_is_not_utf8_does_not_crash_the_scan(tmp_path, capsys):
    repo = example_copy(tmp_path / "repo")
    os.makedirs(repo / "tests", exist_ok=True)
    with open(os.path.join(os.fsencode(repo / "tests"), b"test_caf\xe9.py"), "w") as handle:
        handle.write("def test_x():\n    assert True\n")
    run = run_scan_cli(capsys, repo, tmp_path / "out")
    assert run.code in (0, 1), run.stderr
    json.loads(run.outputs["json"])
    run.everything.encode("utf-8")  # no lone surrogate anywhere


@pytest.mark.parametrize(("written", "key"), [
    ("limits:\n  max_file_mib: .inf\n", "limits.max_file_mib"),
    ("limits:\n  max_file_mib: .nan\n", "limits.max_file_mib"),
    ("limits:\n  max_file_mib: 1.0e+999\n", "limits.max_file_mib"),
    ("history:\n  window_days: 99999999999999999999999\n", "history.window_days"),
])
def test_non_finite_and_huge_numbers_in_the_config_are_config_errors(tmp_path, capsys, written, key):
    repo = example_copy(tmp_path / "repo")
    (repo / ".devops-audit.yml").write_text(written)
    run = run_scan_cli(capsys, repo, tmp_path / "out")
    assert run.code == 2
    assert f".devops-audit.yml:2: {key}:" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("number", ["1e999", "NaN", "-Infinity", "123456789012345678901234567890"])
def test_non_finite_numbers_in_a_report_make_that_report_an_error(tmp_path, clean_report, number):
    repo = example_copy(tmp_path / "repo")
    (repo / SARIF).write_text(_sarif(
        f'{{"ruleId": "B105", "level": "error", "rank": {number}, "message": {{"text": "m"}}}}'))
    report = scan_dict(repo)
    (entry,) = [e for e in report["inventory"] if e["path"] == SARIF]
    assert entry["status"] == "error" and "invalid JSON" in entry["reason"] and number[:5] in entry["reason"]
    before, after = statuses(clean_report), statuses(report)
    assert {k: v for k, v in after.items() if not k.startswith("SR.")} == \
        {k: v for k, v in before.items() if not k.startswith("SR.")}


@pytest.mark.parametrize("expires", ["2099-13-01", "2026-02-30", "0000-01-01"])
def test_an_impossible_waiver_date_is_a_config_error_naming_file_line_and_key(tmp_path, capsys, expires):
    repo = example_copy(tmp_path / "repo")
    (repo / ".devops-audit.yml").write_text(
        "waivers:\n  - indicator: SR.BD.03\n    reason: pinned by the platform team\n"
        f"    owner: platform@example.com\n    expires: {expires}\n")
    run = run_scan_cli(capsys, repo, tmp_path / "out")
    assert run.code == 2
    assert f".devops-audit.yml:5: waivers.0.expires: '{expires}' is not a 'date'" in run.stderr
    assert not run.outputs


def test_a_policy_file_that_is_not_utf8_is_a_policy_error(tmp_path, capsys):
    repo = example_copy(tmp_path / "repo")
    (repo / "policies").mkdir()
    (repo / "policies" / "team.yaml").write_bytes(b"indicators:\n  - id: TEAM.01\n    title: Caf\xe9\n")
    (repo / ".devops-audit.yml").write_text("policies: [policies]\n")
    run = run_scan_cli(capsys, repo, tmp_path / "out")
    assert run.code == 2
    assert "policies/team.yaml:3: not valid UTF-8" in run.stderr


def test_a_report_with_millions_of_values_is_refused_before_it_is_parsed(tmp_path, clean_report):
    repo = example_copy(tmp_path / "repo")
    (repo / SARIF).write_bytes(b'{"version": "2.1.0", "runs": [' + b"[]," * 4_100_000 + b"[]]}")
    report = scan_dict(repo)
    (entry,) = [e for e in report["inventory"] if e["path"] == SARIF]
    assert entry["status"] == "error" and "memory bound" in entry["reason"]
    assert statuses(report)["CD.BP.01"] == statuses(clean_report)["CD.BP.01"]


def test_a_coverage_report_with_millions_of_elements_is_refused_before_it_is_parsed(tmp_path, clean_report):
    repo = example_copy(tmp_path / "repo")
    (repo / "coverage.xml").write_bytes(b'<coverage line-rate="1">' + b"<x/>" * 4_100_000 + b"</coverage>")
    report = scan_dict(repo)
    (entry,) = [e for e in report["inventory"] if e["path"] == "coverage.xml"]
    assert entry["status"] == "error" and "XML elements" in entry["reason"]
    assert verdicts(report)["CD.BP.01"]["status"] == statuses(clean_report)["CD.BP.01"]


@pytest.mark.parametrize(("timeout", "over_limit"), [
    ("'\u00b2'", False),  # a superscript two: a digit to str.isdigit, not to float()
    ("'\u0661\u0662'", False),  # Arabic-Indic digits: not a number a Jenkins library reads
    ("9" * 150, True),  # huge but finite: judged, over any limit
    ("'-5'", False),
])
def test_an_odd_library_timeout_loses_only_the_timeout(tmp_path, timeout, over_limit):
    (tmp_path / "Jenkinsfile").write_text(f"buildPlugin(timeout: {timeout})\n", encoding="utf-8")
    report = scan_dict(tmp_path, offline=True)
    assert [e for e in report["inventory"] if e["path"] == "Jenkinsfile"][0]["status"] != "error"
    assert verdicts(report)["CD.CI.04"]["status"] == ("fail" if over_limit else "pass")  # unread: not judged


@pytest.mark.parametrize("matrix", [
    "[a, b]",  # a list, not a mapping
    "{a: {DOCKER_IMAGE: {nested: 1}}}",  # not a string
    "{a: {DOCKER_IMAGE: ''}}",
    "{a: 7, b: {DOCKER_IMAGE: \"evil\\e[31m:1\"}}",  # a terminal escape in the image name
    "{" + ", ".join(f"m{i}: {{DOCKER_IMAGE: 'img{i}:1'}}" for i in range(2000)) + "}",  # many images
])
def test_an_odd_azure_matrix_loses_nothing_else(tmp_path, matrix):
    (tmp_path / "azure-pipelines.yml").write_text(
        "jobs:\n- job: linux\n  pool: {vmImage: ubuntu-latest}\n"
        f"  strategy: {{matrix: {matrix}}}\n  steps:\n  - script: pytest\n", encoding="utf-8")
    report = scan_dict(tmp_path, offline=True)
    assert [e for e in report["inventory"] if e["path"] == "azure-pipelines.yml"][0]["status"] != "error"
    assert "no CI job runs a recognised test runner" not in verdicts(report)["CD.TM.01"]["message"]  # pytest seen


@pytest.mark.parametrize("uses", ["acme/ci/\u202epublish@v1", "acme/ci/" + "publish-" * 500 + "@v1",
                                  "acme/ci/pre-commit/@v1", "acme/ci/@v1"])
def test_an_odd_shared_action_name_is_only_a_name(tmp_path, uses):
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/ci.yml").write_text(
        f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: '{uses}'\n      - run: pytest\n",
        encoding="utf-8")
    report = scan_dict(tmp_path, offline=True)
    assert [e for e in report["inventory"] if e["path"] == ".github/workflows/ci.yml"][0]["status"] != "error"
    assert verdicts(report)["CD.TM.01"]["status"] in ("pass", "fail")  # judged, the pytest step seen


@pytest.mark.parametrize("uses", ["'./\u202etset'", "'./" + "a/" * 2000 + "'", "'./.github/../test'", "{a: 1}"])
def test_an_odd_local_action_in_an_action_repository_loses_nothing_else(tmp_path, uses):
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / "action.yml").write_text("name: x\nruns: {using: node20, main: index.js}\n", encoding="utf-8")
    (tmp_path / ".github/workflows/ci.yml").write_text(
        f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: {uses}\n      - run: pytest\n",
        encoding="utf-8")
    report = scan_dict(tmp_path, offline=True)
    assert report["project"]["kind"] == "library"  # the profile is still made
    assert verdicts(report)["CD.TM.01"]["status"] in ("pass", "fail")


@pytest.mark.parametrize(("name", "read"), [
    ("owasp/" + "dependency_check_" * 6_000 + "x", "parsed"),  # 100 kB: the name table is matched in linear time
    ("acme/" + "\u202edeploy\u2066" + "/" * 500 + ".." + "_." * 1_000, "parsed"),  # bidi controls, slashes, dots
    ("x/" + "\ud800" * 10, "error"),  # not UTF-8 once written: the file is lost, alone
])
def test_an_odd_orb_job_name_loses_nothing_else(tmp_path, capsys, clean_report, name, read):
    """An orb job read by the words of its name (`names.yaml`): any name is read as text, printed without its
    control characters, and the rest of the scan keeps its verdicts."""
    repo = example_copy(tmp_path / "repo")
    (repo / ".circleci").mkdir()
    (repo / ".circleci" / "config.yml").write_text(
        "version: 2.1\norbs:\n  owasp: entur/owasp@0.0.10\nworkflows:\n  nightly:\n    jobs:\n"
        f"      - {json.dumps(name)}\n", encoding="utf-8", errors="surrogatepass")
    run = run_scan_cli(capsys, repo, tmp_path / "out")
    assert run.code in (0, 1), run.stderr
    assert not any(c in run.outputs["terminal"] for c in "\u202e\u2066")
    report = json.loads(run.outputs["json"])
    (entry,) = [e for e in report["inventory"] if e["path"] == ".circleci/config.yml"]
    assert entry["status"] == read
    unchanged = [i for i in ("CD.TM.02", "CD.TM.03", "SR.DS.01", "SR.BD.01", "CD.VC.02")
                 if i in statuses(report)]
    assert unchanged and {i: statuses(report)[i] for i in unchanged} == {i: statuses(clean_report)[i] for i in unchanged}
