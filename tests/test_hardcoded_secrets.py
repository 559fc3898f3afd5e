"""Secrets written as literals into CI configuration fail SR.DS.01, located, with the value never shown."""

from __future__ import annotations

import json

from helpers import scan_dict, verdicts, write

GITLAB = """\
variables:
  DATABASE_PASSWORD: "s3cr3t-Pa55word-2024"
  DEPLOY_TOKEN: $CI_DEPLOY_PASSWORD
  REGISTRY_PASSWORD_FILE: /run/secrets/registry
  API_KEY: changeme
test:
  image: python:3.12
  variables:
    KEYCLOAK_CLIENT_SECRET: 158a2075-aa8a-421c-94a4-2df35377014a
  script:
    - pytest
"""
WORKFLOW = """\
on: push
permissions: {}
jobs:
  notify:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    env:
      SLACK_TOKEN: ${{ secrets.SLACK_TOKEN }}
      GH_TOKEN: ghp_abcdefghijklmnopqrstuvwxyz0123456789
    steps:
      - run: ./notify.sh
"""


def test_literal_secrets_in_ci_files_fail_with_their_lines(tmp_path):
    write(tmp_path, {".gitlab-ci.yml": GITLAB, ".github/workflows/notify.yml": WORKFLOW})
    report = scan_dict(tmp_path)
    verdict = verdicts(report)["SR.DS.01"]
    assert verdict["status"] == "fail"
    assert sorted((v["path"], v["line"], v["message"]) for v in verdict["violations"]) == [
        (".github/workflows/notify.yml", 10, "GitHub token committed in CI/deployment configuration"),
        (".gitlab-ci.yml", 2, "hard-coded secret in CI/deployment configuration (DATABASE_PASSWORD)"),
        (".gitlab-ci.yml", 9, "hard-coded secret in CI/deployment configuration (KEYCLOAK_CLIENT_SECRET)"),
    ]
    text = json.dumps(report)
    for value in ("s3cr3t-Pa55word-2024", "158a2075-aa8a-421c-94a4-2df35377014a", "ghp_abcdefghijklmnop"):
        assert value not in text


def test_references_and_placeholders_are_not_secrets(tmp_path):
    write(tmp_path, {".gitlab-ci.yml": "variables:\n  DEPLOY_TOKEN: $CI_DEPLOY_PASSWORD\n  API_KEY: changeme\n"
                                       "  VAULT_SECRET: secret/team/ci/pypi\n  PASSWORD_ID: 'f6c7695a-671e-4f4f'\n"
                                       "test:\n  script: [pytest]\n"})
    assert verdicts(scan_dict(tmp_path))["SR.DS.01"]["status"] == "pass"


def test_the_corpus_secret_is_found(corpus_dir):
    verdict = verdicts(scan_dict(corpus_dir / "os2mo" / "repo"))["SR.DS.01"]
    assert verdict["status"] == "fail"
    assert {(v["path"], v["line"]) for v in verdict["violations"]} == {
        (".gitlab/ci/build.gitlab-ci.yml", 94), (".gitlab/ci/build.gitlab-ci.yml", 96)}
