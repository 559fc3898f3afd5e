"""The README's command-line and policy examples, run as a reader would run them."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from doc_snippets import snippet
from helpers import write

from devops_audit.cli import build_parser

WORKFLOW = """name: ci
on: [push]
jobs:
  test:
    runs-on: {runner}
    timeout-minutes: 10
    steps:
      - run: pytest
  lint:
    runs-on: [self-hosted, linux]
    steps:
      - run: ruff check .
"""


def run_readme_command(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = shlex.split(line)
    assert args[0] == "devops-audit", line
    return subprocess.run([sys.executable, "-m", "devops_audit", *args[1:]], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def repository(tmp_path: Path, runner: str) -> Path:
    write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format(runner=runner),
                     "acme-runners.yaml": snippet("policy-example")})
    return tmp_path


def test_the_policy_example_is_valid_and_fails_a_floating_runner(tmp_path):
    repo = repository(tmp_path, "ubuntu-latest")
    check, scan = (run_readme_command(line, repo) for line in snippet("policy-example-usage").splitlines())
    assert check.returncode == 0, check.stderr
    assert scan.returncode == 1, scan.stderr
    assert "ACME.CI.01 failed (--fail-on ACME.CI.01)" in " ".join(scan.stdout.split())
    report = json.loads(run_readme_command("devops-audit scan --policy acme-runners.yaml -f json", repo).stdout)
    verdict = {v["id"]: v for v in report["indicators"]}["ACME.CI.01"]
    assert verdict["status"] == "fail"
    assert [(v["path"], v["message"]) for v in verdict["violations"]] == [
        (".github/workflows/ci.yml", "job test runs on ubuntu-latest")]


def test_the_policy_example_passes_pinned_runners(tmp_path):
    repo = repository(tmp_path, "ubuntu-24.04")
    report = json.loads(run_readme_command("devops-audit scan --policy acme-runners.yaml -f json", repo).stdout)
    assert {v["id"]: v["status"] for v in report["indicators"]}["ACME.CI.01"] == "pass"


def test_the_policy_example_fails_flask_whose_jobs_use_ubuntu_latest(corpus_dir, tmp_path):
    flask = corpus_dir / "flask" / "repo"
    if not flask.is_dir():
        pytest.skip("flask is not in the corpus")
    policy = tmp_path / "acme-runners.yaml"
    policy.write_text(snippet("policy-example"), encoding="utf-8")
    proc = run_readme_command(f"devops-audit scan {flask} --policy {policy} -f json", tmp_path)
    verdict = {v["id"]: v for v in json.loads(proc.stdout)["indicators"]}["ACME.CI.01"]
    assert verdict["status"] == "fail"
    jobs = {(v["path"], v["locator"]) for v in verdict["violations"]}
    assert (".github/workflows/lock.yaml", "jobs.lock") in jobs
    assert len(jobs) >= 6


def test_every_usage_line_of_the_readme_is_a_valid_command_line():
    usage = snippet("usage")
    parser = build_parser()
    commands = [line.split("#")[0].strip() for line in usage.splitlines() if line.startswith("devops-audit")]
    assert len(commands) >= 5
    for command in commands:
        parser.parse_args(shlex.split(command.split("|")[0])[1:])  # exits 2 on anything it would reject
    options = [line.split("#")[0].strip() for line in usage.splitlines() if line.startswith("  --")]
    parser.parse_args(["scan", ".", *shlex.split(" ".join(options))])


def test_the_usage_example_scans_and_writes_its_formats(tmp_path):
    repo = repository(tmp_path, "ubuntu-latest")
    proc = run_readme_command("devops-audit scan . --format json=report.json --format terminal --target cd=1,sr=1 "
                              "--fail-on high --fail-on SR.BD.04 --offline", repo)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Gate:" in proc.stdout
    assert json.loads((repo / "report.json").read_text())["gate"]["exit_code"] == proc.returncode


def test_the_quickstart_scan_prints_what_the_readme_shows():
    command = snippet("quickstart").strip().split(" && ")[-1]
    root = Path(__file__).resolve().parent.parent
    proc = run_readme_command(command + " --color never", root)
    assert proc.returncode == 1  # the README's example output ends with a failed gate
    printed = " ".join(proc.stdout.split())  # the terminal wraps long lines where the README does not
    for line in snippet("example-output").splitlines():
        if line.strip() in ("", "..."):
            continue
        assert " ".join(line.split()).removesuffix(" ...") in printed, line


def test_the_configuration_example_is_accepted_and_applied(tmp_path):
    repo = repository(tmp_path, "ubuntu-latest")
    write(repo, {".devops-audit.yml": snippet("config"), "policies/acme.yaml": snippet("policy-example"),
                 "legacy/old.py": "print('old')\n", "deploy.sh": "acme-deploy --prod\n"})
    proc = run_readme_command("devops-audit scan . -f json", repo)
    assert proc.returncode in (0, 1), proc.stderr  # a valid config: the gate decides, no usage error
    report = json.loads(proc.stdout)
    verdicts = {v["id"]: v for v in report["indicators"]}
    assert "ACME.CI.01" in verdicts and "CD.VC.04" not in verdicts  # policies: added, disable: applied
    assert verdicts["CD.TM.02"]["params"]["min_line_coverage"] == 0.8
    assert [a["target"] for a in report["areas"]] == [3, 2]
