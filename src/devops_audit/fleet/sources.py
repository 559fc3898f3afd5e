"""Which repositories a fleet run scans: a list file, a GitHub organisation or a GitLab group.

List file (`--repos FILE`), one repository a line:

    # comments and blank lines are ignored
    ../services/billing                          a local path (relative to the list file), scanned in place
    https://github.com/acme/api.git              a git URL, cloned into the cache
    https://github.com/acme/web.git  develop     a branch after whitespace ...
    git@github.com:acme/cli.git#release          ... or after `#`
    file:///srv/git/tools.git   # trailing comment

Forge listings page through the API (GitHub `Link: rel="next"`, GitLab `X-Next-Page`), skip archived
repositories, send the token (`GITHUB_TOKEN` / `GITLAB_TOKEN`, from the environment only) in a header and
never to another host, and wait out rate limits (`Retry-After`, `X-RateLimit-Reset`, `RateLimit-Reset`) for
at most `max_wait` seconds a time, `max_retries` times, before giving up with a `TargetError`.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops_audit.errors import TargetError, UsageError

__all__ = ["RepoSpec", "read_repo_list", "parse_repo_line", "list_forge", "redact", "is_url",
           "DEFAULT_API_URLS", "TOKEN_VARIABLES"]

DEFAULT_API_URLS = {"github": "https://api.github.com", "gitlab": "https://gitlab.com/api/v4"}
TOKEN_VARIABLES = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_PER_PAGE = 100
_TIMEOUT = 30.0


@dataclass(frozen=True)
class RepoSpec:
    """One repository of the fleet. `repository` is its identity in the store and the reports."""

    repository: str
    url: str | None = None  # None: a local folder, scanned in place
    path: str | None = None
    branch: str | None = None

    @property
    def is_local(self) -> bool:
        return self.url is None


def is_url(text: str) -> bool:
    return bool(_URL.match(text) or _SCP_LIKE.match(text))


def redact(url: str) -> str:
    """The URL without credentials in its user part (`https://***@host/...`); ssh user names are kept."""
    if not _URL.match(url):
        return url
    parts = urllib.parse.urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or (parts.scheme.endswith("ssh") and ":" not in userinfo):
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=f"***@{host}"))


def parse_repo_line(line: str, base: Path) -> RepoSpec | None:
    """One list line -> RepoSpec, or None for a blank or comment line."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    tokens = text.split()
    location, branch = tokens[0], None
    if len(tokens) > 1 and not tokens[1].startswith("#"):
        branch = tokens[1]
    if "#" in location:
        location, _, fragment = location.partition("#")
        branch = branch or fragment or None
    if is_url(location):
        name = redact(location) + (f"#{branch}" if branch else "")
        return RepoSpec(repository=name, url=location, branch=branch)
    path = (base / Path(location).expanduser()).resolve()
    return RepoSpec(repository=str(path) + (f"#{branch}" if branch else ""), path=str(path), branch=branch)


def read_repo_list(path: str | Path) -> list[RepoSpec]:
    """Every repository of a list file, first occurrence kept; local paths are relative to the file."""
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise TargetError(f"{path}: cannot read the repository list: {exc.strerror}") from None
    specs: dict[str, RepoSpec] = {}
    for line in lines:
        spec = parse_repo_line(line, file.parent)
        if spec is not None:
            specs.setdefault(spec.repository, spec)
    return list(specs.values())


# -- forge listings ------------------------------------------------------------------------------
def list_forge(selector: str, *, api_url: str | None = None, env: dict[str, str] | None = None,
               max_wait: float = 60.0, max_retries: int = 5,
               sleep: Callable[[float], None] = time.sleep) -> list[RepoSpec]:
    """`github:ORG` or `gitlab:GROUP` -> the non-archived repositories, through the forge API."""
    forge, sep, name = selector.partition(":")
    forge = forge.lower()
    if not sep or not name or forge not in DEFAULT_API_URLS:
        raise UsageError(f"expected github:NAME or gitlab:NAME, got {selector!r}")
    env = os.environ if env is None else env
    base = (api_url or DEFAULT_API_URLS[forge]).rstrip("/")
    token = env.get(TOKEN_VARIABLES[forge]) or None
    client = _Client(base, forge, token, max_wait, max_retries, sleep)
    if forge == "github":
        items = client.pages(f"{base}/orgs/{urllib.parse.quote(name)}/repos?per_page={_PER_PAGE}&type=all",
                             fallback=f"{base}/users/{urllib.parse.quote(name)}/repos?per_page={_PER_PAGE}")
        specs = [_github_spec(item) for item in items if not item.get("archived")]
    else:
        group = urllib.parse.quote(name, safe="")
        items = client.pages(f"{base}/groups/{group}/projects?include_subgroups=true&archived=false"
                             f"&per_page={_PER_PAGE}&order_by=id&sort=asc")
        specs = [_gitlab_spec(item) for item in items if not item.get("archived")]
    return sorted({s.repository: s for s in specs}.values(), key=lambda s: s.repository)


