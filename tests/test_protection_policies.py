"""End to end: branch-protection and code-ownership indicators on fixture repositories.

CD.CM.01 (reviews), CD.CM.04 (code owners), CD.CI.03 (quality gate), SR.BD.01 (default branch protected),
SR.BD.06 (signed commits), SR.GV.02 (sensitive paths owned): pass, fail and unknown (or not applicable).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import make_git_repo
from helpers import FIXTURES, scan_dict, verdicts, write
from pytest_httpserver import HTTPServer

PROTECTION = FIXTURES / "protection"
INDICATORS = ("CD.CM.01", "CD.CM.04", "CD.CI.03", "SR.BD.01", "SR.BD.06", "SR.GV.02")


@pytest.fixture(autouse=True)
def _no_ambient_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)


def _verdicts(path: Path, **options: Any) -> dict[str, dict[str, Any]]:
    options.setdefault("offline", True)
    return verdicts(scan_dict(path, **options))


def _statuses(found: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {i: found[i]["status"] for i in INDICATORS}


def test_a_strong_ruleset_and_full_ownership_pass_everything() -> None:
    found = _verdicts(PROTECTION / "ruleset-strong")
    assert _statuses(found) == dict.fromkeys(INDICATORS, "pass")
    assert "2 approving review(s)" in found["CD.CM.01"]["message"]
    assert "required checks: lint, test (3.11)" in found["CD.CI.03"]["message"]


def test_weak_settings_and_partial_ownership_fail_with_reasons() -> None:
    found = _verdicts(PROTECTION / "settings-weak")
    # signatures are not required, and without git history their share cannot be measured
    assert _statuses(found) == {**dict.fromkeys(INDICATORS, "fail"), "SR.BD.06": "unknown"}
    assert "force pushes are allowed" in found["SR.BD.01"]["message"]
    assert "does not require a pull/merge request" in found["CD.CM.01"]["message"]
    assert {(loc["path"], loc["line"]) for loc in found["CD.CM.04"]["locations"]} == {
        ("CODEOWNERS", 3), ("CODEOWNERS", 4), ("CODEOWNERS", 1)}
    unowned = {v["locator"] for v in found["SR.GV.02"]["violations"]}
    assert unowned == {".github/", ".github/workflows/ci.yml", "package.json"}
    checks = {v["locator"] for v in found["CD.CI.03"]["violations"]}
    assert checks == {"jobs.test", "required-checks"}


def test_without_evidence_protection_indicators_are_unknown_and_say_how_to_provide_it() -> None:
    found = _verdicts(PROTECTION / "none")
    assert _statuses(found) == {"CD.CM.01": "unknown", "CD.CM.04": "fail", "CD.CI.03": "unknown",
                                "SR.BD.01": "unknown", "SR.BD.06": "unknown", "SR.GV.02": "fail"}
    message = found["SR.BD.01"]["message"]
    assert "--evidence protection=FILE" in message and "GITHUB_TOKEN" in message and "gh api" in message
    assert "no CODEOWNERS file" in found["CD.CM.04"]["violations"][0]["message"]


def test_gitlab_exports_pass_review_protection_and_gate() -> None:
    found = _verdicts(PROTECTION / "gitlab-export")
    assert {i: found[i]["status"] for i in ("CD.CM.01", "SR.BD.01", "CD.CM.04", "SR.GV.02")} == dict.fromkeys(
        ("CD.CM.01", "SR.BD.01", "CD.CM.04", "SR.GV.02"), "pass")


def test_signed_commits_fall_back_to_history(tmp_path: Path) -> None:
    # classic protection does not require signatures: without history the answer is unknown,
    # with an unsigned history it is a failure
    assert _verdicts(PROTECTION / "classic-export")["SR.BD.06"]["status"] == "unknown"
    repo = make_git_repo(PROTECTION / "classic-export", tmp_path / "repo")
    found = _verdicts(repo)
    assert found["SR.BD.06"]["status"] == "fail"
    assert "0.0% of default-branch commits" in found["SR.BD.06"]["message"]
    assert (found["CD.CM.01"]["status"], found["SR.BD.01"]["status"]) == ("pass", "pass")


def test_nothing_sensitive_means_sensitive_paths_do_not_apply(tmp_path: Path) -> None:
    write(tmp_path, {"CODEOWNERS": "* @team\n", "notes.md": "# notes\n"})
    assert _verdicts(tmp_path)["SR.GV.02"]["status"] == "not_applicable"


def test_an_incomplete_api_answer_is_unknown_with_the_reason(
        httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_e2eTOKEN000000000000000000000000000000")
    base = "/api/repos/acme/widgets"
    httpserver.expect_request(base).respond_with_json({"default_branch": "main"})
    httpserver.expect_request(f"{base}/rules/branches/main").respond_with_json([])
    httpserver.expect_request(f"{base}/branches/main").respond_with_json({"name": "main", "protected": True})
    httpserver.expect_request(f"{base}/branches/main/protection").respond_with_json(
        {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, status=404)
    write(tmp_path, {"README.md": "# widgets\n"})
    report = scan_dict(tmp_path, api_url=httpserver.url_for("/api").rstrip("/"),
                       settings={"repository": "acme/widgets", "forge": "github", "forge_max_wait": 0.5})
    found = verdicts(report)
    assert found["SR.BD.01"]["status"] == "unknown" and found["CD.CM.01"]["status"] == "unknown"
    assert "admin access" in found["SR.BD.01"]["message"]
    assert "ghp_e2eTOKEN" not in json.dumps(report)
