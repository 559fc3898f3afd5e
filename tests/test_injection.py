"""Script injection and dangerous triggers (SR.BD.04): every context class, sink, trigger pattern and CI system,
located on the exact line; inline suppressions."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from helpers import scan_dict, verdicts, write

from devops_audit.collectors.ci.pipelines import collect
from devops_audit.workspace import Workspace

WORKFLOW = ".github/workflows/triage.yml"


def facts(root: Path) -> dict[str, Any]:
    return collect(Workspace(root), None).facts


def found(root: Path) -> list[tuple[int, str, str]]:
    """(line, context, capability) of every injection."""
    return [(f["line"], f["context"], f["capability"]) for f in facts(root)["injections"]]


def bd04(root: Path) -> dict[str, Any]:
    return verdicts(scan_dict(root))["SR.BD.04"]


# -- GitHub: what each context can hold ------------------------------------------------------------
ISSUE_BOT = """\
name: issue bot
on:
  issues:
    types: [opened, edited]
  issue_comment:
    types: [created]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: label
        run: |
          echo "new issue #${{ github.event.issue.number }} at ${{ github.event.issue.created_at }}"
          echo "title: ${{ github.event.issue.title }}"
          echo "by ${{ github.actor }} on ${{ github.ref_name }}, sha ${{ github.sha }}"
          if [ "${{ contains(github.event.issue.body, 'urgent') }}" = true ]; then echo urgent; fi
          echo "${{ github.event.issue.labels[0].name }}"
          echo '${{ toJSON(github.event.issue.user) }}' > user.json
          echo "${{ github.event.issue.locked == true }} ${{ github.event.comment.html_url }}"
          gh issue edit ${{ github.event.issue.number }} ${{ github.event.issue.locked && '--lock' || '' }}
          echo "${{ (github.event.issue.body && 'has body') || github.event.comment.body }}"
"""


def test_context_classes_from_the_webhook_schemas(tmp_path):
    write(tmp_path, {WORKFLOW: ISSUE_BOT})
    assert found(tmp_path) == [
        (14, "github.event.issue.title", "arbitrary"),
        (15, "github.actor", "arbitrary"),
        (15, "github.ref_name", "arbitrary"),
        (17, "github.event.issue.labels[0].name", "arbitrary"),
        (18, "toJSON(github.event.issue.user)", "structured"),
        (19, "github.event.comment.html_url", "structured"),
        (21, "(github.event.issue.body && 'has body') || github.event.comment.body", "arbitrary"),
    ]  # numbers, dates, SHAs, booleans (contains, comparisons), ternaries of literals (line 20) are not findings


def test_paths_missing_from_the_schemas_are_rated_by_their_tail(tmp_path):
    write(tmp_path, {WORKFLOW: """\
on:
  discussion:
    types: [transferred]
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "${{ github.event.changes.new_discussion.labels[0].name }}"
          echo "${{ github.event.changes.new_discussion.labels[0].id }} ${{ github.event.some.thing }}"
      - uses: mikefarah/yq@v4
        with:
          cmd: yq '.title = "${{ github.event.discussion.title }}"' post.yml
"""})
    assert found(tmp_path) == [(9, "github.event.changes.new_discussion.labels[0].name", "arbitrary"),
                               (10, "github.event.some.thing", "unknown"),
                               (13, "github.event.discussion.title", "arbitrary")]


def test_head_ref_ref_and_base_ref_are_arbitrary(tmp_path):
    write(tmp_path, {WORKFLOW: """\
on: pull_request
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: git diff ${{ github.base_ref }}...${{ github.head_ref }}
      - run: echo ${{ github.ref }} ${{ github.event.pull_request.head.sha }} ${{ github.event.pull_request.number }}
