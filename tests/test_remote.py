"""Remote definitions fetched from a forge (a local HTTP server stands in for it), online and --offline."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from helpers import scan_dict, verdicts, write

SHA = "0123456789abcdef0123456789abcdef01234567"
REMOTE_WORKFLOW = """\
on: workflow_call
jobs:
  package:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python -m build
"""
GITLAB_TEMPLATE = """\
.hidden:
  script: [echo hidden]
build:
  stage: build
  script:
    - make dist
    - python -m build
"""


def _content(text: str) -> str:
    return json.dumps({"content": base64.b64encode(text.encode()).decode(), "encoding": "base64"})


@pytest.fixture
def caller(tmp_path: Path) -> Path:
    return write(tmp_path / "repo", {".github/workflows/ci.yml": f"""\
name: ci
on: [push, pull_request]
permissions: {{contents: read}}
jobs:
  package:
    uses: acme/ci/.github/workflows/package.yml@{SHA}
"""})


def test_remote_reusable_workflow_is_read_online_and_cached_by_sha(httpserver, caller: Path, tmp_path: Path) -> None:
    httpserver.expect_oneshot_request("/api/v3/repos/acme/ci/contents/.github/workflows/package.yml",
                                      query_string={"ref": SHA}).respond_with_data(_content(REMOTE_WORKFLOW))
    options = {"api_url": httpserver.url_for("/api/v3"), "cache_dir": str(tmp_path / "cache")}
    verdict = verdicts(scan_dict(caller, **options))["CD.BP.01"]
    assert verdict["status"] == "pass", verdict["message"]
    # a full SHA never changes: the second scan reads the cache (the server would answer 500 now)
    httpserver.expect_request(re.compile(".*")).respond_with_data("boom", status=500)
    assert verdicts(scan_dict(caller, **options))["CD.BP.01"]["status"] == "pass"
    from devops_audit.collectors import CollectOptions
    from devops_audit.collectors.ci.pipelines import collect
    from devops_audit.workspace import Workspace

    facts = collect(Workspace(caller), CollectOptions(**options)).facts
    step = next(s for s in facts["steps"] if s["run"] == "python -m build")
    assert step["location"] == {"path": f"acme/ci/.github/workflows/package.yml@{SHA}", "line": 7}
    assert step["via"] == [".github/workflows/ci.yml:6"]
    assert facts["unresolved"] == []


def test_an_indicator_for_release_jobs_is_unknown_not_inapplicable_while_a_remote_definition_is_unread(
        httpserver, caller: Path, tmp_path: Path) -> None:
    # SR.BD.05 applies to repositories that publish or deploy; the job that does may be in the remote workflow
    offline = verdicts(scan_dict(caller, offline=True, api_url=httpserver.url_for("/api/v3")))["SR.BD.05"]
    assert offline["status"] == "unknown"
    assert "Whether it applies is not visible" in offline["message"]
    assert f"acme/ci/.github/workflows/package.yml@{SHA}" in offline["message"]
    # read online, the remote workflow only builds: the indicator does not apply
    httpserver.expect_request("/api/v3/repos/acme/ci/contents/.github/workflows/package.yml",
                              query_string={"ref": SHA}).respond_with_data(_content(REMOTE_WORKFLOW))
    options = {"api_url": httpserver.url_for("/api/v3"), "cache_dir": str(tmp_path / "cache")}
    assert verdicts(scan_dict(caller, **options))["SR.BD.05"]["status"] == "not_applicable"


def test_offline_the_remote_workflow_makes_the_verdict_unknown_not_fail(httpserver, caller: Path) -> None:
    verdict = verdicts(scan_dict(caller, offline=True, api_url=httpserver.url_for("/api/v3")))["CD.BP.01"]
    assert verdict["status"] == "unknown"
    assert f"acme/ci/.github/workflows/package.yml@{SHA}" in verdict["message"]
    assert "without --offline" in verdict["message"]
    assert not httpserver.log  # nothing was asked


def test_a_missing_remote_workflow_is_unknown_with_the_reason(httpserver, caller: Path, tmp_path: Path) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_json({"message": "Not Found"}, status=404)
    verdict = verdicts(scan_dict(caller, api_url=httpserver.url_for("/api/v3"),
                                 cache_dir=str(tmp_path / "c")))["CD.BP.01"]
    assert verdict["status"] == "unknown"
    assert "HTTP 404" in verdict["message"] and "GITHUB_TOKEN" in verdict["message"]


def test_a_remote_composite_action_is_classified_by_its_steps(httpserver, tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {".github/workflows/ci.yml": """\
on: [pull_request]
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/scan-all@v2
"""})
    httpserver.expect_request("/api/v3/repos/acme/scan-all/contents/action.yml").respond_with_json(
        {"message": "Not Found"}, status=404)
    httpserver.expect_request("/api/v3/repos/acme/scan-all/contents/action.yaml", query_string={"ref": "v2"}) \
        .respond_with_data(_content("runs:\n  using: composite\n  steps:\n    - run: semgrep ci\n      shell: bash\n"))
    report = verdicts(scan_dict(repo, api_url=httpserver.url_for("/api/v3"), cache_dir=str(tmp_path / "c")))
    assert report["CD.TM.06"]["status"] == "pass", report["CD.TM.06"]["message"]
    offline = verdicts(scan_dict(repo, offline=True))
    assert offline["CD.TM.06"]["status"] == "fail"  # offline an action is its name: no unknown for it


GITLAB_CASES = {
    "project": ("include:\n  - project: acme/templates\n    file: /build.yml\n    ref: v1.2.3\n",
                r"^/api/v4/projects/acme(%2F|/)templates/repository/files/build\.yml$", "acme/templates/build.yml@v1.2.3"),
    "component": ("include:\n  - component: gitlab.example.com/acme/components/build@1.0.0\n",
                  r"^/api/v4/projects/acme(%2F|/)components/repository/files/templates(%2F|/)build\.yml$",
                  "acme/components/templates/build.yml@1.0.0"),
    "remote": ("include:\n  - remote: {url}/ci/build.yml\n", r"^/ci/build\.yml$", "/ci/build.yml"),
    "template": ("include:\n  - template: Python.gitlab-ci.yml\n", r"^/api/v4/templates/gitlab_ci_ymls/Python$",
                 "gitlab-template:Python"),
}


@pytest.mark.parametrize("kind", sorted(GITLAB_CASES))
def test_gitlab_includes_online_and_offline(httpserver, tmp_path: Path, kind: str) -> None:
    include, uri, where = GITLAB_CASES[kind]
    repo = write(tmp_path / "repo", {".gitlab-ci.yml": include.format(url=httpserver.url_for("").rstrip("/"))
                                     + "lint:\n  script: [ruff check .]\n"})
    body = json.dumps({"content": GITLAB_TEMPLATE}) if kind == "template" else (
        GITLAB_TEMPLATE if kind == "remote" else _content(GITLAB_TEMPLATE))
    httpserver.expect_request(re.compile(uri)).respond_with_data(body)
    online = verdicts(scan_dict(repo, api_url=httpserver.url_for("/api/v4"), cache_dir=str(tmp_path / "c")))
    assert online["CD.BP.01"]["status"] == "pass", online["CD.BP.01"]["message"]
    from devops_audit.collectors import CollectOptions
    from devops_audit.collectors.ci.pipelines import collect
    from devops_audit.workspace import Workspace

    facts = collect(Workspace(repo), CollectOptions(api_url=httpserver.url_for("/api/v4"),
                                                    cache_dir=str(tmp_path / "c"))).facts
    step = next(s for s in facts["steps"] if s["run"] == "python -m build")
    assert step["location"]["path"].endswith(where) and step["via"] == [".gitlab-ci.yml:2"]
    assert not any("hidden" in s["run"] for s in facts["steps"])
    offline = verdicts(scan_dict(repo, offline=True))["CD.BP.01"]
    assert offline["status"] == "unknown" and "offline" in offline["message"]


def test_a_scanner_template_known_by_name_is_neither_fetched_nor_unresolved(httpserver, tmp_path: Path) -> None:
    from devops_audit.collectors import CollectOptions
    from devops_audit.collectors.ci.pipelines import collect
    from devops_audit.workspace import Workspace

    repo = write(tmp_path / "repo", {".gitlab-ci.yml": "include:\n  - template: Security/SAST.gitlab-ci.yml\n"
                                                       "test:\n  script: [pytest]\n"})
    for offline in (True, False):
        facts = collect(Workspace(repo), CollectOptions(offline=offline, api_url=httpserver.url_for("/api/v4"),
                                                        cache_dir=str(tmp_path / "c"))).facts
        assert facts["unresolved"] == []
        assert any("sast" in j["kinds"] for j in facts["jobs"])
    assert not httpserver.log


def test_offline_an_absence_is_unknown_but_a_definite_violation_stays_a_fail(caller: Path) -> None:
    write(caller, {"tests/test_app.py": "def test_app():\n    assert True\n",
                   ".github/workflows/lint.yml": "on: [pull_request]\npermissions: {contents: read}\njobs:\n"
                                                "  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
                                                "      - run: ruff check .\n"})
    report = verdicts(scan_dict(caller, offline=True))
    assert report["CD.TM.01"]["status"] == "unknown"  # "no CI job runs a recognised test runner": not seen
    assert "package.yml" in report["CD.TM.01"]["message"]
    assert report["CD.CI.04"]["status"] == "fail"  # the lint job has no timeout: definite, whatever is remote


ORB_SOURCE = """\
version: 2.1
commands:
  install:
    steps:
      - run: npm ci
  run-tests:
    steps:
      - install
      - run:
          command: npx jest --ci
