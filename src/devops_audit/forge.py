"""A small read-only client for the GitHub and GitLab REST APIs, and how to find the repository's forge.

Uses `urllib` from the standard library (about 25 ms to import, only when a token is set; httpx costs more
and is not needed for a handful of GET requests). Tokens come from `GITHUB_TOKEN` / `GITLAB_TOKEN` only,
travel in a header, are never sent over plain http to a non-local host, never follow a redirect to
another host, and never appear in an error message. Rate limits (403/429 with `x-ratelimit-remaining: 0`,
`ratelimit-reset` or `retry-after`) are waited out within a bounded budget, a bounded number of times.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

if TYPE_CHECKING:
    from devops_audit.workspace import Workspace

__all__ = ["ForgeError", "ForgeClient", "ForgeTarget", "Remote", "parse_remote", "origin_remote", "resolve_target",
           "repository_owner", "TOKEN_VARIABLES", "project_id"]

TOKEN_VARIABLES = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class ForgeError(Exception):
    """A request that did not give an answer; `status` is the HTTP status when there was one."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Remote:
    """Where the repository lives: `host` (with port for http URLs) and `path` (`owner/repo`, `group/sub/repo`)."""

    host: str
    path: str


@dataclass(frozen=True)
class ForgeTarget:
    """Which API to ask about which repository; `token` never leaves this object except as a header."""

    kind: str  # github | gitlab
    api_url: str
    repository: str
    token: str = field(repr=False)


def parse_remote(url: str) -> Remote | None:
    """Host and repository path of a git remote URL (https, ssh, scp-like); credentials are dropped."""
    url = url.strip()
    if "://" in url:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port and parts.scheme in ("http", "https"):
            host = f"{host}:{parts.port}"
        path = parts.path
    else:
        match = _SCP_LIKE.match(url)
        if not match:
            return None
        host, path = match.group("host"), match.group("path")
    path = path.strip("/")
    path = path[:-4] if path.endswith(".git") else path
    if not host or path.count("/") < 1:
        return None
    return Remote(host.lower(), path)


def origin_remote(workspace: Workspace) -> Remote | None:
    """The `origin` remote of a git checkout (read from its config, includes ignored), or None."""
    if not workspace.is_git:
        return None
    url = workspace.git_text("config", "--no-includes", "--get", "remote.origin.url")
    try:
        return parse_remote(url) if url else None  # no origin remote, unreadable config
    except ValueError:  # an invalid port in the URL
        return None


def repository_owner(workspace: Workspace, settings: Mapping[str, Any]) -> str:
    """The owner (user, organisation or top-level group) of the repository: `collectors.repository`, else
    the `origin` remote; "" when neither says."""
    configured = settings.get("repository")
    if isinstance(configured, str) and configured.strip():
        try:
            remote = parse_remote(configured) if ("://" in configured or ":" in configured) else None
        except ValueError:
            remote = None
        path = remote.path if remote else configured.strip().strip("/")
    else:
        origin = origin_remote(workspace)
        path = origin.path if origin else ""
    return path.split("/", 1)[0].lower() if "/" in path else ""


def resolve_target(remote: Remote | None, settings: Mapping[str, Any], api_url: str | None,
                   env: Mapping[str, str] = os.environ) -> ForgeTarget | str:
    """The API to ask, or the reason why there is none (no token, no remote, unknown forge)."""
    configured = settings.get("repository")
    if isinstance(configured, str) and configured.strip():
        given = parse_remote(configured) if ("://" in configured or ":" in configured) else None
        remote = given or Remote(remote.host if remote else "", configured.strip().strip("/"))
    kind = _forge_kind(remote, settings, api_url, env)
    if kind is None:
        if not any(env.get(variable) for variable in TOKEN_VARIABLES.values()):
            return "no GITHUB_TOKEN or GITLAB_TOKEN in the environment"
        return "cannot tell whether the repository is on GitHub or GitLab (set collectors.forge)"
    token = env.get(TOKEN_VARIABLES[kind], "")
    if not token:
        return f"no {TOKEN_VARIABLES[kind]} in the environment"
    if remote is None or not remote.path:
        return ("cannot tell which repository to ask about: no `origin` remote "
                "(set collectors.repository to OWNER/REPO)")
    base = (api_url or _default_api(kind, remote.host)).rstrip("/")
    return ForgeTarget(kind, base, remote.path, token)


def _forge_kind(remote: Remote | None, settings: Mapping[str, Any], api_url: str | None,
                env: Mapping[str, str]) -> str | None:
    configured = str(settings.get("forge") or "").lower()
    if configured in TOKEN_VARIABLES:
        return configured
    host = remote.host if remote else ""
    for kind in ("gitlab", "github"):
        if kind in host:
            return kind
    if api_url and "/api/v4" in api_url:
        return "gitlab"
    if api_url and "/api/v3" in api_url:
        return "github"
    present = [kind for kind, variable in TOKEN_VARIABLES.items() if env.get(variable)]
    return present[0] if len(present) == 1 else None


def _default_api(kind: str, host: str) -> str:
    if kind == "github":
        return "https://api.github.com" if host in ("github.com", "") else f"https://{host}/api/v3"
    return f"https://{host or 'gitlab.com'}/api/v4"


def project_id(path: str) -> str:
    """A GitLab project path as the URL-encoded id the API expects (`group%2Frepo`)."""
    return quote(path, safe="")


