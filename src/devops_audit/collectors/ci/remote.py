"""Remote definitions: reusable workflows, actions and GitLab includes read where they live (never executed).

Online (the default; `--offline` turns it off), a definition held by another repository is fetched at the
referenced ref through the forge's API (`--api-url` for GitHub Enterprise or a self-managed GitLab;
`GITHUB_TOKEN` / `GITLAB_TOKEN` are optional for public repositories), cached on disk keyed by the
reference (a full commit SHA is immutable: cached for good; a tag or branch for a day), bounded in size,
and analysed like local code: its steps become steps of the calling job, located at
`owner/repo/path@ref:line`, `via` the calling line.

What cannot be seen (offline, not found, no access) is listed in `ci.unresolved` with the reason and how
to make it visible; an indicator that would fail for want of a kind of job then answers `unknown`.

| reference | fetched | when it cannot be |
| --- | --- | --- |
| GitHub `jobs.<id>.uses: owner/repo/.github/workflows/x.yml@ref` | `GET /repos/{owner}/{repo}/contents/{path}?ref=` | unresolved |
| GitHub `uses: owner/repo[/path]@ref` (not first party, not recognised by name) | its `action.yml` (composite: `reuse` `composite-action`) | classified by name; `reuse` `shared-action` when the owner is the repository's or the path names a folder |
| GitLab `include: project` + `file` + `ref` | `GET /projects/{id}/repository/files/{file}?ref=` | unresolved |
| GitLab `include: component: host/group/project/name@version` | `templates/name.yml` or `templates/name/template.yml` | unresolved |
| GitLab `include: remote: https://...` | the URL (https, or http on localhost) | unresolved |
| GitLab `include: template` | `GET /templates/gitlab_ci_ymls/{name}` | unresolved unless a known scanner template |
| CircleCI orb commands and jobs (`alias/name`) not recognised by name, orb `ns/orb@version` | the orb's source (`POST /graphql-unstable`; `CIRCLECI_TOKEN` optional; `collectors.circleci_api`) | unresolved |
| Azure `template: path@repository` | not fetched yet (the repository's type is not in the facts) | unresolved |
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.common import kinds_from_name, mark_reuse
from devops_audit.collectors.ci.follow import add_kinds
from devops_audit.facts import Job, Location, Pipeline, Step
from devops_audit.yamlsafe import YamlError, line_of, load_documents

__all__ = ["Fetcher", "Unavailable", "Unresolved", "resolve"]

MAX_BYTES = 1024 * 1024
MAX_FETCHES = 50
MUTABLE_TTL = 24 * 3600
_SHA = re.compile(r"^[0-9a-f]{40}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_FIRST_PARTY = ("actions/", "github/")
_GITLAB_RESERVED = frozenset({"stages", "variables", "include", "default", "workflow", "image", "services",
                              "cache", "before_script", "after_script", "spec"})
_SCRIPT_KEYS = ("before_script", "script", "after_script")


class Unavailable(Exception):
    """A definition that could not be read; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Unresolved:
    """A reference whose content was not seen, why, and how to make it visible."""

    type: str
    ref: str
    reason: str
    hint: str
    location: Location
    pipeline: str


class _Source(NamedTuple):  # a NamedTuple: made at import ~10x faster than a frozen dataclass
    forge: str  # github | gitlab | url | gitlab-template
    repository: str
    path: str
    ref: str
    api: str

    @property
    def label(self) -> str:
        if self.forge == "url":
            return self.path
        if self.forge == "gitlab-template":
            return f"gitlab-template:{self.path}"
        return f"{self.repository}/{self.path}@{self.ref}" if self.ref else f"{self.repository}/{self.path}"


