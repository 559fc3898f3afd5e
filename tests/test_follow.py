"""Following CI commands into the repository: each follower on a realistic layout, verdicts and chains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import scan_dict, verdicts, write

WORKFLOW = """\
name: ci
on: [push, pull_request]
permissions: {{contents: read}}
jobs:
  check:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
      - run: {command}
"""

# follower -> (files, the CI command, the followed file and line that runs the test tool)
CASES = {
    "make": ({"Makefile": "GO ?= go\n.PHONY: unit-test lint\n\nlint:\n\tgolangci-lint run\n\n"
                          "unit-test: lint\n\t$(GO) test -race ./...\n"}, "make unit-test", "Makefile:8"),
    "script": ({"ci/test.sh": "#!/usr/bin/env bash\nset -euo pipefail\n\n# run the suite\npython -m pytest -q\n"},
               "bash ci/test.sh", "ci/test.sh:5"),
    "package.json": ({"package.json": '{\n  "name": "app",\n  "scripts": {\n    "lint": "eslint .",\n'
                                      '    "test": "vitest run",\n    "ci": "npm run lint && npm test"\n  }\n}\n'},
                     "npm run ci", "package.json:5"),
    "tox": ({"tox.ini": "[tox]\nenvlist = py312, lint\n\n[testenv]\ndeps = pytest\ncommands =\n"
                        "    pytest {posargs}\n\n[testenv:lint]\ncommands = ruff check .\n"}, "tox -e py312", "tox.ini:7"),
    "nox": ({"noxfile.py": "import nox\n\n\n@nox.session(python=['3.12'])\ndef tests(session):\n"
                           "    session.install('-e', '.')\n    session.run('pytest', '--cov', *session.posargs)\n"},
            "nox -s tests-3.12", "noxfile.py:7"),
    "just": ({"justfile": "default: test\n\nlint:\n    ruff check .\n\ntest: lint\n    pytest -q\n"},
             "just test", "justfile:7"),
    "task": ({"Taskfile.yml": "version: '3'\ntasks:\n  lint:\n    cmds: [golangci-lint run]\n  test:\n"
                              "    deps: [lint]\n    cmds:\n      - go test ./...\n"}, "task test", "Taskfile.yml:8"),
    "pixi": ({"pixi.toml": "[project]\nname = 'x'\nchannels = ['conda-forge']\nplatforms = ['linux-64']\n\n"
                           "[tasks]\nlint = 'ruff check .'\ntest = { cmd = 'pytest -q', depends-on = ['lint'] }\n"},
             "pixi run test", "pixi.toml:8"),
}


@pytest.mark.parametrize("follower", sorted(CASES))
def test_a_followed_test_runner_makes_the_job_a_test_job(tmp_path: Path, follower: str) -> None:
    files, command, where = CASES[follower]
    write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format(command=command), **files,
                     "tests/test_app.py": "def test_app():\n    assert True\n"})
    report = scan_dict(tmp_path, offline=True)
    verdict = verdicts(report)["CD.CI.01"]
    assert verdict["status"] == "pass", verdict["message"]
    ci = _ci(tmp_path)
    job = ci["jobs"][0]
    assert "test" in job["kinds"]
    followed = [s for s in ci["steps"] if f"{s['location']['path']}:{s['location']['line']}" == where]
    assert followed, [(s["location"], s["run"]) for s in ci["steps"]]
    assert followed[0]["via"][0] == ".github/workflows/ci.yml:10"
    assert "test" in followed[0]["kinds"]
    inventory = {e["path"]: e["status"] for e in report["inventory"]}
    assert inventory[where.split(":")[0]] == "parsed"


def test_dependencies_are_followed_first_with_their_own_lines(tmp_path: Path) -> None:
    files, command, _ = CASES["make"]
    write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format(command=command), **files})
    steps = [s for s in _ci(tmp_path)["steps"] if s["via"]]
    assert [(s["location"]["line"], s["run"]) for s in steps] == [(5, "golangci-lint run"), (8, "go test -race ./...")]
    assert "lint" in steps[0]["kinds"]


def test_nested_calls_carry_the_whole_chain_and_cycles_stop(tmp_path: Path) -> None:
    write(tmp_path, {
        ".github/workflows/ci.yml": WORKFLOW.format(command="make release"),
        "Makefile": "release: dist\n\t./scripts/publish.sh\n\ndist:\n\t$(MAKE) dist\n\tpython -m build\n",
        "scripts/publish.sh": "#!/bin/sh\nsource scripts/sign.sh\ntwine upload dist/*\n",
        "scripts/sign.sh": "cosign sign-blob dist/x.whl\n",
    })
    ci = _ci(tmp_path)
    sign = next(s for s in ci["steps"] if s["location"]["path"] == "scripts/sign.sh")
    assert sign["via"] == [".github/workflows/ci.yml:10", "Makefile:2", "scripts/publish.sh:2"]
    assert {"build", "publish", "signing"} <= set(ci["jobs"][0]["kinds"])
    assert ci["jobs"][0]["kinds_via"]["signing"] == (".github/workflows/ci.yml:10 → Makefile:2 → scripts/publish.sh:2"
                                                     " → scripts/sign.sh:1")
    report = verdicts(scan_dict(tmp_path, offline=True))
    assert report["SR.BD.05"]["status"] == "pass"
    assert ".github/workflows/ci.yml:10 → Makefile:2 → scripts/publish.sh:2 → scripts/sign.sh:1" in \
        report["SR.BD.05"]["message"]
    assert report["CD.DR.01"]["status"] == "pass"
    assert "(via .github/workflows/ci.yml:10 → Makefile:2 → scripts/publish.sh:3)" in report["CD.DR.01"]["message"]


def test_a_path_out_of_the_repository_is_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.sh"
    outside.write_text("pytest\n")
    repo = tmp_path / "repo"
    write(repo, {".github/workflows/ci.yml": WORKFLOW.format(command="bash ../outside.sh && bash /etc/profile")})
    assert not [s for s in _ci(repo)["steps"] if s["via"]]


def test_jenkins_groovy_pipeline_is_found_and_the_gdsl_descriptor_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, {
        ".jenkins.groovy": "pipeline {\n  agent any\n  stages {\n    stage('Test') {\n      steps {\n"
                           "        sh 'make check'\n      }\n    }\n  }\n}\n",
        "Jenkinsfile.gdsl": "def ctx = context(scope: scriptScope())\ncontributor(ctx) {\n"
                            "  method(name: 'pipeline', type: 'Object', params: [body: Closure])\n}\n",
        "Makefile": "check:\n\tpytest -q\n",
        "tests/test_x.py": "def test_x():\n    pass\n",
    })
    report = scan_dict(tmp_path, offline=True)
    inventory = {e["path"]: e for e in report["inventory"]}
    assert inventory[".jenkins.groovy"]["status"] == "parsed"
    assert inventory["Jenkinsfile.gdsl"]["status"] == "skipped"
    assert "IDE descriptor" in inventory["Jenkinsfile.gdsl"]["reason"]
    assert not [e for e in report["inventory"] if e["status"] == "error"]
    assert verdicts(report)["CD.CI.01"]["status"] == "pass"
    followed = next(s for s in _ci(tmp_path)["steps"] if s["location"]["path"] == "Makefile")
    assert followed["via"] == [".jenkins.groovy:6"]


def test_local_composite_action_steps_are_the_callers_and_every_action_is_audited(tmp_path: Path) -> None:
    write(tmp_path, {
        ".github/workflows/ci.yml": WORKFLOW.format(command="echo done").replace(
            "      - uses: actions/checkout@v4\n", "      - uses: actions/checkout@v4\n      - uses: ./.github/actions/test\n"),
        ".github/actions/test/action.yml": "name: test\nruns:\n  using: composite\n  steps:\n"
                                           "    - uses: actions/setup-go@v5\n      with: {go-version: stable}\n"
                                           "    - run: go test ./...\n      shell: bash\n",
        "tools/release/action.yml": "name: release\nruns:\n  using: composite\n  steps:\n"
                                    "    - uses: some/thing@main\n",
    })
    ci = _ci(tmp_path)
    kinds = {p["path"]: p["kind"] for p in ci["pipelines"]}
    assert kinds == {".github/workflows/ci.yml": "pipeline", ".github/actions/test/action.yml": "action",
                     "tools/release/action.yml": "action"}
    caller = next(s for s in ci["steps"] if s["pipeline"] == ".github/workflows/ci.yml" and s["run"] == "go test ./...")
    assert caller["location"] == {"path": ".github/actions/test/action.yml", "line": 7}
    assert caller["via"] == [".github/workflows/ci.yml:10"]
    assert "test" in next(j for j in ci["jobs"] if j["pipeline"] == ".github/workflows/ci.yml")["kinds"]
    assert any(r["ref"] == "some/thing@main" and r["pipeline"] == "tools/release/action.yml" for r in ci["refs"])
    report = verdicts(scan_dict(tmp_path, offline=True))
    pins = report["CD.BP.04"]
    assert pins["status"] == "fail"
    assert [v["message"] for v in pins["violations"]] == ["go toolchain is not pinned: 'stable' moves to newer releases"]
    assert pins["violations"][0]["path"] == ".github/actions/test/action.yml"


@pytest.mark.parametrize(("with_", "status"), [
    ("{go-version: '1.22.3'}", "pass"), ("{go-version-file: go.mod}", "pass"), ("{go-version: '1.26.x'}", "pass"),
    ("{go-version: stable}", "fail"), ("{go-version: '1.22', check-latest: true}", "fail"), ("{}", "fail"),
])
def test_toolchain_pins(tmp_path: Path, with_: str, status: str) -> None:
    write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format(command="go test ./...").replace(
        "      - uses: actions/checkout@v4\n", f"      - uses: actions/setup-go@v5\n        with: {with_}\n")})
    assert verdicts(scan_dict(tmp_path, offline=True))["CD.BP.04"]["status"] == status


def test_no_image_and_no_setup_step_is_not_a_vacuous_pass(tmp_path: Path) -> None:
    write(tmp_path, {".github/workflows/ci.yml": WORKFLOW.format(command="go test ./...")})
    verdict = verdicts(scan_dict(tmp_path, offline=True))["CD.BP.04"]
    assert verdict["status"] == "not_applicable"
    assert "preinstalled" in verdict["message"]


def test_pre_commit_ci_block_is_a_lint_and_secret_scan_on_pull_requests(tmp_path: Path) -> None:
    write(tmp_path, {".pre-commit-config.yaml": "ci:\n  autoupdate_schedule: monthly\nrepos:\n"
                                                "  - repo: https://github.com/astral-sh/ruff-pre-commit\n"
                                                "    rev: v0.6.0\n    hooks:\n      - id: ruff\n"
                                                "  - repo: https://github.com/gitleaks/gitleaks\n"
                                                "    rev: v8.18.0\n    hooks:\n      - id: gitleaks\n"})
    job = _ci(tmp_path)["jobs"][0]
    assert job["kinds"] == ["lint", "secret-scan"]
    assert job["triggers"] == ["pull_request"]
    assert verdicts(scan_dict(tmp_path, offline=True))["CD.TM.06"]["status"] == "pass"


def test_sarif_and_markdown_show_the_chain(tmp_path: Path) -> None:
    import jsonschema
    from gate_support import as_json, rendered, scan

    write(tmp_path, {
        ".github/workflows/ci.yml": WORKFLOW.format(command="echo").replace(
            "      - uses: actions/checkout@v4\n", "      - uses: ./.github/actions/setup\n"),
        ".github/actions/setup/action.yml": "name: s\nruns:\n  using: composite\n  steps:\n"
                                            "    - uses: actions/setup-node@v4\n      with: {node-version: 'lts/*'}\n",
    })
    result = scan(tmp_path, offline=True)
    sarif = as_json(result, "sarif")
    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "CD.BP.04"]
    chained = [r for r in results if r.get("relatedLocations")]
    assert chained and chained[0]["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        ".github/workflows/ci.yml"
    assert "via `.github/workflows/ci.yml:9`" in rendered(result, "markdown")
    report = as_json(result, "json")
    bp04 = next(v for v in report["indicators"] if v["id"] == "CD.BP.04")
    assert [".github/workflows/ci.yml:9"] in [v["chain"] for v in bp04["violations"]]


def _ci(root: Path) -> dict:
    from devops_audit.collectors.ci.pipelines import collect
    from devops_audit.facts import to_data
    from devops_audit.workspace import Workspace

    return to_data(collect(Workspace(root), None).facts)


def test_hostile_files_cost_little_and_a_symlink_out_is_refused(tmp_path: Path) -> None:
    import os
    import time

    outside = tmp_path / "secret.sh"
    outside.write_text("pytest\n")
    repo = write(tmp_path / "repo", {
        ".github/workflows/ci.yml": WORKFLOW.format(command="make all && just all && ./ci/link.sh"),
        "Makefile": "X = $(X)$(X)\nall:\n" + ("a" + " " * 3000 + "=:\n") * 300 + "\t" + "$(X)" * 900 + "\n",
        "justfile": ("a" + " " * 3000 + "=:\n") * 300 + "all: all\n    just all\n",
    })
    (repo / "ci").mkdir()
    os.symlink(outside, repo / "ci" / "link.sh")
    started = time.perf_counter()
    report = scan_dict(repo, offline=True)
    assert time.perf_counter() - started < 5
    inventory = {e["path"]: e for e in report["inventory"]}
    assert inventory["ci/link.sh"]["status"] == "skipped" and "outside the repository" in inventory["ci/link.sh"]["reason"]
    assert not [s for s in _ci(repo)["steps"] if s["location"]["path"] == "ci/link.sh"]


PUBLISH = """\
on: {{push: {{tags: ['v*']}}}}
permissions: {{contents: read}}
jobs:
  publish:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions: {{id-token: write}}
    steps:
      - run: python -m build
      - uses: {uses}{with_}
