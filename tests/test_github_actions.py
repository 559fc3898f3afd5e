"""GitHub Actions into the pipeline model: triggers, jobs, steps, references, pinning, composites."""

from __future__ import annotations

import pytest
from conftest import corpus_repos
from helpers import FIXTURES, write

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.ci import pipelines
from devops_audit.workspace import Workspace


def collect(root):
    return pipelines.collect(Workspace(root), CollectOptions())


def test_example_workflows_are_modelled():
    evidence = collect(FIXTURES / "example")
    facts = evidence.facts
    assert facts["systems"] == ["github"]
    ci = next(p for p in facts["pipelines"] if p["path"] == ".github/workflows/ci.yml")
    assert sorted(t["kind"] for t in ci["triggers"]) == ["pull_request", "push", "schedule"]
    assert ci["permissions"] == {"contents": "read"}
    jobs = {j["id"]: j for j in facts["jobs"] if j["pipeline"] == ".github/workflows/ci.yml"}
    jobs.update({j["id"]: j for j in facts["jobs"] if j["id"] == "deploy-production"})
    assert jobs["test"]["timeout_minutes"] == 15.0
    assert {"test", "coverage"} <= set(jobs["test"]["kinds"])
    assert {"sast", "sca", "secret-scan"} <= set(jobs["security"]["kinds"])
    assert jobs["deploy-production"]["environment"] == "production"
    assert jobs["deploy-production"]["upstream"] == ["build", "test"]
    assert {"publish", "deploy"} <= set(jobs["deploy-production"]["kinds"])
    assert "composite-action" in ci["reuse"] and ".github/actions/setup/action.yml" in ci["files"]


def test_release_workflow_triggers_on_tags_and_manual_with_inputs():
    facts = collect(FIXTURES / "example").facts
    release = next(p for p in facts["pipelines"] if p["name"] == "Release")
    kinds = {t["kind"]: t for t in release["triggers"]}
    assert set(kinds) == {"tag", "manual"}
    assert kinds["manual"]["inputs"] == ["version"]


def test_references_record_pinning_and_location():
    refs = collect(FIXTURES / "legacy-service").facts["refs"]
    by_ref = {r["ref"]: r for r in reversed(refs)}  # first occurrence wins
    assert by_ref["actions/checkout@v4"]["pinned_by"] == "tag" and not by_ref["actions/checkout@v4"]["pinned"]
    assert by_ref["actions/setup-node@main"]["pinned_by"] == "branch"
    assert by_ref["node"]["type"] == "image" and by_ref["node"]["pinned_by"] == "none"
    assert by_ref["actions/checkout@v4"]["location"] == {"path": ".github/workflows/build.yml", "line": 12}
    pinned = collect(FIXTURES / "example").facts["refs"]
    assert all(r["pinned"] for r in pinned if not r["local"])


def test_on_key_parsed_as_boolean_true_by_yaml_1_1_is_understood(tmp_path):
    write(tmp_path, {".github/workflows/a.yml": "on: [push, pull_request]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest\n"})
    facts = collect(tmp_path).facts
    assert facts["pipelines"][0]["trigger_kinds"] == ["pull_request", "push"]


def test_only_root_workflows_count_not_test_data_or_subfolders(tmp_path):
    body = "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: make\n"
    write(tmp_path, {"testdata/.github/workflows/a.yml": body, ".github/workflows/sub/b.yml": body,
                     "docs/.github/workflows/c.yml": body})
    evidence = collect(tmp_path)
    assert not evidence.present and evidence.facts["pipelines"] == []


def test_a_bad_job_is_reported_and_the_rest_is_kept(tmp_path):
    write(tmp_path, {".github/workflows/a.yml": "on: push\njobs:\n  broken: 3\n  ok:\n    runs-on: x\n    steps:\n      - run: pytest\n"})
    evidence = collect(tmp_path)
    assert [j["id"] for j in evidence.facts["jobs"]] == ["ok"]
    (error,) = evidence.errors
    assert (error.path, error.line, error.reason) == (".github/workflows/a.yml", 3, "job 'broken' is not a mapping")


