"""Azure Pipelines YAML, into the pipeline model.

Found (`azure_discovery`): `azure-pipelines.yml|yaml` at the root, and any other YAML file whose top level is an Azure pipeline
(`stages:` / `jobs:` / `steps:` lists of Azure items, or `extends: template:`), outside test-data folders and
other systems' folders. Files that other pipelines reference with `template:` are read through them, not as
pipelines of their own.

Understood: `trigger`, `pr` (absent means "every branch", recorded with raw `trigger (implicit)` /
`pr (implicit)`; `none` means off), `schedules` (cron), `resources.pipelines|repositories` triggers (kind
`other`); `stages` (default `dependsOn` = the previous stage; `trigger: manual` stages), `jobs` and
`deployment` jobs (with `environment`; their `strategy` lifecycle steps), `dependsOn`, `condition`,
`timeoutInMinutes`, `continueOnError`, `container` (image or `resources.containers` alias), `services`,
`pool.vmImage`; steps `script`/`bash`/`pwsh`/`powershell`/`task: Name@N` (inline scripts of script tasks
count as `run`); local `template:` files for stages, jobs and steps (resolved relative to the referencing
file, `${{ parameters.x }}` substituted, `${{ if }}` / `${{ each }}` insertions read as if true) and
`extends: template:`; `template: x@repo` and `resources.repositories` as external references (the
stages/jobs/steps a remote `extends` template is given as `parameters` are read as the pipeline's own).

Job ids are `stage.job` when the pipeline has stages, else the job name (a steps-only pipeline has one job
`Job`). A job's `needs` are its `dependsOn` jobs plus every job of the stages its stage depends on.
Approvals and checks live on Azure *environments*, outside the YAML: a deployment job is `manual` only when
its stage is `trigger: manual` or it runs a `ManualValidation@` / `ManualIntervention@` task.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.azure_discovery import discover, resolve_template
from devops_audit.collectors.ci.common import add_ref, first_line, mark_reuse, number, strings
from devops_audit.collectors.ci.github_actions import parse_image, transitive_upstream
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.facts import ExternalRef, InventoryEntry, Job, Location, Pipeline, Step, Trigger
from devops_audit.workspace import Workspace
from devops_audit.yamlsafe import YamlList, YamlMap, line_of

__all__ = ["SYSTEM", "KIND", "discover", "parse"]

SYSTEM = "azure"
KIND = "azure-pipelines"
_PARAMETER = re.compile(r"\$\{\{\s*parameters(?:\.([\w-]+)|\[\s*'([\w-]+)'\s*\])\s*\}\}")
_SCRIPT_KEYS = ("script", "bash", "pwsh", "powershell")
_OTHER_STEP_KEYS = ("checkout", "download", "downloadBuild", "publish", "getPackage", "restoreCache", "saveCache",
                    "reviewApp")
_INLINE_INPUTS = ("script", "inlineScript", "inline", "Inline")
_TASK_COMMANDS = {  # tasks that wrap a tool: (command, input naming what it does, the task's default)
    "dotnetcorecli": ("dotnet", "command", "build"),
    "maven": ("mvn", "goals", "package"),
    "gradle": ("gradle", "tasks", "build"),
    "npm": ("npm", "command", "install"),
    "nugetcommand": ("nuget", "command", "restore"),
    "docker": ("docker", "command", "buildAndPush"),
}
_MANUAL_TASKS = ("manualvalidation@", "manualintervention@")
_STRATEGIES = ("runOnce", "rolling", "canary")
_HOOKS = ("preDeploy", "deploy", "routeTraffic", "postRouteTraffic")
_MAX_TEMPLATE_DEPTH = 20
_MAX_TEMPLATE_USES = 500
MAX_EXPANDED_NODES = 200_000  # values expanded from templates and list items across one whole pipeline
_SHA = re.compile(r"^[0-9a-fA-F]{40}$")


# -- parsing -------------------------------------------------------------------------------------
@dataclass
class _Item:
    """A stage, job or step mapping and where it came from (templates bring their own file)."""

    value: dict[str, Any]
    file: str
    locator: str
    line: int


@dataclass
class _Context:
    """One pipeline being read: its files, resources, and the expansion work spent so far."""

    workspace: Workspace
    classifier: Classifier
    pipeline: Pipeline
    parsed: Parsed
    containers: dict[str, str] = field(default_factory=dict)  # resources.containers alias -> image
    repositories: dict[str, tuple[str, str]] = field(default_factory=dict)  # alias -> (name, ref)
    documents: dict[str, Any] = field(default_factory=dict)
    template_uses: int = 0
    expanded: int = 0  # template values and list items expanded so far, across every file of the pipeline

    def spend(self, nodes: int) -> None:
        """Count expansion work against MAX_EXPANDED_NODES; over it, the whole pipeline is refused."""
        self.expanded += nodes
        if self.expanded > MAX_EXPANDED_NODES:
            raise EvidenceError(self.pipeline.path, f"the pipeline expands to more than {MAX_EXPANDED_NODES:,} values "
                                "(templates, parameters, `${{ each }}`); refused (expansion budget)")

    def error(self, path: str, reason: str, line: int | None) -> None:
        self.parsed.inventory.append(InventoryEntry(path, KIND, "error", reason, line))

    def load(self, target: str) -> dict[str, Any] | None:
        """A template's first document (read once per pipeline); a bad file is an inventory error."""
        if target not in self.documents:
            value = None
            try:
                documents = self.workspace.load_yaml(target)
                value = documents[0] if documents else None
                if isinstance(value, dict):
                    self.parsed.inventory.append(InventoryEntry(target, KIND, "parsed"))
                else:
                    self.error(target, "a template must be a YAML mapping", 1)
                    value = None
            except EvidenceError as exc:
                self.error(target, exc.reason, exc.line)
            self.documents[target] = value
            if target not in self.pipeline.files:
                self.pipeline.files.append(target)
        return self.documents[target]


