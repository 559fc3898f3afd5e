"""GitLab CI: the root `.gitlab-ci.yml` (GitLab's default), with what it includes, into the pipeline model.

Understood:
- a leading `spec: inputs:` document (the pipeline is then the second YAML document);
- `include:` of `local` files (globs too; read, merged and followed recursively, each file listed in
  `pipeline.files` and the inventory; a missing one is an inventory error naming the including file and line),
  and `project` / `remote` / `template` / `component` includes, recorded as `ExternalRef(type="include")`;
- YAML anchors and merge keys, `!reference [.job, key, ...]`, `extends` (one or a list, deep-merged the way
  GitLab does: mappings merge, everything else is replaced), `default:` and the legacy top-level defaults,
  hidden jobs (`.name`, templates only);
- `stages` (with `.pre` / `.post`), `needs` (strings or `{job:}`), `rules` / `only` / `except` and
  `workflow:rules` (turned into triggers), `when: manual`, `allow_failure`, `environment`, `timeout`,
  `image` / `services` (variables from `variables:` expanded), `script` / `before_script` / `after_script`.

Facts: one `Step` per script entry (nested lists and `!reference`s flattened, each entry keeping the file
and line it was written at), locators `<job>.before_script[i]`, `<job>.script[i]`, `<job>.after_script[i]`.
`job.needs` is what `needs:` says; `job.upstream` is every job that must succeed first: the `needs` when the
job has `needs:`, else every job of the earlier stages, transitively. Pipeline triggers come from
`workflow:rules` when present, else `push` (GitLab's default branch and tag pipelines) plus whatever sources
the jobs' rules name; `job.triggers` lists the sources a job's own rules admit (empty: all of the pipeline's).
A job with `when: manual` (outside rules) is `manual` and, as in GitLab, allowed to fail unless it sets
`allow_failure: false`. A job whose rules all end in `when: manual` is `manual` too. Template and component
includes that GitLab ships as security scanners (e.g. `Security/SAST.gitlab-ci.yml`) become one job each,
classified by the include name, since the jobs they add are not in this repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.github_actions import parse_image, transitive_upstream
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.facts import ExternalRef, InventoryEntry, Job, Location, Pipeline, Step, Trigger
from devops_audit.workspace import Workspace
from devops_audit.yamlsafe import YamlMap, YamlTag, line_of

__all__ = ["SYSTEM", "KIND", "discover", "parse", "parse_duration", "version_pinning", "rule_sources"]

SYSTEM = "gitlab"
EDITS_YAML = True  # `!reference` is resolved in place: the files are read for this parser alone
KIND = "gitlab-ci"
ROOT_FILE = ".gitlab-ci.yml"
MAX_INCLUDES = 150  # GitLab's own limit
MAX_DEPTH = 10  # extends / !reference nesting GitLab accepts
MAX_EXPANDED_NODES = 200_000  # values visited while expanding one pipeline (all its files): a reference bomb stops
RESERVED = frozenset({"image", "services", "stages", "types", "before_script", "after_script", "variables",
                      "cache", "include", "workflow", "default", "spec"})
DEFAULT_KEYS = ("image", "services", "before_script", "after_script", "timeout", "interruptible", "retry",
                "tags", "cache", "artifacts", "hooks", "id_tokens")
LEGACY_DEFAULT_KEYS = ("image", "services", "before_script", "after_script", "cache")
DEFAULT_STAGES = ["build", "test", "deploy"]
SCRIPT_KEYS = ("before_script", "script", "after_script")

_SHA = re.compile(r"^[0-9a-f]{40}$")
_FULL_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][\w.]+)?$")
_PARTIAL_VERSION = re.compile(r"^v?\d+(\.\d+)?$")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|days?|h|hrs?|hours?|m|mins?|minutes?|s|secs?|seconds?)?\b", re.I)
_UNIT_MINUTES = {"d": 1440, "h": 60, "m": 1, "s": 1 / 60}
_SOURCE_KINDS = {
    "push": "push", "merge_request_event": "pull_request", "external_pull_request_event": "pull_request",
    "schedule": "schedule", "web": "manual", "api": "manual", "chat": "manual", "trigger": "other",
    "pipeline": "other", "parent_pipeline": "other", "webide": "manual",
}
_ONLY_KINDS = {
    "branches": "push", "pushes": "push", "tags": "tag", "merge_requests": "pull_request",
    "external_pull_requests": "pull_request", "schedules": "schedule", "web": "manual", "api": "manual",
    "triggers": "other", "pipelines": "other", "chat": "manual",
}


def discover(workspace: Workspace) -> list[str]:
    return [ROOT_FILE] if ROOT_FILE in workspace.file_set else []


def parse(workspace: Workspace, path: str, classifier: Classifier) -> Parsed:
    loader = _Loader(workspace, classifier)
    config = loader.load_root(path)
    pipeline = Pipeline(system=SYSTEM, path=path, name=path, location=Location(path, 1), files=loader.files,
                        refs=loader.refs)
    if loader.included:
        pipeline.reuse.append("include")
    _Resolver(config, loader).resolve_references()
    _build(loader, config, pipeline, path)
    return Parsed(pipelines=[pipeline], inventory=loader.inventory)


# -- loading: the root file and its includes, merged ----------------------------------------------
@dataclass
class _Loader:
    """Reads the root file and its local includes; remembers which file every mapping and list came from."""

    workspace: Workspace
    classifier: Classifier
    files: list[str] = field(default_factory=list)
    inventory: list[InventoryEntry] = field(default_factory=list)
    refs: list[ExternalRef] = field(default_factory=list)
    template_jobs: list[Job] = field(default_factory=list)
    included: bool = False
    origin: dict[int, str] = field(default_factory=dict)  # id(container) -> file
    key_origin: dict[int, dict[Any, str]] = field(default_factory=dict)  # id(merged map) -> key -> file
    keep: list[Any] = field(default_factory=list)  # every container in `origin` stays alive: its id stays unique
    expanded: int = 0  # nodes visited expanding references, extends and scripts, across every file

    def spend(self, nodes: int = 1) -> None:
        """Count expansion work against MAX_EXPANDED_NODES; over it, the whole pipeline is refused."""
        self.expanded += nodes
        if self.expanded > MAX_EXPANDED_NODES:
            raise EvidenceError(self.files[0] if self.files else ROOT_FILE,
                                f"the pipeline expands to more than {MAX_EXPANDED_NODES:,} values (!reference, "
                                "extends, include); refused (expansion budget)")

    def load_root(self, path: str) -> YamlMap:
        config = self._document(path)
        if config is None:
            raise EvidenceError(path, "empty or not a mapping: no pipeline to read", 1)
        self.inventory.insert(0, InventoryEntry(path, KIND, "parsed"))
        self.files.append(path)
        return self._with_includes(config, path, depth=0)

    def _document(self, path: str) -> YamlMap | None:
        documents = self.workspace.load_yaml(path)
        if len(documents) > 1 and isinstance(documents[0], dict) and "spec" in documents[0]:
            documents = documents[1:]  # `spec: inputs:` header, then `---`, then the configuration
        config = documents[0] if documents else None
        if not isinstance(config, YamlMap):
            return None
        self._mark(config, path)
        return config

    def _mark(self, value: Any, path: str) -> None:
        """Record the file of every container in a freshly loaded document."""
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, YamlTag):
                stack.append(item.value)
            elif isinstance(item, (dict, list)) and id(item) not in self.origin:
                self.origin[id(item)] = path
                self.keep.append(item)  # alive while its id is a key (a freed one's id would name a later file)
                stack.extend(item.values() if isinstance(item, dict) else item)

    def where(self, container: Any, key: Any = None) -> Location:
        """The file and line of `container[key]` (or of the container)."""
        path = self.key_origin.get(id(container), {}).get(key) if key is not None else None
        path = path or self.origin.get(id(container), ROOT_FILE)
        return Location(path, line_of(container, key) if key is not None else line_of(container))

    def merge(self, base: Any, override: Any) -> Any:
        """GitLab's deep merge: mappings merge key by key, anything else is replaced by the override."""
        if not (isinstance(base, dict) and isinstance(override, dict)):
            return override
        merged = YamlMap(line_of(override))
        origins: dict[Any, str] = {}
        self.spend(len(base) + len(override))
        for source in (base, override):
            for key, value in source.items():
                merged[key] = self.merge(merged[key], value) if key in merged and source is override else value
                merged.lines[key] = line_of(source, key)
                origins[key] = self.where(source, key).path
        self.origin[id(merged)] = self.origin.get(id(override), ROOT_FILE)
        self.key_origin[id(merged)] = origins
        self.keep.append(merged)
        return merged

    # includes ---------------------------------------------------------------------------------
    def _with_includes(self, config: YamlMap, path: str, depth: int) -> YamlMap:
        includes = config.get("include")
        if includes is None:
            return config
        self.included = True
        merged: Any = YamlMap(1)
        self.origin[id(merged)] = path
        self.keep.append(merged)
        for entry, line in _include_entries(includes, line_of(config, "include")):
            for included in self._include(entry, path, line, depth):
                merged = self.merge(merged, included)
        own = YamlMap(config.line)
        own.update((k, v) for k, v in config.items() if k != "include")
        own.lines.update(config.lines)
        self.origin[id(own)] = path
        self.keep.append(own)
        return self.merge(merged, own)

    def _include(self, entry: Any, path: str, line: int, depth: int) -> list[YamlMap]:
        location = Location(path, line)
        if isinstance(entry, str):
            entry = {"remote": entry} if "://" in entry else {"local": entry}
        if not isinstance(entry, dict):
            return []
        if "local" in entry:
            return self._local(str(entry["local"]), location, depth)
        if "project" in entry:
            for file in _strings(entry.get("file")) or [""]:
                self._remote_ref(f"{entry['project']}:{file}", str(entry["project"]), file,
                                 str(entry.get("ref") or ""), location)
        elif "remote" in entry:
            self._remote_url(str(entry["remote"]), entry.get("integrity"), location)
        elif "template" in entry:
            template = str(entry["template"])
            self.refs.append(ExternalRef("include", template, template, "", "none", False, True, False, location,
                                         f"include.template:{template}"))
            self._template_job(template, template, location)
        elif "component" in entry:
            self._component(str(entry["component"]), location)
        return []

    def _local(self, pattern: str, location: Location, depth: int) -> list[YamlMap]:
        pattern = pattern.lstrip("/")
        if "$" in pattern:
            self.inventory.append(InventoryEntry(location.path, KIND, "skipped",
                                                 f"local include {pattern!r} uses a variable; not followed",
                                                 location.line))
            return []
        if any(ch in pattern for ch in "*?["):
            targets = self.workspace.index.find((pattern,))  # `fnmatch` semantics: `*` also crosses `/`
        else:
            targets = [pattern] if self.workspace.exists(pattern) else []
        if not targets:
            self.inventory.append(InventoryEntry(location.path, KIND, "error",
                                                 f"local include {pattern!r} not found", location.line))
            return []
        loaded = []
        for target in targets:
            if target in self.files:
                continue  # GitLab reads a file once, however often it is included
            if len(self.files) > MAX_INCLUDES or depth >= 100:
                self.inventory.append(InventoryEntry(location.path, KIND, "error",
                                                     f"too many includes (over {MAX_INCLUDES})", location.line))
                break
            self.files.append(target)
            try:
                config = self._document(target)
            except EvidenceError as exc:
                self.inventory.append(InventoryEntry(exc.path, KIND, "error", exc.reason, exc.line))
                continue
            self.inventory.append(InventoryEntry(target, KIND, "parsed"))
            if config is not None:
                loaded.append(self._with_includes(config, target, depth + 1))
        return loaded

    def _remote_ref(self, ref: str, name: str, file: str, version: str, location: Location) -> None:
        pinned_by = version_pinning(version)
        self.refs.append(ExternalRef("include", ref + (f"@{version}" if version else ""), name, version, pinned_by,
                                     pinned_by in ("sha", "version"), False, False, location,
                                     f"include.project:{name}"))
        self._template_job(file, ref, location)

    def _remote_url(self, url: str, integrity: Any, location: Location) -> None:
        if isinstance(integrity, str) and integrity:
            pinned_by = "digest"
        else:
            pinned_by = "sha" if any(_SHA.match(part) for part in url.split("/")) else "none"
        self.refs.append(ExternalRef("include", url, url, "", pinned_by, pinned_by != "none", False, False,
                                     location, f"include.remote:{url}"))
        self._template_job(url.rsplit("/", 1)[-1], url, location)

    def _component(self, component: str, location: Location) -> None:
        name, _, version = component.partition("@")
        pinned_by = "none" if version in ("", "~latest") else version_pinning(version)
        self.refs.append(ExternalRef("include", component, name, version, pinned_by, pinned_by in ("sha", "version"),
                                     False, False, location, f"include.component:{name}"))
        host, _, rest = name.partition("/")
        self._template_job(rest if "." in host or host.startswith("$") else name, component, location)

    def _template_job(self, uses: str, ref: str, location: Location) -> None:
        """A template or component that is a known scanner adds jobs we cannot read: record one for it."""
        kinds, tools = self.classifier.classify(uses=uses.lstrip("/")) if uses else ([], [])
        if not kinds:
            return
        job_id = f"include:{ref}"
        step = Step(name=ref, locator=f"{job_id}.include", location=location, uses=uses, kinds=kinds, tools=tools)
        self.template_jobs.append(Job(id=job_id, name=ref, locator=job_id, location=location, steps=[step],
                                      kinds=kinds, tools=tools, stage="test", reusable=ref))


