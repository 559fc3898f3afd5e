"""Each repository-file and pipeline indicator on realistic fixtures: a passing and a failing repository."""

from __future__ import annotations

import pytest
from conftest import make_git_repo
from helpers import FIXTURES, scan_dict, verdicts, write

# indicators the well-run example passes and the legacy service fails
PASS_AND_FAIL = [
    "CD.VC.01", "CD.VC.04", "CD.VC.06", "CD.CM.03", "CD.BP.02", "CD.BP.03", "CD.BP.04", "CD.CI.04",
    "CD.TM.01", "CD.TM.05", "CD.TM.06", "CD.DR.02", "CD.DR.03", "CD.DR.04",
    "SR.TC.01", "SR.TC.02", "SR.TC.03", "SR.3P.01", "SR.3P.02", "SR.BD.02", "SR.BD.03", "SR.BD.04", "SR.BD.05",
]


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    repo = make_git_repo(FIXTURES / "example", tmp_path_factory.mktemp("ex") / "example")
    return verdicts(scan_dict(repo))


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    repo = make_git_repo(FIXTURES / "legacy-service", tmp_path_factory.mktemp("lg") / "legacy")
    return verdicts(scan_dict(repo))


@pytest.mark.parametrize("indicator_id", PASS_AND_FAIL)
def test_example_passes(example, indicator_id):
    verdict = example[indicator_id]
    assert verdict["status"] == "pass", verdict["message"]


@pytest.mark.parametrize("indicator_id", PASS_AND_FAIL)
def test_legacy_fails(legacy, indicator_id):
    verdict = legacy[indicator_id]
    assert verdict["status"] == "fail", verdict["message"]
    assert verdict["locations"], "a failure points somewhere"


def test_committed_binaries_are_located(legacy):
    paths = {v["path"] for v in legacy["CD.VC.01"]["violations"]}
    assert {"dist/app.tgz", "lib/tool.jar", ".gitignore"} <= paths


def test_script_injection_and_pr_head_checkout_are_located(legacy):
    violations = legacy["SR.BD.04"]["violations"]
    assert [(v["line"], v["message"]) for v in violations] == [
        (17, "${{ github.event.pull_request.title }} is an arbitrary string set by an attacker and expanded into "
             "a script (script injection)"),
        (12, "a pull_request_target workflow (.github/workflows/build.yml:6) checks out the untrusted head "
             "`${{ github.event.pull_request.head.sha }}`, keeps the token in .git/config (`persist-credentials`), "
             "with the default token permissions"),
    ]
    assert all(v["path"] == ".github/workflows/build.yml" for v in violations)


def test_unpinned_references_are_each_reported(legacy):
    messages = sorted(v["message"] for v in legacy["SR.BD.03"]["violations"])
    assert messages == ["action actions/checkout@v4 is not pinned to a commit SHA",
                        "action actions/checkout@v4 is not pinned to a commit SHA",
                        "action actions/setup-node@main is not pinned to a commit SHA"]


def test_timeouts_name_each_job(legacy):
    assert sorted(v["locator"] for v in legacy["CD.CI.04"]["violations"]) == ["jobs.build", "jobs.deploy-prod"]


def test_production_deploy_without_gate(legacy):
    (violation,) = legacy["CD.DR.03"]["violations"]
    assert violation["message"] == "production deploy job deploy-prod has no environment or manual gate"


def test_build_and_deploy_indicators_pass_on_both(example, legacy):
    for indicator_id in ("CD.BP.01", "CD.DR.01", "CD.VC.02"):
        assert example[indicator_id]["status"] == "pass"
        assert legacy[indicator_id]["status"] == "pass"


def test_iac_scanning_applies_only_where_iac_exists(example, legacy):
    assert example["SR.TC.05"]["status"] == "pass"
    assert legacy["SR.TC.05"]["status"] == "not_applicable"


def test_iac_without_scanner_fails(tmp_path):
    write(tmp_path, {"main.tf": 'resource "aws_s3_bucket" "b" {}\n',
                     ".github/workflows/ci.yml": "on: push\njobs:\n  plan:\n    runs-on: x\n    steps:\n      - run: terraform plan\n"})
    assert verdicts(scan_dict(tmp_path))["SR.TC.05"]["status"] == "fail"