def _github_spec(item: dict[str, Any]) -> RepoSpec:
    url = str(item["clone_url"])
    return RepoSpec(repository=redact(url), url=url, branch=item.get("default_branch") or None)


def _gitlab_spec(item: dict[str, Any]) -> RepoSpec:
    url = str(item["http_url_to_repo"])
    return RepoSpec(repository=redact(url), url=url, branch=item.get("default_branch") or None)


class _Client:
    """A tiny JSON-over-HTTPS client: token header, pagination, bounded rate-limit waits."""

    def __init__(self, base: str, forge: str, token: str | None, max_wait: float, max_retries: int,
                 sleep: Callable[[float], None]) -> None:
        self.origin = urllib.parse.urlsplit(base)[:2]
        self.forge = forge
        self.token = token
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.sleep = sleep

    def pages(self, url: str, fallback: str | None = None) -> Iterator[dict[str, Any]]:
        next_url: str | None = url
        first = True
        while next_url:
            try:
                body, headers = self.get(next_url)
            except _NotFound:
                if first and fallback:
                    next_url, fallback = fallback, None
                    continue
                raise TargetError(f"{_path(next_url)}: not found (check the name, the token and --api-url)") from None
            first = False
            if not isinstance(body, list):
                raise TargetError(f"{_path(next_url)}: unexpected API answer (not a list)")
            yield from (item for item in body if isinstance(item, dict))
            next_url = self._next(headers, next_url)

    def get(self, url: str) -> tuple[Any, Any]:
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(url, headers=self._headers())
            try:
                with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310 - https API
                    return json.loads(response.read().decode("utf-8")), response.headers
            except urllib.error.HTTPError as exc:
                wait = _rate_limit_wait(exc.code, exc.headers, time.time())
                if exc.code == 404:
                    raise _NotFound from None
                if wait is None:
                    raise TargetError(f"{_path(url)}: HTTP {exc.code} {exc.reason}") from None
                if wait > self.max_wait or attempt == self.max_retries:
                    raise TargetError(f"{_path(url)}: rate limited; retry in {int(wait)} s "
                                      f"(waited {attempt} time(s), at most {int(self.max_wait)} s each)") from None
                self.sleep(max(wait, 1.0))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise TargetError(f"{_path(url)}: {getattr(exc, 'reason', exc)}") from None
        raise AssertionError("unreachable")

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "devops-audit"}
        if self.token and self.forge == "github":
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.token:
            headers["PRIVATE-TOKEN"] = self.token
        return headers

    def _next(self, headers: Any, current: str) -> str | None:
        link = headers.get("Link") or ""
        match = re.search(r'<([^>]+)>\s*;\s*rel="next"', link)
        if match:
            target = urllib.parse.urljoin(current, match.group(1))
        elif headers.get("X-Next-Page"):
            parts = urllib.parse.urlsplit(current)
            query = dict(urllib.parse.parse_qsl(parts.query))
            query["page"] = headers["X-Next-Page"]
            target = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
        else:
            return None
        if urllib.parse.urlsplit(target)[:2] != self.origin:  # never send the token elsewhere
            raise TargetError(f"{_path(current)}: the API pointed the next page to another host; stopped")
        return target


class _NotFound(Exception):
    pass


def _rate_limit_wait(status: int, headers: Any, now: float) -> float | None:
    """Seconds to wait before retrying a rate-limited answer, or None when this is not a rate limit."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after)
    remaining = headers.get("X-RateLimit-Remaining") or headers.get("RateLimit-Remaining")
    reset = headers.get("X-RateLimit-Reset") or headers.get("RateLimit-Reset")
    if reset and reset.strip().isdigit() and (status == 429 or remaining == "0"):
        return max(0.0, float(reset) - now)
    return 60.0 if status == 429 else None


def _path(url: str) -> str:
    """The URL without its query (no page numbers or secrets in messages)."""
    return redact(url.split("?", 1)[0])