@dataclass(frozen=True)
class _Stage:
    """What a job takes from its stage: the stage's name, condition and manual approval."""

    name: str
    condition: str
    manual: bool


@dataclass(frozen=True)
class _Defaults:
    """What a job inherits from the pipeline or its stage: the hosted image and a container."""

    vm_image: str = ""
    container: Any = None

    @staticmethod
    def of(body: dict[str, Any], parent: _Defaults) -> _Defaults:
        if "pool" not in body:
            return _Defaults(parent.vm_image, body.get("container", parent.container))
        pool = body["pool"]  # a named (self-hosted) pool or `server` has no hosted image
        vm_image = pool.get("vmImage") if isinstance(pool, dict) else None
        return _Defaults(str(vm_image) if isinstance(vm_image, str) else "", body.get("container", parent.container))


def parse(workspace: Workspace, path: str, classifier: Classifier) -> Parsed:
    documents = workspace.load_yaml(path)
    root = documents[0] if documents else None
    if not isinstance(root, dict):
        raise EvidenceError(path, "an Azure pipeline must be a YAML mapping", line_of(root) if root else None)
    pipeline = Pipeline(system=SYSTEM, path=path, name=path.rsplit("/", 1)[-1], location=Location(path, 1),
                        files=[path])
    parsed = Parsed(inventory=[InventoryEntry(path, KIND, "parsed")])
    ctx = _Context(workspace, classifier, pipeline, parsed)
    pipeline.triggers = _triggers(root, path)
    _resources(ctx, root.get("resources"), path)
    body, file, prefix = _extends(ctx, root, path)
    defaults = _Defaults.of(root, _Defaults())
    if isinstance(body.get("stages"), list):
        _stages(ctx, _expand(ctx, body["stages"], "stages", file, f"{prefix}stages", 0), defaults)
    elif isinstance(body.get("jobs"), list):
        _stage_jobs(ctx, _expand(ctx, body["jobs"], "jobs", file, f"{prefix}jobs", 0), _Stage("", "", False),
                    defaults)
    elif isinstance(body.get("steps"), list):
        item = _Item(body, file, "", line_of(body, "steps"))
        pipeline.jobs.append(_job(ctx, item, "Job", _Stage("", "", False), defaults))
    elif not pipeline.jobs and file == path and "extends" not in root:  # an unreadable template is its own error
        raise EvidenceError(path, "no `stages:`, `jobs:` or `steps:` list: not an Azure pipeline", 1)
    transitive_upstream(pipeline.jobs)
    parsed.pipelines.append(pipeline)
    return parsed