"""})
    assert found(tmp_path) == [(6, "github.base_ref", "arbitrary"), (6, "github.head_ref", "arbitrary"),
                               (7, "github.ref", "arbitrary")]


RELEASE = """\
on:
  push:
    tags: ["v*"]
  workflow_dispatch:
    inputs:
      notes: {type: string}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: |
          make release VERSION=${{ github.ref_name }}
          echo "${{ inputs.notes }}" >> NOTES.md
"""


def test_values_only_writers_set_are_listed_not_failed(tmp_path):
    write(tmp_path, {WORKFLOW: RELEASE})
    assert [(f["line"], f["context"], f["capability"], f["reach"]) for f in facts(tmp_path)["injections"]] == [
        (12, "github.ref_name", "arbitrary", "writers"), (13, "inputs.notes", "arbitrary", "writers")]
    verdict = bd04(tmp_path)
    assert verdict["status"] == "pass"
    assert "2 expression(s) only people with push access can set" in verdict["message"]
    write(tmp_path, {".devops-audit.yml": "params:\n  SR.BD.04: {include_writers: true}\n"})
    assert [v["line"] for v in bd04(tmp_path)["violations"]] == [12, 13]


def test_reach_follows_the_trigger_that_sets_each_value(tmp_path):
    write(tmp_path, {WORKFLOW: RELEASE.replace("  workflow_dispatch:", "  pull_request:\n  workflow_dispatch:")
                     .replace("make release", "echo ${{ github.head_ref }} && make release")})
    assert [(f["context"], f["reach"]) for f in facts(tmp_path)["injections"]] == [
        ("github.head_ref", "anyone"), ("github.ref_name", "writers"), ("inputs.notes", "writers")]


DISPATCH = """\
on:
  workflow_dispatch:
    inputs:
      version: {type: string, required: true}
      dry-run: {type: boolean, default: true}
      level: {type: choice, options: [patch, minor]}
      count: {type: number}
  workflow_call:
    inputs:
      notes: {type: string}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: ./release.sh ${{ inputs.version }} ${{ inputs.dry-run }} ${{ inputs.level }} ${{ inputs.count }}
      - run: echo "${{ github.event.inputs.version }}" && echo "${{ inputs.notes }}"
"""


def test_inputs_are_rated_by_declared_type(tmp_path):
    write(tmp_path, {WORKFLOW: DISPATCH})
    assert found(tmp_path) == [(15, "inputs.version", "arbitrary"), (16, "github.event.inputs.version", "arbitrary"),
                               (16, "inputs.notes", "arbitrary")]


FOLLOWED = """\
on: pull_request_target
env:
  PR_TITLE: ${{ github.event.pull_request.title }}
  RELEASE: "1.0"
jobs:
  meta:
    runs-on: ubuntu-latest
    outputs:
      branch: ${{ steps.info.outputs.branch }}
    steps:
      - id: info
        run: |
          echo "branch=${{ github.event.pull_request.head.ref }}" >> "$GITHUB_OUTPUT"
          echo "count=3" >> "$GITHUB_OUTPUT"
  build:
    needs: meta
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12"]
        include:
          - python: "3.13"
            label: ${{ github.event.pull_request.labels[0].name }}
    steps:
      - id: date
        run: |
          echo "today=$(date +%F)" >> "$GITHUB_OUTPUT"
          echo "PR_BODY=${{ github.event.pull_request.body }}" >> $GITHUB_ENV
          echo "STAMP=$(date +%s)" >> $GITHUB_ENV
      - uses: actions/github-script@v7
        id: api
        with:
          script: return "x"
      - env:
          LOCAL: ${{ github.event.pull_request.body }}
        run: |
          echo "${{ env.PR_TITLE }} ${{ env.RELEASE }}"
          echo "${{ env.LOCAL }}"
          echo "${{ matrix.python }} ${{ matrix.label }}"
          echo "${{ needs.meta.outputs.branch }}"
          echo "${{ steps.date.outputs.today }} ${{ steps.api.outputs.result }} ${{ env.FROM_RUNTIME }}"
          echo "${{ env.PR_BODY }} ${{ env.STAMP }}"
