"""Azure Pipelines into the CI-neutral model: what a user of the `ci` facts sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

from devops_audit.classify import default_classifier
from devops_audit.collectors.ci import azure_pipelines, pipelines
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

FULL = FIXTURES / "pipelines" / "azure-full"
EXTENDS = FIXTURES / "pipelines" / "azure-extends"
MDW = "modern-data-warehouse-dataops/repo"


def parse(root: Path, path: str = "azure-pipelines.yml") -> Parsed:
    return azure_pipelines.parse(Workspace(root), path, default_classifier())


def jobs_by_id(parsed: Parsed) -> dict:
    return {job.id: job for job in parsed.pipelines[0].jobs}


def test_discovers_root_and_other_pipelines_but_not_templates_or_test_data():
    assert azure_pipelines.discover(Workspace(FULL)) == [".pipelines/nightly-e2e.yml", "azure-pipelines.yml"]


def test_trigger_filters_tags_pr_and_schedules():
    triggers = {(t.kind, t.raw): t for t in parse(FULL).pipelines[0].triggers}
    push = triggers["push", "trigger"]
    assert push.branches == ["main", "release/*"]
    assert push.paths_ignore == ["docs/**"]
    assert push.location.line == 2
    assert triggers["tag", "trigger.tags"].branches == ["v*"]
    assert triggers["pull_request", "pr"].branches == ["main"]
    assert triggers["schedule", "schedules"].branches == ["main"]
    assert triggers["schedule", "schedules"].location.line == 22


def test_none_disables_ci_and_pr_triggers():
    kinds = [t.kind for t in parse(FULL, ".pipelines/nightly-e2e.yml").pipelines[0].triggers]
    assert kinds == ["schedule"]


def test_absent_pr_means_every_pull_request():
    triggers = [(t.kind, t.raw, t.branches) for t in parse(EXTENDS).pipelines[0].triggers]
    assert triggers == [("push", "trigger", ["main"]), ("pull_request", "pr (implicit)", [])]


def test_jobs_are_named_by_stage_and_follow_stage_order():
    jobs = jobs_by_id(parse(FULL))
    assert list(jobs) == ["build.lint", "build.unit", "build.jobs/security-scan.yml@shared", "package.image",
                          "package.sbom", "approve.wait_for_approval", "production.deploy_prod"]
    assert jobs["build.unit"].needs == ["build.lint"]
    assert jobs["package.image"].upstream == ["build.jobs/security-scan.yml@shared", "build.lint", "build.unit"]
    assert "package.sbom" in jobs["production.deploy_prod"].upstream
    assert jobs["production.deploy_prod"].needs == ["approve.wait_for_approval"]


def test_job_settings_timeouts_images_and_conditions():
    jobs = jobs_by_id(parse(FULL))
    assert jobs["build.lint"].timeout_minutes == 10
    assert jobs["build.lint"].image == "ubuntu-22.04"  # pool.vmImage of the pipeline
    assert jobs["build.unit"].image == "python:3.12-slim"  # the `py` container resource
    assert jobs["package.image"].timeout_minutes is None
    assert jobs["approve.wait_for_approval"].image == ""  # `pool: server` runs on no VM
    assert "refs/heads/main" in jobs["production.deploy_prod"].condition
    assert jobs["build.unit"].location.line == 55


def test_deployment_job_environment_kinds_and_lifecycle_steps():
    deploy = jobs_by_id(parse(FULL))["production.deploy_prod"]
    assert deploy.environment == "production"
    assert deploy.kinds == ["deploy", "rollback"]
    assert [(s.uses, s.condition) for s in deploy.steps] == [("AzureWebApp@1", ""), ("", "on.failure")]
    assert deploy.manual is False  # approvals live on the Azure environment, not in the YAML


def test_manual_validation_task_is_a_manual_gate():
    jobs = jobs_by_id(parse(FULL))
    assert jobs["approve.wait_for_approval"].manual is True
    assert jobs["package.image"].manual is False


def test_steps_scripts_tasks_and_classification():
    jobs = jobs_by_id(parse(FULL))
    unit = jobs["build.unit"]
    assert [s.name for s in unit.steps] == ["Use Python 3.12", "Install requirements", "Unit tests",
                                           "PublishTestResults@2"]
    assert unit.steps[2].run == "pytest --cov=app --junitxml=junit.xml"
    assert unit.steps[3].condition == "succeededOrFailed()"
    assert unit.kinds == ["coverage", "test"]
    assert jobs["package.image"].kinds == ["build", "publish"]  # Docker@2 buildAndPush
    assert jobs["build.lint"].tools == ["ruff"]


def test_local_step_template_is_read_with_parameters_and_recorded():
    parsed = parse(FULL)
    step = jobs_by_id(parsed)["build.unit"].steps[0]
    assert step.location.path == "templates/python-steps.yml"
    assert step.location.line == 7
    assert "templates/python-steps.yml" in parsed.pipelines[0].files
    assert ("templates/python-steps.yml", "parsed") in [(e.path, e.status) for e in parsed.inventory]


def test_job_template_relative_to_root_and_missing_nested_template_is_an_error():
    parsed = parse(FULL)
    sbom = jobs_by_id(parsed)["package.sbom"]
    assert sbom.location.path == ".pipelines/templates/sbom-job.yml"
    assert sbom.kinds == ["sbom"]
    errors = [e for e in parsed.inventory if e.status == "error"]
    assert len(errors) == 1
    assert errors[0].path == ".pipelines/templates/sbom-job.yml"
    assert errors[0].line == 5
    assert "missing-steps.yml" in errors[0].reason


def test_repository_resources_and_remote_templates_with_pinning():
    refs = {ref.ref: ref for ref in parse(FULL).pipelines[0].refs}
    assert refs["contoso/pipeline-templates@refs/tags/v2.3.0"].pinned_by == "tag"
    assert refs["Platform/tooling"].pinned_by == "none"
    template = refs["jobs/security-scan.yml@shared"]
    assert (template.type, template.version, template.pinned_by, template.pinned) == (
        "template", "refs/tags/v2.3.0", "tag", False)
    assert template.location.line == 70
    assert refs["redis:7"].locator == "stages[1].jobs[0].services.redis"
    assert refs["python:3.12-slim"].type == "image"


def test_extends_template_with_conditional_stage_and_manual_trigger():
    parsed = parse(EXTENDS)
    pipeline = parsed.pipelines[0]
    jobs = jobs_by_id(parsed)
    assert pipeline.reuse == ["extends", "template"]
    assert pipeline.files == ["azure-pipelines.yml", "ci/pipeline.yml"]
    assert jobs["build.test"].kinds == ["test"]  # DotNetCoreCLI@2 command: test
    release = jobs["release.deploy"]
    assert (release.environment, release.manual, release.upstream) == ("staging", True, ["build.test"])
    assert release.location == azure_pipelines.Location("ci/pipeline.yml", 22)


def test_steps_only_pipeline_is_one_job():
    parsed = parse(FULL, ".pipelines/nightly-e2e.yml")
    (job,) = parsed.pipelines[0].jobs
    assert (job.id, job.locator) == ("Job", "steps")
    assert job.steps[0].name == "checkout: self"
    assert job.kinds == ["build", "test"]  # Maven@4 goals: verify


def test_remote_extends_and_template_loops_do_not_crash(tmp_path: Path):
    (tmp_path / "azure-pipelines.yml").write_text("extends:\n  template: main.yml@templates\n")
    (tmp_path / "loop.yml").write_text("steps:\n- template: loop.yml\n- script: pytest\n")
    (tmp_path / "ci.yml").write_text("trigger: none\njobs:\n- job: a\n  steps:\n  - template: loop.yml\n")
    workspace = Workspace(tmp_path)
    assert azure_pipelines.discover(workspace) == ["azure-pipelines.yml", "ci.yml"]
    (job,) = azure_pipelines.parse(workspace, "azure-pipelines.yml", default_classifier()).pipelines[0].jobs
    assert (job.id, job.reusable) == ("extends", "main.yml@templates")
    looped = azure_pipelines.parse(workspace, "ci.yml", default_classifier())
    assert any("nests too deeply" in e.reason for e in looped.inventory)
    assert looped.pipelines[0].jobs[0].kinds == ["test"]


def test_a_file_that_is_not_a_pipeline_is_an_evidence_error(tmp_path: Path):
    (tmp_path / "azure-pipelines.yml").write_text("- just\n- a list\n")
    with pytest.raises(EvidenceError):
        azure_pipelines.parse(Workspace(tmp_path), "azure-pipelines.yml", default_classifier())
    (tmp_path / "azure-pipelines.yml").write_text("trigger: [main\n")
    evidence = pipelines.collect(Workspace(tmp_path), None)
    assert [(e.kind, e.status, e.line) for e in evidence.inventory] == [("azure-pipelines", "error", 2)]


def test_collect_flattens_azure_jobs(tmp_path: Path):
    facts = pipelines.collect(Workspace(FULL), None).facts
    assert "azure" in facts["systems"]
    deploy = next(j for j in facts["jobs"] if j["id"] == "production.deploy_prod")
    assert deploy["triggers"] == ["pull_request", "push", "schedule", "tag"]


# -- the real-world corpus -----------------------------------------------------------------------
def test_corpus_azure_pipelines_parse(corpus_dir: Path):
    for repo in ("cibuildwheel/repo", MDW):
        workspace = Workspace(corpus_dir / repo)
        paths = azure_pipelines.discover(workspace)
        assert paths, repo
        for path in paths:
            parsed = azure_pipelines.parse(workspace, path, default_classifier())
            assert parsed.pipelines[0].jobs, path
            assert not [e for e in parsed.inventory if e.status == "error"], path


def test_corpus_cibuildwheel_facts(corpus_dir: Path):
    parsed = parse(corpus_dir / "cibuildwheel/repo")
    (job,) = parsed.pipelines[0].jobs
    assert (job.id, job.timeout_minutes, job.location.line) == ("tests", 180, 19)
    pr = next(t for t in parsed.pipelines[0].triggers if t.kind == "pull_request")
    assert ".github/**" in pr.paths_ignore


def test_corpus_data_warehouse_release_pipeline(corpus_dir: Path):
    workspace = Workspace(corpus_dir / MDW)
    devops = "e2e_samples/parking_sensors/devops"
    assert f"{devops}/templates/jobs/deploy-adf-job.yml" not in azure_pipelines.discover(workspace)
    parsed = azure_pipelines.parse(workspace, f"{devops}/azure-pipelines-cd-release.yml", default_classifier())
    jobs = jobs_by_id(parsed)
    assert jobs["deploy_to_prod.deploy_adf"].environment == "PROD"
    assert "deploy" in jobs["deploy_to_prod.deploy_adf"].kinds
    assert "deploy_to_stg.run_integration_tests" in jobs["deploy_to_prod.deploy_databricks"].upstream
    assert jobs["deploy_to_stg.run_integration_tests"].needs[0] == "deploy_to_stg.deploy_adf"
    assert [t.kind for t in parsed.pipelines[0].triggers] == ["other"]  # only the CI pipeline's completion
    ref = parsed.pipelines[0].refs[0]
    assert (ref.type, ref.name, ref.pinned_by) == ("repository", "YueSheng6/dataopsdemo", "branch")


ONEBRANCH = """\
trigger:
- main