jobs:
  release:
    docker: [{image: cimg/node:20.11}]
    steps:
      - checkout
      - run: npm publish
"""
CIRCLECI = """\
version: 2.1
orbs:
  acme: acme/node-tools@1.4.2
workflows:
  main:
    jobs:
      - check
      - acme/release
jobs:
  check:
    docker: [{image: cimg/node:20.11}]
    steps:
      - checkout
      - acme/run-tests
"""


def test_circleci_orb_commands_and_jobs_are_read_from_the_orb_source(httpserver, tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {".circleci/config.yml": CIRCLECI,
                                     "tests/app.test.js": "test('x', () => {})\n"})
    httpserver.expect_request("/graphql-unstable", method="POST",
                              json={"query": "query($ref: String!) { orbVersion(orbVersionRef: $ref) { source } }",
                                    "variables": {"ref": "acme/node-tools@1.4.2"}}) \
        .respond_with_json({"data": {"orbVersion": {"source": ORB_SOURCE}}})
    settings = {"circleci_api": httpserver.url_for("").rstrip("/")}
    from devops_audit.collectors import CollectOptions
    from devops_audit.collectors.ci.pipelines import collect
    from devops_audit.workspace import Workspace

    facts = collect(Workspace(repo), CollectOptions(settings=settings, cache_dir=str(tmp_path / "c"))).facts
    jest = next(s for s in facts["steps"] if s["run"] == "npx jest --ci")
    assert jest["location"] == {"path": "acme/node-tools@1.4.2:run-tests", "line": 9}
    assert jest["via"] == [".circleci/config.yml:14"]
    jobs = {j["id"]: j for j in facts["jobs"]}
    assert "test" in jobs["check"]["kinds"] and "publish" in jobs["acme/release"]["kinds"]
    assert facts["unresolved"] == []
    # a published orb version never changes: read from the cache afterwards, even offline of the API
    httpserver.clear()
    again = collect(Workspace(repo), CollectOptions(settings=settings, cache_dir=str(tmp_path / "c"))).facts
    assert again["unresolved"] == [] and not httpserver.log
    offline = collect(Workspace(repo), CollectOptions(offline=True)).facts
    # offline: `acme/run-tests` still says "tests" by its name; `acme/release` says nothing it can be sure of
    assert [u["ref"] for u in offline["unresolved"]] == ["acme/release"]


def test_only_the_allowed_hosts_are_asked(caller: Path) -> None:
    from devops_audit.collectors import CollectOptions
    from devops_audit.collectors.ci.pipelines import collect
    from devops_audit.workspace import Workspace

    # the test session allows only localhost (conftest): github.com is not asked, and it says why
    facts = collect(Workspace(caller), CollectOptions()).facts
    (unresolved,) = facts["unresolved"]
    assert unresolved["reason"] == "not fetched: api.github.com is not in DEVOPS_AUDIT_REMOTE_HOSTS"


def test_offline_a_shared_action_is_its_name_and_a_release_by_name_keeps_provenance_unknown(tmp_path: Path) -> None:
    """node_exporter publishes through `prometheus/promci/publish_release`; terraform-aws-vpc lints through
    `clowdhaus/terraform-composite-actions/pre-commit`: read offline, their names say what they do (the last
    part only: a folder grouping actions says nothing), and what a release step attests stays unseen."""
    repo = write(tmp_path / "repo", {".github/workflows/ci.yml": """\