"""


def test_env_matrix_and_outputs_are_followed_to_their_source(tmp_path):
    write(tmp_path, {WORKFLOW: FOLLOWED})
    injections = facts(tmp_path)["injections"]
    assert [(f["line"], f["context"], f["capability"], f["via"]) for f in injections] == [
        (13, "github.event.pull_request.head.ref", "arbitrary", ["github.event.pull_request.head.ref"]),
        (28, "github.event.pull_request.body", "arbitrary", ["github.event.pull_request.body"]),
        (37, "env.PR_TITLE", "arbitrary", ["env.PR_TITLE", "github.event.pull_request.title"]),
        (38, "env.LOCAL", "arbitrary", ["env.LOCAL", "github.event.pull_request.body"]),
        (39, "matrix.label", "arbitrary", ["matrix.label", "github.event.pull_request.labels.0.name"]),
        (40, "needs.meta.outputs.branch", "arbitrary",
         ["needs.meta.outputs.branch", "steps.info.outputs.branch", "github.event.pull_request.head.ref"]),
        # set at run time: listed, not judged
        (41, "steps.date.outputs.today", "unknown", ["steps.date.outputs.today"]),
        (41, "steps.api.outputs.result", "unknown", ["steps.api.outputs.result"]),
        (41, "env.FROM_RUNTIME", "unknown", ["env.FROM_RUNTIME"]),
        (42, "env.PR_BODY", "arbitrary", ["env.PR_BODY", "github.event.pull_request.body"]),  # via $GITHUB_ENV
        (42, "env.STAMP", "unknown", ["env.STAMP"]),
    ]
    verdict = bd04(tmp_path)
    assert [v["line"] for v in verdict["violations"]] == [13, 28, 37, 38, 39, 40, 42]
    assert verdict["violations"][2]["message"] == (
        "${{ env.PR_TITLE }} (from github.event.pull_request.title) is an arbitrary string set by an attacker and "
        "expanded into a script (script injection)")
    assert "4 expression(s) set at run time" in verdict["message"]


# -- GitHub sinks ------------------------------------------------------------------------------------
def test_github_script_and_code_inputs_are_sinks(tmp_path):
    write(tmp_path, {WORKFLOW: """\
on: issue_comment
jobs:
  bot:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea # v7.0.1
        with:
          script: |
            const body = `${{ github.event.comment.body }}`;
            await github.rest.issues.createComment({...context.repo, issue_number: 1, body});
      - uses: nick-fields/retry@v3
        with:
          timeout_minutes: 5
          command: make deploy BRANCH=${{ github.event.issue.title }}
      - uses: peter-evans/create-or-update-comment@v4
        with:
          body: ${{ github.event.comment.body }}
"""})
    injections = facts(tmp_path)["injections"]
    assert [(f["line"], f["sink"], f["context"]) for f in injections] == [
        (9, "github-script", "github.event.comment.body"),
        (14, "with:command", "github.event.issue.title"),
    ]  # `body:` of a comment action is data, not code
    messages = [v["message"] for v in bd04(tmp_path)["violations"]]
    assert messages[1].endswith("expanded into the action input `command`, run as code (script injection)")


def test_yaml_anchor_is_located_where_the_script_is_written(tmp_path):
    write(tmp_path, {WORKFLOW: """\
on: pull_request
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - name: greet
        run: &greet |
          echo "checking"
          echo "branch ${{ github.head_ref }}"
  test:
    runs-on: ubuntu-latest
    steps:
      - run: *greet
"""})
    injections = facts(tmp_path)["injections"]
    assert [(f["line"], f["locator"], f["sink_line"]) for f in injections] == [
        (9, "jobs.lint.steps[0]", 7), (9, "jobs.test.steps[0]", 13)]


def test_composite_action_inputs_are_arbitrary(tmp_path):
    write(tmp_path, {
        WORKFLOW: "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/notify\n"
                  "        with:\n          message: hello\n",
        ".github/actions/notify/action.yml": """\
