"""Bitbucket Pipelines into the CI-neutral model: what a user of the `ci` facts sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

from devops_audit.classify import default_classifier
from devops_audit.collectors.ci import bitbucket, pipelines
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

FULL = FIXTURES / "pipelines" / "bitbucket-full"
CONFIG = "bitbucket-pipelines.yml"


def parse(root: Path) -> Parsed:
    return bitbucket.parse(Workspace(root), CONFIG, default_classifier())


def jobs_by_id(parsed: Parsed) -> dict:
    return {job.id: job for job in parsed.pipelines[0].jobs}


def test_discovers_the_root_file_only(tmp_path: Path):
    assert bitbucket.discover(Workspace(FULL)) == [CONFIG]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / CONFIG).write_text("pipelines: {}\n")
    assert bitbucket.discover(Workspace(tmp_path)) == []


def test_each_pipeline_section_is_a_trigger():
    triggers = [(t.kind, t.raw, t.branches, t.location.line) for t in parse(FULL).pipelines[0].triggers]
    assert triggers == [
        ("push", "default", [], 35),
        ("push", "branches", ["main"], 41),
        ("pull_request", "pull-requests", ["feature/*"], 77),
        ("tag", "tags", ["v*"], 81),
        ("manual", "custom", [], 95),
    ]


def test_steps_are_jobs_named_by_pipeline_and_step():
    jobs = jobs_by_id(parse(FULL))
    assert list(jobs) == [
        "default/Lint", "default/Test",
        "branches/main/Lint", "branches/main/Test", "branches/main/Build image", "branches/main/Deploy",
        "branches/main/Smoke test", "pull-requests/feature/*/Test", "tags/v*/Publish", "tags/v*/Deploy staging",
        "custom/rollback/step 1",
    ]
    assert jobs["default/Test"].triggers == ["push"]
    assert jobs["pull-requests/feature/*/Test"].triggers == ["pull_request"]
    assert jobs["custom/rollback/step 1"].triggers == ["manual"]
    assert jobs["custom/rollback/step 1"].kinds == ["rollback"]


def test_sequence_parallel_and_stage_give_upstream():
    jobs = jobs_by_id(parse(FULL))
    assert jobs["default/Test"].needs == []  # parallel siblings do not wait for each other
    assert jobs["branches/main/Build image"].needs == ["branches/main/Lint", "branches/main/Test"]
    assert jobs["branches/main/Deploy"].needs == ["branches/main/Build image"]
    assert jobs["branches/main/Smoke test"].upstream == [
        "branches/main/Build image", "branches/main/Deploy", "branches/main/Lint", "branches/main/Test"]


def test_stage_deployment_and_manual_trigger_apply_to_its_steps():
    jobs = jobs_by_id(parse(FULL))
    deploy = jobs["branches/main/Deploy"]
    assert (deploy.stage, deploy.environment, deploy.manual, deploy.kinds) == (
        "Release", "production", True, ["deploy"])
    assert jobs["tags/v*/Deploy staging"].environment == "staging"
    assert jobs["tags/v*/Deploy staging"].manual is True
    assert jobs["tags/v*/Publish"].manual is False
    assert jobs["tags/v*/Publish"].kinds == ["build", "publish"]


def test_timeouts_images_conditions_and_lines():
    jobs = jobs_by_id(parse(FULL))
    build = jobs["branches/main/Build image"]
    assert build.timeout_minutes == 15
    assert jobs["default/Lint"].timeout_minutes == 30  # options.max-time
    assert build.image.startswith("docker:27.1@sha256:")
    assert jobs["default/Lint"].image == "python:3.12"
    assert build.condition == "changesets.includePaths: src/**, Dockerfile"
    assert build.location.line == 47
    assert jobs["default/Test"].location.line == 38  # where the anchored step is used
    assert jobs["default/Test"].steps[1].location.line == 23  # its script, in `definitions`


def test_scripts_after_scripts_and_pipes_are_steps():
    test = jobs_by_id(parse(FULL))["default/Test"]
    assert [(s.run, s.uses, s.condition) for s in test.steps] == [
        ("pip install -e .[test]", "", ""),
        ("pytest --cov=app --junitxml=test-results/junit.xml", "", ""),
        ("", "atlassian/slack-notify:2.2.0", "after-script"),
    ]
    assert test.kinds == ["coverage", "test"]


def test_images_services_and_pipes_are_references_with_pinning():
    refs = {r.ref: r for r in parse(FULL).pipelines[0].refs}
    assert [(r.type, r.pinned_by) for r in refs.values()] == [
        ("image", "tag"), ("image", "tag"), ("action", "tag"), ("image", "digest"), ("action", "tag"),
        ("action", "none")]
    pipe = refs["atlassian/aws-eks-kubectl-run:2.6.0"]
    assert (pipe.name, pipe.version, pipe.pinned, pipe.first_party, pipe.location.line) == (
        "atlassian/aws-eks-kubectl-run", "2.6.0", False, True, 67)
    assert refs["docker://contoso/deploy-pipe:latest"].first_party is False
    assert refs["postgres:16"].locator == "definitions.services.postgres.image"


def test_bad_files_are_inventory_errors(tmp_path: Path):
    (tmp_path / CONFIG).write_text("image: node:20\n")
    with pytest.raises(EvidenceError, match="pipelines"):
        parse(tmp_path)
    (tmp_path / CONFIG).write_text("pipelines:\n  default:\n    - step:\n        script:\n          - {nope: 1}\n"
                                   "    - 42\n")
    parsed = parse(tmp_path)
    assert [(e.status, e.line) for e in parsed.inventory if e.status == "error"] == [("error", 5), ("error", 6)]
    assert [j.id for j in parsed.pipelines[0].jobs] == ["default/step 1"]


def test_shared_step_definitions_are_reuse():
    assert parse(FULL).pipelines[0].reuse == ["definitions"]


def test_collect_reports_bitbucket(tmp_path: Path):
    facts = pipelines.collect(Workspace(FULL), None).facts
    assert facts["systems"] == ["bitbucket"]
    assert any(s["uses"] == "atlassian/slack-notify:2.2.0" for s in facts["steps"])


# -- the real-world corpus -----------------------------------------------------------------------
def test_corpus_dspace_pipelines(corpus_dir: Path):
    parsed = parse(corpus_dir / "4Science-DSpace/repo")
    assert not [e for e in parsed.inventory if e.status == "error"]
    jobs = jobs_by_id(parsed)
    assert len(jobs) == 34
    assert jobs["branches/dspace-cris-7/unit-test-code-checks"].needs == ["branches/dspace-cris-7/Install"]
    assert jobs["branches/glam7/unit-test-code-checks"].needs == []
    assert "test" in jobs["pull-requests/**/unit-test-code-checks"].kinds
    assert jobs["custom/install/Install"].triggers == ["manual"]
    (image,) = parsed.pipelines[0].refs
    assert (image.ref, image.pinned_by) == ("maven:3.6.3-jdk-11", "tag")
