"""The GitLab CI/CD component: spec header, the job our own GitLab parser sees, its reports, its script."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from doc_snippets import snippet
from gate_support import gate_repo

from devops_audit.classify import default_classifier
from devops_audit.collectors.ci import gitlab_ci
from devops_audit.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "devops-audit.yml"


def _documents() -> list:
    return list(yaml.safe_load_all(TEMPLATE.read_text()))


def _interpolated(inputs: dict[str, object]) -> dict:
    """What GitLab does with `$[[ inputs.x ]]` in the parsed configuration: defaults, overridden by inputs."""
    header, body = _documents()
    values = {name: inputs.get(name, entry.get("default", "")) for name, entry in header["spec"]["inputs"].items()}
    pattern = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")

    def walk(node):
        if isinstance(node, dict):
            return {walk(k): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            whole = pattern.fullmatch(node)
            return values[whole.group(1)] if whole else pattern.sub(lambda m: str(values[m.group(1)]), node)
        return node

    return walk(body)


def test_spec_header_declares_the_inputs():
    spec = _documents()[0]["spec"]["inputs"]
    assert set(spec) >= {"stage", "path", "targets", "formats", "fail-on", "python-image"}
    assert all("description" in entry and "default" in entry for entry in spec.values())


def test_our_gitlab_parser_skips_the_header_and_sees_one_job(tmp_path):
    workspace = Workspace(ROOT)
    parsed = gitlab_ci.parse(workspace, "templates/devops-audit.yml", default_classifier())
    assert [e.status for e in parsed.inventory] == ["parsed"]
    (job,) = [j for p in parsed.pipelines for j in p.jobs]
    assert job.id == "devops-audit" and job.timeout_minutes == 15
    assert job.stage == "$[[ inputs.stage ]]" and job.image == "$[[ inputs.python-image ]]"
    assert any("devops-audit \"$@\"" in step.run for step in job.steps)


def test_interpolated_component_parses_with_the_given_inputs(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    config = {"stages": ["build", "audit"], **_interpolated({"stage": "audit"})}
    (repo / ".gitlab-ci.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    parsed = gitlab_ci.parse(Workspace(repo), ".gitlab-ci.yml", default_classifier())
    (job,) = [j for p in parsed.pipelines for j in p.jobs]
    assert (job.stage, job.image) == ("audit", "python:3.12-slim")


def test_reports_are_published_even_when_the_gate_fails():
    job = _documents()[1]["devops-audit"]
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert set(artifacts["reports"]) == {"codequality", "sast", "junit"}
    script = "\n".join(job["script"])
    for path in artifacts["reports"].values():
        assert path.split("/", 1)[1] in script
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert "$[[" not in script  # inputs reach the script through variables only


def test_documented_include_uses_only_declared_inputs():
    include = yaml.safe_load(snippet("gitlab-include"))["include"][0]
    assert include["component"].endswith("/devops-audit@0.1.0")
    assert set(include["inputs"]) <= set(_documents()[0]["spec"]["inputs"])


@pytest.mark.skipif(not shutil.which("devops-audit") or not shutil.which("sh"), reason="needs devops-audit and sh")
def test_job_script_writes_the_three_reports(tmp_path):
    """Run the job's scan script with POSIX sh, as the runner would (the pip install line left out)."""
    repo = gate_repo(tmp_path)
    job = _interpolated({"targets": "cd=1,sr=1", "fail-on": "critical", "formats": "markdown",
                         "extra-args": "--offline $(touch pwned)"})["devops-audit"]
    env = {**os.environ, **{k: str(v) for k, v in job["variables"].items()}, "DEVOPS_AUDIT_PATH": str(repo)}
    run = subprocess.run(["sh", "-c", job["script"][1]], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and "unrecognized arguments: $(touch pwned)" in run.stderr
    assert not (tmp_path / "pwned").exists()
    job = _interpolated({"targets": "cd=1,sr=1", "fail-on": "critical,CD.CI.04", "formats": "markdown"})["devops-audit"]
    env = {**os.environ, **{k: str(v) for k, v in job["variables"].items()}, "DEVOPS_AUDIT_PATH": str(repo)}
    run = subprocess.run(["sh", "-c", job["script"][1]], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1, run.stderr  # CD.CI.04 fails in the fixture
    for path in [*job["artifacts"]["reports"].values(), "devops-audit-reports/devops-audit.markdown"]:
        assert (tmp_path / path).stat().st_size > 0, path