name: notify
inputs:
  message: {description: text to post}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        MESSAGE: ${{ inputs.message }}
      run: |
        echo "posting"
        curl -d "$MESSAGE" https://chat.example.com
        curl -d "${{ inputs.message }}" https://chat.example.com
""",
    })
    injections = facts(tmp_path)["injections"]
    assert [(f["path"], f["line"], f["context"], f["capability"]) for f in injections] == [
        (".github/actions/notify/action.yml", 13, "inputs.message", "arbitrary")]


def test_env_and_quoted_variable_is_the_safe_pattern(tmp_path):
    write(tmp_path, {WORKFLOW: """\
on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - env:
          TITLE: ${{ github.event.issue.title }}
          BODY: ${{ github.event.issue.body }}
        run: |
          echo "title: $TITLE"
          printf '%s\\n' "$BODY" | grep -q urgent && echo urgent
        if: ${{ github.event.issue.title != '' }}
"""})
    assert found(tmp_path) == []
    assert bd04(tmp_path)["status"] == "pass"


# -- dangerous triggers ------------------------------------------------------------------------------
PR_TARGET = """\
name: preview
on:
  pull_request_target:
    types: [labeled]
permissions:
  contents: read
jobs:
  preview:
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: npm ci && npm run build
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
"""


def test_pull_request_target_checking_out_the_head(tmp_path):
    write(tmp_path, {WORKFLOW: PR_TARGET})
    (checkout,) = facts(tmp_path)["dangerous_checkouts"]
    assert (checkout["line"], checkout["trigger"], checkout["trigger_location"]["line"]) == (13, "pull_request_target", 3)
    assert (checkout["persist_credentials"], checkout["secrets"], checkout["permissions"]) == (True, True, "write")
    (violation,) = bd04(tmp_path)["violations"]
    assert (violation["line"], violation["message"]) == (13, (
        "a pull_request_target workflow (.github/workflows/triage.yml:3) checks out the untrusted head "
        "`${{ github.event.pull_request.head.sha }}`, keeps the token in .git/config (`persist-credentials`), "
        "with secrets in the job, with write permissions"))


def test_workflow_run_and_issue_comment_checkouts(tmp_path):
    write(tmp_path, {
        ".github/workflows/report.yml": """\
on:
  workflow_run:
    workflows: [CI]
    types: [completed]
permissions: read-all
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
          ref: ${{ github.event.workflow_run.head_branch }}
      - run: ./report.sh
""",
        ".github/workflows/command.yml": """\
on:
  issue_comment:
    types: [created]
jobs:
  rerun:
    if: github.event.issue.pull_request && startsWith(github.event.comment.body, '/rerun')
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: refs/pull/${{ github.event.issue.number }}/head
      - run: |
          echo "rerunning"
          gh pr checkout "$NUMBER"
        env:
          NUMBER: ${{ github.event.issue.number }}
""",
    })
    checkouts = sorted((c["path"], c["line"], c["trigger"], c["persist_credentials"], c["permissions"])
                       for c in facts(tmp_path)["dangerous_checkouts"])
    assert checkouts == [(".github/workflows/command.yml", 9, "issue_comment", True, "default"),
                         (".github/workflows/command.yml", 14, "issue_comment", False, "default"),
                         (".github/workflows/report.yml", 10, "workflow_run", False, "read")]


def test_pull_request_checkout_of_the_head_is_not_privileged(tmp_path):
    write(tmp_path, {WORKFLOW: PR_TARGET.replace("pull_request_target", "pull_request")})
    assert facts(tmp_path)["dangerous_checkouts"] == []
    assert bd04(tmp_path)["status"] == "pass"


# -- other CI systems ---------------------------------------------------------------------------------
def test_azure_macros_and_template_expressions(tmp_path):
    write(tmp_path, {"azure-pipelines.yml": """\