def _include_entries(includes: Any, line: int) -> Iterator[tuple[Any, int]]:
    if not isinstance(includes, list):
        yield includes, line_of(includes, default=line)
        return
    for index, entry in enumerate(includes):
        yield entry, line_of(includes, index, line)


def version_pinning(version: str) -> str:
    """How a git reference pins: `sha` (40 hex), `version` (full x.y.z), `tag` (v1, 1.2), `branch`, `none`."""
    if not version:
        return "none"
    if _SHA.match(version):
        return "sha"
    if _FULL_VERSION.match(version):
        return "version"
    if _PARTIAL_VERSION.match(version):
        return "tag"
    return "branch"


# -- !reference ---------------------------------------------------------------------------------
class _Resolver:
    """Replaces every `!reference [.job, key, ...]` by the value it names (in place, keeping line data)."""

    def __init__(self, config: YamlMap, loader: _Loader) -> None:
        self.config = config
        self.loader = loader

    def resolve_references(self) -> None:
        self._walk(self.config, 0)

    def _walk(self, container: Any, depth: int) -> None:
        if depth > MAX_DEPTH * 20:
            return
        self.loader.spend(len(container))
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in list(keys):
            value = container[key]
            if isinstance(value, YamlTag) and value.tag == "!reference":
                container[key] = self._target(value, 0)
                value = container[key]
            if isinstance(value, (dict, list)):
                self._walk(value, depth + 1)

    def _target(self, tag: YamlTag, depth: int) -> Any:
        if depth > MAX_DEPTH or not isinstance(tag.value, list) or not tag.value:
            return None
        value: Any = self.config
        for part in tag.value:
            value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, YamlTag) and value.tag == "!reference":
                value = self._target(value, depth + 1)
        return value


