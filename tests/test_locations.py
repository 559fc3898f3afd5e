"""Locations name existing files (or the repository root); SARIF and GitLab put each finding where it belongs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_git_repo
from gate_support import as_json
from helpers import FIXTURES, write

from devops_audit.locations import is_repository_file
from devops_audit.scan import ScanOptions, run_scan

NOW = "2026-11-25T10:00:00+00:00"
HOUSEKEEPING = """name: lock
on:
  schedule: [{cron: "0 0 * * *"}]
jobs:
  lock:
    runs-on: ubuntu-24.04
    steps:
      - uses: dessant/lock-threads@v5
"""
TESTS = """name: tests
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: pip install . && pytest
"""


def scanned(path: Path):
    return run_scan(path, ScanOptions(now=NOW, targets={"CD": 1, "SR": 1}))


def all_locations(result) -> list[tuple[str, str]]:
    return [(v["id"], loc["path"]) for v in result.to_dict()["indicators"] for loc in v["locations"]]


@pytest.mark.parametrize("fixture", ["example", "legacy-service", "gate/repo"])
def test_every_json_location_is_an_existing_file_or_the_root(fixture, tmp_path):
    repo = make_git_repo(FIXTURES / fixture, tmp_path / "repo")  # history present: its verdicts have locations
    result = scanned(repo)
    locations = all_locations(result)
    assert locations
    bad = [(i, p) for i, p in locations if p != "." and not is_repository_file(repo, p)]
    assert bad == []
    assert not any(p == "last_activity" for _, p in locations)  # a window setting, never a file


def test_a_file_to_create_is_in_the_remediation_not_in_locations(tmp_path):
    write(tmp_path, {"app.py": "print('hi')\n", ".github/workflows/tests.yml": TESTS})
    report = scanned(tmp_path).to_dict()
    security_policy = {v["id"]: v for v in report["indicators"]}["SR.GV.01"]  # anchored on SECURITY.md, absent
    assert security_policy["status"] == "fail"
    assert [loc["path"] for loc in security_policy["locations"]] == ["."]
    assert "SECURITY.md" in security_policy["remediation"]


def test_history_verdicts_locate_no_window_setting(tmp_path):
    repo = make_git_repo(FIXTURES / "example", tmp_path / "repo")
    report = scanned(repo).to_dict()
    history = [v for v in report["indicators"] if "history" in v["evidence"]["namespaces"]]
    assert history and all(loc["path"] != "last_activity" for v in history for loc in v["locations"])
    facts = scanned(repo).facts["history"]
    assert facts["window_anchor"] == "last_activity" and "anchor" not in facts


def test_repository_level_sarif_results_sit_on_the_main_pipeline_and_say_so(tmp_path):
    write(tmp_path, {".github/workflows/a-lock.yml": HOUSEKEEPING, ".github/workflows/tests.yml": TESTS,
                     "README.md": "# app\n"})
    result = scanned(tmp_path)
    assert result.facts["ci"]["anchor"] == ".github/workflows/tests.yml"  # not the first file, the main one
    results = as_json(result, "sarif")["runs"][0]["results"]

    def where(item):
        location = item["locations"][0]
        names = [x["fullyQualifiedName"] for x in location.get("logicalLocations", [])]
        return location["physicalLocation"]["artifactLocation"]["uri"], names[0] if names else ""

    on_lock = [where(r)[1] for r in results if where(r)[0].endswith("a-lock.yml")]
    assert all(locator.startswith(("jobs.lock", "permissions")) for locator in on_lock), on_lock  # its own content
    pipeline_wide = [r for r in results if where(r)[0] == ".github/workflows/tests.yml"
                     and not where(r)[1].startswith("jobs.")]
    assert len(pipeline_wide) >= 2
    repository_level = [r for r in results if r.get("properties", {}).get("repositoryLevel")]
    assert repository_level
    for item in repository_level:
        uri = where(item)[0]
        assert item["message"]["text"].endswith(f"(Repository-level result, shown on {uri}.)")
    tm01 = next(r for r in repository_level if r["ruleId"] == "CD.TM.01")
    assert where(tm01)[0] == ".github/workflows/tests.yml"


def test_flask_alerts_are_not_anchored_on_its_issue_locking_workflow(corpus_dir):
    flask = corpus_dir / "flask" / "repo"
    if not flask.is_dir():
        pytest.skip("flask is not in the corpus")
    results = as_json(scanned(flask), "sarif")["runs"][0]["results"]
    on_lock = [(r["ruleId"], [x["fullyQualifiedName"] for x in r["locations"][0].get("logicalLocations", [])])
               for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("lock.yaml")]
    # only findings about the workflow's own jobs: no repository-level or pipeline-wide result sits there
    assert all(names and names[0].startswith(("jobs.", "permissions")) for _, names in on_lock), on_lock
    assert len(on_lock) <= 2


def test_only_security_indicators_carry_security_severity_and_reach_gitlab_sast():
    result = scanned(FIXTURES / "legacy-service")
    rules = as_json(result, "sarif")["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"][:2] for r in rules if "security-severity" in r["properties"]} == {"SR"}
    integrate_daily = next(r for r in rules if r["id"] == "CD.CI.02")
    assert "security-severity" not in integrate_daily["properties"]
    sast = as_json(result, "gitlab-sast")["vulnerabilities"]
    assert sast and {v["identifiers"][0]["value"][:3] for v in sast} == {"SR."}
    quality = as_json(result, "gitlab-codequality")
    assert {i["check_name"][:3] for i in quality} == {"CD.", "SR."}  # process indicators: Code Quality only