"""


@pytest.mark.parametrize(("uses", "with_", "status"), [
    ("pypa/gh-action-pypi-publish@ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e # v1.13.0", "", "pass"),
    ("pypa/gh-action-pypi-publish@release/v1", "", "pass"),
    ("pypa/gh-action-pypi-publish@ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e", "", "fail"),  # which release?
    ("pypa/gh-action-pypi-publish@ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e", "\n        with: {attestations: true}",
     "pass"),
    ("pypa/gh-action-pypi-publish@v1.10.3", "", "fail"),
])
def test_pypi_publish_attestations_count_as_provenance(tmp_path: Path, uses: str, with_: str, status: str) -> None:
    write(tmp_path, {".github/workflows/publish.yml": PUBLISH.format(uses=uses, with_=with_)})
    assert verdicts(scan_dict(tmp_path, offline=True))["SR.BD.05"]["status"] == status


def test_linter_plugins_in_the_build_count_as_linter_configuration(tmp_path: Path) -> None:
    write(tmp_path, {"pom.xml": "<project><build><plugins><plugin>\n<artifactId>maven-checkstyle-plugin</artifactId>\n"
                                "</plugin><plugin><groupId>com.github.spotbugs</groupId></plugin></plugins></build>"
                                "</project>\n"})
    verdict = verdicts(scan_dict(tmp_path, offline=True))["CD.TM.05"]
    assert verdict["status"] == "pass"
    assert "pom.xml[checkstyle]" in verdict["message"] and "pom.xml[spotbugs]" in verdict["message"]


@pytest.mark.parametrize(("call", "status"), [
    ("buildPlugin(useContainerAgent: true, configurations: [\n  [platform: 'linux', jdk: 21],\n])\n", "pass"),
    ("buildPlugin()\n", "fail"),  # the library's default JDKs: whatever it recommends today
])
def test_jenkins_build_plugin_jdks_are_toolchain_pins(tmp_path: Path, call: str, status: str) -> None:
    write(tmp_path, {"Jenkinsfile": call})
    assert verdicts(scan_dict(tmp_path, offline=True))["CD.BP.04"]["status"] == status


def test_nox_sessions_are_found_at_any_statement_depth_and_the_last_default_wins():
    from devops_audit.collectors.ci.follow import nox

    text = ("import nox\nnox.options.sessions = ['a']\n"
            "if True:\n    @nox.session\n    def lint(session):\n        session.run('ruff', 'check')\n"
            "try:\n    pass\nexcept ImportError:\n    @nox.session(name='docs')\n    def _docs(session):\n"
            "        session.run('sphinx-build', x)\n        session.notify('lint')\n"
            "nox.options.sessions = ['lint', 'docs']\n")
    parsed = nox.parse(text, "noxfile.py")
    assert parsed.default == ("lint", "docs")
    assert parsed.targets["lint"].commands == [("ruff check", 6)]
    assert parsed.targets["docs"].commands == [("sphinx-build …", 12)] and parsed.targets["docs"].after == ["lint"]
