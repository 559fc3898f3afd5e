"""Issue 13 class 9: a pull request cannot loosen the gate that judges it.

The pull request edits `.devops-audit.yml` (a waiver, a disabled indicator, lower targets) and the policy file
it names. `scan --config-ref main` reads both from the base branch through git, gates on them, and the report
says what the change does to the gate's own configuration.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from hostile_repos import commit, example_repo, inventory, payload, scan_cli, set_config, statuses

from devops_audit.errors import TargetError

ROOT = Path(__file__).resolve().parents[2]

POLICY = """\
indicators:
  - id: CD.VC.91
    name: house-rule
    title: House rule
    area: CD
    domain: VC
    level: 1
    severity: high
    description: A rule of this organisation.
    remediation: Follow it.
    references: {{}}
    evidence: [repo]
    assert: {expr}
"""
BASE_CONFIG = "policies: [gate-policies]\nfail_on: {indicators: [CD.VC.91]}\n"
PR_CONFIG = f"""{BASE_CONFIG}targets: {{cd: 1, sr: 1}}
disable: [SR.DS.01]
waivers:
  - {{indicator: CD.VC.05, reason: later, owner: dev, expires: "2099-01-01"}}
"""


@pytest.fixture
def pull_request(tmp_path):
    """`main` holds the gate's config and policy; the checked-out branch `pr` loosens both."""
    repo = example_repo(tmp_path / "repo")
    commit(repo, {".devops-audit.yml": BASE_CONFIG,
                  "gate-policies/house.yaml": POLICY.format(expr="repo.file_count > 100000")}, "Gate (#2)")
    git(repo, "checkout", "-q", "-b", "pr")
    commit(repo, {".devops-audit.yml": PR_CONFIG, "gate-policies/house.yaml": POLICY.format(expr="'true'")},
           "Loosen the gate (#3)")
    return repo


def test_the_pull_requests_own_config_would_loosen_the_gate(pull_request):
    code, _, _, report = scan_cli(pull_request)

    found = statuses(report)
    assert found["CD.VC.91"] == "pass" and "SR.DS.01" not in found  # control: the attack works without the flag
    assert code == 0


def test_config_ref_gates_on_the_base_branch_and_names_the_change(pull_request):
    code, out, err, report = scan_cli(pull_request, "--config-ref", "main")

    found = statuses(report)
    assert code == 1, err
    assert found["CD.VC.91"] == "fail"  # the base's policy file, read from git
    assert "SR.DS.01" in found
    waived = {v["id"]: v["waiver"] for v in report["indicators"]}
    assert not waived["CD.VC.05"]
    [entry] = inventory(report, ".devops-audit.yml")
    assert entry["status"] == "skipped"
    assert "this change modifies the gate's own configuration" in entry["reason"]
    for words in ("waivers added: CD.VC.05", "indicators disabled: SR.DS.01", "target CD changed from default to 1",
                  "target SR changed from default to 1", "policy files changed", "configuration of main was used"):
        assert words in entry["reason"]
    assert "this change modifies the gate's own configuration" in out


def test_unchanged_config_is_said_to_be_the_same(pull_request):
    git(pull_request, "checkout", "-q", "main")

    code, _, err, report = scan_cli(pull_request, "--config-ref", "main")

    assert report is not None, err
    [entry] = inventory(report, ".devops-audit.yml")
    assert code == 1 and entry["status"] == "parsed" and "the working tree's is the same" in entry["reason"]


def test_a_missing_ref_is_a_usage_error(pull_request):
    code, out, err, report = scan_cli(pull_request, "--config-ref", "origin/main")

    assert code == 2 and report is None
    assert len(err.strip().splitlines()) == 1 and "no such commit" in err and "git fetch" in err


def test_config_and_config_ref_exclude_each_other(pull_request):
    code, _, err, _ = scan_cli(pull_request, "--config-ref", "main", "--config", str(pull_request / "x.yml"))

    assert code == 2 and "exclude each other" in err