trigger: [main]
pool:
  vmImage: ubuntu-latest
steps:
  - script: |
      echo "building"
      echo "branch $(Build.SourceBranchName)"
    displayName: build
  - bash: echo "${{ variables['Build.SourceVersionMessage'] }}"
  - powershell: Write-Host "$(System.PullRequest.SourceBranch)"
  - script: echo "$BRANCH" "$(Build.BuildId)"
    env:
      BRANCH: $(Build.SourceBranch)
"""})
    assert found(tmp_path) == [(7, "$(Build.SourceBranchName)", "arbitrary"),
                               (9, "${{ variables['Build.SourceVersionMessage'] }}", "arbitrary"),
                               (10, "$(System.PullRequest.SourceBranch)", "arbitrary")]
    assert [v["line"] for v in bd04(tmp_path)["violations"]] == [7, 9, 10]


JENKINSFILE = """\
pipeline {
  agent any
  parameters {
    string(name: 'TAG', defaultValue: 'latest')
  }
  stages {
    stage('Build') {
      steps {
        sh 'echo "building $BRANCH_NAME"'
        sh "echo building ${env.CHANGE_TITLE}"
        sh \"\"\"
          docker build .
          docker tag app app:${params.TAG}
        \"\"\"
        bat "echo $BRANCH_NAME"
        sh label: "tag ${env.BRANCH_NAME}", script: 'git tag "$BRANCH_NAME"'
        sh(label: 'bump', script: "./bump.sh ${env.CHANGE_BRANCH}")
      }
    }
  }
}
"""


def test_jenkins_double_quoted_groovy_strings(tmp_path):
    write(tmp_path, {"Jenkinsfile": JENKINSFILE})
    assert [(f["line"], f["sink"], f["context"]) for f in facts(tmp_path)["injections"]] == [
        (10, "sh", "env.CHANGE_TITLE"), (13, "sh", "params.TAG"), (15, "bat", "BRANCH_NAME"),
        (17, "sh", "env.CHANGE_BRANCH")]
    # single quotes leave `$BRANCH_NAME` to the shell (lines 9, 16); a label is not run (line 16)
    assert {f["job"] for f in facts(tmp_path)["injections"]} == {"Build"}


def test_gitlab_eval_and_command_position(tmp_path):
    write(tmp_path, {".gitlab-ci.yml": """\
stages: [test]
check:
  stage: test
  script:
    - echo "$CI_COMMIT_MESSAGE"
    - eval "$CI_COMMIT_MESSAGE"
    - |
      echo "checking"
      $CI_MERGE_REQUEST_TITLE --version
    - bash -c "echo $CI_COMMIT_BRANCH"
    - git checkout "$CI_COMMIT_BRANCH"
    - echo done. $CI_COMMIT_TITLE
"""})
    assert found(tmp_path) == [(6, "$CI_COMMIT_MESSAGE", "arbitrary"), (9, "$CI_MERGE_REQUEST_TITLE", "arbitrary"),
                               (10, "$CI_COMMIT_BRANCH", "arbitrary")]


def test_bitbucket_branch_evaluated(tmp_path):
    write(tmp_path, {"bitbucket-pipelines.yml": """\
pipelines:
  default:
    - step:
        name: build
        script:
          - echo "building $BITBUCKET_BRANCH"
          - eval "deploy-$BITBUCKET_BRANCH"
"""})
    assert found(tmp_path) == [(7, "$BITBUCKET_BRANCH", "arbitrary")]


def test_circleci_pipeline_parameters_in_run(tmp_path):
    write(tmp_path, {".circleci/config.yml": """\
version: 2.1
jobs:
  build:
    docker:
      - image: cimg/base:2024.01
    steps:
      - checkout
      - run:
          name: tag
          command: |
            echo "building"
            docker tag app app:<< pipeline.git.branch >>
      - run: echo << pipeline.number >>
workflows:
  main:
    jobs: [build]
