"""The command-line contract a CI gate relies on: every value validated, every error one line, never fail open."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from helpers import FIXTURES, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devops_audit.cli import EXIT_INTERNAL, build_parser, main
from devops_audit.commands.options import scan_options_from_args
from devops_audit.errors import UsageError
from devops_audit.gate import check_settings, decide
from devops_audit.maturity import compute_levels
from devops_audit.policy import SEVERITIES
from devops_audit.scan import compiled_policies, load_scan_config, run_scan

LEGACY = FIXTURES / "legacy-service"


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devops_audit", *args], capture_output=True, text=True,
                          timeout=120, input=stdin)


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# -- values: case-insensitive, comma lists, anything unknown rejected with the valid values ---------------

@pytest.mark.parametrize("fail_on", ["HIGH", "high,medium", "High", "sr.bd.04", "low,SR.BD.04"])
def test_fail_on_in_any_case_or_as_a_comma_list_fails_the_gate(fail_on):
    proc = run_cli("scan", str(LEGACY), "--target", "cd=1,sr=1", "--fail-on", fail_on, "-f", "json")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["gate"]["reasons"]


@pytest.mark.parametrize(("args", "flag", "valid"), [
    (["--fail-on", "severe"], "--fail-on", "info, low, medium, high, critical"),
    (["--fail-on", "XX.YY.01"], "--fail-on", "CD.TM.02"),
    (["--fail-on", "high,bogus"], "--fail-on", "critical"),
    (["--target", "xx=1"], "--target", "valid: CD, SR"),
    (["--target", "cd=5"], "--target", "CD has levels 1 to 4"),
    (["--target", "sr=0"], "--target", "at least 1"),
    (["--target", "cd=5", "--target", "cd=1"], "--target", "CD given twice (5 and 1)"),
    (["--history-window", "-5"], "--history-window", "from 1 to"),
    (["--history-window=0"], "--history-window", "from 1 to"),
    (["--scanner-timeout", "nan"], "--scanner-timeout", "above 0"),
    (["--evidence", "cov=x.xml"], "--evidence", "coverage, junit"),
    (["--format", "yaml"], "--format", "terminal, json"),
    (["--color", "purple"], "--color", "auto"),
    (["--api-url", "github.example.com"], "--api-url", "https://"),
])
def test_unknown_values_exit_2_with_one_line_naming_the_flag_and_the_valid_values(args, flag, valid):
    proc = run_cli("scan", str(LEGACY), *args)
    assert proc.returncode == 2, proc.stdout[-300:] + proc.stderr
    line = one_line_error(proc)
    assert flag in line and valid in line, line
    assert proc.stdout == ""  # rejected before anything is scanned or printed


def test_config_fail_on_ids_and_targets_are_checked_like_the_flags(tmp_path):
    write(tmp_path, {".devops-audit.yml": "fail_on: {indicators: [CD.NO.01]}\n"})
    proc = run_cli("scan", str(tmp_path))
    assert proc.returncode == 2
    assert ".devops-audit.yml:1: fail_on.indicators: no indicator 'CD.NO.01'" in one_line_error(proc)
    write(tmp_path, {".devops-audit.yml": "targets: {CD: 5}\n"})
    proc = run_cli("scan", str(tmp_path))
    assert proc.returncode == 2
    assert ".devops-audit.yml:1: targets: CD has levels 1 to 4, got 5" in one_line_error(proc)


def test_a_fail_on_indicator_the_config_disables_is_rejected_not_silently_ignored(tmp_path):
    write(tmp_path, {".devops-audit.yml": "disable: [CD.VC.04]\n"})
    proc = run_cli("scan", str(tmp_path), "--target", "cd=1,sr=1", "--fail-on", "cd.vc.04")
    assert proc.returncode == 2
    assert "--fail-on CD.VC.04: " in one_line_error(proc) and ".devops-audit.yml:1 disables it" in proc.stderr


def test_list_area_is_case_insensitive_and_an_unknown_area_is_rejected():
    proc = run_cli("list", "--area", "sr")
    assert proc.returncode == 0
    assert proc.stdout and all(line.startswith("SR.") for line in proc.stdout.splitlines())
    proc = run_cli("list", "--area", "XX")
    assert proc.returncode == 2
    assert "--area: no area 'XX' (valid: CD, SR)" in one_line_error(proc)


def test_two_machine_formats_on_stdout_are_rejected_but_files_are_fine(tmp_path):
    proc = run_cli("scan", str(LEGACY), "-f", "json", "-f", "sarif")
    assert proc.returncode == 2
    assert "json and sarif would both go to standard output" in one_line_error(proc)
    proc = run_cli("scan", str(LEGACY), "--target", "cd=1,sr=1", "-f", f"json,SARIF={tmp_path / 'r.sarif'}")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["tool"]["name"] == "devops-audit"
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"


def test_an_unwritable_output_path_is_one_line_naming_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("scan", str(LEGACY), "-f", f"json={blocker / 'report.json'}")
    assert proc.returncode == 2
    assert f"{blocker / 'report.json'}: cannot write the output" in one_line_error(proc)


def test_a_closed_stdout_is_not_a_traceback():
    proc = subprocess.run(f"{sys.executable} -m devops_audit scan {LEGACY} -f json | head -c 10; "
                          f"{sys.executable} -m devops_audit list | head -n 1",
                          shell=True, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.stdout.startswith("{")


# -- exit codes: 4 for internal errors, never 0 or 1 --------------------------------------------------

def test_an_internal_error_exits_4_with_one_line_and_the_traceback_only_under_debug(monkeypatch, capsys):
    import devops_audit.engine

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(devops_audit.engine, "evaluate", broken)
    assert main(["scan", str(LEGACY)]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "internal error: KeyError: 'boom'" in err and "--debug" in err
    assert main(["scan", str(LEGACY), "--debug"]) == EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err
    assert main(["--debug", "scan", str(LEGACY)]) == EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


def test_an_internal_error_before_the_command_runs_is_exit_4_too(monkeypatch, capsys):
    import devops_audit.cli

    def broken(argv=None):
        raise ImportError("a damaged installation")

    monkeypatch.setattr(devops_audit.cli, "build_parser", broken)
    assert main(["list"]) == EXIT_INTERNAL
    assert "internal error: ImportError: a damaged installation" in capsys.readouterr().err


def test_exit_codes_are_documented_in_help_and_readme():
    proc = run_cli("scan", "--help")
    assert "4 internal error" in proc.stdout
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "| 4 | internal error" in readme


# -- the gate never fails open: property over the flags -----------------------------------------------

@cache
def _scanned(fixture: str):
    """One scan per fixture: the verdicts do not depend on --fail-on or --target, only the gate does."""
    result = run_scan(FIXTURES / fixture)
    policies = compiled_policies(())
    return result, load_scan_config(Path(result.target), scan_options_from_args(_parse([]))), policies


def _parse(flags: list[str]):
    return build_parser().parse_args(["scan", ".", *flags])


def _cased(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), text.lower(), text.capitalize()])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixture=st.sampled_from(["legacy-service", "example"]), data=st.data())
def test_no_flag_combination_exits_0_while_a_selected_failing_indicator_exists(fixture, data):
    result, config, policies = _scanned(fixture)
    ids = [v.indicator.id for v in result.verdicts]
    token = st.one_of(st.sampled_from(SEVERITIES).flatmap(_cased), st.sampled_from(ids).flatmap(_cased),
                      st.sampled_from(["severe", "XX.YY.01", "highest", "cd.tm", ""]),
                      st.text(alphabet="abcdhilmnorstuCDSR.0123456789", max_size=9))
    groups = data.draw(st.lists(st.lists(token, min_size=1, max_size=3), max_size=3))
    targets = data.draw(st.lists(st.tuples(st.sampled_from(["cd", "SR", "Cd", "xx"]), st.integers(0, 6)),
                                 max_size=2))
    flags = [arg for group in groups for arg in ("--fail-on", ",".join(group))]
    flags += [arg for area, level in targets for arg in ("--target", f"{area}={level}")]
    flags += ["--target", "cd=1,sr=1"] if not targets else []
    valid = all(any(t.strip() for t in g) for g in groups) and all(
        t.strip().lower() in SEVERITIES or t.strip().upper() in ids for g in groups for t in g if t.strip()) and all(
        a.upper() in ("CD", "SR") and 1 <= lvl <= (4 if a.upper() == "CD" else 3) for a, lvl in targets) and all(
        lvl == other for a, lvl in targets for b, other in targets if a.upper() == b.upper())
    try:
        options = scan_options_from_args(_parse(flags))
        check_settings(policies, config, options)
    except (SystemExit, UsageError):
        assert not valid, f"valid flags rejected: {flags}"
        return
    assert valid, f"invalid flags accepted: {flags}"
    groups = [[t.strip() for t in g if t.strip()] for g in groups]
    selected = {t.upper() for g in groups for t in g if t.lower() not in SEVERITIES}
    floor = min((SEVERITIES.index(t.lower()) for g in groups for t in g if t.lower() in SEVERITIES),
                default=len(SEVERITIES))
    selected_failing = [v for v in result.verdicts if v.status == "fail" and not v.waiver and (
        v.indicator.id in selected or SEVERITIES.index(v.indicator.severity) >= floor)]
    levels = {a.id: a.level for a in result.areas}
    targets = {**{a.id: a.default_target for a in policies.areas.values()}, **options.targets}
    below = [a for a, level in targets.items() if levels[a] < level]
    gate = decide(result, config, options, compute_levels(policies.areas, result.verdicts, targets))
    assert gate.exit_code == (1 if selected_failing or below else 0), (flags, gate.reasons)


# -- fleet inputs ----------------------------------------------------------------------------------

def test_fleet_missing_inputs_exit_3_and_create_nothing(tmp_path):
    proc = run_cli("fleet", "scan", "--repos", str(tmp_path / "missing.txt"), "--store", str(tmp_path / "s.db"))
    assert proc.returncode == 3
    assert "missing.txt: cannot read the repository list" in one_line_error(proc)
    proc = run_cli("fleet", "report", "--store", str(tmp_path / "missing.db"))
    assert proc.returncode == 3
    assert "missing.db: no results store there" in one_line_error(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_fleet_org_with_offline_never_calls_the_api(tmp_path):
    # an unroutable API address: a call would fail with a network error (exit 3), not this refusal
    proc = run_cli("fleet", "scan", "--org", "github:acme", "--offline", "--api-url", "http://192.0.2.1:9",
                   "--store", str(tmp_path / "s.db"))
    assert proc.returncode == 2
    assert "--org lists repositories through the forge API, which --offline forbids" in one_line_error(proc)
    assert not (tmp_path / "s.db").exists()


# -- baselines: every non-passing verdict, like with like, one level figure ------------------------------

def test_baseline_then_scan_on_the_unchanged_repository_passes_with_one_level_figure(tmp_path):
    baseline = tmp_path / "baseline.json"
    assert run_cli("baseline", "create", str(LEGACY), "-o", str(baseline)).returncode == 0
    entries = json.loads(baseline.read_text())["entries"]
    assert {"fail", "unknown"} <= {e["status"] for e in entries}
    assert any(e["indicator"] == "CD.TM.04" and e["status"] == "unknown" for e in entries)
    proc = run_cli("scan", str(LEGACY), "--baseline", str(baseline), "--color", "never")
    assert proc.returncode == 0, proc.stdout[-500:]
    assert ": 0 new finding(s)" in " ".join(proc.stdout.split()) and "Gate: passed" in proc.stdout
    figures = {line.split("Level ")[1].split("/")[0] for line in proc.stdout.splitlines()
               if line.startswith("Continuous Delivery (CD)")}
    assert figures == {"1"}
    report = json.loads(run_cli("scan", str(LEGACY), "--baseline", str(baseline), "-f", "json").stdout)
    assert report["gate"]["passed"] and [a["level"] for a in report["areas"]] == [1, 1]


def test_an_unknown_that_becomes_a_fail_is_new_to_the_baseline(tmp_path):
    baseline = tmp_path / "baseline.json"
    assert run_cli("baseline", "create", str(LEGACY), "-o", str(baseline)).returncode == 0
    data = json.loads(baseline.read_text())
    for entry in data["entries"]:
        if entry["indicator"] == "CD.TM.04":
            entry["status"] = "fail"  # as if recorded when the indicator failed: not the same finding
    baseline.write_text(json.dumps(data))
    report = json.loads(run_cli("scan", str(LEGACY), "--baseline", str(baseline), "-f", "json").stdout)
    assert [e["indicator"] for e in report["baseline"]["new"]] == ["CD.TM.04"]
    assert not report["gate"]["passed"]
    assert any("findings not in the baseline block it (CD.TM.04" in r for r in report["gate"]["reasons"])


# -- policy check runs exactly what scan --policy runs ---------------------------------------------------

POLICY = """indicators:
  - id: {id}
    name: extra-check
    title: An extra check
    area: CD
    domain: {domain}
    level: {level}
    severity: low
    description: d
    remediation: r
    references: {{caict: x}}
    evidence: [{namespace}]
    assert: 'true'
