"""`--run-scanners`: bandit and our shipped semgrep rules on a repository, cached, bounded, never executing it."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from conftest import make_git_repo
from helpers import FIXTURES, scan_dict, verdicts, write

from devops_audit import scanners
from devops_audit.collectors import CollectOptions
from devops_audit.collectors.security import scan_results
from devops_audit.workspace import Workspace

HAS_BANDIT = importlib.util.find_spec("bandit") is not None
HAS_SEMGREP = (Path(sys.executable).parent / "semgrep").is_file() or shutil.which("semgrep") is not None
needs_bandit = pytest.mark.skipif(not HAS_BANDIT, reason="bandit is not installed (devops-audit[scanners])")
needs_semgrep = pytest.mark.skipif(not HAS_SEMGREP, reason="semgrep is not installed (devops-audit[scanners])")


def shipped_rule_ids() -> list[str]:
    return sorted(rule["id"] for path in scanners.RULES_DIR.glob("*.yaml")
                  for rule in yaml.safe_load(path.read_text())["rules"])


def planted(root: Path) -> set[tuple[str, str, int]]:
    """(rule, path, line) of every `planted: <rule>` mark of the fixture repository (`planted below:` for the
    next line, in files that cannot hold a comment on the line itself)."""
    marks = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for mark, offset in (("planted: ", 0), ("planted below: ", 1)):
                if mark in line:
                    rule = line.split(mark, 1)[1].split()[0].rstrip(")")
                    marks.add((f"devops-audit.{rule}", path.relative_to(root).as_posix(), number + offset))
    return marks


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_git_repo(FIXTURES / "scanners-repo", tmp_path / "repo")


def run(root: Path, tmp_path: Path, **options) -> scan_results.Evidence:
    return scan_results.collect(Workspace(root), CollectOptions(run_scanners=True, cache_dir=str(tmp_path / "cache"),
                                                                **options))


def test_every_shipped_rule_has_a_planted_fixture_and_is_documented():
    rules = shipped_rule_ids()
    docs = (Path(__file__).resolve().parent.parent / "docs" / "semgrep-rules.md").read_text()

    assert {mark[0] for mark in planted(FIXTURES / "scanners-repo")} == {f"devops-audit.{r}" for r in rules}
    assert all(f"`{rule}`" in docs for rule in rules)


@needs_semgrep
def test_semgrep_finds_exactly_the_planted_issues(repo, tmp_path):
    [outcome] = [o for o in scanners.run_scanners(Workspace(repo), CollectOptions(cache_dir=str(tmp_path)))
                 if o.tool == "semgrep"]

    found = {(r["check_id"], r["path"], r["start"]["line"]) for r in outcome.document["results"]}
    assert outcome.status == "ran" and found == planted(repo)


@needs_bandit
def test_bandit_parses_the_code_but_skips_tests(repo, tmp_path):
    [outcome] = [o for o in scanners.run_scanners(Workspace(repo), CollectOptions(cache_dir=str(tmp_path)))
                 if o.tool == "bandit"]

    found = {(r["test_id"], r["filename"].removeprefix("./")) for r in outcome.document["results"]}
    assert {("B301", "app/loaders.py"), ("B302", "app/loaders.py"), ("B506", "app/loaders.py")} <= found
    assert not any(path.startswith("tests/") for _, path in found)


@needs_bandit
@needs_semgrep
def test_results_feed_the_facts_without_secret_values_and_count_as_ours(repo, tmp_path):
    evidence = run(repo, tmp_path)
    facts = evidence.facts

    assert [(s["tool"], s["status"]) for s in facts["scanners"]] == [("bandit", "ran"), ("semgrep", "ran")]
    assert {r["origin"] for r in facts["reports"]} == {"devops-audit"} and facts["has_results"]
    assert facts["tools_with_results"] == {"sast": [], "sca": [], "secret": [], "iac": [], "other": []}
    assert {(s["rule"], s["location"]["path"]) for s in facts["secrets"]} == {
        ("devops-audit.hardcoded-credential", "app/settings.py"), ("devops-audit.aws-access-key-id", "app/cloud.py"),
        ("devops-audit.private-key-in-source", "keys/deploy.pem"),
        ("devops-audit.hardcoded-credential-js", "web/config.js")}
    text = json.dumps(facts)
    assert "Hunter2-fixture-Pa55word" not in text and "AKIAFIXTURE0NOTREAL1" not in text


@needs_bandit
@needs_semgrep
def test_second_run_uses_the_cache_and_an_edit_invalidates_it(repo, tmp_path):
    run(repo, tmp_path)
    again = run(repo, tmp_path).facts["scanners"]
    with (repo / "app" / "settings.py").open("a") as handle:  # an uncommitted edit of a tracked file
        handle.write("SESSION_SECRET = 'another-Fixture-secret-99'\n")
    edited = run(repo, tmp_path).facts["scanners"]

    assert [s["status"] for s in again] == ["cached", "cached"]
    assert [s["status"] for s in edited] == ["ran", "ran"]
    assert sorted(p.name.split("-")[1] for p in (tmp_path / "cache" / "scanners").iterdir()) == [
        "bandit", "bandit", "semgrep", "semgrep"]


@needs_bandit
@needs_semgrep
def test_repository_code_is_never_executed(repo, tmp_path):
    marker = tmp_path / "executed"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    write(repo, {"setup.py": payload, "conftest.py": payload, "app/__init__.py": payload, "noxfile.py": payload})

    run(repo, tmp_path)

    assert not marker.exists()


def test_a_missing_scanner_names_the_extra(repo, tmp_path, monkeypatch):
    monkeypatch.setattr(scanners, "_bandit_command", lambda root: None)
    monkeypatch.setattr(scanners, "_semgrep_command", lambda root: None)

    evidence = run(repo, tmp_path)

    assert [(e.kind, e.status) for e in evidence.errors] == [("scanner:bandit", "error"), ("scanner:semgrep", "error")]
    assert all("pip install 'devops-audit[scanners]'" in e.reason for e in evidence.errors)
    assert not evidence.facts["has_results"]


def test_a_hanging_scanner_is_stopped_at_the_timeout(repo, tmp_path, monkeypatch):
    monkeypatch.setattr(scanners, "_bandit_command", lambda root: [sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(scanners, "_semgrep_command", lambda root: [sys.executable, "-c", "print('not json')"])

    outcomes = scanners.run_scanners(Workspace(repo), CollectOptions(scanner_timeout=0.5, cache_dir=str(tmp_path)))

    assert [(o.tool, o.status) for o in outcomes] == [("bandit", "timeout"), ("semgrep", "failed")]
    assert outcomes[0].seconds < 10 and "timed out after 0.5 s" in outcomes[0].message


@needs_bandit
@needs_semgrep
def test_threshold_verdict_from_our_own_scan(repo, tmp_path):
    found = verdicts(scan_dict(repo, run_scanners=True, cache_dir=str(tmp_path / "cache")))

    assert found["SR.TC.04"]["status"] == "fail"
    assert ("app/cloud.py", 3) in {(v["path"], v["line"]) for v in found["SR.TC.04"]["violations"]}
    assert found["SR.DS.01"]["status"] == "fail"