# -- triggers ------------------------------------------------------------------------------------
def _triggers(root: dict[str, Any], path: str) -> list[Trigger]:
    triggers = _branch_trigger(root, "trigger", "push", path)
    triggers += _branch_trigger(root, "pr", "pull_request", path)
    schedules = root.get("schedules")
    for index, schedule in enumerate(schedules if isinstance(schedules, list) else []):
        if isinstance(schedule, dict) and schedule.get("cron"):
            branches, _ = _include_exclude(schedule.get("branches"))
            triggers.append(Trigger("schedule", "schedules", Location(path, line_of(schedules, index)), branches))
    resources = root.get("resources")
    for kind in ("pipelines", "repositories", "webhooks"):
        entries = resources.get(kind) if isinstance(resources, dict) else None
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            config = entry.get("trigger") if isinstance(entry, dict) else None
            if kind == "webhooks" or (config not in (None, False, "none")):
                branches, _ = _include_exclude(config.get("branches") if isinstance(config, dict) else None)
                triggers.append(Trigger("other", f"resources.{kind}", Location(path, line_of(entries, index)),
                                        branches))
    return triggers


def _branch_trigger(root: dict[str, Any], key: str, kind: str, path: str) -> list[Trigger]:
    """`trigger:` / `pr:`: absent = every branch, `none` = off, a list of branches, or a filter mapping."""
    if key not in root or root[key] is None:
        return [Trigger(kind, f"{key} (implicit)", Location(path, 1))]
    config = root[key]
    location = Location(path, line_of(root, key))
    if config == "none" or config is False:
        return []
    if not isinstance(config, dict):
        return [Trigger(kind, key, location, strings(config))]
    branches, _ = _include_exclude(config.get("branches"))
    paths, paths_ignore = _include_exclude(config.get("paths"))
    triggers = []
    if "tags" in config and kind == "push":
        tags, _ = _include_exclude(config.get("tags"))
        triggers.append(Trigger("tag", "trigger.tags", location, tags))
        if "branches" not in config:
            return triggers  # a tags-only CI trigger
    triggers.append(Trigger(kind, key, location, branches, paths, paths_ignore))
    return triggers


def _include_exclude(value: Any) -> tuple[list[str], list[str]]:
    if isinstance(value, dict):
        return strings(value.get("include")), strings(value.get("exclude"))
    return strings(value), []


