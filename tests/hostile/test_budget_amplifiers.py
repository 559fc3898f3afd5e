"""Every amplifier has a bound: a few kB of hostile input cost seconds at most, and the input becomes an
error naming the bound (an inventory entry, or an `error` verdict), while the rest of the scan is intact."""

from __future__ import annotations

import gzip
import time

import pytest
from helpers import scan_dict, verdicts
from robust_support import example_copy, run_scan_cli, statuses

import devops_audit.celexpr as celexpr
from devops_audit.collectors.security import scan_results

POLICY = """\
pack: {{id: repo-pack, version: "1"}}
area: {{id: RP, name: Repository pack, max_level: 1, default_target: 1}}
domains: [{{id: XX, name: Expensive}}]
indicators:
  - id: RP.XX.01
    name: nested-loops
    title: Five nested comprehensions over 40 items (40^5 = 100 million steps)
    area: RP
    domain: XX
    level: 1
    severity: low
    description: A policy a repository can add through its own config.
    remediation: none
    references: {{other: [budget tests]}}
    evidence: [ci]
    assert: {expression}
"""


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return scan_dict(example_copy(tmp_path_factory.mktemp("clean") / "repo"))


def _elapsed(action):
    start = time.monotonic()
    value = action()
    return value, time.monotonic() - start


def test_a_runaway_policy_expression_is_stopped_at_the_cel_budget(tmp_path, monkeypatch, clean):
    monkeypatch.setattr(celexpr, "SECONDS_PER_CALL", 1.0)
    items = "[" + ",".join(str(i) for i in range(40)) + "]"
    expression = "true"
    for name in "abcde":
        expression = f"{items}.all({name}, {expression} && {name} >= 0)"
    repo = example_copy(tmp_path / "repo")
    (repo / "policies").mkdir()
    (repo / "policies" / "pack.yaml").write_text(POLICY.format(expression=f"'{expression}'"))
    (repo / ".devops-audit.yml").write_text("policies: [policies]\n")
    report, seconds = _elapsed(lambda: scan_dict(repo))
    assert seconds < 20  # unbounded, the expression runs for minutes
    verdict = verdicts(report)["RP.XX.01"]
    assert verdict["status"] == "error" and "CEL time budget" in verdict["message"]
    assert {k: v for k, v in statuses(report).items() if k != "RP.XX.01"} == statuses(clean)


@pytest.mark.parametrize(("shape", "refusal"), [
    ("ci." * 20_000 + "steps", "more than 10,000"),  # killed the scan: the CEL core's stack overflowed
    ("1+" * 20_000 + "1", "more than 10,000"),  # the same on evaluation
    ("has(" * 2_400 + "ci.steps", "Syntax error"),  # shapes against the selection rewrite, under the bound
    ("'''" + "\\" * 9_000 + " + ci.steps", "Syntax error"),
    ("r'" * 4_500 + " + ci.steps", "Syntax error"),
])
def test_a_policy_expression_the_cel_core_cannot_take_is_refused(tmp_path, capsys, shape, refusal):
    """A repository's own policy goes through the selection rewrite (`celindex`) and the CEL parser: a
    hostile shape costs little there, and one long enough to overflow the core's stack is refused before
    it reaches it. The scan stops as for any bad policy: exit 2, the file and the reason named."""
    repo = example_copy(tmp_path / "repo")
    (repo / "policies").mkdir()
    (repo / "policies" / "pack.yaml").write_text(POLICY.format(expression="|-\n      " + shape))
    (repo / ".devops-audit.yml").write_text("policies: [policies]\n")
    run, seconds = _elapsed(lambda: run_scan_cli(capsys, repo, tmp_path / "out"))
    assert seconds < 20
    assert run.code == 2 and "pack.yaml" in run.stderr and refusal in run.stderr


def test_a_long_chain_under_the_bound_is_evaluated(tmp_path, capsys, clean):
    repo = example_copy(tmp_path / "repo")
    (repo / "policies").mkdir()
    (repo / "policies" / "pack.yaml").write_text(POLICY.format(expression="|-\n      " + "1+" * 4_990 + "1 > 0"))
    (repo / ".devops-audit.yml").write_text("policies: [policies]\n")
    report = scan_dict(repo)
    assert verdicts(report)["RP.XX.01"]["status"] == "pass"
    assert {k: v for k, v in statuses(report).items() if k != "RP.XX.01"} == statuses(clean)


