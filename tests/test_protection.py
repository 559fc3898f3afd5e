"""Branch protection: exported files of every supported shape, and the forge API through a local server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, git, make_git_repo
from pytest_httpserver import HTTPServer

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.protection.protection import collect
from devops_audit.facts import Evidence, to_data
from devops_audit.workspace import Workspace

PROTECTION = FIXTURES / "protection"
TOKEN = "ghp_SECRETtoken9876543210zyxwvutsrqponmlk"
OFFLINE = CollectOptions(offline=True)


@pytest.fixture(autouse=True)
def _no_ambient_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)


def _collect(path: Path, options: CollectOptions = OFFLINE) -> Evidence:
    return collect(Workspace(path), options)


def _write(root: Path, files: dict[str, Any]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2), encoding="utf-8")
    return root


def _ruleset(include: list[str], rules: list[dict[str, Any]], enforcement: str = "active",
             exclude: list[str] | None = None) -> dict[str, Any]:
    return {"name": "r", "target": "branch", "enforcement": enforcement,
            "conditions": {"ref_name": {"include": include, "exclude": exclude or []}}, "rules": rules,
            "bypass_actors": []}


# -- offline sources ------------------------------------------------------------------------------
def test_ruleset_export() -> None:
    evidence = _collect(PROTECTION / "ruleset-strong")
    facts = evidence.facts
    assert evidence.present
    (rule,) = facts["default_branch_rules"]
    assert rule["branch"] == "~DEFAULT_BRANCH" and rule["kind"] == "github-ruleset"
    assert rule["location"] == {"path": ".github/rulesets/main.json", "line": 3}
    assert facts["effective"] == {
        "rule_count": 1, "requires_pull_request": True, "required_approvals": 2, "require_code_owner_review": True,
        "dismiss_stale_reviews": True, "required_status_checks": ["lint", "test (3.11)"],
        "allows_force_push": False, "allows_deletion": False, "requires_signatures": True,
        "linear_history": False, "enforce_admins": True,
    }
    statuses = {e.path: (e.status, e.reason) for e in evidence.inventory}
    assert statuses[".github/rulesets/release-tags.json"][0] == "skipped"  # a tag ruleset: nothing for branches
    assert facts["sources"] == [{"path": ".github/rulesets/main.json", "kind": "github-ruleset"}]


def test_classic_protection_export_names_its_branch_from_the_url() -> None:
    facts = _collect(PROTECTION / "classic-export").facts
    (rule,) = facts["rules"]
    assert (rule["branch"], rule["kind"]) == ("main", "github-protection")
    assert facts["effective"]["required_status_checks"] == ["ci/lint", "ci/test"]
    assert facts["effective"]["enforce_admins"] is True and facts["effective"]["requires_signatures"] is False


def test_probot_settings_with_an_unprotected_default_branch() -> None:
    facts = _collect(PROTECTION / "settings-weak").facts
    assert (facts["default_branch"], facts["default_branch_source"]) == ("main", "settings")
    assert [r["branch"] for r in facts["rules"]] == ["main", "release/*"]
    (main,) = facts["default_branch_rules"]  # release/* does not cover main
    assert main["location"] == {"path": ".github/settings.yml", "line": 8}
    assert facts["effective"]["requires_pull_request"] is False
    assert facts["effective"]["allows_force_push"] is True and facts["effective"]["allows_deletion"] is True


def test_asf_yaml_protected_branches_block_force_push_and_deletion() -> None:
    facts = _collect(PROTECTION / "asf").facts
    main = next(r for r in facts["rules"] if r["branch"] == "main")
    assert main["location"]["line"] == 9
    assert facts["effective"]["requires_signatures"] and facts["effective"]["linear_history"]
    assert facts["effective"]["required_approvals"] == 1 and not facts["effective"]["allows_force_push"]


def test_gitlab_exports_combine_protected_branches_approval_rules_and_project() -> None:
    facts = _collect(PROTECTION / "gitlab-export").facts
    assert (facts["default_branch"], facts["default_branch_source"]) == ("main", "export")
    main, release = facts["rules"]
    assert main["requires_pull_request"] is True  # push access "No one": changes arrive by merge request
    assert main["required_approvals"] == 2  # the branch-scoped rule beats "All Members"; report rules do not count
    assert main["require_code_owner_review"] and main["required_status_checks"] == ["pipeline"]
    assert release["requires_pull_request"] is False and release["allows_force_push"] is True
    assert release["required_approvals"] == 1
    assert [r["branch"] for r in facts["default_branch_rules"]] == ["main"]


def test_default_branch_matching(tmp_path: Path) -> None:
    _write(tmp_path, {".github/rulesets/a.json": _ruleset(["refs/heads/trunk"], [{"type": "deletion"}]),
                      ".github/rulesets/b.json": _ruleset(["~ALL"], [{"type": "non_fast_forward"}],
                                                          exclude=["refs/heads/trunk"]),
                      ".github/rulesets/c.json": _ruleset(["refs/heads/rel*"], [{"type": "required_signatures"}]),
                      ".github/settings.yml": "repository:\n  default_branch: trunk\n"})
    facts = _collect(tmp_path).facts
    assert facts["default_branch"] == "trunk"
    assert [r["branch"] for r in facts["default_branch_rules"]] == ["trunk"]
    assert facts["effective"]["allows_deletion"] is False and facts["effective"]["allows_force_push"] is True


def test_unknown_default_branch_assumes_main_or_master(tmp_path: Path) -> None:
    _write(tmp_path, {".github/rulesets/a.json": _ruleset(["refs/heads/master"], [{"type": "deletion"}]),
                      ".github/rulesets/b.json": _ruleset(["refs/heads/develop"], [{"type": "non_fast_forward"}])})
    facts = _collect(tmp_path).facts
    assert facts["default_branch_source"] == "unknown"
    assert [r["branch"] for r in facts["default_branch_rules"]] == ["master"]


def test_default_branch_from_git_origin_head(tmp_path: Path) -> None:
    repo = make_git_repo(PROTECTION / "none", tmp_path / "repo")
    _write(repo, {".github/rulesets/a.json": _ruleset(["refs/heads/stable"], [{"type": "deletion"}])})
    git(repo, "update-ref", "refs/remotes/origin/stable", "HEAD")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/stable")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Export rulesets")
    facts = _collect(repo).facts
    assert (facts["default_branch"], facts["default_branch_source"]) == ("stable", "git-remote")
    assert facts["effective"]["allows_deletion"] is False


def test_evaluate_and_disabled_rulesets_are_listed_but_not_enforced(tmp_path: Path) -> None:
    _write(tmp_path, {".github/rulesets/a.json": _ruleset(["~DEFAULT_BRANCH"], [{"type": "deletion"}], "evaluate"),
                      ".github/rulesets/b.json": _ruleset(["~DEFAULT_BRANCH"], [{"type": "non_fast_forward"}],
                                                          "disabled")})
    facts = _collect(tmp_path).facts
    assert sorted(r["enforcement"] for r in facts["default_branch_rules"]) == ["disabled", "evaluate"]
    assert facts["effective"]["rule_count"] == 0 and facts["effective"]["allows_deletion"] is True


def test_evidence_flag_reads_an_untracked_export(tmp_path: Path) -> None:
    repo = make_git_repo(PROTECTION / "none", tmp_path / "repo")
    _write(repo, {"exports/protection.json": {"required_pull_request_reviews": {"required_approving_review_count": 1},
                                              "allow_force_pushes": {"enabled": False}}})
    options = CollectOptions(offline=True, evidence_paths={"protection": ["exports/protection.json",
                                                                        "/etc/elsewhere.json", "missing.json"]})
    evidence = collect(Workspace(repo), options)
    assert evidence.present and evidence.facts["effective"]["required_approvals"] == 1
    statuses = {e.path: e.status for e in evidence.inventory}
    assert statuses == {"exports/protection.json": "parsed", "/etc/elsewhere.json": "skipped", "missing.json": "error"}


def test_broken_and_unrecognised_exports_are_inventory_errors(tmp_path: Path) -> None:
    _write(tmp_path, {".github/rulesets/bad.json": '{\n  "name": "x",\n  "rules": [\n}',
                      ".github/rulesets/other.json": {"hello": "world"},
                      ".github/settings.yml": "branches:\n  - name: main\n    protection: [unclosed\n"})
    evidence = _collect(tmp_path)
    errors = {e.path: (e.line, e.reason) for e in evidence.inventory if e.status == "error"}
    assert errors[".github/rulesets/bad.json"][0] == 4 and "invalid JSON" in errors[".github/rulesets/bad.json"][1]
    assert "not a protection export" in errors[".github/rulesets/other.json"][1]
    assert ".github/settings.yml" in errors
    assert evidence.present is False
    assert "invalid JSON" in evidence.hint


def test_no_evidence_hint_names_the_three_ways() -> None:
    evidence = _collect(PROTECTION / "none")
    assert evidence.present is False
    assert "gh api repos/OWNER/REPO/rulesets/ID > .github/rulesets/main.json" in evidence.hint
    assert "--evidence protection=FILE" in evidence.hint
    assert "GITHUB_TOKEN / GITLAB_TOKEN" in evidence.hint
    assert evidence.facts["api_status"] == "offline"


# -- the forge API --------------------------------------------------------------------------------
def _api_options(server: HTTPServer, forge: str = "github", **settings: Any) -> CollectOptions:
    return CollectOptions(api_url=server.url_for("/api").rstrip("/"),
                          settings={"repository": "acme/widgets", "forge": forge, "forge_max_wait": 0.5, **settings})


def _serve_github(server: HTTPServer, protection_status: int = 403) -> None:
    base = "/api/repos/acme/widgets"
    server.expect_request(base).respond_with_json(
        {"id": 1296269, "full_name": "acme/widgets", "default_branch": "main",
         "permissions": {"admin": False, "push": True, "pull": True}})
    server.expect_request(f"{base}/rules/branches/main").respond_with_json([
        {"type": "deletion", "ruleset_source_type": "Repository", "ruleset_source": "acme/widgets", "ruleset_id": 42},
        {"type": "non_fast_forward", "ruleset_source_type": "Repository", "ruleset_source": "acme/widgets",
         "ruleset_id": 42},
        {"type": "pull_request", "ruleset_source_type": "Repository", "ruleset_source": "acme/widgets",
         "ruleset_id": 42, "parameters": {"required_approving_review_count": 1, "dismiss_stale_reviews_on_push": False,
                                          "require_code_owner_review": False, "require_last_push_approval": False,
                                          "required_review_thread_resolution": False}},
    ])
    server.expect_request(f"{base}/branches/main").respond_with_json(
        {"name": "main", "protected": True, "protection": {"enabled": True, "required_status_checks": {
            "enforcement_level": "non_admins", "contexts": ["ci/test"], "checks": [{"context": "ci/test"}]}}})
    server.expect_request(f"{base}/branches/main/protection").respond_with_json(
        {"message": "Resource not accessible by personal access token",
         "documentation_url": "https://docs.github.com/rest/branches/branch-protection"}, status=protection_status)


def _assert_no_token(evidence: Evidence) -> None:
    dumped = json.dumps([to_data(evidence.facts), to_data(evidence.inventory), evidence.hint])
    assert TOKEN not in dumped


def test_github_api_rulesets_with_classic_protection_needing_admin(
        httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    _serve_github(httpserver)
    evidence = collect(Workspace(tmp_path), _api_options(httpserver))
    facts = evidence.facts
    assert evidence.present
    assert (facts["default_branch"], facts["default_branch_source"]) == ("main", "api")
    assert facts["api_status"] == "partial" and facts["complete"] is False
    assert "admin" in facts["api_reason"]
    effective = facts["effective"]
    assert effective["required_approvals"] == 1 and effective["allows_force_push"] is False
    assert effective["required_status_checks"] == ["ci/test"]  # what a read token sees of classic protection
    skipped = [e for e in evidence.inventory if e.status == "skipped"]
    assert [e.path.rsplit("/api", 1)[1] for e in skipped] == ["/repos/acme/widgets/branches/main/protection"]
    _assert_no_token(evidence)


def test_github_api_with_admin_reads_classic_protection(
        httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    base = "/api/repos/acme/widgets"
    httpserver.expect_request(f"{base}/branches/main/protection").respond_with_json(
        json.loads((PROTECTION / "classic-export/.github/branch-protection.json").read_text()))
    _serve_github(httpserver)
    facts = collect(Workspace(tmp_path), _api_options(httpserver)).facts
    assert facts["api_status"] == "ok" and facts["complete"] is True
    assert sorted(r["kind"] for r in facts["default_branch_rules"]) == ["github-protection-api", "github-rules-api"]
    assert facts["effective"]["enforce_admins"] is True


def test_complete_api_answer_outranks_committed_files(
        httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    shutil.copytree(PROTECTION / "ruleset-strong", tmp_path / "repo")
    base = "/api/repos/acme/widgets"
    httpserver.expect_request(base).respond_with_json({"default_branch": "main"})
    httpserver.expect_request(f"{base}/rules/branches/main").respond_with_json([])
    httpserver.expect_request(f"{base}/branches/main").respond_with_json({"name": "main", "protected": False})
    facts = collect(Workspace(tmp_path / "repo"), _api_options(httpserver)).facts
    assert len(facts["rules"]) == 1  # the committed ruleset is still listed...
    assert facts["effective"]["requires_pull_request"] is False  # ...but the live answer says it is not applied


@pytest.mark.parametrize("status, api_status", [(401, "unauthorized"), (403, "forbidden"), (404, "not_found")])
def test_github_api_refusals_leave_protection_unknown_with_the_reason(
        httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, status: int, api_status: str) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    httpserver.expect_request("/api/repos/acme/widgets").respond_with_json(
        {"message": f"Bad credentials ({TOKEN[:8]}...{TOKEN})"}, status=status)
    evidence = collect(Workspace(tmp_path), _api_options(httpserver))
    assert evidence.present is False
    assert evidence.facts["api_status"] == api_status
    assert f"HTTP {status}" in evidence.facts["api_reason"] and f"HTTP {status}" in evidence.hint
    assert [e.status for e in evidence.inventory] == ["skipped"]
    _assert_no_token(evidence)


def test_github_api_rate_limit_then_success(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    httpserver.expect_oneshot_request("/api/repos/acme/widgets").respond_with_json(
        {"message": "API rate limit exceeded"}, status=429, headers={"Retry-After": "0"})
    _serve_github(httpserver)
    facts = collect(Workspace(tmp_path), _api_options(httpserver)).facts
    assert facts["default_branch"] == "main" and facts["effective"]["required_approvals"] == 1


def test_github_api_rate_limit_beyond_the_budget(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    httpserver.expect_request("/api/repos/acme/widgets").respond_with_json(
        {"message": "API rate limit exceeded"}, status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"})
    evidence = collect(Workspace(tmp_path), _api_options(httpserver))
    assert evidence.facts["api_status"] == "rate_limited" and evidence.present is False
    assert [e.status for e in evidence.inventory] == ["error"]


def test_offline_never_calls_the_api(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    options = _api_options(httpserver)
    options.offline = True
    evidence = collect(Workspace(tmp_path), options)
    assert evidence.facts["api_status"] == "offline" and httpserver.log == []


def test_repository_from_the_origin_remote(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    repo = make_git_repo(PROTECTION / "none", tmp_path / "repo")
    git(repo, "remote", "add", "origin", f"https://ci-bot:{TOKEN}@github.com/acme/widgets.git")
    _serve_github(httpserver)
    options = CollectOptions(api_url=httpserver.url_for("/api").rstrip("/"), settings={"forge_max_wait": 0.5})
    evidence = collect(Workspace(repo), options)
    assert evidence.facts["default_branch"] == "main" and evidence.present
    _assert_no_token(evidence)


def test_gitlab_api(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    exports = PROTECTION / "gitlab-export/.gitlab"
    base = "/api/projects/acme/widgets"  # the server sees `acme%2Fwidgets` decoded
    httpserver.expect_request(base).respond_with_json(json.loads((exports / "project.json").read_text()))
    httpserver.expect_request(f"{base}/protected_branches").respond_with_json(
        json.loads((exports / "protected_branches.json").read_text()))
    httpserver.expect_request(f"{base}/approval_rules").respond_with_json({"message": "403 Forbidden"}, status=403)
    httpserver.expect_request(f"{base}/approvals").respond_with_json(
        {"approvals_before_merge": 0, "reset_approvals_on_push": True, "merge_requests_author_approval": False})
    evidence = collect(Workspace(tmp_path), _api_options(httpserver, "gitlab"))
    facts = evidence.facts
    assert evidence.present and facts["api_status"] == "partial" and "Premium" in facts["api_reason"]
    (main,) = facts["default_branch_rules"]
    assert main["kind"] == "gitlab-protected-branch" and main["requires_pull_request"] is True
    assert main["dismiss_stale_reviews"] is True and main["required_status_checks"] == ["pipeline"]
    assert facts["effective"]["required_approvals"] == 0  # the approval rules could not be read
    _assert_no_token(evidence)


def test_checked_out_branch_is_only_a_hint_for_the_default_branch(tmp_path: Path) -> None:
    repo = make_git_repo(PROTECTION / "none", tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", "feature/login")
    _write(repo, {".github/rulesets/a.json": _ruleset(["refs/heads/main"], [{"type": "deletion"}])})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Export rulesets")
    facts = _collect(repo).facts
    assert (facts["default_branch"], facts["default_branch_source"]) == ("feature/login", "git-head")
    assert [r["branch"] for r in facts["default_branch_rules"]] == ["main"]  # main/master still considered


def test_exports_with_wrong_types_do_not_crash_or_invent_rules(tmp_path: Path) -> None:
    _write(tmp_path, {
        ".github/rulesets/odd.json": {"name": 7, "target": "branch", "enforcement": "active",
                                      "conditions": {"ref_name": {"include": "~DEFAULT_BRANCH", "exclude": 3}},
                                      "rules": ["deletion", {"type": "pull_request", "parameters": [1]},
                                                {"type": "required_status_checks",
                                                 "parameters": {"required_status_checks": "ci"}}]},
        ".github/branch-protection.json": {"required_status_checks": {"contexts": "ci/test", "checks": {"a": 1}},
                                           "required_pull_request_reviews": {"required_approving_review_count": "x"}},
        ".gitlab/protected_branches.json": [{"name": "main", "push_access_levels": "none"}],
    })
    facts = _collect(tmp_path).facts
    odd = next(r for r in facts["rules"] if r["kind"] == "github-ruleset")
    assert odd["branch"] == "~DEFAULT_BRANCH" and odd["requires_pull_request"] and odd["allows_deletion"]
    assert odd["required_status_checks"] == [] and odd["required_approvals"] == 0
    classic = next(r for r in facts["rules"] if r["kind"] == "github-protection")
    assert classic["required_status_checks"] == ["ci/test"] and classic["required_approvals"] == 0
    gitlab = next(r for r in facts["rules"] if r["kind"] == "gitlab-protected-branch")
    assert gitlab["requires_pull_request"] is False


def test_corpus_probot_settings(corpus_dir: Path) -> None:
    facts = _collect(corpus_dir / "ai21-python" / "repo").facts
    assert (facts["default_branch"], facts["default_branch_source"]) == ("main", "settings")
    effective = facts["effective"]
    assert effective["required_approvals"] == 1 and effective["required_status_checks"] == ["quality-checks"]
    # `allow_force_pushes:` left empty (null) blocks force pushes, as the API does
    assert effective["allows_force_push"] is False and effective["requires_signatures"] is False
    assert effective["linear_history"] and effective["enforce_admins"] and effective["require_code_owner_review"]