on: [pull_request, push]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: clowdhaus/terraform-composite-actions/pre-commit@v1.14.0
  version:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/actions/.github/actions/build-test-and-deploy/create_app_version@v2
  publish_release:
    runs-on: ubuntu-latest
    steps:
      - uses: prometheus/promci/publish_release@v0.9.0
"""})
    from devops_audit.collectors import CollectOptions
    from devops_audit.collectors.ci.pipelines import collect
    from devops_audit.workspace import Workspace

    kinds = {job["id"]: job["kinds"] for job in collect(Workspace(repo), CollectOptions(offline=True)).facts["jobs"]}
    assert kinds == {"lint": ["lint"], "version": [], "publish_release": ["publish"]}
    report = verdicts(scan_dict(repo, offline=True))
    assert report["CD.TM.06"]["status"] == "pass"  # the pre-commit action lints
    assert report["CD.DR.01"]["status"] == "pass"  # publish_release publishes
    assert report["SR.BD.05"]["status"] == "unknown"
    assert "known only by its name" in report["SR.BD.05"]["message"]
    (tmp_path / "repo" / ".github/workflows/ci.yml").write_text(
        (tmp_path / "repo" / ".github/workflows/ci.yml").read_text()
        + "      - uses: actions/attest-build-provenance@v2\n        with: {subject-path: dist/*}\n")
    assert verdicts(scan_dict(repo, offline=True))["SR.BD.05"]["status"] == "pass"  # a visible attestation