"""


@pytest.mark.parametrize(("values", "problem"), [
    ({"id": "CD.VC.01"}, "indicator CD.VC.01 is already defined in"),
    ({"domain": "ZZ"}, "names unknown domain 'ZZ' of area CD (valid: VC, CM"),
    ({"namespace": "nosuch"}, "names unknown evidence namespace 'nosuch' (valid: repo, files"),
    ({"level": 5}, "level 5 is above CD's top level 4"),
])
def test_policy_check_and_scan_policy_reject_the_same_policies(tmp_path, values, problem):
    policy = tmp_path / "extra.yaml"
    policy.write_text(POLICY.format(**{"id": "CD.CI.90", "domain": "CI", "level": 3, "namespace": "ci", **values}))
    check = run_cli("policy", "check", str(policy))
    scan = run_cli("scan", str(LEGACY), "--policy", str(policy))
    assert (check.returncode, scan.returncode) == (2, 2)
    assert problem in check.stderr and problem in one_line_error(scan)


def test_a_valid_extra_policy_passes_both(tmp_path):
    policy = tmp_path / "extra.yaml"
    policy.write_text(POLICY.format(id="CD.CI.90", domain="CI", level=3, namespace="ci"))
    assert run_cli("policy", "check", str(policy)).returncode == 0
    report = json.loads(run_cli("scan", str(LEGACY), "--policy", str(policy), "-f", "json").stdout)
    assert {i["id"]: i["status"] for i in report["indicators"]}["CD.CI.90"] == "pass"