# -- jobs ---------------------------------------------------------------------------------------
def _build(loader: _Loader, config: YamlMap, pipeline: Pipeline, path: str) -> None:
    extended = _Extender(loader, config)
    defaults = _defaults(config)
    global_vars = _variables(config.get("variables"))
    stages = _stages(config.get("stages", config.get("types")))
    explicit_needs: set[str] = set()
    for name, body in config.items():
        if not isinstance(name, str) or name in RESERVED or name.startswith(".") or not isinstance(body, dict):
            continue
        resolved = _with_defaults(loader, extended.resolve(name), defaults)
        if "needs" in resolved:
            explicit_needs.add(name)
        pipeline.jobs.append(_JobBuilder(loader, pipeline, name, body, resolved, global_vars,
                                         loader.where(config, name)).build())
    if extended.used and "extends" not in pipeline.reuse:
        pipeline.reuse.append("extends")
    pipeline.jobs.extend(loader.template_jobs)
    _upstream(pipeline.jobs, stages, explicit_needs)
    pipeline.triggers = _pipeline_triggers(loader, config, pipeline, path)


class _Extender:
    """Resolves `extends` chains (GitLab: up to 11 levels, parents merged in order, the job last)."""

    def __init__(self, loader: _Loader, config: YamlMap) -> None:
        self.loader = loader
        self.config = config
        self.cache: dict[str, Any] = {}
        self.used = False

    def resolve(self, name: str, depth: int = 0, seen: frozenset[str] = frozenset()) -> Any:
        if name in self.cache:
            return self.cache[name]
        body = self.config.get(name)
        if not isinstance(body, dict):
            return YamlMap(1)
        parents = _strings(body.get("extends"))
        result: Any = body
        if parents and depth <= MAX_DEPTH:
            self.used = True
            merged: Any = YamlMap(line_of(body))
            for parent in parents:
                if parent in seen or parent == name:
                    continue
                merged = self.loader.merge(merged, self.resolve(parent, depth + 1, seen | {name}))
            result = self.loader.merge(merged, body)
        self.cache[name] = result
        return result


