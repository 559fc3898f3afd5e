"""GitLab CI: `.gitlab-ci.yml` with its includes, extends, references and rules, as the CI-neutral model."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, corpus_repos

from devops_audit.classify import default_classifier
from devops_audit.collectors import CollectOptions
from devops_audit.collectors.ci import gitlab_ci, pipelines
from devops_audit.errors import EvidenceError
from devops_audit.facts import Location
from devops_audit.workspace import Workspace

FULL = FIXTURES / "pipelines" / "gitlab-full"
LEGACY = FIXTURES / "pipelines" / "gitlab-legacy"


def parse(root: Path) -> pipelines.Parsed:
    return gitlab_ci.parse(Workspace(root), ".gitlab-ci.yml", default_classifier())


@pytest.fixture(scope="module")
def full():
    parsed = parse(FULL)
    (pipeline,) = parsed.pipelines
    return pipeline, parsed.inventory, {job.id: job for job in pipeline.jobs}


def test_discovers_only_the_root_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitlab-ci.yml").write_text("job:\n  script: [make]\n")
    assert gitlab_ci.discover(Workspace(tmp_path)) == []
    (tmp_path / ".gitlab-ci.yml").write_text("job:\n  script: [make]\n")
    assert gitlab_ci.discover(Workspace(tmp_path)) == [".gitlab-ci.yml"]


def test_jobs_exclude_hidden_templates_and_reserved_keys(full) -> None:
    pipeline, _, jobs = full
    assert set(jobs) == {"build-image", "unit-tests", "mr-title-check", "deploy-production",
                         "include:Security/SAST.gitlab-ci.yml"}
    assert pipeline.reuse == ["include", "extends"]


def test_nested_local_includes_are_read_and_listed(full) -> None:
    pipeline, inventory, jobs = full
    assert pipeline.files == [".gitlab-ci.yml", "ci/build.yml", "ci/common/docker.yml"]
    parsed = {(e.path, e.status) for e in inventory}
    assert {(".gitlab-ci.yml", "parsed"), ("ci/build.yml", "parsed"), ("ci/common/docker.yml", "parsed")} <= parsed
    # the job from the include keeps its own file and line; `.docker` from the nested include gives its image
    assert jobs["build-image"].location == Location("ci/build.yml", 4)
    assert jobs["build-image"].image == "docker:24.0.7"


def test_missing_local_include_is_an_error_naming_the_including_file(full) -> None:
    _, inventory, _ = full
    errors = [e for e in inventory if e.status == "error"]
    assert len(errors) == 1
    assert (errors[0].path, errors[0].line) == (".gitlab-ci.yml", 29)
    assert "ci/missing.yml" in errors[0].reason


def test_spec_inputs_header_is_skipped_and_workflow_rules_become_triggers(full) -> None:
    pipeline, _, _ = full
    assert [(t.kind, t.location.line) for t in pipeline.triggers] == [
        ("pull_request", 20), ("tag", 21), ("schedule", 22), ("push", 25)]  # the `when: never` rule is not one
    assert pipeline.triggers[-1].branches == ["main"]


def test_extends_chain_and_default_merge(full) -> None:
    _, _, jobs = full
    unit = jobs["unit-tests"]
    assert unit.stage == "test"  # from .base-test, two levels up
    assert unit.reusable == ".tests"
    assert [s.run for s in unit.steps] == ["pip install -r requirements.txt",
                                           "pytest --cov=app --junitxml=report.xml"]
    assert [s.locator for s in unit.steps] == ["unit-tests.before_script[0]", "unit-tests.script[0]"]
    assert unit.steps[1].location == Location(".gitlab-ci.yml", 55)  # where the template wrote it
    assert unit.kinds == ["coverage", "test"]
    assert unit.continue_on_error is True  # allow_failure: true
    assert unit.timeout_minutes == 20
    assert jobs["build-image"].timeout_minutes == 90  # default: timeout: 1h 30m


def test_reference_tag_is_resolved_with_its_own_line(full) -> None:
    _, _, jobs = full
    deploy = jobs["deploy-production"]
    scripts = [s for s in deploy.steps if ".script[" in s.locator]
    assert [(s.run, s.location.line) for s in scripts] == [
        ("kubectl config use-context prod", 59), ("helm upgrade --install app ./chart", 88)]
    assert deploy.kinds == ["deploy"]


def test_manual_deploy_with_environment_and_needs(full) -> None:
    _, _, jobs = full
    deploy = jobs["deploy-production"]
    assert deploy.manual is True
    assert deploy.environment == "production"
    assert deploy.timeout_minutes == 120
    assert deploy.needs == ["build-image", "unit-tests"]
    assert deploy.upstream == ["build-image", "unit-tests"]
    assert deploy.image == "alpine/helm:3.14.0"  # $HELM_IMAGE expanded from `variables:`


def test_stage_order_gives_upstream_and_empty_needs_gives_none(full) -> None:
    _, _, jobs = full
    assert jobs["unit-tests"].upstream == ["build-image"]
    assert jobs["mr-title-check"].upstream == []  # needs: [] starts at once
    assert jobs["mr-title-check"].triggers == ["pull_request"]
    assert "$CI_MERGE_REQUEST_TITLE" in jobs["mr-title-check"].steps[-1].run


def test_includes_are_external_refs_with_pinning(full) -> None:
    pipeline, _, _ = full
    includes = {r.ref: (r.pinned_by, r.pinned, r.location.line) for r in pipeline.refs if r.type == "include"}
    assert includes == {
        "acme/ci-templates:/templates/docker.yml@0123456789abcdef0123456789abcdef01234567": ("sha", True, 30),
        "acme/ci-templates:/templates/lint.yml@main": ("branch", False, 33),
        "Security/SAST.gitlab-ci.yml": ("none", False, 37),
        "$CI_SERVER_FQDN/acme/components/deploy@1.4.2": ("version", True, 38),
        "$CI_SERVER_FQDN/acme/components/notify@~latest": ("none", False, 39),
        "https://example.com/ci/common.yml": ("none", False, 40),
    }


def test_security_template_include_counts_as_a_sast_job(full) -> None:
    _, _, jobs = full
    sast = jobs["include:Security/SAST.gitlab-ci.yml"]
    assert sast.kinds == ["sast"]
    assert sast.tools == ["gitlab-sast"]


def test_images_and_services_are_refs_pinned_by_digest_or_tag(full) -> None:
    pipeline, _, _ = full
    images = {r.ref: (r.pinned_by, r.location) for r in pipeline.refs if r.type == "image"}
    assert images["docker:24.0.7-dind"] == ("tag", Location("ci/common/docker.yml", 4))
    digest = [r for r in pipeline.refs if r.pinned_by == "digest"]
    assert len(digest) == 1 and digest[0].location == Location(".gitlab-ci.yml", 13)


def test_legacy_only_except_bom_and_null_job() -> None:
    (pipeline,) = parse(LEGACY).pipelines
    jobs = {job.id: job for job in pipeline.jobs}
    assert set(jobs) == {"build", "test", "nightly", "release"}  # `lint:` with no body is no job
    assert jobs["test"].triggers == ["pull_request", "push"]
    assert jobs["nightly"].triggers == ["schedule"]
    assert jobs["release"].triggers == ["tag"]
    assert sorted(t.kind for t in pipeline.triggers) == ["pull_request", "push", "schedule", "tag"]
    assert [s.run for s in jobs["test"].steps] == ["bundle exec rspec", "bundle exec rubocop",
                                                   "echo \"done\twith tabs\""]
    assert jobs["test"].timeout_minutes == 60  # a bare number is seconds
    assert jobs["build"].steps[0].run == "make"
    assert jobs["release"].upstream == ["build", "nightly", "test"]  # default stages build, test, deploy
    assert jobs["release"].kinds == ["publish"]
    assert jobs["build"].location.line == 6  # the BOM does not shift lines


def test_bad_included_file_is_an_error_and_the_rest_parses(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text("include:\n  - local: broken.yml\ntest:\n  script: [pytest]\n")
    (tmp_path / "broken.yml").write_text("job: [unclosed\n")
    parsed = parse(tmp_path)
    assert [job.id for job in parsed.pipelines[0].jobs] == ["test"]
    (error,) = [e for e in parsed.inventory if e.status == "error"]
    assert error.path == "broken.yml" and error.line is not None


def test_local_include_globs_match_like_fnmatch(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text("include:\n  - local: /ci/*.yml\n  - local: ci/jobs/[ab].yml\n")
    for name, job in (("ci/base.yml", "base"), ("ci/jobs/a.yml", "a"), ("ci/jobs/c.yml", "c"), ("ci/x.yaml", "x")):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"{job}:\n  script: [make {job}]\n")
    (pipeline,) = parse(tmp_path).pipelines
    # `*` crosses `/` (Python's fnmatch, not GitLab's own glob): ci/jobs/*.yml files match `ci/*.yml`
    assert pipeline.files == [".gitlab-ci.yml", "ci/base.yml", "ci/jobs/a.yml", "ci/jobs/c.yml"]
    assert sorted(job.id for job in pipeline.jobs) == ["a", "base", "c"]


def test_every_container_named_by_id_stays_alive(tmp_path: Path) -> None:
    """Files are remembered by container id: a container freed while its id is a key would lend its file to a
    later container given the same id (steps then located in the wrong file, depending on memory layout)."""
    names = [f"ci/part{n}.yml" for n in range(4)]
    (tmp_path / ".gitlab-ci.yml").write_text("include:\n" + "".join(f"  - local: {name}\n" for name in names))
    (tmp_path / "ci").mkdir()
    for n, name in enumerate(names):
        (tmp_path / name).write_text(f"job{n}:\n  script: [make test{n}]\n")
    loader = gitlab_ci._Loader(Workspace(tmp_path), default_classifier())
    loader.load_root(".gitlab-ci.yml")
    assert set(loader.origin) <= {id(container) for container in loader.keep}


def test_include_cycles_and_extends_cycles_terminate(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text("include: a.yml\n.x:\n  extends: .y\n.y:\n  extends: .x\n"
                                             "job:\n  extends: .x\n  script: [make test]\n")
    (tmp_path / "a.yml").write_text("include: [.gitlab-ci.yml, a.yml]\n")
    (pipeline,) = parse(tmp_path).pipelines
    assert [job.id for job in pipeline.jobs] == ["job"]
    assert pipeline.files == [".gitlab-ci.yml", "a.yml"]


def test_not_a_mapping_is_an_evidence_error(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text("- just\n- a list\n")
    with pytest.raises(EvidenceError):
        parse(tmp_path)


@pytest.mark.parametrize("text, minutes", [("1h 30m", 90), ("3 hours", 180), ("90 minutes", 90),
                                           ("2d", 2880), ("45m 30s", 45.5), (600, 10), ("soon", None)])
def test_durations(text, minutes) -> None:
    assert gitlab_ci.parse_duration(text) == minutes


def test_collect_plugs_into_the_ci_namespace() -> None:
    evidence = pipelines.collect(Workspace(FULL), CollectOptions())
    assert "gitlab" in evidence.facts["systems"]
    deploy = next(j for j in evidence.facts["jobs"] if j["id"] == "deploy-production")
    assert deploy["triggers"] == ["pull_request", "push", "schedule", "tag"]  # inherits the pipeline's
    assert any(e.status == "error" and e.evidence == "ci" for e in evidence.inventory)


# -- the real-world corpus ------------------------------------------------------------------------
GITLAB_REPOS = [r for r in corpus_repos() if (r / ".gitlab-ci.yml").is_file()]


@pytest.mark.parametrize("repo", GITLAB_REPOS, ids=lambda r: r.parent.name)
def test_corpus_files_parse_into_a_non_empty_model(repo: Path) -> None:
    parsed = parse(repo)
    (pipeline,) = parsed.pipelines
    assert pipeline.jobs and pipeline.triggers
    assert not [e for e in parsed.inventory if e.status == "error"]


def _corpus_pipeline(corpus_dir: Path, name: str):
    repo = corpus_dir / name / "repo"
    if not (repo / ".gitlab-ci.yml").is_file():
        pytest.skip(f"{name} is not in the corpus")
    (pipeline,) = parse(repo).pipelines
    return pipeline, {job.id: job for job in pipeline.jobs}


def test_corpus_os2mo_glob_includes_references_and_remote_project(corpus_dir: Path) -> None:
    pipeline, jobs = _corpus_pipeline(corpus_dir, "os2mo")
    assert len(pipeline.files) == 11  # the root plus .gitlab/ci/*.gitlab-ci.yml, each read once
    assert {t.kind for t in pipeline.triggers} == {"tag", "push", "pull_request"}  # workflow: !reference
    assert jobs["Unit-test"].kinds == ["coverage", "test"]
    assert jobs["Unit-test"].upstream == ["Build OS2MO"]
    assert jobs["Export GQL Schema"].triggers == ["pull_request", "push"]  # rules: [!reference, !reference]
    review = jobs["Deploy Review"]
    assert review.environment == "review/$CI_MERGE_REQUEST_IID" and "deploy" in review.kinds
    salt = [r for r in pipeline.refs if r.type == "include"]
    assert len(salt) == 3 and all(r.pinned_by == "branch" and r.version == "master" for r in salt)


def test_corpus_plone_deploy_is_gated_by_the_whole_pipeline(corpus_dir: Path) -> None:
    pipeline, jobs = _corpus_pipeline(corpus_dir, "plone-training-deployment-gitlabdeploy")
    deploy = jobs["deploy:production"]
    assert deploy.environment == "production" and deploy.kinds == ["deploy"]
    assert {"backend:test", "frontend:test", "build:backend", "config"} <= set(deploy.upstream)
    assert deploy.image == "ghcr.io/kitconcept/docker-stack-deploy:1.4.0"
    assert jobs["config"].stage == ".pre" and jobs["config"].upstream == []
    assert jobs["changelog:backend"].triggers == ["pull_request"]


def test_corpus_gardenlinux_and_cibuildwheel(corpus_dir: Path) -> None:
    pipeline, jobs = _corpus_pipeline(corpus_dir, "gardenlinux-package-linux-6.6")
    assert jobs["test upstream version"].triggers == ["schedule"]
    assert {r.name for r in pipeline.refs if r.type == "include"} == {"gardenlinux/gardenlinux-package-build"}
    pipeline, jobs = _corpus_pipeline(corpus_dir, "cibuildwheel")
    assert set(jobs) == {"linux", "windows", "macos"}
    assert jobs["linux"].triggers == ["push"] and jobs["linux"].image == "python:3.13"