def test_no_ci_makes_pipeline_indicators_unknown_and_versioning_fail(tmp_path):
    write(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n", "tests/test_x.py": "def test(): pass\n"})
    report = verdicts(scan_dict(tmp_path))
    assert report["CD.BP.01"]["status"] == "unknown"
    assert "no CI configuration found" in report["CD.BP.01"]["message"]
    assert report["CD.VC.02"]["status"] == "fail"


def test_locked_ecosystems_and_hashed_requirements(tmp_path):
    write(tmp_path, {"requirements.txt": "flask==3.0.3 \\\n    --hash=sha256:34e815dfaa43340d1d15a5c3a02b8476004037eb4840b34910c6e21679d288f3\n",
                     "package.json": "{}", "package-lock.json": "{}", "go.mod": "module x\n"})
    violations = verdicts(scan_dict(tmp_path))["CD.VC.06"]["violations"]
    assert [v["locator"] for v in violations] == ["go"]


def test_dependabot_must_cover_each_ecosystem(tmp_path):
    write(tmp_path, {"package.json": "{}", "go.mod": "module x\n",
                     ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n"})
    violations = verdicts(scan_dict(tmp_path))["SR.3P.01"]["violations"]
    assert [v["message"] for v in violations] == ["dependency updates do not cover the go ecosystem (gomod)"]


def test_precommit_secret_hook_counts_as_secret_scanning(tmp_path):
    write(tmp_path, {".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/gitleaks/gitleaks\n"
                                                "    rev: v8.21.2\n    hooks:\n      - id: gitleaks\n"})
    assert verdicts(scan_dict(tmp_path))["SR.TC.03"]["status"] == "pass"


def test_parameter_override_from_config_changes_the_verdict(tmp_path):
    repo = make_git_repo(FIXTURES / "legacy-service", tmp_path / "legacy")
    write(repo, {".devops-audit.yml": "params:\n  SR.BD.03: {allow_first_party: true}\n"})
    violations = verdicts(scan_dict(repo))["SR.BD.03"]["violations"]
    assert violations == []


def test_lint_only_path_filtered_ci_fails_build_integration_and_release(tmp_path):
    write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'docs-site'\n",
        ".github/workflows/docs.yml": (
            "on:\n  push:\n    branches: [main]\n    paths: ['docs/**']\npermissions: {}\njobs:\n"
            "  lint:\n    runs-on: ubuntu-24.04\n    timeout-minutes: 5\n    steps:\n      - run: ruff check docs\n"),
    })
    report = verdicts(scan_dict(tmp_path))
    for indicator_id in ("CD.BP.01", "CD.CI.01", "CD.DR.01"):
        assert report[indicator_id]["status"] == "fail", indicator_id
        assert report[indicator_id]["locations"] == [{"path": ".github/workflows/docs.yml", "line": 1}]
    assert report["CD.CI.04"]["status"] == "pass"


@pytest.mark.parametrize(("call", "status", "message"), [
    ("buildPlugin(timeout: 360, configurations: [[platform: 'linux', jdk: 21]])", "fail",
     "job buildPlugin times out after 360 min, over 30"),
    ("buildPlugin(timeout: 20)", "pass", ""),
    ("buildPlugin(useContainerAgent: true)", "pass", ""),  # the library's own default: not visible, not judged
])
def test_a_library_build_is_judged_by_the_timeout_it_names(tmp_path, call, status, message):
    write(tmp_path, {"Jenkinsfile": call + "\n", "pom.xml": "<project/>\n"})
    verdict = verdicts(scan_dict(tmp_path, offline=True))["CD.CI.04"]
    assert verdict["status"] == status
    assert [v["message"] for v in verdict["violations"]] == ([message] if message else [])


@pytest.mark.parametrize(("uses", "status"), [
    ("./", "pass"),  # the action itself
    ("./test", "pass"),  # the action checked out again (gh-action-pypi-publish's smoke test)
    ("./.github/actions/setup", "fail"),  # a local helper action: setup, not the action under test
])
def test_a_github_action_is_tested_by_the_workflows_that_run_it(tmp_path, uses, status):
    write(tmp_path, {
        "action.yml": "name: x\nruns: {using: docker, image: Dockerfile}\n",
        ".github/workflows/smoke.yml": f"on: [push, pull_request]\njobs:\n  smoke:\n    runs-on: x\n"
                                       f"    steps:\n      - uses: actions/checkout@v4\n      - uses: {uses}\n",
    })
    report = scan_dict(tmp_path, offline=True)
    assert verdicts(report)["CD.TM.01"]["status"] == status
    assert ("action-tests" in report["project"]["traits"]) is (status == "pass")