def _defaults(config: YamlMap) -> dict[str, tuple[Any, Any]]:
    """Default keyword -> (value, container) from `default:` and the legacy top-level keys."""
    found: dict[str, tuple[Any, Any]] = {k: (config[k], config) for k in LEGACY_DEFAULT_KEYS if k in config}
    default = config.get("default")
    if isinstance(default, dict):
        found.update((k, (default[k], default)) for k in DEFAULT_KEYS if k in default)
    return found


def _with_defaults(loader: _Loader, job: Any, defaults: dict[str, tuple[Any, Any]]) -> Any:
    inherit = job.get("inherit") if isinstance(job, dict) else None
    wanted = inherit.get("default", True) if isinstance(inherit, dict) else True
    if wanted is False or not defaults:
        return job
    keys = [k for k in defaults if (wanted is True or k in _strings(wanted)) and k not in job]
    if not keys:
        return job
    merged = YamlMap(line_of(job))
    merged.update(job)
    merged.lines.update(getattr(job, "lines", {}))
    origins = {k: loader.where(job, k).path for k in job}
    for key in keys:
        value, container = defaults[key]
        merged[key] = value
        merged.lines[key] = line_of(container, key)
        origins[key] = loader.where(container, key).path
    loader.origin[id(merged)] = loader.origin.get(id(job), ROOT_FILE)
    loader.key_origin[id(merged)] = origins
    loader.keep.append(merged)
    return merged


