"""The command line as a user meets it: exit codes, formats, list/explain/policy check/docs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, write

from devops_audit.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devops_audit", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_version_prints_name_and_version():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("devops-audit ")


def test_version_does_not_import_the_heavy_libraries():
    code = ("import sys; from devops_audit.cli import main\n"
            "try: main(['--version'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('git', 'jsonschema', 'rich', 'cel', 'yaml', 'defusedxml') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_gate_fails_with_exit_1_when_a_level_is_not_reached():
    proc = run_cli("scan", str(FIXTURES / "legacy-service"), "--color", "never")
    assert proc.returncode == 1
    assert "Gate: FAILED" in proc.stdout
    assert "Continuous Delivery (CD) is at level 1, target 3" in proc.stdout


def test_gate_passes_with_exit_0_when_targets_are_met():
    proc = run_cli("scan", str(FIXTURES / "legacy-service"), "--target", "cd=1,sr=1", "--color", "never")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Gate: passed" in proc.stdout


def test_fail_on_severity_fails_the_gate_even_when_levels_are_met():
    proc = run_cli("scan", str(FIXTURES / "legacy-service"), "--target", "cd=1,sr=1", "--fail-on", "critical",
                   "-f", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["gate"]["exit_code"] == 1
    assert any("SR.BD.04" in reason for reason in report["gate"]["reasons"])


def test_exit_code_is_the_same_whatever_the_formats(tmp_path):
    codes = {main(["scan", str(FIXTURES / "legacy-service"), "-f", f"{fmt}={tmp_path / fmt}"]) for fmt in ("terminal", "json")}
    assert codes == {1}


def test_several_formats_in_one_run(tmp_path):
    code = main(["scan", str(FIXTURES / "example"), "-f", f"json={tmp_path / 'r.json'}",
                 "-f", f"terminal={tmp_path / 'r.txt'}"])
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == report["gate"]["exit_code"]
    assert "What blocks the next level" in (tmp_path / "r.txt").read_text()


@pytest.mark.parametrize("args", [["scan", "--no-such-flag"], ["scan", ".", "--format", "yaml"],
                                  ["scan", ".", "--target", "cd=three"], ["scan", ".", "--evidence", "coverage"],
                                  ["explain", "CD.XX.99"]])
def test_usage_errors_exit_2(args):
    proc = run_cli(*args, cwd=FIXTURES / "example")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip()


def test_missing_target_exits_3(tmp_path):
    proc = run_cli("scan", str(tmp_path / "nope"))
    assert proc.returncode == 3
    assert "no such directory" in proc.stderr


def test_target_that_is_a_file_exits_3(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    proc = run_cli("scan", str(tmp_path / "f.txt"))
    assert proc.returncode == 3
    assert "not a directory" in proc.stderr


def test_invalid_config_exits_2_naming_file_line_and_key(tmp_path):
    write(tmp_path, {".devops-audit.yml": "targets:\n  CD: 3\nexclude: [vendor/]\ncolour: blue\n"})
    proc = run_cli("scan", str(tmp_path))
    assert proc.returncode == 2
    assert ".devops-audit.yml:4: colour: unknown key 'colour'" in proc.stderr


def test_config_with_a_wrong_type_exits_2(tmp_path):
    write(tmp_path, {".devops-audit.yml": "history:\n  window_days: ninety\n"})
    proc = run_cli("scan", str(tmp_path))
    assert proc.returncode == 2
    assert ".devops-audit.yml:2: history.window_days" in proc.stderr


def test_unknown_parameter_override_exits_2(tmp_path):
    write(tmp_path, {".devops-audit.yml": "params:\n  CD.TM.02: {min_line_cov: 0.8}\n"})
    proc = run_cli("scan", str(tmp_path))
    assert proc.returncode == 2
    assert "params.CD.TM.02.min_line_cov: no such parameter (known: min_line_coverage)" in proc.stderr


def test_list_prints_every_indicator():
    proc = run_cli("list")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert any(line.startswith("CD.TM.02") and "L3" in line and "Line coverage" in line for line in lines)
    assert sum(1 for line in lines if line.startswith(("CD.", "SR."))) >= 45


def test_explain_prints_the_indicator_documentation():
    proc = run_cli("explain", "cd.tm.02")
    assert proc.returncode == 0
    assert "# CD.TM.02 Line coverage at or above threshold" in proc.stdout
    assert "min_line_coverage" in proc.stdout and "How to fix" in proc.stdout


def test_policy_check_accepts_the_builtin_packs():
    proc = run_cli("policy", "check", str(ROOT / "policies"))
    assert proc.returncode == 0, proc.stderr


def test_policy_check_reports_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "indicators:\n"
        "  - id: ACME.XX.01\n    name: ok-name\n    title: T\n    area: CD\n    domain: VC\n    level: 2\n"
        "    severity: medium\n    description: d\n    remediation: r\n    references: {}\n"
        "    assert: 'files.count >'\n"
        "  - id: ACME.XX.02\n    name: Bad Name\n    title: T\n    area: CD\n    domain: VC\n    level: 9\n"
        "    severity: medium\n    description: d\n    remediation: r\n    references: {}\n    assert: 'true'\n"
    )
    proc = run_cli("policy", "check", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:14: indicators.1.name: 'Bad Name' does not match" in proc.stderr
    assert f"{bad}:18: indicators.1.level: 9 is greater than the maximum of 5" in proc.stderr


def test_policy_check_reports_invalid_cel(tmp_path):
    bad = tmp_path / "cel.yaml"
    bad.write_text(
        "indicators:\n"
        "  - id: ACME.XX.01\n    name: ok-name\n    title: T\n    area: CD\n    domain: VC\n    level: 2\n"
        "    severity: medium\n    description: d\n    remediation: r\n    references: {}\n"
        "    assert: 'files.count >'\n"
    )
    proc = run_cli("policy", "check", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:2: ACME.XX.01.assert: invalid CEL" in proc.stderr


def test_docs_indicators_md_is_up_to_date():
    proc = run_cli("docs", "--check", "-o", str(ROOT / "docs" / "indicators.md"))
    assert proc.returncode == 0, "docs/indicators.md is stale: run `devops-audit docs -o docs/indicators.md`"
