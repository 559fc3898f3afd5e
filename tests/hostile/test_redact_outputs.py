"""Secrets never printed: credentials planted where a repository can put them (URLs, job ids, stage names,
CODEOWNERS owners, scanner messages) appear in no output format, on standard output or in errors."""

from __future__ import annotations

import json

import pytest
from robust_support import example_copy, run_scan_cli

from devops_audit.redact import MASK, redact_text

GITHUB = "ghp_" + "R4nd0mT0k3nV4lu3" * 2 + "AbCd"
GITLAB = "glpat-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm"
AWS = "AKIA" + "QWERTYUIOPASDFGH"
SLACK = "xoxb-" + "1234567890-abcdefghij"
PASSWORD = "hunter2-s3cr3t-pw"
SECRETS = (GITHUB, GITLAB, AWS, SLACK, PASSWORD)

GITLAB_CI = f"""\
include:
  - remote: https://deploy:{PASSWORD}@gitlab.example.com/ci/templates.yml
stages: [build, {GITLAB}]
build:
  stage: build
  script:
    - git clone https://ci:{GITHUB}@github.com/acme/private.git
    - make
deploy-{GITHUB}:
  stage: {GITLAB}
  script:
    - ./deploy.sh --token {SLACK}
  environment: production
"""
WORKFLOW = f"""\
on: push
jobs:
  publish-{AWS}:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: curl -u admin:{PASSWORD} https://{GITLAB}@registry.example.com/upload
"""
SARIF = json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "gitleaks"}}, "results": [
    {"ruleId": "generic-api-key", "level": "error", "message": {"text": f"secret {SLACK} found in {GITHUB}"},
     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/payments/api.py"},
                                         "region": {"startLine": 2}}}]}]}]})


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    repo = example_copy(tmp_path_factory.mktemp("planted") / "repo")
    (repo / ".gitlab-ci.yml").write_text(GITLAB_CI)
    (repo / ".github" / "workflows" / "publish.yml").write_text(WORKFLOW)
    (repo / ".github" / "CODEOWNERS").write_text(f"* @acme/{GITHUB}\n/src/ @{SLACK} ops@{GITLAB}.example.com\n")
    (repo / "reports" / "gitleaks.sarif").write_text(SARIF)
    return repo


def test_no_output_format_prints_a_planted_credential(planted, tmp_path, capsys):
    run = run_scan_cli(capsys, planted, tmp_path / "out")
    assert run.code in (0, 1), run.stderr
    assert len(run.outputs) == 7
    for name, text in {**run.outputs, "stdout": run.stdout, "stderr": run.stderr}.items():
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"{name} prints {leaked}"
    assert f"deploy-{MASK}" in run.everything  # the job is still reported, its id masked


def test_the_scan_still_reads_the_files_that_hold_them(planted, tmp_path, capsys):
    report = json.loads(run_scan_cli(capsys, planted, tmp_path / "out").outputs["json"])
    parsed = {e["path"] for e in report["inventory"] if e["status"] == "parsed"}
    assert {".gitlab-ci.yml", ".github/workflows/publish.yml", "reports/gitleaks.sarif"} <= parsed


@pytest.mark.parametrize(("text", "expected"), [
    (f"https://ci:{PASSWORD}@github.com/a/b.git", f"https://ci:{MASK}@github.com/a/b.git"),
    (f"https://{GITLAB}@gitlab.com/a", f"https://{MASK}@gitlab.com/a"),
    ("git@github.com:acme/app.git", "git@github.com:acme/app.git"),
    ("actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11", "actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11"),
    ("DeploymentPipelineForProduction2024Release", "DeploymentPipelineForProduction2024Release"),
    (f"deploy-{GITHUB}", f"deploy-{MASK}"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", MASK),
])
def test_what_is_masked_and_what_is_kept(text, expected):
    assert redact_text(text) == expected


def test_a_config_error_quoting_a_credential_prints_it_masked(tmp_path, capsys):
    repo = example_copy(tmp_path / "repo")
    (repo / ".devops-audit.yml").write_text(f"api:\n  url: https://example.com\n  offline: https://bot:{PASSWORD}@example.com\n")
    run = run_scan_cli(capsys, repo, tmp_path / "out")
    assert run.code == 2 and ".devops-audit.yml:3: api.offline:" in run.stderr
    assert PASSWORD not in run.everything and MASK in run.stderr


def test_a_reporter_reads_every_fact_redacted_and_the_scan_keeps_its_own():
    from devops_audit.redact import redacted_result
    from devops_audit.result import Gate, ScanResult

    facts = {"ci": {"jobs": [{"id": f"deploy-{GITHUB}", "needs": [AWS]}]}, "project": {"summary": SLACK}}
    result = ScanResult(".", None, [], [], [], Gate(True), "", "", facts=facts)
    safe = redacted_result(result)
    assert safe.facts["ci"] == {"jobs": [{"id": f"deploy-{MASK}", "needs": [MASK]}]}
    assert safe.facts.get("project") == {"summary": MASK} and safe.facts.get("absent") is None
    assert dict(safe.facts) == {"ci": safe.facts["ci"], "project": {"summary": MASK}}
    assert not any(s in json.dumps(dict(safe.facts)) for s in SECRETS)
    assert result.facts["ci"]["jobs"][0]["id"] == f"deploy-{GITHUB}"  # the original is not touched
    assert redacted_result(result) is safe


def test_a_redacted_copy_keeps_the_sharing_and_computes_cached_properties_again_from_redacted_fields():
    from dataclasses import dataclass, field
    from functools import cached_property

    from devops_audit.redact import redact_value

    @dataclass(frozen=True)
    class Leaf:
        text: str

    @dataclass
    class Node:
        name: str
        leaves: list[Leaf] = field(default_factory=list)

        @cached_property
        def title(self) -> str:
            return self.name.upper()

    leaf = Leaf(f"token {GITHUB}")
    node = Node(f"https://bot:{PASSWORD}@example.com", [leaf, leaf])
    assert PASSWORD.upper() in node.title  # cached on the original
    copy = redact_value({"node": node, "again": leaf})
    assert copy["node"].leaves == [Leaf(f"token {MASK}")] * 2 and copy["node"].leaves[0] is copy["again"]
    assert copy["node"].title == f"HTTPS://BOT:{MASK.upper()}@EXAMPLE.COM"
    assert node.leaves[0] is leaf and leaf.text == f"token {GITHUB}"  # the original is not touched
