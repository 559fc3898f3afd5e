"""Forge listings (`--org github:NAME`, `--group gitlab:NAME`) against a local HTTP server; list-file parsing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from werkzeug import Response

from devops_audit.errors import TargetError, UsageError
from devops_audit.fleet.clone import cache_path
from devops_audit.fleet.sources import list_forge, parse_repo_line, redact

TOKEN = "ghp_secret_value_123"


def _repo(name: str, archived: bool = False) -> dict:
    return {"full_name": f"acme/{name}", "clone_url": f"https://github.example/acme/{name}.git",
            "default_branch": "main", "archived": archived}


def test_github_org_is_paged_with_the_token_and_archived_repositories_skipped(httpserver):
    base = httpserver.url_for("/api/v3")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    httpserver.expect_request("/api/v3/orgs/acme/repos", query_string="per_page=100&type=all", headers=auth) \
        .respond_with_json([_repo("api"), _repo("old", archived=True)],
                           headers={"Link": f'<{base}/orgs/acme/repos?per_page=100&type=all&page=2>; rel="next"'})
    httpserver.expect_request("/api/v3/orgs/acme/repos", query_string="per_page=100&type=all&page=2", headers=auth) \
        .respond_with_json([_repo("web")])
    specs = list_forge("github:acme", api_url=base, env={"GITHUB_TOKEN": TOKEN})
    assert [(s.repository, s.branch) for s in specs] == [
        ("https://github.example/acme/api.git", "main"), ("https://github.example/acme/web.git", "main")]


def test_github_user_is_listed_when_the_org_does_not_exist(httpserver):
    httpserver.expect_request("/orgs/alice/repos").respond_with_data("not found", status=404)
    httpserver.expect_request("/users/alice/repos").respond_with_json([_repo("dotfiles")])
    specs = list_forge("github:alice", api_url=httpserver.url_for("/"), env={})
    assert [s.url for s in specs] == ["https://github.example/acme/dotfiles.git"]


def test_gitlab_group_pages_with_x_next_page_and_private_token(httpserver):
    project = {"http_url_to_repo": "https://gitlab.example/g/sub/p1.git", "default_branch": "develop"}
    seen: list[str] = []

    def handler(request):
        seen.append(request.environ["REQUEST_URI"])  # the raw path: the group must be one %2F-encoded segment
        if request.args.get("page") == "2":
            return Response(json.dumps([{**project, "http_url_to_repo": "https://gitlab.example/g/sub/p2.git"}]),
                            content_type="application/json")
        return Response(json.dumps([project]), content_type="application/json", headers={"X-Next-Page": "2"})

    httpserver.expect_request("/api/v4/groups/g/sub/projects", headers={"PRIVATE-TOKEN": "glpat-x"}) \
        .respond_with_handler(handler)
    specs = list_forge("gitlab:g/sub", api_url=httpserver.url_for("/api/v4"), env={"GITLAB_TOKEN": "glpat-x"})
    assert [(s.url, s.branch) for s in specs] == [("https://gitlab.example/g/sub/p1.git", "develop"),
                                                  ("https://gitlab.example/g/sub/p2.git", "develop")]
    assert all(uri.startswith("/api/v4/groups/g%2Fsub/projects?include_subgroups=true&archived=false")
               for uri in seen) and len(seen) == 2


def test_a_rate_limit_is_waited_out_within_the_bound(httpserver):
    calls = []

    def handler(request):
        calls.append(time.time())
        if len(calls) == 1:
            return Response("rate limited", status=403, headers={
                "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 20)})
        return Response(json.dumps([_repo("api")]), content_type="application/json")

    httpserver.expect_request("/orgs/acme/repos").respond_with_handler(handler)
    waits: list[float] = []
    specs = list_forge("github:acme", api_url=httpserver.url_for("/"), env={}, max_wait=60, sleep=waits.append)
    assert len(specs) == 1 and len(calls) == 2
    assert 15 <= waits[0] <= 21


def test_a_rate_limit_beyond_the_bound_fails_without_leaking_the_token(httpserver):
    httpserver.expect_request("/orgs/acme/repos").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(TargetError) as caught:
        list_forge("github:acme", api_url=httpserver.url_for("/"), env={"GITHUB_TOKEN": TOKEN}, max_wait=60,
                   sleep=lambda s: pytest.fail("must not wait an hour"))
    assert "rate limited; retry in 3600 s" in str(caught.value) and TOKEN not in str(caught.value)


def test_the_token_is_never_sent_to_another_host(httpserver):
    httpserver.expect_request("/orgs/acme/repos").respond_with_json(
        [_repo("api")], headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'})
    with pytest.raises(TargetError, match="another host"):
        list_forge("github:acme", api_url=httpserver.url_for("/"), env={"GITHUB_TOKEN": TOKEN})


def test_bad_selectors_are_usage_errors():
    with pytest.raises(UsageError):
        list_forge("bitbucket:acme", env={})


def test_list_lines_and_redaction(tmp_path: Path):
    assert parse_repo_line("   # just a comment", tmp_path) is None
    spec = parse_repo_line("https://user:tok3n@git.example/a/b.git dev # note", tmp_path)
    assert (spec.repository, spec.url, spec.branch) == ("https://***@git.example/a/b.git#dev",
                                                        "https://user:tok3n@git.example/a/b.git", "dev")
    assert parse_repo_line("git@github.com:acme/cli.git#release", tmp_path).branch == "release"
    assert redact("ssh://git@host/repo.git") == "ssh://git@host/repo.git"
    assert "tok3n" not in str(cache_path(tmp_path, spec.url, spec.branch))
    assert cache_path(tmp_path, "https://h/x/../../etc.git").is_relative_to(tmp_path)
