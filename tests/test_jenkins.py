"""Jenkins: declarative, scripted and library-call Jenkinsfiles as the CI-neutral pipeline model."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, corpus_repos

from devops_audit.classify import default_classifier
from devops_audit.collectors import CollectOptions
from devops_audit.collectors.ci import groovy, jenkins, pipelines
from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

DECLARATIVE = FIXTURES / "pipelines" / "jenkins-declarative"
SCRIPTED = FIXTURES / "pipelines" / "jenkins-scripted"
LIBRARY = FIXTURES / "pipelines" / "jenkins-library"


def parse(root: Path, path: str = "Jenkinsfile"):
    (pipeline,) = jenkins.parse(Workspace(root), path, default_classifier()).pipelines
    return pipeline, {job.id: job for job in pipeline.jobs}


def test_discovery_names_and_test_data_folders(tmp_path: Path) -> None:
    for name in ("Jenkinsfile", "Jenkinsfile.release", "ci/nightly.jenkinsfile", "ci/deploy.Jenkinsfile",
                 "testdata/Jenkinsfile", "docs/Jenkinsfile.md", "src/Jenkins.groovy"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("node { sh 'make' }\n")
    assert jenkins.discover(Workspace(tmp_path)) == [
        "Jenkinsfile", "Jenkinsfile.release", "ci/deploy.Jenkinsfile", "ci/nightly.jenkinsfile"]


def test_discovery_ignores_case(tmp_path: Path) -> None:
    for name in ("JENKINSFILE", "jenkinsfile-nightly", "ci/Release.JENKINSFILE", "jenkins/Build.GROOVY",
                 ".ci/Deploy.Groovy", "src/Main.GROOVY", "ci/Jenkinsfile.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("node { sh 'make' }\n")
    assert jenkins.discover(Workspace(tmp_path)) == [
        ".ci/Deploy.Groovy", "JENKINSFILE", "ci/Release.JENKINSFILE", "jenkins/Build.GROOVY", "jenkinsfile-nightly"]


def test_declarative_stages_and_parallel_upstream() -> None:
    _, jobs = parse(DECLARATIVE)
    assert list(jobs) == ["Build", "Unit tests", "Lint", "Windows", "Deploy", "Release"]
    assert jobs["Unit tests"].stage == "Checks"
    assert jobs["Unit tests"].needs == ["Build"] and jobs["Windows"].needs == ["Build"]
    assert jobs["Deploy"].needs == ["Unit tests", "Lint", "Windows"]  # after every parallel branch
    assert jobs["Release"].upstream == ["Build", "Deploy", "Lint", "Unit tests", "Windows"]
    assert jobs["Lint"].location.line == 45 and jobs["Lint"].locator == "stage('Checks') > stage('Lint')"


def test_declarative_steps_kinds_and_lines() -> None:
    _, jobs = parse(DECLARATIVE)
    unit = jobs["Unit tests"]
    assert [(s.locator.rsplit(".", 1)[-1], s.location.line, s.kinds) for s in unit.steps] == [
        ("steps[0]", 36, ["test"]), ("post[0]", 42, ["test"])]
    assert "echo \"done: ${BUILD_NUMBER} {braces}\"" in unit.steps[0].run  # escapes resolved, braces kept
    assert jobs["Build"].kinds == ["build"]
    assert [s.run for s in jobs["Windows"].steps] == ["mvnw.cmd -B verify", "Get-ChildItem target"]
    assert jobs["Release"].steps[0].run == "mvn -B deploy -DskipTests"  # 'a' + 'b' across lines
    assert jobs["Release"].kinds == ["build", "publish"]


def test_timeouts_from_pipeline_and_stage_options() -> None:
    _, jobs = parse(DECLARATIVE)
    assert jobs["Unit tests"].timeout_minutes == 30
    assert jobs["Build"].timeout_minutes == 60  # pipeline options: timeout(time: 1, unit: 'HOURS')


def test_docker_agent_image_is_inherited_unless_the_stage_has_its_own_agent() -> None:
    pipeline, jobs = parse(DECLARATIVE)
    assert jobs["Build"].image == "maven:3.9.6-eclipse-temurin-17"
    assert jobs["Windows"].image == ""  # agent { label 'windows' }
    (image,) = [r for r in pipeline.refs if r.type == "image"]
    assert (image.pinned_by, image.location.line) == ("tag", 10)


def test_catch_error_and_return_status_make_steps_lenient() -> None:
    _, jobs = parse(DECLARATIVE)
    assert jobs["Lint"].steps[0].name == "Checkstyle"
    assert jobs["Lint"].continue_on_error is True
    deploy = jobs["Deploy"]
    assert [(s.run, s.continue_on_error, s.location.line) for s in deploy.steps] == [
        ("kubectl apply -f k8s/ --record", True, 71),  # returnStatus: true
        ("helm upgrade --install app ./chart --namespace ${env}", False, 87),  # from the local deployTo()
    ]
    assert deploy.continue_on_error is False


def test_when_input_and_triggers() -> None:
    pipeline, jobs = parse(DECLARATIVE)
    deploy = jobs["Deploy"]
    assert deploy.manual is True and deploy.triggers == ["push"]
    assert deploy.condition.startswith("when {") and "branch 'main'" in deploy.condition
    assert jobs["Release"].triggers == ["tag"]
    assert [(t.kind, t.raw, t.location.line) for t in pipeline.triggers] == [
        ("schedule", "cron", 19), ("push", "pollSCM", 20),
        ("push", "multibranch", 1), ("pull_request", "multibranch", 1), ("tag", "multibranch", 1)]


def test_shared_libraries_are_refs_with_pinning() -> None:
    pipeline, _ = parse(DECLARATIVE)
    libraries = {r.ref: (r.pinned_by, r.pinned, r.location.line) for r in pipeline.refs if r.type == "library"}
    assert libraries == {"pipeline-utils@v2.3.1": ("version", True, 2),
                         "audit-lib@0123456789abcdef0123456789abcdef01234567": ("sha", True, 3),
                         "notify-lib": ("none", False, 3)}
    assert pipeline.reuse == ["shared-library"]


def test_scripted_pipeline_stages_parallel_and_timeout() -> None:
    pipeline, jobs = parse(SCRIPTED)
    assert list(jobs) == ["Checkout", "Test", "Lint", "Docs", "Publish"]
    assert jobs["Lint"].needs == ["Test"] and jobs["Docs"].needs == ["Test"]
    assert jobs["Publish"].needs == ["Lint", "Docs"]
    assert jobs["Test"].steps[0].location.line == 10 and jobs["Test"].kinds == ["test"]
    assert jobs["Publish"].kinds == ["publish"] and jobs["Publish"].timeout_minutes == 45
    assert [(t.kind, t.raw) for t in pipeline.triggers] == [("schedule", "cron")]
    assert [r.ref for r in pipeline.refs] == ["gradle:8.7-jdk17"]


def test_library_call_only_jenkinsfile_is_one_job_from_the_table() -> None:
    pipeline, jobs = parse(LIBRARY)
    assert list(jobs) == ["buildPlugin"]
    job = jobs["buildPlugin"]
    assert job.kinds == ["build", "test"] and job.reusable == "buildPlugin"
    assert job.location.line == 5
    assert pipeline.reuse == ["shared-library"]
    assert {(t.kind, t.raw) for t in pipeline.triggers} == {("push", "multibranch"), ("pull_request", "multibranch")}


def test_unterminated_string_is_an_evidence_error_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "Jenkinsfile").write_text("pipeline {\n  stages {\n    stage('x') { steps { sh 'oops } }\n")
    with pytest.raises(EvidenceError) as raised:
        parse(tmp_path)
    assert raised.value.line == 3
    evidence = pipelines.collect(Workspace(tmp_path), CollectOptions())
    (entry,) = evidence.inventory
    assert (entry.status, entry.kind, entry.line) == ("error", "jenkins", 3)


def test_unbalanced_braces_still_give_stages(tmp_path: Path) -> None:
    (tmp_path / "Jenkinsfile").write_text("}\npipeline {\n  stages {\n    stage('a') { steps { sh 'make' } }\n")
    _, jobs = parse(tmp_path)
    assert list(jobs) == ["a"] and jobs["a"].kinds == ["build"]


def test_groovy_tokens_keep_lines_and_read_gstrings() -> None:
    source = "def x = \"a ${ y ? '}' : \"z\" } b\" // c }\n/* { */ sh '''\nmake\n'''\nfoo(/re{/)\n"
    tokens = [t for t in groovy.tokenize(source) if t.kind == "string"]
    assert [(t.value, t.line) for t in tokens] == [
        ("a ${ y ? '}' : \"z\" } b", 1), ("\nmake\n", 2), ("re{", 5)]
    assert [n.name for n in groovy.parse(source)] == ["def", "sh", "foo"]


def test_collect_plugs_into_the_ci_namespace() -> None:
    evidence = pipelines.collect(Workspace(DECLARATIVE), CollectOptions())
    assert evidence.facts["systems"] == ["jenkins"]
    assert any(s["job"] == "Deploy" and "deploy" in s["kinds"] for s in evidence.facts["steps"])


# -- the real-world corpus ------------------------------------------------------------------------
JENKINS_REPOS = [r for r in corpus_repos() if jenkins.discover(Workspace(r))] if corpus_repos() else []


@pytest.mark.parametrize("repo", JENKINS_REPOS, ids=lambda r: r.parent.name)
def test_corpus_jenkinsfiles_parse_into_a_non_empty_model(repo: Path) -> None:
    workspace = Workspace(repo)
    for path in jenkins.discover(workspace):
        (pipeline,) = jenkins.parse(workspace, path, default_classifier()).pipelines
        assert pipeline.jobs and pipeline.triggers


def _corpus(corpus_dir: Path, name: str):
    repo = corpus_dir / name / "repo"
    if not (repo / "Jenkinsfile").is_file():
        pytest.skip(f"{name} is not in the corpus")
    return parse(repo)


def test_corpus_spring_data_mongodb(corpus_dir: Path) -> None:
    pipeline, jobs = _corpus(corpus_dir, "spring-data-mongodb")
    assert len(jobs) == 20
    baseline = jobs["test: baseline (jdk8)"]
    assert baseline.kinds == ["test"] and baseline.timeout_minutes == 30 and baseline.location.line == 164
    assert baseline.image == "springci/spring-data-openjdk8-with-mongodb-4.2:latest"
    assert len(baseline.needs) == 9  # every parallel "Publish ..." docker image stage
    assert jobs["Publish documentation"].triggers == ["push"]  # when { branch 'master' }
    assert {"publish"} <= set(jobs["Release to artifactory"].kinds)
    assert ("push", "pollSCM") in {(t.kind, t.raw) for t in pipeline.triggers}
    assert all(r.pinned_by == "none" for r in pipeline.refs)  # every image is :latest


def test_corpus_apm_agent_python(corpus_dir: Path) -> None:
    pipeline, jobs = _corpus(corpus_dir, "apm-agent-python")
    (library,) = [r for r in pipeline.refs if r.type == "library"]
    assert (library.ref, library.pinned_by, library.location.line) == ("apm@current", "branch", 2)
    assert jobs["Release"].manual is True  # input { message ... }
    assert jobs["Release"].timeout_minutes == 720  # Prepare Release: timeout(time: 12, unit: 'HOURS')
    assert "publish" in jobs["Release"].kinds  # twine upload in the local releasePackages()
    assert jobs["Sanity checks"].kinds == ["lint"]  # preCommit(...) from the library table
    assert jobs["Building packages"].steps[0].name == "Installing cibuildwheel"


def test_corpus_git_plugin(corpus_dir: Path) -> None:
    pipeline, jobs = _corpus(corpus_dir, "git-plugin")
    assert list(jobs) == ["buildPlugin"] and jobs["buildPlugin"].kinds == ["build", "test"]


def test_a_jenkinsfile_without_any_stage_or_step_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "Jenkinsfile").write_text("// nothing here yet\nproperties([])\n")
    with pytest.raises(EvidenceError, match="no pipeline, stage or step"):
        parse(tmp_path)