class _JobBuilder:
    """One job of the merged configuration, as a `Job`."""

    def __init__(self, loader: _Loader, pipeline: Pipeline, name: str, raw: Any, body: Any,
                 global_vars: dict[str, str], location: Location) -> None:
        self.loader = loader
        self.location = location
        self.pipeline = pipeline
        self.name = name
        self.raw = raw
        self.body = body
        self.variables = {**global_vars, **_variables(body.get("variables"))}

    def build(self) -> Job:
        body = self.body
        job = Job(id=self.name, name=self.name, locator=self.name, location=self.location,
                  stage=str(body.get("stage") or "test"),
                  needs=_needs(body.get("needs")),
                  timeout_minutes=parse_duration(body.get("timeout")),
                  reusable=", ".join(_strings(self.raw.get("extends"))),
                  runs_on=_strings(body.get("tags")))
        job.environment = _environment(body.get("environment"))
        self._when(job)
        kinds: set[str] = set()
        tools: set[str] = set()
        self._images(job, kinds, tools)
        for key in SCRIPT_KEYS:
            for text, step_location, index in _script_entries(self.loader, body, key):
                kinds_, tools_ = self.loader.classifier.classify(run=text)
                first = (text.strip().splitlines() or [""])[0]
                job.steps.append(Step(name=first[:200], locator=f"{self.name}.{key}[{index}]",
                                      location=step_location, run=text, kinds=kinds_, tools=tools_))
                kinds.update(kinds_)
                tools.update(tools_)
        if _deploys_environment(body.get("environment")) or self.name == "pages" or body.get("pages"):
            if not kinds & {"deploy", "publish"}:
                kinds.add("deploy")
        job.kinds, job.tools = sorted(kinds), sorted(tools)
        return job

    def _when(self, job: Job) -> None:
        body = self.body
        allow = body.get("allow_failure")
        job.manual = body.get("when") == "manual"
        job.continue_on_error = allow is True or isinstance(allow, dict) or (job.manual and allow is None)
        rules = [r for r in _flat(body.get("rules")) if isinstance(r, dict)]
        if "rules" in body:
            live = [r for r in rules if r.get("when") != "never"]
            job.manual = job.manual or (bool(live) and all(r.get("when") == "manual" for r in live))
            job.condition = " || ".join(f"({r['if']})" for r in live if isinstance(r.get("if"), str))
            kinds = rule_sources(live)
            job.triggers = sorted(kinds) if kinds is not None else []
        elif "only" in body or "except" in body:
            job.triggers = _only_kinds(body.get("only"), body.get("except"))

    def _images(self, job: Job, kinds: set[str], tools: set[str]) -> None:
        image = self._image(self.body.get("image"))
        if image:
            job.image = image
            kinds_, tools_ = self.loader.classifier.classify(image=image)
            kinds.update(kinds_)
            tools.update(tools_)
            self._add_ref(image, self.loader.where(self.body, "image"), f"{self.name}.image")
        services = self.body.get("services")
        entries = _flat_with_place(services) if isinstance(services, list) else ()
        for index, (entry, container, position) in enumerate(entries):
            service = self._image(entry)
            if service:
                location = self.loader.where(entry if isinstance(entry, dict) else container,
                                             None if isinstance(entry, dict) else position)
                self._add_ref(service, location, f"{self.name}.services[{index}]")

    def _image(self, value: Any) -> str:
        """An `image:` / service entry (string or `{name:}`) with the configuration's variables expanded."""
        image = value.get("name") if isinstance(value, dict) else value
        return _expand(image, self.variables) if isinstance(image, str) else ""

    def _add_ref(self, image: str, location: Location, locator: str) -> None:
        for ref in self.pipeline.refs:
            if ref.ref == image and ref.location == location:
                return
        ref = parse_image(image, location, locator)
        ref.first_party = image.startswith(("$CI_REGISTRY", "${CI_REGISTRY"))
        self.pipeline.refs.append(ref)


