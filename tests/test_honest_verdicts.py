"""Honest verdicts on realistic repositories (issue 11, items 1-3): a violation decides whatever other evidence
lacks, an unreadable file only changes what it could have changed, and indicators judge the kind of project."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import git, make_git_repo
from helpers import FIXTURES, scan_dict, verdicts, write

WORKFLOW = """\
name: {name}
on:
  push:
  pull_request:
  schedule: [{{cron: "0 3 * * *"}}]
permissions: {{contents: read}}
jobs:
  build:
    runs-on: ubuntu-24.04
    timeout-minutes: 15
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - run: python -m build
      - run: ruff check .
      - run: pytest -q
"""


def gitlab_repo(tmp_path, allow_failure: bool):
    return write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'calc'\nversion = '1.0'\n",
        "tests/test_calc.py": "def test_add():\n    assert 1 + 1 == 2\n",
        ".gitlab-ci.yml": (
            "stages: [test]\n"
            "unit-tests:\n"
            "  stage: test\n"
            "  image: python:3.12-slim\n"
            f"  allow_failure: {'true' if allow_failure else 'false'}\n"
            "  script:\n    - pytest -q\n"),
    })


def test_a_test_job_allowed_to_fail_fails_the_quality_gate_without_any_protection_evidence(tmp_path):
    report = scan_dict(gitlab_repo(tmp_path, allow_failure=True), offline=True)
    ci03 = verdicts(report)["CD.CI.03"]
    assert ci03["status"] == "fail"
    assert "no-silent-failures: test or lint jobs may fail without failing the pipeline" in ci03["message"]
    assert [(v["path"], v["line"]) for v in ci03["violations"]] == [(".gitlab-ci.yml", 2)]
    parts = {p["id"]: p["status"] for p in ci03["parts"]}
    assert parts == {"no-silent-failures": "fail", "required-checks": "unknown"}


def test_without_the_violation_the_missing_protection_evidence_makes_it_unknown(tmp_path):
    ci03 = verdicts(scan_dict(gitlab_repo(tmp_path, allow_failure=False), offline=True))["CD.CI.03"]
    assert ci03["status"] == "unknown"
    assert "required-checks: Missing protection evidence" in ci03["message"]


@pytest.fixture(scope="module")
def twenty_and_one(tmp_path_factory):
    """Twenty good workflows and one that does not parse, in a real git repository."""
    root = tmp_path_factory.mktemp("many") / "repo"
    files = {f".github/workflows/ci-{n:02d}.yml": WORKFLOW.format(name=f"ci {n}") for n in range(20)}
    files[".github/workflows/broken.yml"] = "on: [push\njobs: {\n"
    files.update({"pyproject.toml": "[project]\nname = 'calc'\nversion = '1.0'\n[tool.ruff]\n",
                  "tests/test_calc.py": "def test_add():\n    assert 1 + 1 == 2\n", ".gitignore": "dist/\n"})
    write(root, files)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial (#1)")
    return scan_dict(root, offline=True)


@pytest.mark.parametrize("indicator_id", ["CD.BP.01", "CD.BP.02", "CD.CM.03", "CD.CI.01", "CD.TM.01", "CD.TM.06"])
def test_what_the_readable_pipelines_prove_stays_pass(twenty_and_one, indicator_id):
    verdict = verdicts(twenty_and_one)[indicator_id]
    assert verdict["status"] == "pass", verdict["message"]
    assert ".github/workflows/broken.yml" in {e["path"] for e in verdict["evidence"]["unreadable"]}


@pytest.mark.parametrize("indicator_id", ["CD.CI.04", "SR.BD.02"])
def test_a_universal_claim_without_violation_becomes_error_naming_the_unreadable_file(twenty_and_one, indicator_id):
    verdict = verdicts(twenty_and_one)[indicator_id]
    assert verdict["status"] == "error"
    assert verdict["message"].startswith("Cannot confirm: evidence could not be read (.github/workflows/broken.yml")


def test_the_inventory_keeps_the_unreadable_file_with_its_reason(twenty_and_one):
    (entry,) = [e for e in twenty_and_one["inventory"] if e["path"] == ".github/workflows/broken.yml"]
    assert entry["status"] == "error" and entry["reason"]


def test_a_violation_in_the_readable_files_stays_fail(tmp_path):
    root = write(tmp_path, {
        ".github/workflows/ci.yml": WORKFLOW.format(name="ci").replace("    timeout-minutes: 15\n", ""),
        ".github/workflows/broken.yml": "on: [push\n", "pyproject.toml": "[project]\nname = 'x'\n"})
    ci04 = verdicts(scan_dict(root, offline=True))["CD.CI.04"]
    assert ci04["status"] == "fail"
    assert "job build sets no timeout" in [v["message"] for v in ci04["violations"]]
    assert "Also unreadable: .github/workflows/broken.yml" in ci04["message"]


LIBRARY = {
    "pyproject.toml": "[project]\nname = 'calc'\nversion = '1.0'\n",
    "src/calc/__init__.py": "def add(a, b):\n    return a + b\n",
    ".github/workflows/publish.yml": (
        "on: {push: {tags: ['v*']}}\npermissions: {contents: read}\njobs:\n  pypi:\n    runs-on: ubuntu-24.04\n"
        "    environment: pypi\n    permissions: {id-token: write}\n    steps:\n      - run: python -m build\n"
        "      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc\n"),
}


def test_a_library_is_not_asked_for_rollback_or_migrations(tmp_path):
    report = scan_dict(write(tmp_path, LIBRARY), offline=True)
    assert report["project"]["kind"] == "library" and report["project"]["source"] == "detected"
    reasons = {(r["trait"], r["path"]) for r in report["project"]["reasons"]}
    assert ("published", "pyproject.toml") in reasons
    assert ("published", ".github/workflows/publish.yml:4") in reasons
    by_id = verdicts(report)
    assert by_id["CD.DR.04"]["status"] == "not_applicable"
    assert by_id["CD.DR.04"]["message"].startswith("Nothing is deployed, so there is nothing to roll back. Project "
                                                   "profile: a library or package published to a registry (")
    assert by_id["CD.VC.04"]["status"] == "not_applicable"


SERVICE = {
    "pyproject.toml": "[project]\nname = 'shop'\nversion = '1.0'\n",
    "Dockerfile": "FROM python:3.12-slim\nCOPY . /app\nCMD [\"gunicorn\", \"shop.wsgi\"]\n",
    "alembic.ini": "[alembic]\nscript_location = migrations\n",
    "migrations/env.py": "from alembic import context\n",
    "migrations/versions/0001_init.py": "def upgrade():\n    pass\n\ndef downgrade():\n    pass\n",
    ".github/workflows/deploy.yml": (
        "on: {push: {branches: [main]}}\npermissions: {contents: read}\njobs:\n  deploy:\n    runs-on: ubuntu-24.04\n"
        "    environment: production\n    steps:\n      - run: helm upgrade --install shop ./chart\n"),
}


def test_a_service_is_judged_on_rollback_and_database_migrations(tmp_path):
    report = scan_dict(write(tmp_path, SERVICE), offline=True)
    assert report["project"]["kind"] == "service"
    assert {"deployable", "database", "published"} <= set(report["project"]["traits"])
    by_id = verdicts(report)
    assert by_id["CD.DR.04"]["status"] == "fail"
    parts = {p["id"]: p["status"] for p in by_id["CD.VC.04"]["parts"]}
    assert parts == {"migrations": "pass", "env-config": "fail"}


def test_the_configuration_overrides_the_detected_kind_and_the_report_says_so(tmp_path):
    root = write(tmp_path, {**SERVICE, ".devops-audit.yml": "project: {kind: library, database: false}\n"})
    report = scan_dict(root, offline=True)
    assert (report["project"]["kind"], report["project"]["source"]) == ("library", "config")
    assert report["project"]["summary"] == "a library or package published to a registry (set in .devops-audit.yml)"
    assert verdicts(report)["CD.DR.04"]["status"] == "not_applicable"
    assert verdicts(report)["CD.VC.04"]["status"] == "not_applicable"


def test_a_bad_project_kind_in_the_configuration_is_a_config_error(tmp_path):
    root = write(tmp_path, {**LIBRARY, ".devops-audit.yml": "project: {kind: microservice}\n"})
    run = subprocess.run([sys.executable, "-m", "devops_audit", "scan", str(root), "--offline"],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert ".devops-audit.yml:1: project.kind" in run.stderr


@pytest.mark.parametrize(("files", "kind"), [
    ({"recipe/meta.yaml": "package: {name: calc}\n", "conda-forge.yml": "provider: {linux: azure}\n"}, "recipe"),
    ({"main.tf": "resource \"aws_s3_bucket\" \"b\" {}\n"}, "infrastructure"),
    ({"mkdocs.yml": "site_name: Handbook\n", "docs/index.md": "# Handbook\n"}, "documentation"),
    ({"package.json": '{"name": "web", "private": true}\n', "src/index.js": "console.log(1)\n"}, "other"),
])
def test_the_kind_is_recognised_from_the_files(tmp_path, files, kind):
    report = scan_dict(write(tmp_path, files), offline=True)
    assert report["project"]["kind"] == kind
    if kind in ("recipe", "documentation"):
        assert verdicts(report)["CD.DR.04"]["status"] == "not_applicable"


def test_the_terminal_header_and_markdown_say_which_kind_of_project_was_judged(tmp_path):
    root = write(tmp_path, LIBRARY)
    terminal = subprocess.run([sys.executable, "-m", "devops_audit", "scan", str(root), "--offline", "--color", "never"],
                              capture_output=True, text=True)
    header = terminal.stdout.splitlines()[:3]
    assert any(line.startswith("Project: library — a library or package published to a registry (") for line in header)
    markdown = subprocess.run([sys.executable, "-m", "devops_audit", "scan", str(root), "--offline", "--format",
                               "markdown"], capture_output=True, text=True).stdout
    assert "**Project:** library" in markdown


def test_the_json_report_with_the_profile_validates_against_the_schema(tmp_path):
    from jsonschema import Draft202012Validator

    schema = json.loads((FIXTURES.parent / "schemas" / "verdict.schema.json").read_text())
    report = scan_dict(make_git_repo(FIXTURES / "example", tmp_path / "example"))
    Draft202012Validator(schema).validate(report)
    assert report["project"]["kind"] == "service"


def maven(pom_extra: str) -> dict[str, str]:
    return {"pom.xml": f"<project><artifactId>calc</artifactId><packaging>jar</packaging>{pom_extra}</project>\n",
            "src/main/java/Calc.java": "class Calc {}\n"}


def test_maven_has_no_lockfile_so_it_is_told_maven_options_not_uv_or_npm(tmp_path):
    vc06 = verdicts(scan_dict(write(tmp_path, maven("")), offline=True))["CD.VC.06"]
    assert vc06["status"] == "fail"
    (violation,) = vc06["violations"]
    assert violation["message"].startswith("Maven has no lockfile")
    assert "requireUpperBoundDeps" in violation["message"] and "project.build.outputTimestamp" in violation["message"]
    assert "uv lock" not in vc06["message"] + violation["message"]


def test_maven_versions_enforced_by_the_enforcer_plugin_pass(tmp_path):
    enforcer = ("<build><plugins><plugin><artifactId>maven-enforcer-plugin</artifactId><configuration><rules>"
                "<requireUpperBoundDeps/></rules></configuration></plugin></plugins></build>")
    vc06 = verdicts(scan_dict(write(tmp_path, maven(enforcer)), offline=True))["CD.VC.06"]
    assert vc06["status"] == "pass"
    assert "maven versions enforced in pom.xml" in vc06["parts"][0]["message"] + vc06["parts"][1]["message"]


def test_gradle_without_locks_is_told_about_gradle_dependency_locking(tmp_path):
    root = write(tmp_path, {"build.gradle": "plugins { id 'java-library' }\n", "src/main/java/A.java": "class A {}\n"})
    (violation,) = verdicts(scan_dict(root, offline=True))["CD.VC.06"]["violations"]
    assert "Gradle dependency locking" in violation["message"] and "--write-locks" in violation["message"]


def test_without_the_project_profile_kind_dependent_indicators_say_unknown_not_error(tmp_path, monkeypatch):
    from devops_audit import collectors

    monkeypatch.delitem(collectors.COLLECTORS, "project")  # e.g. a scan that skipped the collector
    by_id = verdicts(scan_dict(write(tmp_path, LIBRARY), offline=True))
    for indicator_id in ("CD.DR.04", "CD.VC.04", "CD.TM.05", "SR.TC.01"):
        assert by_id[indicator_id]["status"] == "unknown", by_id[indicator_id]
        assert "Missing project evidence" in by_id[indicator_id]["message"]


def test_a_maven_parent_pom_outside_the_repository_may_enforce_versions_so_it_is_unknown(tmp_path):
    parent = ("<parent><groupId>org.jenkins-ci.plugins</groupId><artifactId>plugin</artifactId>"
              "<version>5.9</version><relativePath/></parent>")
    vc06 = verdicts(scan_dict(write(tmp_path, maven(parent)), offline=True))["CD.VC.06"]
    assert vc06["status"] == "unknown"
    assert "the parent POM org.jenkins-ci.plugins:plugin is not in the repository" in vc06["message"]


def test_a_manual_workflow_redeploying_a_chosen_version_through_a_reusable_workflow_is_a_rollback_path(tmp_path):
    redeploy = (
        "on:\n  workflow_dispatch:\n    inputs:\n      environment: {type: choice, options: [dev, prod]}\n"
        "      version: {type: string, required: true}\npermissions: {contents: read}\njobs:\n  deploy_env:\n"
        "    uses: ministryofjustice/hmpps-github-actions/.github/workflows/deploy_env.yml@v2\n"
        "    with: {environment: '${{ inputs.environment }}', app_version: '${{ inputs.version }}'}\n")
    root = write(tmp_path, {**SERVICE, ".github/workflows/deploy_to_env.yml": redeploy})
    dr04 = verdicts(scan_dict(root, offline=True))["CD.DR.04"]
    assert (dr04["status"], dr04["message"]) == ("pass", "A rollback path exists.")


def test_a_scheduled_scan_or_bot_is_not_a_scheduled_build(tmp_path):
    lock = ("on: {schedule: [{cron: '0 0 * * *'}]}\npermissions: {issues: write}\njobs:\n  lock:\n"
            "    runs-on: ubuntu-24.04\n    steps:\n      - uses: dessant/lock-threads@1bf7ec25051fe7c00bdd17e6a7cf3d7bfb7dc771\n")
    files = {".github/workflows/ci.yml": WORKFLOW.format(name="ci").replace('  schedule: [{cron: "0 3 * * *"}]\n', ""),
             ".github/workflows/lock.yml": lock, "pyproject.toml": "[project]\nname = 'x'\n"}
    bp02 = verdicts(scan_dict(write(tmp_path, files), offline=True))["CD.BP.02"]
    assert bp02["status"] == "fail"
    assert "on-schedule: no build or test job runs on a schedule." in bp02["message"]
    files[".github/workflows/ci.yml"] = WORKFLOW.format(name="ci")  # the build itself runs nightly
    assert verdicts(scan_dict(write(tmp_path, files), offline=True))["CD.BP.02"]["status"] == "pass"


def test_a_conda_forge_feedstock_is_judged_as_a_packaging_recipe(tmp_path):
    files = {"recipe/meta.yaml": ("package: {name: pyyaml, version: 6.0.2}\nbuild: {number: 0}\n"
                                  "test:\n  imports: [yaml]\n  commands: [pip check]\n"),
             "conda-forge.yml": "provider: {linux_aarch64: default}\n", "README.md": "# pyyaml-feedstock\n",
             "azure-pipelines.yml": ("jobs:\n- job: linux\n  pool: {vmImage: ubuntu-latest}\n  timeoutInMinutes: 360\n"
                                     "  steps:\n  - script: .scripts/run_docker_build.sh\n")}
    report = scan_dict(write(tmp_path, files), offline=True)
    assert report["project"]["kind"] == "recipe"
    by_id = verdicts(report)
    parts = lambda i: {p["id"]: p["status"] for p in by_id[i]["parts"]}  # noqa: E731
    assert parts("CD.VC.02")["build-file"] == "pass"  # recipe/meta.yaml is the build definition
    assert parts("CD.TM.01")["test-files"] == "pass"  # the recipe's test section
    for indicator_id in ("CD.DR.04", "CD.VC.04", "CD.TM.05", "CD.TM.06", "SR.TC.01", "SR.TC.02"):
        assert by_id[indicator_id]["status"] == "not_applicable", indicator_id
    assert by_id["CD.TM.05"]["message"].startswith("A packaging recipe or a documentation repository holds no")


def test_a_job_calling_a_reusable_workflow_passes_its_token_permissions_on(tmp_path):
    cd = ("on: {check_run: {types: [completed]}}\njobs:\n  maven-cd:\n"
          "    uses: jenkins-infra/github-reusable-workflows/.github/workflows/maven-cd.yml@v1\n    secrets: inherit\n")
    bd02 = verdicts(scan_dict(write(tmp_path, {".github/workflows/cd.yaml": cd}), offline=True))["SR.BD.02"]
    assert bd02["status"] == "fail"
    assert [(v["path"], v["message"]) for v in bd02["violations"]] == [
        (".github/workflows/cd.yaml", "workflow sets no top-level permissions and some jobs set none")]
