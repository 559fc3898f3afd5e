"""The forge API client against a local HTTP server: auth, pagination, errors, rate limits, redirects."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from devops_audit.forge import ForgeClient, ForgeError, ForgeTarget, Remote, parse_remote, resolve_target

TOKEN = "ghp_TESTTOKEN0123456789abcdefghijklmnopqr"


def _client(server: HTTPServer, kind: str = "github", **kwargs: object) -> ForgeClient:
    target = ForgeTarget(kind, server.url_for("/api").rstrip("/"), "acme/widgets", TOKEN)
    return ForgeClient(target, **kwargs)  # type: ignore[arg-type]


# -- which forge, which repository -----------------------------------------------------------------
@pytest.mark.parametrize("url, host, path", [
    ("https://github.com/acme/widgets.git", "github.com", "acme/widgets"),
    ("git@github.com:acme/widgets.git", "github.com", "acme/widgets"),
    ("ssh://git@gitlab.example.com:2222/group/sub/payments.git", "gitlab.example.com", "group/sub/payments"),
    ("https://deploy:s3cret@gitlab.example.com:8443/group/app", "gitlab.example.com:8443", "group/app"),
])
def test_parse_remote_drops_credentials(url: str, host: str, path: str) -> None:
    assert parse_remote(url) == Remote(host, path)


def test_parse_remote_rejects_a_local_path() -> None:
    assert parse_remote("/srv/git/widgets") is None


def test_resolve_target_picks_forge_api_and_token() -> None:
    env = {"GITHUB_TOKEN": TOKEN}
    target = resolve_target(Remote("github.com", "acme/widgets"), {}, None, env)
    assert isinstance(target, ForgeTarget)
    assert (target.kind, target.api_url, target.repository) == ("github", "https://api.github.com", "acme/widgets")
    enterprise = resolve_target(Remote("github.acme.corp", "acme/widgets"), {}, None, env)
    assert enterprise.api_url == "https://github.acme.corp/api/v3"  # type: ignore[union-attr]
    gitlab = resolve_target(Remote("gitlab.acme.corp", "g/app"), {}, None, {"GITLAB_TOKEN": "x"})
    assert gitlab.api_url == "https://gitlab.acme.corp/api/v4"  # type: ignore[union-attr]
    assert TOKEN not in repr(target)


def test_resolve_target_explains_what_is_missing() -> None:
    assert resolve_target(None, {}, None, {}) == "no GITHUB_TOKEN or GITLAB_TOKEN in the environment"
    github_without_its_token = resolve_target(Remote("github.com", "a/b"), {}, None, {"GITLAB_TOKEN": "x"})
    assert github_without_its_token == "no GITHUB_TOKEN in the environment"
    assert "collectors.repository" in resolve_target(None, {}, None, {"GITHUB_TOKEN": "x"})  # type: ignore[operator]


def test_configured_repository_and_forge_override_the_remote() -> None:
    target = resolve_target(None, {"repository": "acme/other", "forge": "gitlab"}, "https://git.acme.corp/api/v4",
                            {"GITLAB_TOKEN": "x"})
    assert isinstance(target, ForgeTarget)
    assert (target.kind, target.api_url, target.repository) == ("gitlab", "https://git.acme.corp/api/v4", "acme/other")


def test_token_is_never_sent_over_plain_http_to_a_remote_host() -> None:
    with pytest.raises(ForgeError, match="plain http"):
        ForgeClient(ForgeTarget("github", "http://github.acme.corp/api/v3", "a/b", TOKEN))


# -- requests ---------------------------------------------------------------------------------
def test_github_requests_carry_a_bearer_token(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/repos/acme/widgets", headers={
        "Authorization": f"Bearer {TOKEN}", "X-GitHub-Api-Version": "2022-11-28"}).respond_with_json(
        {"default_branch": "main"})
    assert _client(httpserver).get("/repos/acme/widgets") == {"default_branch": "main"}


def test_gitlab_requests_carry_a_private_token(httpserver: HTTPServer) -> None:
    # the server sees the decoded path of `/projects/acme%2Fwidgets`
    httpserver.expect_request("/api/projects/acme/widgets", headers={"PRIVATE-TOKEN": TOKEN}).respond_with_json(
        {"default_branch": "trunk"})
    assert _client(httpserver, "gitlab").get("/projects/acme%2Fwidgets")["default_branch"] == "trunk"


def test_get_all_follows_next_links(httpserver: HTTPServer) -> None:
    second = httpserver.url_for("/api/items") + "?per_page=100&page=2"
    httpserver.expect_request("/api/items", query_string="per_page=100").respond_with_json(
        [1, 2], headers={"Link": f'<{second}>; rel="next"'})
    httpserver.expect_request("/api/items", query_string="per_page=100&page=2").respond_with_json([3])
    assert _client(httpserver).get_all("/items") == [1, 2, 3]


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_errors_carry_status_and_message_but_never_the_token(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/api/repos/acme/widgets").respond_with_json(
        {"message": f"Bad credentials for {TOKEN}", "documentation_url": "https://docs.github.com/rest"},
        status=status)
    with pytest.raises(ForgeError) as caught:
        _client(httpserver).get("/repos/acme/widgets")
    assert caught.value.status == status
    assert f"HTTP {status}: Bad credentials" in caught.value.reason
    assert TOKEN not in caught.value.reason and TOKEN not in str(caught.value)


def test_rate_limit_is_waited_out_then_retried(httpserver: HTTPServer) -> None:
    waits: list[float] = []
    httpserver.expect_ordered_request("/api/repos/acme/widgets").respond_with_json(
        {"message": "API rate limit exceeded"}, status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000030"})
    httpserver.expect_ordered_request("/api/repos/acme/widgets").respond_with_json({"default_branch": "main"})
    client = _client(httpserver, max_wait=60, sleep=waits.append, clock=lambda: 1_000_000.0)
    assert client.get("/repos/acme/widgets") == {"default_branch": "main"}
    assert waits == [30.0]


def test_rate_limit_beyond_the_wait_budget_gives_up(httpserver: HTTPServer) -> None:
    waits: list[float] = []
    httpserver.expect_request("/api/repos/acme/widgets").respond_with_json(
        {"message": "secondary rate limit"}, status=429, headers={"Retry-After": "120"})
    client = _client(httpserver, max_wait=5, sleep=waits.append)
    with pytest.raises(ForgeError, match="rate limited.*120 s.*budget of 5 s"):
        client.get("/repos/acme/widgets")
    assert waits == []


def test_rate_limit_retries_are_bounded(httpserver: HTTPServer) -> None:
    waits: list[float] = []
    httpserver.expect_request("/api/x").respond_with_json({}, status=429, headers={"Retry-After": "1"})
    with pytest.raises(ForgeError, match="rate limited"):
        _client(httpserver, max_wait=100, max_retries=2, sleep=waits.append).get("/x")
    assert waits == [1.0, 1.0]


def test_forbidden_without_rate_limit_headers_is_not_retried(httpserver: HTTPServer) -> None:
    waits: list[float] = []
    httpserver.expect_request("/api/x").respond_with_json({"message": "Must have admin rights"}, status=403)
    with pytest.raises(ForgeError, match="HTTP 403: Must have admin rights"):
        _client(httpserver, sleep=waits.append).get("/x")
    assert waits == []


def test_redirects_are_followed_only_on_the_same_host(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/repos/acme/old").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/api/repositories/7")})
    httpserver.expect_request("/api/repositories/7", headers={"Authorization": f"Bearer {TOKEN}"}).respond_with_json(
        {"default_branch": "main"})
    assert _client(httpserver).get("/repos/acme/old") == {"default_branch": "main"}
    httpserver.expect_request("/api/repos/acme/moved").respond_with_data(
        "", status=302, headers={"Location": "https://evil.example.net/steal"})
    with pytest.raises(ForgeError, match="another host"):
        _client(httpserver).get("/repos/acme/moved")


def test_unreachable_server_is_a_forge_error() -> None:
    client = ForgeClient(ForgeTarget("github", "http://127.0.0.1:9/api", "a/b", TOKEN), timeout=2)
    with pytest.raises(ForgeError, match="cannot reach 127.0.0.1:9") as caught:
        client.get("/repos/a/b")
    assert caught.value.status is None


def test_non_json_answer_is_a_forge_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/x").respond_with_data("<html>login</html>", content_type="text/html")
    with pytest.raises(ForgeError, match="not JSON"):
        _client(httpserver).get("/x")