class ForgeClient:
    """GET JSON from one forge API, with authentication, pagination and bounded rate-limit waits."""

    def __init__(self, target: ForgeTarget, *, max_wait: float = 60.0, max_retries: int = 3, timeout: float = 15.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        self.target = target
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._waited = 0.0
        origin = urlsplit(target.api_url)
        self._origin = (origin.scheme, origin.netloc)
        if origin.scheme == "http" and origin.hostname not in _LOCAL_HOSTS:
            raise ForgeError(None, f"refusing to send a token over plain http to {origin.hostname}; use https")

    def get(self, path: str) -> Any:
        """The JSON body of `GET {api}{path}`; raises ForgeError."""
        return self._get(self.target.api_url + path)[0]

    def get_raw(self, url: str) -> bytes:
        """The body of `GET url` on the same origin, as bytes (a remote CI file); raises ForgeError."""
        status, _, body = self._fetch(url)
        if not 200 <= status < 300:
            raise ForgeError(status, f"{self._where(url)}: HTTP {status}")
        return body

    def get_all(self, path: str, max_pages: int = 10) -> list[Any]:
        """Every item of a paginated list (`per_page=100`, following `Link: rel="next"`)."""
        url = self.target.api_url + path + ("&" if "?" in path else "?") + "per_page=100"
        items: list[Any] = []
        for _ in range(max_pages):
            body, headers = self._get(url)
            if not isinstance(body, list):
                raise ForgeError(200, f"expected a list from {path}")
            items.extend(body)
            found = _NEXT_LINK.search(headers.get("link", ""))
            if not found or not self._same_origin(found.group(1)):
                break
            url = found.group(1)
        return items

    # -- one request ---------------------------------------------------------------------------
    def _get(self, url: str) -> tuple[Any, dict[str, str]]:
        attempt = 0
        while True:
            status, headers, body = self._fetch(url)
            if 200 <= status < 300:
                try:
                    return json.loads(body.decode("utf-8", errors="replace")), headers
                except (ValueError, RecursionError):
                    raise ForgeError(status, f"{self._where(url)}: the response is not JSON") from None
            wait = _rate_limit_wait(status, headers, self._clock())
            if wait is None:
                raise ForgeError(status, f"{self._where(url)}: HTTP {status}{_message(body, self.target.token)}")
            if attempt == self.max_retries or self._waited + wait > self.max_wait:
                raise ForgeError(status, f"{self._where(url)}: rate limited (HTTP {status}); the limit resets in "
                                         f"{wait:.0f} s, beyond the wait budget of {self.max_wait:g} s "
                                         "(collectors.forge_max_wait)")
            self._waited += wait
            self._sleep(wait)
            attempt += 1

    def _fetch(self, url: str) -> tuple[int, dict[str, str], bytes]:
        """Status, lower-cased headers and body; follows same-origin redirects only (the token stays home)."""
        import urllib.error
        import urllib.request

        opener = _opener()
        for _ in range(4):
            request = urllib.request.Request(url, headers=self._headers())
            try:
                with opener.open(request, timeout=self.timeout) as response:
                    return response.status, _lower(response.headers), response.read(MAX_RESPONSE_BYTES)
            except urllib.error.HTTPError as exc:
                headers = _lower(exc.headers)
                if exc.code in (301, 302, 303, 307, 308) and headers.get("location"):
                    target = urljoin(url, headers["location"])
                    if not self._same_origin(target):
                        raise ForgeError(exc.code, f"{self._where(url)}: redirected to another host; "
                                                   "not followed with the token") from None
                    url = target
                    continue
                return exc.code, headers, exc.read(MAX_RESPONSE_BYTES)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                reason = _redact(str(reason), self.target.token)
                raise ForgeError(None, f"cannot reach {urlsplit(url).netloc}: {reason}") from None
        raise ForgeError(None, f"{self._where(url)}: too many redirects")

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": "devops-audit", "Accept": "application/json"}
        if self.target.kind == "github":
            headers.update({"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
            if self.target.token:  # public content needs none (remote CI definitions)
                headers["Authorization"] = f"Bearer {self.target.token}"
        elif self.target.token:
            headers["PRIVATE-TOKEN"] = self.target.token
        return headers

    def _same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc) == self._origin

    def _where(self, url: str) -> str:
        return "GET " + urlsplit(url).path


def _rate_limit_wait(status: int, headers: dict[str, str], now: float) -> float | None:
    """Seconds to wait before retrying, or None when the response is not a rate limit."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("retry-after", "")
    if retry_after.strip().isdigit():
        return float(retry_after)
    remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining"))
    reset = headers.get("x-ratelimit-reset", headers.get("ratelimit-reset", ""))
    if remaining == "0" and reset.strip().isdigit():
        return max(float(reset) - now, 1.0)
    if status == 429:
        return 60.0
    return None


def _message(body: bytes, token: str) -> str:
    """`: <message>` from a JSON error body (GitHub `message`, GitLab `message`/`error`), redacted, short."""
    try:
        data = json.loads(body.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return ""
    text = data.get("message") or data.get("error") if isinstance(data, dict) else None
    if not text:
        return ""
    return ": " + _redact(str(text), token)[:200]


def _redact(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers.items() if headers else [])}


def _opener() -> Any:
    """A urllib opener that hands redirects back to us instead of following them."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirect())