class Fetcher:
    """Fetches remote definitions through the forge API, with an on-disk cache; one per scan."""

    def __init__(self, offline: bool, api_url: str | None = None, cache_dir: str | Path | None = None,
                 env: dict[str, str] | None = None, circleci_api: str | None = None,
                 owner: Callable[[], str] = str) -> None:
        self.offline = offline
        self.owner = owner  # the scanned repository's owner, asked only when an unread action's owner matters
        self.api_url = (api_url or "").rstrip("/")
        self.circleci_api = (circleci_api or "https://circleci.com").rstrip("/")
        self.env = dict(os.environ if env is None else env)
        default_cache = self.env.get("DEVOPS_AUDIT_REMOTE_CACHE") or Path.home() / ".cache" / "devops-audit" / "remote"
        self.cache = Path(cache_dir) / "remote" if cache_dir else Path(default_cache)
        # DEVOPS_AUDIT_REMOTE_HOSTS=host,host: the only hosts that may be asked (e.g. an internal forge only)
        self.allowed = {h.strip().lower() for h in self.env.get("DEVOPS_AUDIT_REMOTE_HOSTS", "").split(",") if h.strip()}
        self.fetched = 0
        self._down = ""  # the forge could not be reached: do not try again in this scan

    def github_api(self) -> str:
        return self.api_url if self.api_url and "/api/v4" not in self.api_url else "https://api.github.com"

    def gitlab_api(self, host: str = "") -> str:
        if self.api_url and "/api/v4" in self.api_url:
            return self.api_url
        return f"https://{host or 'gitlab.com'}/api/v4"

    def text(self, source: _Source) -> str:
        if self.offline:
            raise Unavailable("not fetched: offline (--offline)")
        cached = self._cached(source)
        if cached is not None:
            return cached
        if self._down:
            raise Unavailable(self._down)
        host = urlsplit(source.path if source.forge == "url" else source.api).hostname or ""
        if self.allowed and host.lower() not in self.allowed:
            raise Unavailable(f"not fetched: {host} is not in DEVOPS_AUDIT_REMOTE_HOSTS")
        if self.fetched >= MAX_FETCHES:
            raise Unavailable(f"not fetched: over {MAX_FETCHES} remote definitions in one scan")
        self.fetched += 1
        from devops_audit.forge import ForgeError

        try:
            text = self._fetch(source)
        except ForgeError as exc:
            if exc.status is None:
                self._down = exc.reason
            raise Unavailable(exc.reason) from None
        self._store(source, text)
        return text

    # -- the forge -------------------------------------------------------------------------------
    def _fetch(self, source: _Source) -> str:
        from devops_audit.forge import ForgeClient, ForgeError, ForgeTarget, project_id

        if source.forge == "circleci":
            return self._orb_source(source)
        if source.forge == "url":
            parts = urlsplit(source.path)
            client = ForgeClient(ForgeTarget("gitlab", f"{parts.scheme}://{parts.netloc}", "", ""), max_wait=5,
                                 max_retries=1, timeout=10)
            return _bounded(client.get_raw(source.path), source)
        kind = "github" if source.forge == "github" else "gitlab"
        token = self.env.get("GITHUB_TOKEN" if kind == "github" else "GITLAB_TOKEN", "")
        client = ForgeClient(ForgeTarget(kind, source.api, source.repository, token), max_wait=5, max_retries=1,
                             timeout=10)
        if source.forge == "github":
            body = client.get(f"/repos/{source.repository}/contents/{quote(source.path)}"
                              + (f"?ref={quote(source.ref, safe='')}" if source.ref else ""))
        elif source.forge == "gitlab-template":
            body = client.get(f"/templates/gitlab_ci_ymls/{quote(source.path, safe='')}")
            if isinstance(body, dict) and isinstance(body.get("content"), str):
                return _bounded(body["content"].encode(), source)
        else:
            body = client.get(f"/projects/{project_id(source.repository)}/repository/files/"
                              f"{quote(source.path, safe='')}?ref={quote(source.ref or 'HEAD', safe='')}")
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            raise ForgeError(200, f"{source.label}: not a file")
        try:
            return _bounded(base64.b64decode(body["content"]), source)
        except ValueError:
            raise ForgeError(200, f"{source.label}: undecodable content") from None

    def _orb_source(self, source: _Source) -> str:
        """An orb version's source from CircleCI's public GraphQL API (a POST; `CIRCLECI_TOKEN` optional)."""
        import json
        import urllib.error
        import urllib.request

        from devops_audit.forge import ForgeError

        url = f"{source.api}/graphql-unstable"
        parts = urlsplit(url)
        if parts.scheme != "https" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise ForgeError(None, f"refusing plain http to {parts.hostname}")
        query = "query($ref: String!) { orbVersion(orbVersionRef: $ref) { source } }"
        body = json.dumps({"query": query, "variables": {"ref": f"{source.repository}@{source.ref}"}}).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "devops-audit"}
        if self.env.get("CIRCLECI_TOKEN"):
            headers["Circle-Token"] = self.env["CIRCLECI_TOKEN"]
        try:
            with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=10) as response:
                answer = json.loads(response.read(MAX_BYTES + 1))
        except urllib.error.HTTPError as exc:
            raise ForgeError(exc.code, f"POST {parts.path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ForgeError(None, f"cannot reach {parts.netloc}: {getattr(exc, 'reason', exc)}") from None
        version = (answer.get("data") or {}).get("orbVersion") if isinstance(answer, dict) else None
        if not isinstance(version, dict) or not isinstance(version.get("source"), str):
            raise ForgeError(200, f"orb {source.label} not found")
        return _bounded(version["source"].encode(), source)

    # -- the cache -------------------------------------------------------------------------------
    def _key(self, source: _Source) -> Path:
        digest = hashlib.sha256("\0".join((source.forge, source.api, source.repository, source.path,
                                           source.ref)).encode()).hexdigest()
        return self.cache / f"{digest}.yml"

    def _cached(self, source: _Source) -> str | None:
        path = self._key(source)
        try:
            age = time.time() - path.stat().st_mtime
            immutable = _SHA.match(source.ref) or (source.forge == "circleci" and _SEMVER.match(source.ref))
            if immutable or age < MUTABLE_TTL:  # a commit SHA, a published orb version never change
                return path.read_text(encoding="utf-8")
        except OSError:
            return None
        return None

    def _store(self, source: _Source, text: str) -> None:
        path = self._key(source)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(path)
        except OSError:
            pass  # a read-only cache only costs a fetch next time


def _bounded(data: bytes, source: _Source) -> str:
    from devops_audit.forge import ForgeError

    if len(data) > MAX_BYTES:
        raise ForgeError(200, f"{source.label}: over {MAX_BYTES // 1024} KiB; not read")
    return data.decode("utf-8", errors="replace")


# -- into the pipeline model -------------------------------------------------------------------
def resolve(pipeline: Pipeline, fetcher: Fetcher, classifier: Classifier) -> list[Unresolved]:
    """Read what the pipeline's remote references define; list what could not be seen."""
    if pipeline.kind != "pipeline":
        return []
    resolver = {"github": _github, "gitlab": _gitlab, "azure": _azure, "circleci": _circleci}.get(pipeline.system)
    return resolver(pipeline, fetcher, classifier) if resolver else []


def _github(pipeline: Pipeline, fetcher: Fetcher, classifier: Classifier) -> list[Unresolved]:
    unresolved = []
    for job in pipeline.jobs:
        if job.reusable and not job.reusable.startswith("./"):
            source = _github_source(job.reusable, fetcher)
            location = _ref_location(pipeline, job.reusable, job.location)
            try:
                steps = _workflow_steps(fetcher.text(source)) if source else None
            except Unavailable as exc:
                unresolved.append(_unresolved("reusable-workflow", job.reusable, exc.reason, location, pipeline))
                continue
            if steps is None:
                continue
            _attach(job, [], steps, source.label if source else "", location, classifier)
        for step in list(job.steps):
            if not _worth_fetching(step):
                continue
            try:
                label, found = _remote_action(step.uses, fetcher)
            except Unavailable:
                if shared_action(step.uses, fetcher.owner):  # an action is a step: its name says what it does
                    mark_reuse(pipeline, "shared-action")
                    step.kinds = kinds_from_name(step.uses)
                    add_kinds(job, [step])
                continue
            if found:  # only a composite action has steps
                mark_reuse(pipeline, "composite-action")
            _attach(job, job.steps[: job.steps.index(step) + 1], found, label, step.location, classifier)
    return unresolved


def shared_action(uses: str, owner: Callable[[], str]) -> bool:
    """An action not read that is a shared definition rather than a marketplace tool: one action of a
    collection (`owner/repo/path@ref`), or one of the repository's own owner (`prometheus/promci` in
    `prometheus/node_exporter`). The caller has excluded first-party actions and tools known by name."""
    parts = uses.partition("@")[0].split("/")
    return len(parts) >= 3 or (len(parts) == 2 and parts[0].lower() == owner() != "")


def _worth_fetching(step: Step) -> bool:
    uses = step.uses
    return (bool(uses) and not step.kinds and not step.via and "@" in uses and not uses.startswith(("./", "docker://"))
            and not uses.lower().startswith(_FIRST_PARTY))


def _github_source(uses: str, fetcher: Fetcher) -> _Source | None:
    name, _, ref = uses.partition("@")
    parts = name.split("/")
    if len(parts) < 3:
        return None
    return _Source("github", "/".join(parts[:2]), "/".join(parts[2:]), ref, fetcher.github_api())


def _remote_action(uses: str, fetcher: Fetcher) -> tuple[str, list[tuple[str, str, int]]] | None:
    name, _, ref = uses.partition("@")
    parts = name.split("/")
    folder = "/".join(parts[2:])
    last: Unavailable | None = None
    for file in ("action.yml", "action.yaml"):
        source = _Source("github", "/".join(parts[:2]), f"{folder}/{file}" if folder else file, ref, fetcher.github_api())
        try:
            return source.label, _action_steps(fetcher.text(source))
        except Unavailable as exc:
            last = exc
    raise last or Unavailable("not found")


def _gitlab(pipeline: Pipeline, fetcher: Fetcher, classifier: Classifier) -> list[Unresolved]:
    unresolved = []
    for ref in list(pipeline.refs):
        if ref.type != "include":
            continue
        source = _gitlab_source(ref.locator, ref.ref, ref.name, ref.version, fetcher)
        if source is None:
            continue
        if any(j.reusable == ref.ref and j.kinds for j in pipeline.jobs):
            continue  # a scanner template or component known by name: what it does is already said
        try:
            steps = _gitlab_steps(fetcher.text(source))
        except Unavailable as exc:
            unresolved.append(_unresolved("include", ref.ref, exc.reason, ref.location, pipeline))
            continue
        job = Job(id=f"remote:{ref.ref}", name=ref.ref, locator=ref.locator, location=ref.location, stage="test",
                  reusable=ref.ref)
        _attach(job, [], steps, source.label, ref.location, classifier)
        if job.steps:
            pipeline.jobs.append(job)
    return unresolved


def _gitlab_source(locator: str, ref: str, name: str, version: str, fetcher: Fetcher) -> _Source | None:
    if locator.startswith("include.project:"):
        file = ref.split(":", 1)[1].rsplit("@", 1)[0] if version else ref.split(":", 1)[1]
        return _Source("gitlab", name, file.lstrip("/"), version, fetcher.gitlab_api())
    if locator.startswith("include.remote:"):
        parts = urlsplit(ref)
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        return _Source("url", "", ref, "", "") if parts.scheme == "https" or local else None
    if locator.startswith("include.template:"):
        return _Source("gitlab-template", "", ref.removesuffix(".gitlab-ci.yml").removesuffix(".yml"), "",
                       fetcher.gitlab_api())
    if locator.startswith("include.component:") and "$" not in name:
        host, _, path = name.partition("/")
        project, _, component = path.rpartition("/")
        return _Source("gitlab", project, f"templates/{component}.yml", version, fetcher.gitlab_api(host))
    return None


def _azure(pipeline: Pipeline, fetcher: Fetcher, classifier: Classifier) -> list[Unresolved]:
    return [_unresolved("template", r.ref, "templates of other repositories are not fetched yet", r.location,
                        pipeline, hint="check the repository out next to this one and scan it, or inline the template")
            for r in pipeline.refs if r.type == "template" and not r.local]


def _circleci(pipeline: Pipeline, fetcher: Fetcher, classifier: Classifier) -> list[Unresolved]:
    """Orb commands (`node/test`) and orb jobs (`aws-ecr/build-and-push-image`) read from the orb's source."""
    orbs = {r.locator.split(".", 1)[1]: r for r in pipeline.refs if r.type == "orb" and r.locator.startswith("orbs.")}
    unresolved = []
    for job in pipeline.jobs:
        # an orb job is one step too (`uses` = `alias/job`); one fetch per orb version, cached
        for step in [s for s in job.steps if "/" in s.uses and not s.via]:
            uses = step.uses
            alias, _, name = uses.partition("/")
            orb = orbs.get(alias)
            reason = "" if orb is not None and orb.version else "an orb without a version is not fetched"
            found: list[tuple[str, str, int]] = []
            if not reason:
                try:
                    found = _orb_steps(fetcher.text(_Source("circleci", orb.name, "", orb.version,
                                                            fetcher.circleci_api)), name)
                except Unavailable as exc:
                    reason = exc.reason
            if reason:
                if not step.kinds:  # what the name says (`python/test`) still counts when the source is unseen
                    unresolved.append(_unresolved("orb", uses, reason, step.location, pipeline,
                                                  hint="scan without --offline, or add a `classification:` row for "
                                                       "it in .devops-audit.yml" if "offline" in reason else ""))
                continue
            location = step.location
            _attach(job, job.steps[: job.steps.index(step) + 1], found, f"{orb.ref}:{name}", location, classifier)
    return unresolved


# -- reading definitions as data ---------------------------------------------------------------
def _load(text: str) -> Any:
    try:
        documents = load_documents(text)
    except YamlError as exc:
        raise Unavailable(f"not YAML: {exc.reason}") from None
    return documents[-1] if documents else None


def _workflow_steps(text: str) -> list[tuple[str, str, int]]:
    workflow = _load(text)
    jobs = workflow.get("jobs") if isinstance(workflow, dict) else None
    steps: list[tuple[str, str, int]] = []
    for body in jobs.values() if isinstance(jobs, dict) else ():
        raw_steps = body.get("steps") if isinstance(body, dict) else None
        for index, raw in enumerate(raw_steps if isinstance(raw_steps, list) else ()):
            if isinstance(raw, dict):
                steps.append((str(raw.get("run") or ""), str(raw.get("uses") or ""), line_of(raw_steps, index)))
    return steps


def _action_steps(text: str) -> list[tuple[str, str, int]]:
    action = _load(text)
    runs = action.get("runs") if isinstance(action, dict) else None
    raw_steps = runs.get("steps") if isinstance(runs, dict) else None
    return [(str(raw.get("run") or ""), str(raw.get("uses") or ""), line_of(raw_steps, index))
            for index, raw in enumerate(raw_steps if isinstance(raw_steps, list) else ()) if isinstance(raw, dict)]


def _gitlab_steps(text: str) -> list[tuple[str, str, int]]:
    config = _load(text)
    steps: list[tuple[str, str, int]] = []
    for name, body in config.items() if isinstance(config, dict) else ():
        if str(name).startswith(".") or name in _GITLAB_RESERVED or not isinstance(body, dict):
            continue
        for key in _SCRIPT_KEYS:
            lines = body.get(key)
            for index, line in enumerate(lines if isinstance(lines, list) else [lines] if lines else []):
                if isinstance(line, str):
                    steps.append((line, "", line_of(lines, index, line_of(body, key))))
    return steps


def _orb_steps(text: str, name: str) -> list[tuple[str, str, int]]:
    """The steps of an orb's command or job `name`, with the orb's own commands it calls read in place."""
    orb = _load(text)
    commands = orb.get("commands") if isinstance(orb, dict) else None
    jobs = orb.get("jobs") if isinstance(orb, dict) else None
    commands = commands if isinstance(commands, dict) else {}
    body = commands.get(name) if name in commands else jobs.get(name) if isinstance(jobs, dict) else None
    return _circleci_steps(body, commands, 0)


def _circleci_steps(body: Any, commands: dict[str, Any], depth: int) -> list[tuple[str, str, int]]:
    raw_steps = body.get("steps") if isinstance(body, dict) else None
    steps: list[tuple[str, str, int]] = []
    for index, raw in enumerate(raw_steps if isinstance(raw_steps, list) else ()):
        line = line_of(raw_steps, index)
        key = next(iter(raw), None) if isinstance(raw, dict) else raw
        value = raw.get(key) if isinstance(raw, dict) else None
        if key == "run":
            command = value.get("command") if isinstance(value, dict) else value
            steps.append((str(command or ""), "", line))
        elif isinstance(key, str) and key in commands and depth < 3:
            steps.extend(_circleci_steps(commands[key], commands, depth + 1))
        elif isinstance(key, str):
            steps.append(("", key, line))
    return steps


def _attach(job: Job, before: list[Step], found: list[tuple[str, str, int]], label: str, caller: Location,
            classifier: Classifier) -> None:
    """Add the remote steps to the job (after `before`, else at the end), with their kinds and the chain."""
    via = [f"{caller.path}:{caller.line}"]
    steps = []
    for index, (run, uses, line) in enumerate(found):
        kinds, tools = classifier.classify(run=run, uses=uses)
        steps.append(Step(name=(run or uses).strip()[:200], locator=f"{job.locator}>{label}[{index}]",
                          location=Location(label, line), run=run, uses=uses, kinds=kinds, tools=tools, via=via))
    if before:
        position = len(before)
        job.steps[position:position] = steps
    else:
        job.steps.extend(steps)
    add_kinds(job, steps)


def _ref_location(pipeline: Pipeline, uses: str, default: Location) -> Location:
    return next((r.location for r in pipeline.refs if r.ref == uses), default)


def _unresolved(type_: str, ref: str, reason: str, location: Location, pipeline: Pipeline, hint: str = "") -> Unresolved:
    if not hint:
        hint = ("scan without --offline" if "offline" in reason else
                "check the reference; for a private or self-hosted repository set GITHUB_TOKEN / GITLAB_TOKEN "
                "(and --api-url)")
    return Unresolved(type_, ref, reason, hint, location, pipeline.path)
