"""The GitHub Action as a fork's pull request meets it: locked installs, its own code, no upload it cannot do."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from gate_support import gate_repo

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "action-run.sh"
REQUIREMENTS = ROOT / "scripts" / "action-requirements.txt"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def pull_request_event(head: str, base: str = "acme/app", fork: bool = True) -> dict:
    """The fields of a `pull_request` webhook payload the script reads (the shape GitHub sends)."""
    return {"action": "opened", "number": 7, "pull_request": {
        "number": 7,
        "head": {"ref": "patch-1", "sha": "a" * 40, "repo": {"full_name": head, "fork": fork}},
        "base": {"ref": "main", "sha": "b" * 40, "repo": {"full_name": base, "fork": False}}}}


def run_action(tmp_path: Path, event: dict | None, **inputs: str):
    """The scan step as the runner starts it, with devops-audit run from the action's folder (no DEVOPS_AUDIT)."""
    gate_repo(tmp_path)
    output, summary, payload = tmp_path / "github_output", tmp_path / "step_summary", tmp_path / "event.json"
    output.write_text("")
    summary.write_text("")
    payload.write_text(json.dumps(event or {}))
    env = {k: v for k, v in os.environ.items() if k not in ("DEVOPS_AUDIT", "PYTHONPATH")}
    env.update({"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "PYTHON": sys.executable,
                "ACTION_PATH": str(ROOT), "GITHUB_EVENT_NAME": "pull_request" if event else "push",
                "GITHUB_EVENT_PATH": str(payload), "INPUT_PATH": "repo", "INPUT_OUTPUT_DIR": "reports",
                "INPUT_TARGETS": "cd=1,sr=1", **{f"INPUT_{k.upper()}": v for k, v in inputs.items()}})
    run = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return run, outputs


def test_a_fork_pull_request_scans_but_does_not_try_to_upload(tmp_path):
    run, outputs = run_action(tmp_path, pull_request_event("mallory/app"))
    assert run.returncode == 0, run.stderr
    assert outputs["upload-sarif"] == "false" and outputs["exit-code"] == "0"
    assert "::notice title=devops-audit::pull request from a fork" in run.stdout
    assert (tmp_path / outputs["sarif"]).is_file()


def test_a_pull_request_from_the_same_repository_uploads(tmp_path):
    run, outputs = run_action(tmp_path, pull_request_event("acme/app", fork=False))
    assert run.returncode == 0, run.stderr
    assert outputs["upload-sarif"] == "true"
    assert "from a fork" not in run.stdout


def test_upload_can_still_be_switched_off(tmp_path):
    _, outputs = run_action(tmp_path, None, upload_sarif="false")
    assert outputs["upload-sarif"] == "false"


def test_the_scanned_repository_cannot_shadow_a_module_of_the_action(tmp_path):
    marker = tmp_path / "pwned"
    for module in ("json.py", "devops_audit/__init__.py", "devops_audit/__main__.py", "yaml.py"):
        target = tmp_path / module
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    run, outputs = run_action(tmp_path, pull_request_event("mallory/app"))
    assert run.returncode == 0, run.stderr
    assert not marker.exists()
    assert outputs["passed"] == "true"


def test_the_upload_step_obeys_the_fork_decision_and_the_install_is_locked():
    steps = ACTION["runs"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert "steps.scan.outputs.upload-sarif == 'true'" in upload["if"]
    install = next(s for s in steps if s.get("name", "").startswith("Install"))
    command = " ".join(install["run"].split())
    assert "python -P -m pip install" in command and "--require-hashes" in command
    assert "scripts/action-requirements.txt" in command
    assert not re.search(r"pip install [^-]*\$ACTION_PATH\"?\s*$", command)  # never resolves unpinned versions


def _lock_packages() -> dict[str, dict]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {p["name"]: p for p in lock["package"]}


def _requirements() -> dict[str, tuple[str, set[str]]]:
    text = REQUIREMENTS.read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, version = line.split()[0].split("==")
            pins[name] = (version, set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", line)))
    return pins


def test_the_action_requirements_are_the_locked_runtime_dependencies_with_their_hashes():
    packages, pins = _lock_packages(), _requirements()
    project = packages["devops-audit"]
    closure, queue = set(), [d["name"] for d in project.get("dependencies", [])]
    while queue:  # the runtime closure of devops-audit in uv.lock (no extras, no dev groups)
        name = queue.pop()
        if name not in closure:
            closure.add(name)
            queue.extend(d["name"] for d in packages[name].get("dependencies", []))
    assert set(pins) == closure
    for name, (version, hashes) in pins.items():
        locked = packages[name]
        assert version == locked["version"], name
        files = [*locked.get("wheels", []), *([locked["sdist"]] if "sdist" in locked else [])]
        assert hashes and hashes == {f["hash"] for f in files}, name


@pytest.mark.skipif(not shutil.which("uv"), reason="uv is not installed")
def test_the_action_requirements_are_what_uv_exports(tmp_path):
    command = REQUIREMENTS.read_text().splitlines()[2].lstrip("# ").split()
    out = tmp_path / "req.txt"
    command[command.index("-o") + 1] = str(out)
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=120)
    body = "\n".join(line for line in REQUIREMENTS.read_text().splitlines() if not line.startswith("#"))
    assert out.read_text().strip() == body.strip()


def test_the_lock_holds_every_runtime_dependency_the_package_declares():
    """A dependency added to pyproject.toml without `uv lock` would be missing from the Action's install."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in declared}
    locked = {d["name"] for d in _lock_packages()["devops-audit"].get("dependencies", [])}
    assert names == locked
