"""SR.BD.03: what counts as pinned on each system; local references are never third-party; inline suppressions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import scan_dict, verdicts, write

from devops_audit.collectors.ci.pipelines import collect
from devops_audit.workspace import Workspace


def bd03(root: Path) -> dict[str, Any]:
    return verdicts(scan_dict(root))["SR.BD.03"]


def violations(root: Path) -> list[tuple[int, str]]:
    return [(v["line"], v["message"]) for v in bd03(root)["violations"]]


LOCAL = {
    ".github/workflows/ci.yml": """\
on: push
jobs:
  lint:
    uses: ./.github/workflows/lint.yml
  build:
    runs-on: ubuntu-latest
    container: node:20
    steps:
      - uses: ./.github/actions/setup
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: docker://alpine:3.20
""",
    ".github/workflows/lint.yml": "on: workflow_call\njobs:\n  l:\n    runs-on: x\n    steps:\n      - run: make lint\n",
    ".github/actions/setup/action.yml": "runs:\n  using: composite\n  steps:\n    - run: make setup\n      shell: bash\n",
}


def test_local_references_are_never_unpinned_and_print_as_written(tmp_path):
    write(tmp_path, LOCAL)
    refs = {r["ref"]: (r["local"], r["pinned_by"]) for r in collect(Workspace(tmp_path), None).facts["refs"]}
    assert refs["./.github/workflows/lint.yml"] == (True, "local")
    assert refs["./.github/actions/setup"] == (True, "local")
    verdict = bd03(tmp_path)
    assert verdict["status"] == "pass"  # images by tag pass unless `require_image_digest` is set


def test_images_by_digest_stay_a_parameter(tmp_path):
    write(tmp_path, {**LOCAL, ".devops-audit.yml": "params:\n  SR.BD.03: {require_image_digest: true}\n"})
    assert violations(tmp_path) == [(7, "image node:20 is not pinned"), (11, "image docker://alpine:3.20 is not pinned")]


def test_gitlab_includes_need_a_sha_or_integrity(tmp_path):
    sha = "0123456789abcdef0123456789abcdef01234567"
    write(tmp_path, {".gitlab-ci.yml": f"""\
include:
  - remote: https://example.com/ci/base.yml
  - remote: https://example.com/ci/pinned.yml
    integrity: sha256-L3ZyS0ZiL2dpY1dCZ1B2dEJ2dGJ2dGJ2dGJ2dGJ2dGI=
  - project: platform/ci
    ref: v1.2
    file: /build.yml
  - project: platform/ci
    ref: {sha}
    file: /test.yml
  - component: gitlab.com/components/secret-detection/secret-detection@1.1.2
  - component: gitlab.com/acme/lint/lint@{sha}
  - template: Jobs/Build.gitlab-ci.yml
build:
  script: [make]
"""})
    assert violations(tmp_path) == [
        (2, "include https://example.com/ci/base.yml is not pinned (a remote include needs `integrity:` or a commit "
            "SHA in its URL)"),
        (5, "include platform/ci:/build.yml@v1.2 is not pinned to a commit SHA (a tag can move)"),
        (11, "include gitlab.com/components/secret-detection/secret-detection@1.1.2 is not pinned to a commit SHA "
             "(a version can move)"),
    ]


def test_circleci_orbs_need_an_exact_version(tmp_path):
    write(tmp_path, {".circleci/config.yml": """\
version: 2.1
orbs:
  node: circleci/node@5.1.0
  slack: circleci/slack@volatile
  aws: acme/aws-cli@4
  k8s: acme/kubernetes@1.3.1
  dev: acme/tools@dev:main
jobs:
  build:
    docker: [{image: cimg/base:2024.01}]
    steps: [checkout]
workflows:
  main:
    jobs: [build]
"""})
    assert violations(tmp_path) == [(4, "orb circleci/slack@volatile is not pinned to an exact version (x.y.z)"),
                                    (5, "orb acme/aws-cli@4 is not pinned to an exact version (x.y.z)"),
                                    (7, "orb acme/tools@dev:main is not pinned to an exact version (x.y.z)")]


def test_first_party_orbs_may_be_allowed(tmp_path):
    write(tmp_path, {".circleci/config.yml": "version: 2.1\norbs:\n  slack: circleci/slack@volatile\n"
                                             "  aws: acme/aws-cli@4\njobs:\n  build:\n    docker: [{image: cimg/base:2024.01}]\n"
                                             "    steps: [checkout]\nworkflows:\n  main:\n    jobs: [build]\n",
                     ".devops-audit.yml": "params:\n  SR.BD.03: {allow_first_party: true}\n"})
    assert violations(tmp_path) == [(4, "orb acme/aws-cli@4 is not pinned to an exact version (x.y.z)")]


def test_suppressions_of_unpinned_references(tmp_path):
    write(tmp_path, {".github/workflows/ci.yml": """\
on: push
jobs:
  b:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/setup@v2  # devops-audit: ignore[SR.BD.03] internal action, tags are protected
      # zizmor: ignore[unpinned-uses]
      - uses: acme/cache@v1
      - uses: acme/lint@v3  # devops-audit: ignore[SR.BD.03]
"""})
    verdict = bd03(tmp_path)
    assert [(v["line"], v["message"]) for v in verdict["violations"]] == [
        (9, "action acme/lint@v3 is not pinned to a commit SHA")]
    assert verdict["message"].startswith("Some third-party CI references are not pinned. suppressed inline: "
                                         ".github/workflows/ci.yml:6 (devops-audit: ignore[SR.BD.03] internal action, "
                                         "tags are protected), .github/workflows/ci.yml:8 (zizmor: ignore[unpinned-uses]), "
                                         ".github/workflows/ci.yml:9 (devops-audit: ignore[SR.BD.03] without a reason: "
                                         "not honoured)")
