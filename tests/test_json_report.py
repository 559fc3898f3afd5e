"""The JSON report: valid against schemas/verdict.schema.json, deterministic, with the fixed field names."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import corpus_repos, make_git_repo
from helpers import FIXTURES

from devops_audit.cli import main
from devops_audit.resources import load_schema


def scan_json(path, out) -> dict:
    main(["scan", str(path), "-f", f"json={out}"])
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def git_example(tmp_path_factory):
    return make_git_repo(FIXTURES / "example", tmp_path_factory.mktemp("json") / "example")


def test_report_is_valid_and_names_the_commit(git_example, tmp_path):
    report = scan_json(git_example, tmp_path / "r.json")
    jsonschema.validate(report, load_schema("verdict"))
    assert report["target"]["is_git"] and report["target"]["branch"] == "main"
    assert len(report["target"]["commit"]) == 40
    assert {e["status"] for e in report["inventory"]} <= {"parsed", "skipped", "error"}
    indicator = next(i for i in report["indicators"] if i["id"] == "CD.TM.02")
    assert set(indicator) >= {"id", "status", "message", "locations"}


def test_same_repository_gives_byte_identical_json_but_the_timestamp(git_example, tmp_path):
    main(["scan", str(git_example), "-f", f"json={tmp_path / 'a.json'}"])
    main(["scan", str(git_example), "-f", f"json={tmp_path / 'b.json'}"])
    first, second = ((tmp_path / n).read_text().splitlines() for n in ("a.json", "b.json"))
    differing = [a for a, b in zip(first, second) if a != b]
    assert len(first) == len(second)
    assert all('"generated_at"' in line for line in differing)


@pytest.mark.parametrize("repo", corpus_repos(), ids=lambda r: r.parent.name)
def test_every_corpus_report_is_valid(repo, tmp_path):
    report = scan_json(repo, tmp_path / "r.json")
    jsonschema.validate(report, load_schema("verdict"))
    assert not [i for i in report["indicators"] if i["message"].startswith("policy expression failed")]


def test_a_violation_is_written_with_every_field_of_its_record():
    from dataclasses import asdict

    from devops_audit.engine import Violation
    from devops_audit.result import _violation

    violation = Violation("ci.yml", 3, "unpinned", "jobs.build", ["ci.yml:3", "build.sh:1"])
    assert _violation(violation) == asdict(violation)