# -- resources and extends -----------------------------------------------------------------------
def _resources(ctx: _Context, resources: Any, path: str) -> None:
    if not isinstance(resources, dict):
        return
    containers = resources.get("containers")
    for index, entry in enumerate(containers if isinstance(containers, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("image"), str):
            alias = str(entry.get("container") or "")
            ctx.containers[alias] = entry["image"]
            add_ref(ctx.pipeline, parse_image(entry["image"], Location(path, line_of(containers, index)),
                                              f"resources.containers[{index}]"))
    repositories = resources.get("repositories")
    for index, entry in enumerate(repositories if isinstance(repositories, list) else []):
        if not isinstance(entry, dict) or not entry.get("repository"):
            continue
        alias = str(entry["repository"])
        name, ref = str(entry.get("name") or alias), str(entry.get("ref") or "")
        ctx.repositories[alias] = (name, ref)
        add_ref(ctx.pipeline, _repository_ref("repository", f"{name}@{ref}" if ref else name, name, ref,
                                              Location(path, line_of(repositories, index)),
                                              f"resources.repositories[{index}]"))


def _repository_ref(type_: str, reference: str, name: str, ref: str, location: Location,
                    locator: str) -> ExternalRef:
    """A repository (or a template in one) and how its `ref:` pins it; no ref means the default branch."""
    if _SHA.match(ref):
        pinned_by = "sha"
    elif ref.startswith("refs/tags/"):
        pinned_by = "tag"
    elif ref:
        pinned_by = "branch"
    else:
        pinned_by = "none"
    return ExternalRef(type_, reference, name, ref, pinned_by, pinned_by == "sha", False, False, location, locator)


def _extends(ctx: _Context, root: dict[str, Any], path: str) -> tuple[dict[str, Any], str, str]:
    """The pipeline body, its file and locator prefix: the root itself, or the local template it `extends:`.

    A template in another repository (OneBranch, 1ES pipeline templates) wraps the `stages` / `jobs` /
    `steps` it is given as parameters: those are read as this pipeline's own, next to the unseen template.
    """
    extends = root.get("extends")
    if not isinstance(extends, dict) or not isinstance(extends.get("template"), str):
        return root, path, ""
    mark_reuse(ctx.pipeline, "extends")
    item = _Item(extends, path, "extends", line_of(root, "extends"))
    if _is_remote(extends["template"]):
        ctx.pipeline.jobs.append(_remote_job(ctx, item, "extends", _Stage("", "", False)))
        parameters = extends.get("parameters")
        return (parameters if isinstance(parameters, dict) else {}), path, "extends.parameters."
    loaded = _load_template(ctx, item, 0)
    if not loaded:
        return {}, path, ""
    body, file = loaded
    return body, file, f"{file}:"


# -- templates -----------------------------------------------------------------------------------
def _expand(ctx: _Context, items: list[Any], key: str, file: str, locator: str, depth: int) -> list[_Item]:
    """The stages, jobs or steps of a list, with local templates replaced by what they contain."""
    result: list[_Item] = []
    for here, line, raw in _insertions(items, locator):
        ctx.spend(1)
        if not isinstance(raw, dict):
            ctx.error(file, f"{here} is not a mapping", line)
            continue
        item = _Item(raw, file, here, line)
        template = raw.get("template")
        if not isinstance(template, str) or _is_remote(template):
            result.append(item)  # a stage, job or step, or a template in another repository
            continue
        loaded = _load_template(ctx, item, depth)
        if loaded:
            body, target = loaded
            inner = body.get(key)
            if isinstance(inner, list):
                result.extend(_expand(ctx, inner, key, target, f"{target}:{key}", depth + 1))
            else:
                ctx.error(target, f"template used as {key} has no `{key}:` list", line_of(body))
    return result


def _insertions(items: list[Any], locator: str) -> Iterator[tuple[str, int, Any]]:
    """List items, reading `- ${{ if ... }}:` / `${{ each ... }}:` blocks as if they applied."""
    for index, raw in enumerate(items):
        here = f"{locator}[{index}]"
        if isinstance(raw, str) and raw.strip().startswith("${{"):
            continue  # an item produced by an expression: nothing to read
        if isinstance(raw, dict) and raw and all(isinstance(k, str) and k.startswith("${{") for k in raw):
            for nested in raw.values():
                if isinstance(nested, list):
                    yield from _insertions(nested, here)
            continue
        yield here, line_of(items, index), raw


def _is_remote(template: str) -> bool:
    return "@" in template and not template.endswith("@self")


def _load_template(ctx: _Context, item: _Item, depth: int) -> tuple[dict[str, Any], str] | None:
    """A local template's document with the caller's parameters substituted, and its path."""
    ref = str(item.value["template"])
    line = line_of(item.value, "template", item.line)
    mark_reuse(ctx.pipeline, "template")
    if "$" in ref:
        ctx.parsed.inventory.append(InventoryEntry(item.file, KIND, "skipped",
                                                   f"template path {ref!r} is an expression; not followed", line))
        return None
    if ref.endswith("@self"):
        ref = "/" + ref[: -len("@self")].lstrip("/")
    target = resolve_template(item.file, ref)
    if target is None or not ctx.workspace.exists(target):
        ctx.error(item.file, f"template {ref!r} not found (looked for {target or ref})", line)
        return None
    ctx.template_uses += 1
    if depth >= _MAX_TEMPLATE_DEPTH or ctx.template_uses > _MAX_TEMPLATE_USES:
        ctx.error(item.file, f"template {ref!r} nests too deeply or is used too often; not followed", line)
        return None
    document = ctx.load(target)
    if document is None:
        return None
    ctx.spend(_size(document))
    parameters = _parameters(document.get("parameters"), item.value.get("parameters"))
    return _substitute(document, parameters), target


def _parameters(declared: Any, given: Any) -> dict[str, Any]:
    """Template parameter values: declared defaults (list or legacy mapping form), then the caller's."""
    values: dict[str, Any] = {}
    if isinstance(declared, list):
        for entry in declared:
            if isinstance(entry, dict) and "name" in entry and "default" in entry:
                values[str(entry["name"])] = entry["default"]
    elif isinstance(declared, dict):
        values.update({str(k): v for k, v in declared.items()})
    if isinstance(given, dict):
        values.update({str(k): v for k, v in given.items()})
    return values


def _size(value: Any) -> int:
    """How many values a document holds (mappings and lists included)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _substitute(value: Any, parameters: dict[str, Any]) -> Any:
    """`${{ parameters.x }}` replaced in every string value; line information is kept."""
    if not parameters:
        return value
    if isinstance(value, str):
        whole = _PARAMETER.fullmatch(value.strip())
        if whole and (whole.group(1) or whole.group(2)) in parameters:
            return parameters[whole.group(1) or whole.group(2)]
        return _PARAMETER.sub(lambda m: _scalar(parameters, m), value)
    if isinstance(value, dict):
        mapping = YamlMap(line_of(value))
        mapping.lines = dict(getattr(value, "lines", {}))
        for key, nested in value.items():
            mapping[key] = _substitute(nested, parameters)
        return mapping
    if isinstance(value, list):
        sequence = YamlList(line_of(value))
        sequence.lines = list(getattr(value, "lines", []))
        sequence.extend(_substitute(nested, parameters) for nested in value)
        return sequence
    return value


def _scalar(parameters: dict[str, Any], match: re.Match[str]) -> str:
    value = parameters.get(match.group(1) or match.group(2))
    return str(value) if isinstance(value, (str, int, float, bool)) else match.group(0)


# -- stages, jobs, steps -------------------------------------------------------------------------
def _stages(ctx: _Context, items: list[_Item], defaults: _Defaults) -> None:
    """Stages in order; a stage depends on the previous one unless it says `dependsOn`."""
    jobs_of: dict[str, list[Job]] = {}
    depends: dict[str, list[str]] = {}
    previous = ""
    for index, item in enumerate(items):
        raw = item.value
        if "template" in raw:  # a stage template in another repository
            name = str(raw["template"])
            jobs_of[name] = [_remote_job(ctx, item, name, _Stage(name, "", False))]
            ctx.pipeline.jobs.extend(jobs_of[name])
        else:
            name = str(raw.get("stage") or f"Stage{index + 1}")
            stage = _Stage(name, str(raw.get("condition") or ""), raw.get("trigger") == "manual")
            jobs = raw.get("jobs") if isinstance(raw.get("jobs"), list) else []
            job_items = _expand(ctx, jobs, "jobs", item.file, f"{item.locator}.jobs", 0)
            jobs_of[name] = _stage_jobs(ctx, job_items, stage, _Defaults.of(raw, defaults))
        if "dependsOn" in raw:
            depends[name] = [d for d in strings(raw["dependsOn"]) if d]
        else:
            depends[name] = [previous] if previous else []
        previous = name
    for name, jobs in jobs_of.items():
        upstream = [job.id for dep in depends.get(name, []) for job in jobs_of.get(dep, [])]
        for job in jobs:
            job.needs += [u for u in upstream if u not in job.needs]


def _stage_jobs(ctx: _Context, items: list[_Item], stage: _Stage, defaults: _Defaults) -> list[Job]:
    prefix = f"{stage.name}." if stage.name else ""
    created = []
    for index, item in enumerate(items):
        raw = item.value
        if "template" in raw:
            job = _remote_job(ctx, item, prefix + str(raw["template"]), stage)
        else:
            name = str(raw.get("job") or raw.get("deployment") or f"Job{index + 1}")
            job = _job(ctx, item, name, stage, defaults)
            job.needs = [prefix + d for d in strings(raw.get("dependsOn")) if d]
        created.append(job)
    ctx.pipeline.jobs.extend(created)
    return created


def _job(ctx: _Context, item: _Item, name: str, stage: _Stage, defaults: _Defaults) -> Job:
    raw = item.value
    job = Job(
        id=f"{stage.name}.{name}" if stage.name else name,
        name=str(raw.get("displayName") or name), locator=item.locator or "steps",
        location=Location(item.file, item.line), stage=stage.name,
        timeout_minutes=number(raw.get("timeoutInMinutes")),
        continue_on_error=raw.get("continueOnError") is True,
        condition=str(raw.get("condition") or stage.condition or ""),
        manual=stage.manual,
    )
    if "deployment" in raw:
        environment = raw.get("environment")
        job.environment = str((environment.get("name") if isinstance(environment, dict) else environment) or "")
    job_defaults = _Defaults.of(raw, defaults)
    job.image = _images(ctx, item, job_defaults.container) or job_defaults.vm_image
    job.runs_on = [job_defaults.vm_image] if job_defaults.vm_image else []
    kinds: set[str] = set()
    tools: set[str] = set()
    for steps, locator, condition in _step_lists(raw, job.locator):
        for step_item in _expand(ctx, steps, "steps", item.file, locator, 0):
            step = _step(ctx, step_item)
            step.condition = step.condition or condition
            job.steps.append(step)
            kinds.update(step.kinds)
            tools.update(step.tools)
            job.manual = job.manual or step.uses.lower().startswith(_MANUAL_TASKS)
    if "deployment" in raw and not kinds & {"deploy", "publish"}:
        kinds.add("deploy")  # a deployment job records a deployment to its environment
    job.kinds, job.tools = sorted(kinds), sorted(tools)
    return job


def _step_lists(raw: dict[str, Any], locator: str) -> Iterator[tuple[list[Any], str, str]]:
    """A job's `steps`, or a deployment job's lifecycle hooks' steps (with `on.failure|success`)."""
    if isinstance(raw.get("steps"), list):
        yield raw["steps"], f"{locator}.steps", ""
    strategy = raw.get("strategy") if "deployment" in raw else None
    for name in _STRATEGIES:
        hooks = strategy.get(name) if isinstance(strategy, dict) else None
        if not isinstance(hooks, dict):
            continue
        for hook in _HOOKS:
            body = hooks.get(hook)
            if isinstance(body, dict) and isinstance(body.get("steps"), list):
                yield body["steps"], f"{locator}.strategy.{name}.{hook}.steps", ""
        outcomes = hooks.get("on", hooks.get(True))  # YAML 1.1 reads a bare `on` key as true
        for outcome in ("failure", "success"):
            body = outcomes.get(outcome) if isinstance(outcomes, dict) else None
            if isinstance(body, dict) and isinstance(body.get("steps"), list):
                yield body["steps"], f"{locator}.strategy.{name}.on.{outcome}.steps", f"on.{outcome}"


def _images(ctx: _Context, item: _Item, container: Any) -> str:
    """The job's container image (recording it and its services' images as references)."""
    raw = item.value
    image = _container(ctx, container, Location(item.file, line_of(raw, "container", item.line)),
                       f"{item.locator}.container")
    services = raw.get("services")
    for name, service in services.items() if isinstance(services, dict) else ():
        _container(ctx, service, Location(item.file, line_of(services, name, item.line)),
                   f"{item.locator}.services.{name}")
    return image or _matrix_image(ctx, item)


def _matrix_image(ctx: _Context, item: _Item) -> str:
    """The build image a matrix names in `DOCKER_IMAGE` (conda-forge's generated pipelines run their build
    script in it), recorded once per distinct image; the first is the job's."""
    strategy = item.value.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    seen: list[str] = []
    for name, entry in matrix.items() if isinstance(matrix, dict) else ():
        image = entry.get("DOCKER_IMAGE") if isinstance(entry, dict) else None
        if isinstance(image, str) and image and image not in seen:
            seen.append(image)
            add_ref(ctx.pipeline, parse_image(image, Location(item.file, line_of(entry, "DOCKER_IMAGE", item.line)),
                                              f"{item.locator}.strategy.matrix.{name}.DOCKER_IMAGE"))
    return seen[0] if seen else ""


def _container(ctx: _Context, value: Any, location: Location, locator: str) -> str:
    if isinstance(value, dict):
        value = value.get("image")
    if not isinstance(value, str) or not value:
        return ""
    if value in ctx.containers:
        return ctx.containers[value]  # a `resources.containers` alias, recorded there
    add_ref(ctx.pipeline, parse_image(value, location, locator))
    return value


def _remote_job(ctx: _Context, item: _Item, job_id: str, stage: _Stage) -> Job:
    """A job (or stage, or whole pipeline) that is a template in another repository."""
    ref = str(item.value["template"])
    location = Location(item.file, line_of(item.value, "template", item.line))
    _remote_ref(ctx, ref, location, f"{item.locator}.template")
    kinds, tools = ctx.classifier.classify(uses=ref)
    return Job(id=job_id, name=ref, locator=item.locator, location=location, stage=stage.name, reusable=ref,
               kinds=kinds, tools=tools, manual=stage.manual, condition=stage.condition)


def _remote_ref(ctx: _Context, ref: str, location: Location, locator: str) -> None:
    path, _, alias = ref.partition("@")
    name, version = ctx.repositories.get(alias, (alias, ""))
    mark_reuse(ctx.pipeline, "template")
    add_ref(ctx.pipeline, _repository_ref("template", ref, f"{name}/{path}", version, location, locator))


def _step(ctx: _Context, item: _Item) -> Step:
    raw = item.value
    location = Location(item.file, item.line)
    if "template" in raw:  # a steps template in another repository
        ref = str(raw["template"])
        _remote_ref(ctx, ref, location, f"{item.locator}.template")
        kinds, tools = ctx.classifier.classify(uses=ref)
        return Step(name=ref, locator=item.locator, location=location, uses=ref, kinds=kinds, tools=tools)
    task = str(raw.get("task") or "")
    inputs = raw.get("inputs") if isinstance(raw.get("inputs"), dict) else {}
    run = next((str(raw[k]) for k in _SCRIPT_KEYS if raw.get(k) is not None), "")
    if task and not run:
        run = next((str(inputs[k]) for k in _INLINE_INPUTS if isinstance(inputs.get(k), str)), "")
    other = next((k for k in _OTHER_STEP_KEYS if k in raw), "")
    step = Step(
        name=str(raw.get("displayName") or raw.get("name") or task or first_line(run)
                 or (f"{other}: {raw[other]}" if other else ""))[:200],
        locator=item.locator, location=location, run=run, uses=task,
        continue_on_error=raw.get("continueOnError") is True,
        condition=str(raw.get("condition") or ""),
        inputs={str(k): str(v) for k, v in inputs.items() if isinstance(v, (str, int, float, bool))},
    )
    arguments = [str(v) for v in inputs.values() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    text = "\n".join([run, _task_command(task, inputs), *arguments])
    step.kinds, step.tools = ctx.classifier.classify(run=text, uses=task)
    return step


def _task_command(task: str, inputs: dict[str, Any]) -> str:
    """The command line a tool-wrapping task runs (`Maven@4` with goals `verify` -> `mvn verify`)."""
    spec = _TASK_COMMANDS.get(task.split("@", 1)[0].lower())
    if not spec:
        return ""
    tool, key, default = spec
    verbs = str(inputs.get(key) or default).replace("buildAndPush", "build push").split()
    custom = inputs.get("customCommand")
    return "\n".join([*(f"{tool} {verb}" for verb in verbs), f"{tool} {custom}" if custom else ""])