def _script_entries(loader: _Loader, body: Any, key: str) -> Iterator[tuple[str, Location, int]]:
    value = body.get(key)
    if value is None:
        return
    if isinstance(value, (str, int, float)):
        yield str(value), loader.where(body, key), 0
        return
    for index, (item, container, position) in enumerate(_flat_with_place(value)):
        loader.spend()
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            yield str(item), loader.where(container, position), index


def _flat_with_place(value: Any, depth: int = 0) -> Iterator[tuple[Any, Any, int]]:
    """Items of a (possibly nested) list with the list they sit in and their position there."""
    if not isinstance(value, list) or depth > MAX_DEPTH:
        return
    for position, item in enumerate(value):
        if isinstance(item, list):
            yield from _flat_with_place(item, depth + 1)
        elif item is not None:
            yield item, value, position


def _flat(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item, _, _ in _flat_with_place(value):
            yield item
    elif value is not None:
        yield value


def _needs(value: Any) -> list[str]:
    needs = []
    for entry in _flat(value):
        if isinstance(entry, str):
            needs.append(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("job"), str) and not (
                "pipeline" in entry or "project" in entry):
            needs.append(entry["job"])
    return needs


def _environment(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("name")
    return str(value) if isinstance(value, (str, int)) and value != "" else ""


def _deploys_environment(value: Any) -> bool:
    if not _environment(value):
        return False
    action = value.get("action", "start") if isinstance(value, dict) else "start"
    return action == "start"


def _variables(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    found = {}
    for name, entry in value.items():
        if isinstance(entry, dict):
            entry = entry.get("value")
        if isinstance(entry, (str, int, float)) and not isinstance(entry, bool):
            found[str(name)] = str(entry)
    return found


def _expand(text: str, variables: dict[str, str]) -> str:
    """`$VAR` / `${VAR}` from the configuration's variables (a few rounds); unknown ones stay as written."""
    for _ in range(3):
        expanded = _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text)
        if expanded == text:
            break
        text = expanded
    return text


def parse_duration(value: Any) -> float | None:
    """GitLab's human durations (`1h 30m`, `3 hours`, `90 minutes`; a bare number is seconds) in minutes."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return round(value / 60, 2)
    total = 0.0
    matched = False
    for number, unit in _DURATION.findall(str(value)):
        matched = True
        total += float(number) * _UNIT_MINUTES[(unit or "s")[0].lower()]
    return round(total, 2) if matched else None


# -- order and triggers -------------------------------------------------------------------------
def _stages(value: Any) -> list[str]:
    names = [str(s) for s in _flat(value)] if value is not None else list(DEFAULT_STAGES)
    return [".pre", *[s for s in names if s not in (".pre", ".post")], ".post"]


def _upstream(jobs: list[Job], stages: list[str], explicit_needs: set[str]) -> None:
    """Direct predecessors (needs, else every job of an earlier stage), then `transitive_upstream`."""
    order = {stage: index for index, stage in enumerate(stages)}
    declared = {job.id: job.needs for job in jobs}
    for job in jobs:
        if job.id not in explicit_needs:
            rank = order.get(job.stage, len(stages))
            job.needs = [other.id for other in jobs if order.get(other.stage, len(stages)) < rank]
    transitive_upstream(jobs)
    for job in jobs:
        job.needs = declared[job.id]


def rule_sources(rules: list[Any]) -> set[str] | None:
    """Trigger kinds a list of live rules admits; None when some rule admits every source."""
    kinds: set[str] = set()
    for rule in rules:
        condition = rule.get("if") if isinstance(rule, dict) else None
        found = _condition_kinds(condition) if isinstance(condition, str) else set()
        if not found:
            return None
        kinds |= found
    return kinds


def _condition_kinds(condition: str) -> set[str]:
    """Sources an `if:` expression names positively (`$CI_PIPELINE_SOURCE == "x"`, `$CI_COMMIT_TAG`, ...)."""
    kinds: set[str] = set()
    for match in re.finditer(r"\$CI_PIPELINE_SOURCE\s*(==|=~)\s*(\"[^\"]*\"|'[^']*'|/[^/]*/)", condition):
        for word in re.findall(r"\w+", match.group(2)):
            if word in _SOURCE_KINDS:
                kinds.add(_SOURCE_KINDS[word])
    positive = re.compile(r"(?<!!)\$\{?(%s)\}?(?!\w)(?!\s*(==|!=)\s*(null|\"\"|''))")
    if re.search(positive.pattern % r"CI_MERGE_REQUEST_\w+|CI_EXTERNAL_PULL_REQUEST_\w+", condition):
        kinds.add("pull_request")
    if re.search(positive.pattern % "CI_COMMIT_TAG", condition):
        kinds.add("tag")
    if re.search(positive.pattern % "CI_COMMIT_BRANCH|CI_COMMIT_REF_NAME|CI_COMMIT_REF_SLUG", condition):
        kinds.add("push")
    return kinds


def _only_kinds(only: Any, except_: Any) -> list[str]:
    refs = only.get("refs") if isinstance(only, dict) else only
    if only is None or (isinstance(only, dict) and refs is None):
        kinds = {"push", "tag"}  # GitLab's default: branches and tags
    else:
        kinds = {_ONLY_KINDS.get(str(ref), "push") for ref in _flat(refs)}
    excluded = except_.get("refs") if isinstance(except_, dict) else except_
    kinds -= {_ONLY_KINDS[str(ref)] for ref in _flat(excluded) if str(ref) in _ONLY_KINDS}
    return sorted(kinds)


def _pipeline_triggers(loader: _Loader, config: YamlMap, pipeline: Pipeline, path: str) -> list[Trigger]:
    workflow = config.get("workflow")
    rules = workflow.get("rules") if isinstance(workflow, dict) else None
    if rules is not None:
        return _workflow_triggers(loader, workflow, rules)
    triggers = [Trigger("push", "push (default)", Location(path, 1))]
    seen = {"push"}
    for job in pipeline.jobs:
        for kind in job.triggers:
            if kind not in seen:
                seen.add(kind)
                triggers.append(Trigger(kind, f"job {job.id} (rules/only)", job.location))
    return triggers


def _workflow_triggers(loader: _Loader, workflow: Any, rules: Any) -> list[Trigger]:
    triggers: list[Trigger] = []
    for rule, container, position in _flat_with_place(rules if isinstance(rules, list) else [rules]):
        if not isinstance(rule, dict) or rule.get("when") == "never":
            continue
        condition = rule.get("if")
        location = loader.where(container, position)
        kinds = _condition_kinds(condition) if isinstance(condition, str) else set()
        raw = f"workflow:rules if: {condition}" if isinstance(condition, str) else "workflow:rules (always)"
        for kind in sorted(kinds or {"push"}):
            branches = re.findall(r"\$CI_COMMIT_BRANCH\s*==\s*[\"']([^\"']+)[\"']", condition or "")
            triggers.append(Trigger(kind, raw, location, branches=branches))
    return triggers


def _strings(value: Any) -> list[str]:
    return [str(v) for v in _flat(value) if isinstance(v, (str, int, float))]