schedules:
- cron: '20 16 * * 4'
  branches:
    include:
    - main

resources:
  repositories:
    - repository: templates
      type: git
      name: OneBranch.Pipelines/GovernedTemplates
      ref: refs/heads/main

extends:
  # https://aka.ms/obpipelines/templates
  template: v2/OneBranch.Official.CrossPlat.yml@templates
  parameters:
    globalSdl:
      asyncSdl:
        enabled: true
    stages:
    - stage: build
      jobs:
      - job: main
        pool:
          type: windows
        steps:
          - pwsh: ./build.ps1 -Configuration Release -All
            displayName: Build
          - task: onebranch.pipeline.signing@1
            inputs:
              command: sign
    - stage: release
      dependsOn: build
      jobs:
      - job: publish
        pool:
          type: release
        steps:
        - task: NuGetCommand@2
          inputs:
            command: push
            nuGetFeedType: external
"""


def test_onebranch_pipeline_in_a_pipelines_folder_reads_the_stages_it_gives_its_remote_template(tmp_path: Path):
    (tmp_path / ".pipelines").mkdir()
    (tmp_path / ".pipelines" / "Module-Official.yml").write_text(ONEBRANCH)
    (tmp_path / ".pipelines" / "settings.yml").write_text("name: not a pipeline\nitems:\n- a\n")
    workspace = Workspace(tmp_path)
    assert azure_pipelines.discover(workspace) == [".pipelines/Module-Official.yml"]
    parsed = azure_pipelines.parse(workspace, ".pipelines/Module-Official.yml", default_classifier())
    pipeline = parsed.pipelines[0]
    jobs = {job.id: job for job in pipeline.jobs}
    assert list(jobs) == ["extends", "build.main", "release.publish"]
    assert jobs["extends"].reusable == "v2/OneBranch.Official.CrossPlat.yml@templates"
    assert jobs["build.main"].locator == "extends.parameters.stages[0].jobs[0]"
    assert jobs["build.main"].location.line == 27
    assert jobs["release.publish"].needs == ["build.main"]
    assert "extends" in pipeline.reuse
    assert [t.kind for t in pipeline.triggers] == ["push", "pull_request", "schedule"]
    facts = pipelines.collect(workspace, None).facts
    (unresolved,) = facts["unresolved"]
    assert (unresolved["ref"], unresolved["location"]["line"]) == ("v2/OneBranch.Official.CrossPlat.yml@templates", 19)


def test_a_matrix_docker_image_is_the_jobs_build_image(tmp_path: Path) -> None:
    """conda-forge's generated pipelines run the build script in the matrix's `DOCKER_IMAGE`."""
    (tmp_path / "azure-pipelines.yml").write_text("""\
jobs:
- job: linux
  pool: {vmImage: ubuntu-latest}
  strategy:
    matrix:
      linux_64:
        CONFIG: linux_64
        DOCKER_IMAGE: quay.io/condaforge/linux-anvil-x86_64:alma9
      linux_aarch64:
        CONFIG: linux_aarch64
        DOCKER_IMAGE: quay.io/condaforge/linux-anvil-x86_64:alma9
  steps:
  - script: ./.scripts/run_docker_build.sh
- job: other
  pool: {vmImage: ubuntu-latest}
  container: python:3.12
  strategy: {matrix: {a: {DOCKER_IMAGE: 'ignored:1'}}}
  steps:
  - script: make
""")
    parsed = parse(tmp_path)
    jobs = jobs_by_id(parsed)
    assert jobs["linux"].image == "quay.io/condaforge/linux-anvil-x86_64:alma9"
    assert jobs["other"].image == "python:3.12"  # a container the job declares wins
    images = [(r.ref, r.pinned_by, r.location.line) for p in parsed.pipelines for r in p.refs if r.type == "image"]
    assert images == [("quay.io/condaforge/linux-anvil-x86_64:alma9", "tag", 8), ("python:3.12", "tag", 16)]
