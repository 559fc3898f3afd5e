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
    """Run the job's scan script with POSIX sh, as the runner would (the before_script, which installs git and the package, left out)."""
    repo = gate_repo(tmp_path)
    job = _interpolated({"targets": "cd=1,sr=1", "fail-on": "critical", "formats": "markdown",
                         "extra-args": "--offline $(touch pwned)"})["devops-audit"]
    env = {**os.environ, **{k: str(v) for k, v in job["variables"].items()}, "DEVOPS_AUDIT_PATH": str(repo)}
    run = subprocess.run(["sh", "-c", job["script"][0]], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and "unrecognized arguments: $(touch pwned)" in run.stderr
    assert not (tmp_path / "pwned").exists()
    job = _interpolated({"targets": "cd=1,sr=1", "fail-on": "critical,CD.CI.04", "formats": "markdown"})["devops-audit"]
    env = {**os.environ, **{k: str(v) for k, v in job["variables"].items()}, "DEVOPS_AUDIT_PATH": str(repo)}
    run = subprocess.run(["sh", "-c", job["script"][0]], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1, run.stderr  # CD.CI.04 fails in the fixture
    for path in [*job["artifacts"]["reports"].values(), "devops-audit-reports/devops-audit.markdown"]:
        assert (tmp_path / path).stat().st_size > 0, path


def _before_script(index: int) -> str:
    return _documents()[1]["devops-audit"]["before_script"][index]


def _sandbox(tmp_path: Path, *, apt: bool = True) -> tuple[Path, dict[str, str]]:
    """A PATH with a shell's basics but no git, like python:3.12-slim; a fake apt-get installs a git shim."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "cat", "mkdir", "chmod", "ln"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    if apt:
        (bin_dir / "apt-get").write_text(
            f'#!{shutil.which("sh")}\necho "apt-get $*" >> {tmp_path}/apt.log\n'
            f'case "$1" in install) ln -s {shutil.which("git")} {bin_dir}/git ;; esac\n')
        (bin_dir / "apt-get").chmod(0o755)
    return bin_dir, {"PATH": str(bin_dir), "CI_JOB_IMAGE": "python:3.12-slim"}


@pytest.mark.skipif(not shutil.which("git") or not shutil.which("sh"), reason="needs git and sh")
def test_the_job_installs_git_when_the_image_lacks_it(tmp_path):
    assert _interpolated({})["devops-audit"]["image"] == "python:3.12-slim"  # Debian slim: no git, has apt-get
    bin_dir, env = _sandbox(tmp_path)
    run = subprocess.run([shutil.which("sh"), "-c", _before_script(0)], env=env, capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "install -y -qq --no-install-recommends git" in (tmp_path / "apt.log").read_text()
    assert (bin_dir / "git").exists()


@pytest.mark.skipif(not shutil.which("sh"), reason="needs sh")
def test_an_image_without_git_or_a_package_manager_stops_with_exit_3(tmp_path):
    _, env = _sandbox(tmp_path, apt=False)
    run = subprocess.run([shutil.which("sh"), "-c", _before_script(0)], env=env, capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 3
    assert "python:3.12-slim has no git" in run.stdout


@pytest.mark.skipif(not shutil.which("git") or not shutil.which("sh"), reason="needs git and sh")
def test_a_branch_pipeline_judges_the_history_of_ci_default_branch(tmp_path):
    from conftest import git

    from devops_audit.scan import ScanOptions, run_scan

    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(origin, "commit", "-q", "--allow-empty", "-m", "Initial commit")
    git(origin, "checkout", "-q", "-b", "feature/x")
    git(origin, "commit", "-q", "--allow-empty", "-m", "Work in progress")
    # what the GitLab runner does on a branch pipeline: fetch only the branch under test, detached HEAD
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    git(work, "remote", "add", "origin", str(origin))
    git(work, "fetch", "-q", "origin", "+refs/heads/feature/x:refs/remotes/origin/feature/x")
    git(work, "checkout", "-q", "--detach", "origin/feature/x")
    assert run_scan(work, ScanOptions()).facts["history"]["default_branch"] != "main"  # before: guessed wrong
    env = {**os.environ, "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_BRANCH": "feature/x",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    run = subprocess.run(["sh", "-c", _before_script(1)], cwd=work, env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    history = run_scan(work, ScanOptions()).facts["history"]
    assert (history["default_branch"], history["branch_source"]) == ("main", "origin/HEAD")


def test_inputs_say_python_3_11_and_the_package_is_pinned_to_this_release():
    import tomllib

    spec = _documents()[0]["spec"]["inputs"]
    assert "3.11 or later" in spec["python-image"]["description"] and "3.10" not in TEMPLATE.read_text()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert spec["package"]["default"] == f"devops-audit=={version}"
    job = _documents()[1]["devops-audit"]
    assert any("python -P -m pip install" in line for line in job["before_script"])