def test_invalid_yaml_is_an_error_with_its_line(tmp_path):
    write(tmp_path, {".github/workflows/a.yml": "on: push\njobs:\n  x:\n    steps: [\n"})
    (error,) = collect(tmp_path).errors
    assert error.path == ".github/workflows/a.yml" and error.reason.startswith("invalid YAML") and error.line == 5


@pytest.mark.parametrize("repo", [r for r in corpus_repos() if (r / ".github" / "workflows").is_dir()],
                         ids=lambda r: r.parent.name)
def test_every_corpus_workflow_is_collected(repo):
    evidence = collect(repo)
    workflows = sorted(p.relative_to(repo).as_posix() for p in (repo / ".github" / "workflows").glob("*.y*ml"))
    parsed = {e.path for e in evidence.inventory if e.status == "parsed" and e.kind == "github-actions"}
    assert set(workflows) <= parsed
    assert all(p["job_ids"] for p in evidence.facts["pipelines"] if p["system"] == "github")


def test_corpus_spot_facts(corpus_dir):
    flask = collect(corpus_dir / "flask" / "repo").facts
    tests = next(p for p in flask["pipelines"] if p["path"] == ".github/workflows/tests.yaml")
    assert tests["permissions"] == {}
    assert {t["kind"] for t in tests["triggers"]} == {"push", "pull_request"}
    assert all(r["pinned_by"] == "sha" for r in flask["refs"] if r["pipeline"] == tests["path"])
    requests = collect(corpus_dir / "requests" / "repo").facts
    codeql = [j for j in requests["jobs"] if j["pipeline"].endswith("codeql-analysis.yml")]
    assert any("sast" in j["kinds"] for j in codeql)


COMPOSITE = {
    ".github/actions/setup/action.yml": "runs:\n  using: composite\n  steps:\n    - run: pip install .\n      shell: bash\n",
    ".github/workflows/reusable.yml": "on: workflow_call\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest\n",
    ".github/workflows/a.yml": ("on: push\njobs:\n  one:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/setup\n"
                                "      - uses: ./.github/actions/setup\n  two:\n    uses: ./.github/workflows/reusable.yml\n"),
    ".github/workflows/b.yml": "on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/setup\n",
}


def test_each_file_is_read_and_parsed_once_per_scan(tmp_path, monkeypatch):
    write(tmp_path, COMPOSITE)
    loads, reads = [], []
    original_load, original_read = Workspace.load_yaml, Workspace.read_text
    monkeypatch.setattr(Workspace, "load_yaml", lambda self, path: loads.append(path) or original_load(self, path))
    monkeypatch.setattr(Workspace, "read_text",
                        lambda self, path, max_bytes=None: reads.append(path) or original_read(self, path, max_bytes))
    facts = collect(tmp_path).facts
    assert sorted(loads) == sorted(COMPOSITE)  # the action is called three times, the reusable workflow once
    assert len(reads) == len(set(reads))
    steps = [s for s in facts["steps"] if s["pipeline"] == ".github/workflows/a.yml" and s["run"] == "pip install ."]
    assert len(steps) == 2 and {s["location"]["path"] for s in steps} == {".github/actions/setup/action.yml"}


def test_a_commented_release_is_read_again_on_the_next_scan(tmp_path):
    sha = "ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e"
    workflow = "on: push\njobs:\n  p:\n    runs-on: x\n    steps:\n      - uses: pypa/gh-action-pypi-publish@{} # {}\n"
    write(tmp_path, {".github/workflows/p.yml": workflow.format(sha, "v1.13.0")})
    assert "provenance" in collect(tmp_path).facts["steps"][0]["kinds"]
    write(tmp_path, {".github/workflows/p.yml": workflow.format(sha, "v1.10.0")})  # same path, same root
    assert "provenance" not in collect(tmp_path).facts["steps"][0]["kinds"]
