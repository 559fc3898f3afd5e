"""CD.BP.03 and remote actions: a shared definition of the organisation counts as reuse, a marketplace tool does not.

Online, an action read as composite counts; offline (or when it cannot be read) an action of the repository's own
owner, or one action of a collection (`owner/repo/path@ref`), counts; first-party actions and actions the tool
table knows by name never do."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from conftest import git
from helpers import scan_dict, verdicts, write

SHA = "0123456789abcdef0123456789abcdef01234567"
NODE_EXPORTER_CI = f"""\
name: CI
on:
  pull_request:
  push:
    branches: [master]
jobs:
  test_go:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: prometheus/promci@{SHA} # v0.4.7
      - run: make test
  publish_main:
    needs: [test_go]
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: prometheus/promci/publish_main@{SHA} # v0.4.7
        with:
          docker_hub_login: ${{{{ secrets.docker_hub_login }}}}
"""
MARKETPLACE_CI = """\
on: [push, pull_request]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: graalvm/setup-graalvm@v1
      - run: mvn --batch-mode verify
      - uses: github/codeql-action/upload-sarif@v3
"""
TERRAFORM_PRE_COMMIT = """\
name: Pre-Commit
on:
  pull_request:
    branches: [main]
jobs:
  preCommitMaxVersion:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: clowdhaus/terraform-composite-actions/pre-commit@v1.11.1
        with:
          terraform-version: 1.10.5
"""


def _bp03(root: Path, **options) -> dict:
    return verdicts(scan_dict(root, **options))["CD.BP.03"]


def _content(text: str) -> str:
    return json.dumps({"content": base64.b64encode(text.encode()).decode(), "encoding": "base64"})


def test_offline_an_action_of_a_collection_counts_as_reuse_but_a_marketplace_action_does_not(tmp_path: Path):
    shared = write(tmp_path / "vpc", {".github/workflows/pre-commit.yml": TERRAFORM_PRE_COMMIT})
    verdict = _bp03(shared, offline=True)
    assert verdict["status"] == "pass", verdict["message"]
    assert "shared-action" in verdict["message"]
    marketplace = write(tmp_path / "lib", {".github/workflows/build.yml": MARKETPLACE_CI})
    assert _bp03(marketplace, offline=True)["status"] == "fail"


def test_offline_an_action_of_the_repositorys_own_owner_counts_as_reuse(tmp_path: Path):
    workflow = NODE_EXPORTER_CI.replace(f"prometheus/promci/publish_main@{SHA}", "docker/login-action@v3")
    repo = write(tmp_path / "node_exporter", {".github/workflows/ci.yml": workflow, "Makefile": "test:\n\tgo test\n"})
    git(repo, "init", "-q", "-b", "master")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ci")
    assert _bp03(repo, offline=True)["status"] == "fail"  # whose `promci` is it? nothing says
    git(repo, "remote", "add", "origin", "git@github.com:prometheus/node_exporter.git")
    assert _bp03(repo, offline=True)["status"] == "pass"
    git(repo, "remote", "remove", "origin")
    assert _bp03(repo, offline=True, settings={"repository": "Prometheus/node_exporter"})["status"] == "pass"
    assert _bp03(repo, offline=True, settings={"repository": "someone-else/node_exporter"})["status"] == "fail"


def test_online_only_an_action_read_as_composite_counts(httpserver, tmp_path: Path):
    repo = write(tmp_path / "repo", {".github/workflows/ci.yml": """\
on: [pull_request]
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/tools/scan-all@v2
"""})
    options = {"api_url": httpserver.url_for("/api/v3"), "cache_dir": str(tmp_path / "c")}
    httpserver.expect_oneshot_request("/api/v3/repos/acme/tools/contents/scan-all/action.yml").respond_with_data(
        _content("runs:\n  using: node20\n  main: dist/index.js\n"))
    assert _bp03(repo, **options)["status"] == "fail"  # read: a JavaScript action, a tool like any other
    verdict = _bp03(repo, offline=True)
    assert (verdict["status"], "shared-action" in verdict["message"]) == ("pass", True)  # not read: a collection
    httpserver.expect_oneshot_request("/api/v3/repos/acme/tools/contents/scan-all/action.yml").respond_with_data(
        _content("runs:\n  using: composite\n  steps:\n    - run: semgrep ci\n      shell: bash\n"))
    verdict = _bp03(repo, api_url=options["api_url"], cache_dir=str(tmp_path / "c2"))
    assert (verdict["status"], "composite-action" in verdict["message"]) == ("pass", True)


DEPLOY_CI = f"""\
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: acme/platform-actions/deploy_service@{SHA} # v3
        with: {{environment: production}}
"""


def test_offline_a_deploy_known_only_by_its_name_leaves_rollback_unknown(tmp_path: Path):
    """CD.DR.04: the shared deploy action may roll back inside (`helm upgrade --atomic`); while nothing visible
    does, the verdict is unknown with the way to see it; a visible rollback job, or a manual run of that deploy
    given a version, still passes."""
    files = {"Dockerfile": "FROM python:3.12-slim\n", ".github/workflows/deploy.yml": DEPLOY_CI}
    verdict = verdicts(scan_dict(write(tmp_path / "unseen", files), offline=True))["CD.DR.04"]
    assert verdict["status"] == "unknown", verdict["message"]
    assert "known only by its name" in verdict["message"] and "Scan online" in verdict["message"]
    rollback = {**files, ".github/workflows/rollback.yml": "on: workflow_dispatch\njobs:\n  rollback:\n"
                "    runs-on: ubuntu-latest\n    steps:\n      - run: helm rollback api\n"}
    assert verdicts(scan_dict(write(tmp_path / "seen", rollback), offline=True))["CD.DR.04"]["status"] == "pass"
    versioned = {**files, ".github/workflows/deploy.yml": DEPLOY_CI.replace(
        "on:\n  push:\n    branches: [main]\n", "on:\n  workflow_dispatch:\n    inputs: {version: {required: true}}\n")}
    assert verdicts(scan_dict(write(tmp_path / "versioned", versioned), offline=True))["CD.DR.04"]["status"] == "pass"