def test_the_budget_keeps_the_verdicts_that_finished_in_time():
    results = celexpr.bounded_map(lambda n: time.sleep(n) or n, [0, 3, 0.1, 0], seconds=0.5)
    assert results == [0, celexpr.Overrun(0.5), 0.1, 0]


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)+$", "(x+x+)+y"])
def test_a_backtracking_parameter_pattern_runs_in_linear_time(tmp_path, pattern):
    repo = example_copy(tmp_path / "repo")
    (repo / ".gitlab-ci.yml").write_text("build:\n  script:\n    - echo " + "a" * 40_000 + "!\n")
    (repo / ".devops-audit.yml").write_text(f"params:\n  SR.BD.02:\n    token_leak_pattern: '{pattern}'\n")
    report, seconds = _elapsed(lambda: scan_dict(repo))
    assert seconds < 10
    assert verdicts(report)["SR.BD.02"]["status"] in ("pass", "fail")


def test_a_backtracking_classification_row_runs_in_linear_time(tmp_path):
    repo = example_copy(tmp_path / "repo")
    (repo / ".gitlab-ci.yml").write_text("lint:\n  script:\n    - " + "a" * 40_000 + "!\n")
    (repo / ".devops-audit.yml").write_text(
        "classification:\n  - tool: slowlint\n    kinds: [lint]\n    commands: ['(a|aa)+$']\n")
    report, seconds = _elapsed(lambda: scan_dict(repo))
    assert seconds < 10
    assert [e for e in report["inventory"] if e["path"] == ".gitlab-ci.yml"][0]["status"] == "parsed"


def test_a_classification_row_that_needs_backtracking_is_a_config_error(tmp_path, capsys):
    repo = example_copy(tmp_path / "repo")
    (repo / ".devops-audit.yml").write_text(
        "targets: {CD: 1}\nclassification:\n  - tool: t\n    kinds: [lint]\n    commands: ['(?=npm)npm run lint']\n")
    run = run_scan_cli(capsys, repo, tmp_path / "out")
    assert run.code == 2
    assert ".devops-audit.yml:3: classification.0.commands:" in run.stderr and "RE2" in run.stderr


def _reference_bomb(levels: int = 11, fanout: int = 10) -> str:
    lines = [".l0:\n  script: ['echo hi']"]
    for level in range(1, levels + 1):
        refs = "\n".join(f"    - !reference [.l{level - 1}, script]" for _ in range(fanout))
        lines.append(f".l{level}:\n  script:\n{refs}")
    lines.append(f"test:\n  script:\n    - !reference [.l{levels}, script]")
    return "\n".join(lines) + "\n"


def test_a_gitlab_reference_bomb_stops_at_the_expansion_budget(tmp_path, clean):
    repo = example_copy(tmp_path / "repo")
    (repo / ".gitlab-ci.yml").write_text(_reference_bomb())  # 3.6 kB, 10^11 script lines expanded
    report, seconds = _elapsed(lambda: scan_dict(repo))
    assert seconds < 20
    (entry,) = [e for e in report["inventory"] if e["path"] == ".gitlab-ci.yml"]
    assert entry["status"] == "error" and "expansion budget" in entry["reason"]
    parsed = {e["path"] for e in report["inventory"] if e["status"] == "parsed"}
    assert ".github/workflows/ci.yml" in parsed  # the other pipelines are read as before


def test_the_gitlab_budget_counts_across_included_files(tmp_path):
    repo = example_copy(tmp_path / "repo")
    bomb = _reference_bomb(levels=4).replace("test:\n", "test0:\n")  # 10 000 script lines, ~53 000 values
    (repo / "ci").mkdir()
    for index in range(5):
        (repo / "ci" / f"part{index}.yml").write_text(bomb.replace(".l", f".p{index}l").replace("test0", f"t{index}"))

    def root_entries(parts: int) -> list[dict]:
        (repo / ".gitlab-ci.yml").write_text("include:\n" + "".join(f"  - local: ci/part{i}.yml\n" for i in range(parts)))
        return [e for e in scan_dict(repo)["inventory"] if e["path"] == ".gitlab-ci.yml"]

    assert [e["status"] for e in root_entries(1)] == ["parsed"]  # one file alone stays under the budget
    together = root_entries(5)
    assert any(e["status"] == "error" and "expansion budget" in e["reason"] for e in together), together