@pytest.mark.parametrize("files, words", [
    ({"gate-policies/house.yaml": None}, "not a regular file"),
    ({".devops-audit.yml": "policies: [../outside]\n"}, "outside the repository"),
])
def test_the_refs_config_is_confined_like_a_working_tree_config(tmp_path, files, words):
    repo = example_repo(tmp_path / "repo")
    commit(repo, {".devops-audit.yml": BASE_CONFIG}, "Gate (#2)")
    (repo / "gate-policies").mkdir()
    for rel, text in files.items():
        if text is None:
            (repo / rel).symlink_to("/etc/hostname")
        else:
            (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Hostile base (#3)")

    code, _, err, _ = scan_cli(repo, "--config-ref", "HEAD")

    assert code == 3 and words in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(not shutil.which("devops-audit"), reason="devops-audit is not installed in this environment")
def test_the_action_fetches_the_base_branch_and_gates_on_its_config(pull_request, tmp_path):
    checkout = tmp_path / "checkout"  # what actions/checkout leaves: the PR branch, no base branch ref
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{pull_request}", str(checkout))
    git(checkout, "update-ref", "-d", "refs/remotes/origin/main")
    output = tmp_path / "github_output"
    env = {**os.environ, "GITHUB_OUTPUT": str(output), "PYTHON": sys.executable, "INPUT_PATH": str(checkout),
           "INPUT_OUTPUT_DIR": str(tmp_path / "reports"), "INPUT_CONFIG_REF": "main",
           "DEVOPS_AUDIT": shutil.which("devops-audit"), "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(["bash", str(ROOT / "scripts" / "action-run.sh")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stdout + run.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs["passed"] == "false" and outputs["exit-code"] == "1"  # the base's gate, not the PR's
    report = json.loads((tmp_path / "reports" / "devops-audit.json").read_text())
    assert statuses(report)["CD.VC.91"] == "fail"
    assert "this change modifies the gate's own configuration" in inventory(report, ".devops-audit.yml")[0]["reason"]


@pytest.mark.skipif(not shutil.which("devops-audit") or not shutil.which("sh"), reason="needs devops-audit and sh")
def test_the_gitlab_component_uses_the_target_branch_on_merge_requests(pull_request, tmp_path):
    from test_gitlab_component import _interpolated

    checkout = tmp_path / "checkout"  # a merge-request pipeline's clone: the source branch only
    git(tmp_path, "clone", "-q", "--branch", "pr", f"file://{pull_request}", str(checkout))
    git(checkout, "update-ref", "-d", "refs/remotes/origin/main")
    job = _interpolated({"formats": "json"})["devops-audit"]
    env = {**os.environ, **{k: str(v) for k, v in job["variables"].items()}, "DEVOPS_AUDIT_PATH": str(checkout),
           "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(["sh", "-c", job["script"][-1]], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)

    assert run.returncode == 1, run.stdout + run.stderr  # the target branch's gate fails the change
    report = json.loads((tmp_path / "devops-audit-reports" / "devops-audit.json").read_text())
    assert statuses(report)["CD.VC.91"] == "fail"
    assert "this change modifies the gate's own configuration" in run.stdout


# -- the base branch's config is read in-process (GitPython's pure-Python object database): no git runs ------------

NO_PROCESS = """\
import os, subprocess, sys
def refuse(*args, **kwargs):
    raise AssertionError(f"a process was started: {args[:1]}")
subprocess.Popen.__init__ = refuse
os.fork = os.posix_spawn = os.posix_spawnp = os.execv = os.execve = refuse
from devops_audit.config_ref import load_config_at_ref
from devops_audit.workspace import Workspace
config = load_config_at_ref(Workspace(sys.argv[1]), sys.argv[2])
import git
print(config.fail_on, config.disable, config.inventory[-1].reason, git.GIT_OK, sep="\\n")
"""


@pytest.mark.parametrize("ref", ["main", "pr~1", "v1", "refs/heads/main^{commit}"])
def test_reading_the_ref_starts_no_process(pull_request, ref, tmp_path):
    git(pull_request, "tag", "-a", "-m", "Release", "v1", "main")
    git(pull_request, "pack-refs", "--all")
    os.mkfifo(tmp_path / "config.fifo")
    set_config(pull_request, ("include.path", str(tmp_path / "config.fifo")))  # would block a config reader
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-c", NO_PROCESS, str(pull_request), ref], capture_output=True, text=True,
                         timeout=120, env=env)

    assert run.returncode == 0, run.stderr
    fail_on, disable, reason, git_ok = run.stdout.splitlines()
    assert "CD.VC.91" in fail_on and disable == "[]"  # the base's config, read without git
    assert "this change modifies the gate's own configuration" in reason
    assert git_ok == "False"  # GitPython in this process has no git it could start


def test_the_repositorys_git_config_runs_nothing(pull_request, tmp_path):
    planted = payload(tmp_path / "outside")
    set_config(pull_request, ("core.fsmonitor", str(planted.script)), ("core.pager", str(planted.script)),
               ("filter.lfs.smudge", str(planted.script)), ("filter.lfs.process", str(planted.script)),
               ("diff.textconv.textconv", str(planted.script)), ("gpg.program", str(planted.script)),
               ("log.showSignature", "true"), ("core.hooksPath", str(planted.script.parent)))
    (pull_request / ".gitattributes").write_text("*.yml filter=lfs diff=textconv\n*.yaml filter=lfs\n")
    (tmp_path / "outside" / "post-checkout").symlink_to(planted.script)
    subprocess.run(["git", "status"], cwd=pull_request, capture_output=True, env={
        **os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    assert planted.ran  # control: plain git runs the planted fsmonitor
    planted.reset()

    code, _, err, report = scan_cli(pull_request, "--config-ref", "main")

    assert not planted.ran, planted.marker.read_text()
    assert code == 1 and statuses(report)["CD.VC.91"] == "fail", err


def test_inherited_git_location_variables_do_not_redirect_the_read(pull_request, tmp_path, monkeypatch):
    from devops_audit.config_ref import load_config_at_ref
    from devops_audit.workspace import Workspace

    other = example_repo(tmp_path / "other")
    commit(other, {".devops-audit.yml": "disable: [CD.VC.05]\n"}, "Other gate")
    for name in ("GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE"):
        monkeypatch.setenv(name, str(other / ".git"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(other / ".git" / "objects"))

    config = load_config_at_ref(Workspace(pull_request), "main")

    assert config.disable == [] and config.fail_on == {"indicators": ["CD.VC.91"]}


@pytest.mark.parametrize("ref", ["main:.devops-audit.yml", ":/Gate", "main@{0}", "main^{/Gate}", "../../main"])
def test_ref_forms_that_need_git_or_leave_the_repository_are_unknown_refs(pull_request, ref):
    code, _, err, report = scan_cli(pull_request, "--config-ref", ref)

    assert code == 2 and report is None and "no such commit" in err


def test_an_oversized_config_blob_is_refused(tmp_path):
    repo = example_repo(tmp_path / "repo")
    commit(repo, {".devops-audit.yml": "# padding\n" * 120_000}, "Huge gate (#2)")

    code, _, err, _ = scan_cli(repo, "--config-ref", "HEAD")

    assert code == 3 and "over 1024 KiB; refused" in err and len(err.strip().splitlines()) == 1


def test_a_ref_file_that_is_a_fifo_is_refused_not_waited_on(pull_request):
    os.mkfifo(pull_request / ".git" / "refs" / "heads" / "stuck")

    code, _, err, _ = scan_cli(pull_request, "--config-ref", "stuck")

    assert code == 3 and "not a regular file" in err


def test_a_small_blob_stored_as_a_delta_of_a_large_base_is_refused_before_decompression(tmp_path, monkeypatch):
    from devops_audit import gitobjects

    repo = example_repo(tmp_path / "repo")
    base = "".join(f"policy line {i} {i * 7919 % 10007}\n" for i in range(150))
    commit(repo, {".devops-audit.yml": base}, "Large config")
    commit(repo, {".devops-audit.yml": base[:600]}, "Small config")
    git(repo, "gc", "-q", "--aggressive")
    monkeypatch.setattr(gitobjects, "MAX_OBJECT_BYTES", 2048)  # the small blob fits, its delta base does not
    objects = gitobjects.GitObjects(repo / ".git", repo / ".git")
    [small] = objects.entries(objects.commit("HEAD"), ".devops-audit.yml", 10)
    [large] = objects.entries(objects.commit("HEAD~1"), ".devops-audit.yml", 10)

    with pytest.raises(TargetError, match="delta chain link over"):
        objects.read_blob(small.hexsha, 1024)
    with pytest.raises(TargetError, match="over"):
        objects.read_blob(large.hexsha, 1024 * 1024)