"""})
    assert found(tmp_path) == [(12, "pipeline.git.branch", "arbitrary")]


# -- inline suppressions -------------------------------------------------------------------------------
def _suppressed_workflow(comment: str) -> str:
    return f"""\
on: pull_request
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      {comment}
      - run: echo "${{{{ github.head_ref }}}}"
"""


def test_devops_audit_ignore_with_a_reason_is_honoured_and_shown(tmp_path):
    write(tmp_path, {WORKFLOW: _suppressed_workflow(
        "# devops-audit: ignore[SR.BD.04] head_ref is only printed to the log, reviewed 2026-11")})
    verdict = bd04(tmp_path)
    assert verdict["status"] == "pass"
    assert ("suppressed inline: .github/workflows/triage.yml:7 (devops-audit: ignore[SR.BD.04] head_ref is only "
            "printed to the log, reviewed 2026-11 (line 6))") in verdict["message"]


def test_devops_audit_ignore_without_a_reason_is_not_honoured(tmp_path):
    write(tmp_path, {WORKFLOW: _suppressed_workflow("# devops-audit: ignore[SR.BD.04]")})
    verdict = bd04(tmp_path)
    assert verdict["status"] == "fail"
    assert verdict["violations"][0]["message"].endswith(
        "; `devops-audit: ignore[SR.BD.04]` on line 6 has no reason, so it is not honoured")


def test_zizmor_ignore_is_reported_as_suppressed(tmp_path):
    write(tmp_path, {WORKFLOW: _suppressed_workflow("# zizmor: ignore[template-injection]")})
    verdict = bd04(tmp_path)
    assert verdict["status"] == "pass"
    assert "suppressed inline: .github/workflows/triage.yml:7 (zizmor: ignore[template-injection] (line 6))" \
        in verdict["message"]


def test_zizmor_ignore_on_the_trigger_covers_the_checkout(tmp_path):
    write(tmp_path, {WORKFLOW: PR_TARGET.replace("  pull_request_target:",
                                                 "  pull_request_target:  # zizmor: ignore[dangerous-triggers]")})
    verdict = bd04(tmp_path)
    assert verdict["status"] == "pass"
    assert "triage.yml:13 (zizmor: ignore[dangerous-triggers] (line 3))" in verdict["message"]


def test_a_suppression_for_another_rule_does_not_hide(tmp_path):
    write(tmp_path, {WORKFLOW: _suppressed_workflow("# zizmor: ignore[unpinned-uses]")})
    assert bd04(tmp_path)["status"] == "fail"


# -- hostile input ----------------------------------------------------------------------------------------
def test_hostile_expressions_cost_little(tmp_path):
    chain = "".join(f"${{{{ env.V{i} }}}}" for i in range(40))
    env = "\n".join(f"  V{i}: \"{chain}\"" for i in range(40))
    nested = "toJSON(" * 500 + "github.event.issue.title" + ")" * 500
    write(tmp_path, {WORKFLOW: f"""\
on: issues
env:
{env}
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: echo "{chain}" "${{{{ {nested} }}}}" "${{{{ never closed"
"""})
    started = time.perf_counter()
    injections = facts(tmp_path)["injections"]
    assert time.perf_counter() - started < 5
    assert {f["capability"] for f in injections} == {"unknown"}  # too deep to follow: never a guess


def test_explain_lists_context_classes_and_sinks_from_the_data():
    out = subprocess.run([sys.executable, "-m", "devops_audit", "explain", "SR.BD.04"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "### Context classes (GitHub, from @octokit/webhooks-schemas@" in out
    assert "- **arbitrary** (any string an attacker chooses): `github.head_ref`, `github.ref`" in out
    assert "`actions/github-script` script" in out and "`nick-fields/retry` command" in out
    assert "`$(...)` macros" in out and "`<< pipeline.git.branch >>`" in out
    assert "**writers** otherwise, and always for `github.ref`" in out