def test_an_azure_template_used_again_and_again_stops_at_the_expansion_budget(tmp_path):
    repo = example_copy(tmp_path / "repo")
    (repo / "templates").mkdir()
    (repo / "templates" / "steps.yml").write_text(
        "steps:\n" + "".join(f"  - script: echo {i}\n" for i in range(30_000)))
    (repo / "azure-pipelines.yml").write_text(
        "trigger: [main]\nsteps:\n" + "  - template: templates/steps.yml\n" * 100)
    report, seconds = _elapsed(lambda: scan_dict(repo))
    assert seconds < 30
    (entry,) = [e for e in report["inventory"] if e["path"] == "azure-pipelines.yml"]
    assert entry["status"] == "error" and "expansion budget" in entry["reason"]


def test_a_gzip_report_of_many_members_is_refused(tmp_path):
    repo = example_copy(tmp_path / "repo")
    (repo / "reports" / "bandit.sarif").unlink()
    (repo / "reports" / "semgrep.sarif.json").write_bytes(gzip.compress(b"") * 50_000 + gzip.compress(b"{}"))
    report = scan_dict(repo)
    (entry,) = [e for e in report["inventory"] if e["path"] == "reports/semgrep.sarif.json"]
    assert entry["status"] == "error" and "gzip members" in entry["reason"]


def test_a_gzip_bomb_is_refused_at_the_decompressed_size(tmp_path, monkeypatch):
    monkeypatch.setattr(scan_results, "MAX_DECOMPRESSED_BYTES", 8 * 1024 * 1024)
    repo = example_copy(tmp_path / "repo")
    (repo / "reports" / "bandit.sarif").unlink()
    (repo / "reports" / "bomb.sarif").write_bytes(gzip.compress(b" " * (64 * 1024 * 1024)))  # 64 kB -> 64 MiB
    report = scan_dict(repo)
    (entry,) = [e for e in report["inventory"] if e["path"] == "reports/bomb.sarif"]
    assert entry["status"] == "error" and "decompresses to more than 8 MiB" in entry["reason"]


def test_a_huge_jenkinsfile_is_refused_before_it_is_parsed(tmp_path):
    repo = example_copy(tmp_path / "repo")
    stages = "\n".join(f"    stage('s{i}') {{ steps {{ sh 'make s{i}' }} }}" for i in range(12_000))
    (repo / "Jenkinsfile").write_text("pipeline {\n  agent any\n  stages {\n" + stages + "\n  }\n}\n")
    report, seconds = _elapsed(lambda: scan_dict(repo))
    assert seconds < 20  # unbounded, this 500 kB Jenkinsfile takes minutes
    (entry,) = [e for e in report["inventory"] if e["path"] == "Jenkinsfile"]
    assert entry["status"] == "error" and "limit" in entry["reason"]


@pytest.mark.parametrize(("stages", "status"), [(1000, "parsed"), (3000, "error")])
def test_a_long_chain_of_jobs_is_read_or_refused_at_the_needs_budget(tmp_path, stages, status):
    repo = example_copy(tmp_path / "repo")
    body = "\n".join(f"    stage('s{i}') {{ steps {{ sh 'make s{i}' }} }}" for i in range(stages))
    (repo / "Jenkinsfile").write_text("pipeline {\n  agent any\n  stages {\n" + body + "\n  }\n}\n")
    report, seconds = _elapsed(lambda: scan_dict(repo))
    assert seconds < 60  # before: a RecursionError at 1000 stages, minutes of quadratic work beyond
    entries = [e for e in report["inventory"] if e["path"] == "Jenkinsfile"]
    assert [e["status"] for e in entries] == [status]
    if status == "error":
        assert "needs` graph links more than 1,000,000" in entries[0]["reason"]


def test_a_circleci_command_bomb_stops_at_the_expansion_budget(tmp_path):
    repo = example_copy(tmp_path / "repo")
    lines = ["version: 2.1", "commands:", "  c0:", "    steps:", "      - run: echo hi"]
    for level in range(1, 9):  # 10^8 steps from 2 kB
        lines += [f"  c{level}:", "    steps:", *[f"      - c{level - 1}"] * 10]
    lines += ["jobs:", "  build:", "    docker: [{image: cimg/base:2024.01}]", "    steps: [c8]",
              "workflows:", "  main:", "    jobs: [build]"]
    (repo / ".circleci").mkdir()
    (repo / ".circleci" / "config.yml").write_text("\n".join(lines) + "\n")
    report, seconds = _elapsed(lambda: scan_dict(repo))
    assert seconds < 30
    (entry,) = [e for e in report["inventory"] if e["path"] == ".circleci/config.yml"]
    assert entry["status"] == "error" and "expansion budget" in entry["reason"]
