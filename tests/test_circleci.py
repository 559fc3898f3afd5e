"""CircleCI into the CI-neutral model: what a user of the `ci` facts sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

from devops_audit.classify import default_classifier
from devops_audit.collectors.ci import circleci, pipelines
from devops_audit.collectors.ci.common import kinds_from_name
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

FULL = FIXTURES / "pipelines" / "circleci-full"
CONFIG = ".circleci/config.yml"


def parse(root: Path) -> Parsed:
    return circleci.parse(Workspace(root), CONFIG, default_classifier())


def jobs_by_id(parsed: Parsed) -> dict:
    return {job.id: job for job in parsed.pipelines[0].jobs}


def test_discovers_the_config():
    assert circleci.discover(Workspace(FULL)) == [CONFIG]


def test_orbs_are_references_pinned_only_by_full_version():
    refs = {r.ref: r for r in parse(FULL).pipelines[0].refs if r.type == "orb"}
    pins = {ref: (r.pinned_by, r.pinned) for ref, r in refs.items()}
    assert pins == {
        "circleci/python@2.1.1": ("version", True),
        "circleci/aws-cli@4": ("tag", False),
        "circleci/slack@volatile": ("none", False),
        "snyk/snyk": ("none", False),
        "circleci/node@dev:alpha": ("branch", False),
    }
    assert refs["circleci/python@2.1.1"].first_party and not refs["snyk/snyk"].first_party
    assert refs["circleci/aws-cli@4"].location.line == 5


def test_docker_images_of_executors_and_jobs_are_references():
    images = {(r.ref, r.locator, r.pinned_by) for r in parse(FULL).pipelines[0].refs if r.type == "image"}
    assert ("cimg/python:3.12", "executors.py.docker[0]", "tag") in images
    assert any(locator == "executors.py.docker[1]" and pin == "digest" for _, locator, pin in images)
    assert ("cimg/python:3.12", "jobs.static.docker[0]", "tag") in images


def test_one_job_per_workflow_invocation_with_name_overrides():
    jobs = jobs_by_id(parse(FULL))
    assert list(jobs) == ["static", "build-test-deploy/test", "dependency-scan", "hold", "deploy-production",
                          "deploy-release", "nightly/test"]
    assert jobs["deploy-production"].location.line == 94
    assert jobs["deploy-production"].locator == "workflows.build-test-deploy.jobs[4]"
    assert jobs["dependency-scan"].reusable == "snyk/scan"


def test_requires_become_needs_and_upstream():
    jobs = jobs_by_id(parse(FULL))
    assert jobs["hold"].needs == ["build-test-deploy/test", "dependency-scan"]
    assert jobs["deploy-production"].upstream == ["build-test-deploy/test", "dependency-scan", "hold", "static"]


def test_approval_job_gates_the_jobs_that_require_it():
    jobs = jobs_by_id(parse(FULL))
    assert jobs["hold"].manual is True
    assert jobs["deploy-production"].manual is True
    assert jobs["deploy-release"].manual is False


def test_filters_decide_job_triggers():
    jobs = jobs_by_id(parse(FULL))
    assert jobs["static"].triggers == ["push", "pull_request"]
    assert jobs["build-test-deploy/test"].triggers == ["push", "pull_request", "tag"]
    assert jobs["deploy-production"].triggers == ["push"]  # only: main
    assert jobs["deploy-release"].triggers == ["tag"]  # branches ignored, tags only
    assert jobs["nightly/test"].triggers == ["schedule"]


def test_workflow_triggers_push_pr_build_tags_and_schedule():
    triggers = [(t.kind, t.raw, t.branches, t.location.line) for t in parse(FULL).pipelines[0].triggers]
    assert triggers == [
        ("push", "push", [], 73),
        ("pull_request", "github-pr-build", [], 73),
        ("tag", "filters.tags", ["/^v.*/"], 73),
        ("schedule", "schedule", ["main"], 112),
    ]


def test_steps_runs_commands_orb_commands_and_when_blocks():
    jobs = jobs_by_id(parse(FULL))
    test = jobs["build-test-deploy/test"]
    assert [s.name for s in test.steps] == ["checkout", "install", "Unit tests", "store_test_results", "coverage xml"]
    assert test.steps[1].run == "pip install -e .[test]"  # the reusable command, read in place
    assert test.steps[4].condition == "when: << pipeline.git.branch >>"
    assert test.kinds == ["coverage", "test"]
    assert test.image == "cimg/python:3.12"  # the executor's primary image
    assert jobs["static"].kinds == ["lint"]  # through the nested `lint` -> `install` commands
    deploy = jobs["deploy-production"]
    assert [s.uses for s in deploy.steps] == ["checkout", "aws-cli/setup", "", ""]
    assert deploy.steps[3].condition == "when: on_fail" and deploy.steps[2].condition == ""
    assert deploy.kinds == ["deploy"] and deploy.image == "ubuntu-2204:2024.01.1"


def test_workflow_when_is_the_job_condition_and_reuse_is_recorded():
    parsed = parse(FULL)
    assert jobs_by_id(parsed)["static"].condition == "unless: << pipeline.parameters.run-nightly >>"
    assert parsed.pipelines[0].reuse == ["orb", "commands"]
    assert jobs_by_id(parsed)["static"].timeout_minutes is None


def test_config_without_workflows_runs_build(tmp_path: Path):
    (tmp_path / ".circleci").mkdir()
    (tmp_path / CONFIG).write_text(
        "version: 2\njobs:\n  build:\n    docker:\n      - image: node:20\n    steps:\n      - checkout\n"
        "      - run: npm test\n")
    parsed = parse(tmp_path)
    (job,) = parsed.pipelines[0].jobs
    assert (job.id, job.kinds, job.image) == ("build", ["test"], "node:20")
    assert [t.kind for t in parsed.pipelines[0].triggers] == ["push", "pull_request"]


def test_undefined_job_is_an_inventory_error_and_scheduled_pipeline_when(tmp_path: Path):
    (tmp_path / ".circleci").mkdir()
    (tmp_path / CONFIG).write_text(
        "version: 2.1\nworkflows:\n  nightly:\n    when:\n"
        "      equal: [scheduled_pipeline, << pipeline.trigger_source >>]\n    jobs:\n      - ghost\n")
    parsed = parse(tmp_path)
    assert [(e.status, e.line) for e in parsed.inventory if e.status == "error"] == [("error", 7)]
    assert [t.kind for t in parsed.pipelines[0].triggers] == ["schedule"]


def test_bad_yaml_is_an_evidence_error(tmp_path: Path):
    (tmp_path / ".circleci").mkdir()
    (tmp_path / CONFIG).write_text("version: 2.1\njobs: [\n")
    with pytest.raises(EvidenceError):
        parse(tmp_path)
    evidence = pipelines.collect(Workspace(tmp_path), None)
    assert [(e.kind, e.status) for e in evidence.inventory] == [("circleci", "error")]


@pytest.mark.parametrize(("name", "kinds"), [
    ("python/test", ["test"]),
    ("prometheus/promci/publish_release", ["publish"]),  # a word of the last part
    ("acme/ci/run_pre-commit", ["lint"]),  # a run of words, separators mixed
    ("owasp/gradle_owasp_dependency_check", ["sca"]),  # OWASP dependency-check
    ("hmpps/build_docker", ["build"]),
    ("acme/build-tools/notify", []),  # the folders before the last part are not read
    ("acme/contest", []),  # `test` inside a word is no word
])
def test_an_unread_definition_is_known_by_the_words_of_its_name(name, kinds):
    assert kinds_from_name(name) == kinds


def test_an_orb_job_named_for_dependency_check_is_dependency_scanning(tmp_path: Path):
    (tmp_path / ".circleci").mkdir()
    (tmp_path / CONFIG).write_text(
        "version: 2.1\norbs:\n  owasp: entur/owasp@0.0.10\nworkflows:\n  nightly:\n    triggers:\n"
        "      - schedule:\n          cron: '0 7 * * 1-5'\n          filters: {branches: {only: [main]}}\n"
        "    jobs:\n      - owasp/gradle_owasp_dependency_check\n")
    (job,) = parse(tmp_path).pipelines[0].jobs
    assert (job.id, job.kinds, job.triggers) == ("owasp/gradle_owasp_dependency_check", ["sca"], ["schedule"])


# -- the real-world corpus -----------------------------------------------------------------------
@pytest.mark.parametrize("repo", ["hmpps-auth", "sphinx-gallery", "cibuildwheel"])
def test_corpus_configs_parse(corpus_dir: Path, repo: str):
    parsed = parse(corpus_dir / repo / "repo")
    assert parsed.pipelines[0].jobs
    assert not [e for e in parsed.inventory if e.status == "error"]


def test_corpus_hmpps_auth_approvals_and_orbs(corpus_dir: Path):
    parsed = parse(corpus_dir / "hmpps-auth/repo")
    jobs = jobs_by_id(parsed)
    assert jobs["request-prod-approval"].manual and jobs["deploy_prod"].manual
    assert not jobs["deploy_dev"].manual
    assert "deploy" in jobs["deploy_prod"].kinds  # the hmpps/deploy_env orb job, by its name
    assert "integration_tests" in jobs["deploy_prod"].upstream
    assert jobs["owasp/gradle_owasp_dependency_check"].triggers == ["schedule"]
    orbs = {r.name: r.pinned_by for r in parsed.pipelines[0].refs if r.type == "orb"}
    assert orbs == {"entur/owasp": "version", "ministryofjustice/hmpps": "version"}


def test_corpus_sphinx_gallery_tag_deploy(corpus_dir: Path):
    jobs = jobs_by_id(parse(corpus_dir / "sphinx-gallery/repo"))
    assert jobs["deploy_stable"].triggers == ["tag"]
    assert jobs["deploy_dev"].triggers == ["push"]
    assert jobs["build_docs"].needs == ["setup_env"]
    assert jobs["setup_env"].steps[2].run.strip() == "./.circleci/setup_bash.sh"  # the bash_env command
