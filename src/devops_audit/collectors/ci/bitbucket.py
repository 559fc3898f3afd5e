"""Bitbucket Pipelines: `bitbucket-pipelines.yml` at the root, into the pipeline model.

Understood: the global `image` and `options.max-time`, `definitions` (services' images; steps shared with
YAML anchors are read where they are used, and give `pipeline.reuse` `definitions`), and every pipeline
under `pipelines`: `default` (push to any branch without its own pipeline), `branches` (push, with the
branch pattern), `pull-requests` (pull request, with the source-branch pattern), `tags` (tag; the
trigger's `branches` hold the tag pattern), `custom` (manual: started by hand or by a schedule set in the
Bitbucket UI). Each `step` is a Job; its id is
`<pipeline>/<step name>` (e.g. `branches/main/Deploy`, `default/step 1` when unnamed), `triggers` is the
kind of its pipeline. Steps run in sequence: a step's `needs` are the step(s) just before it (all of a
`parallel` block), `upstream` every earlier step. `stage` blocks (their `deployment`, `trigger` and
`condition` apply to their steps) set `Job.stage`. A step's `script` and `after-script` lines are Steps
(`after-script` ones with condition `after-script`); `- pipe: owner/name:1.2.3` is a Step with `uses` and an
`action` reference (a pipe is a Docker image: pinned only by digest). `deployment: production` sets the
environment and kind `deploy`; `trigger: manual` sets `manual`; `max-time` is the timeout in minutes
(Bitbucket's default of 120 is not assumed); `condition.changesets.includePaths` becomes `condition`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.common import add_ref, first_line, mark_reuse, number, strings
from devops_audit.collectors.ci.github_actions import parse_image, transitive_upstream
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.facts import ExternalRef, InventoryEntry, Job, Location, Pipeline, Step, Trigger
from devops_audit.workspace import Workspace
from devops_audit.yamlsafe import line_of

__all__ = ["SYSTEM", "KIND", "discover", "parse", "parse_pipe"]

SYSTEM = "bitbucket"
KIND = "bitbucket-pipelines"
_CONFIG = "bitbucket-pipelines.yml"
_SECTIONS = {  # pipelines.<section> -> trigger kind; `default` is a list, the others map a pattern to a list
    "default": "push",
    "branches": "push",
    "bookmarks": "push",
    "pull-requests": "pull_request",
    "tags": "tag",
    "custom": "manual",
}
_FIRST_PARTY = ("atlassian", "bitbucketpipelines")


def discover(workspace: Workspace) -> list[str]:
    return [_CONFIG] if _CONFIG in workspace.file_set else []


@dataclass
class _Context:
    """One `bitbucket-pipelines.yml` being read: its default image and time limit, the job ids given."""

    classifier: Classifier
    pipeline: Pipeline
    parsed: Parsed
    image: str = ""
    max_time: float | None = None
    seen: dict[str, int] = field(default_factory=dict)  # job ids given so far, to keep them unique

    @property
    def path(self) -> str:
        return self.pipeline.path

    def error(self, reason: str, line: int) -> None:
        self.parsed.inventory.append(InventoryEntry(self.path, KIND, "error", reason, line))


@dataclass(frozen=True)
class _Group:
    """One pipeline of the file (`default`, `branches/main`, ...) and what its steps inherit."""

    label: str
    kind: str
    stage: str = ""
    deployment: str = ""
    manual: bool = False
    condition: str = ""


def parse(workspace: Workspace, path: str, classifier: Classifier) -> Parsed:
    documents = workspace.load_yaml(path)
    config = documents[0] if documents else None
    if not isinstance(config, dict):
        raise EvidenceError(path, "bitbucket-pipelines.yml must be a YAML mapping", line_of(config) if config else None)
    pipelines = config.get("pipelines")
    if not isinstance(pipelines, dict):
        raise EvidenceError(path, "no `pipelines:` mapping", line_of(config))
    pipeline = Pipeline(system=SYSTEM, path=path, name=path, location=Location(path, 1), files=[path])
    ctx = _Context(classifier, pipeline, Parsed(inventory=[InventoryEntry(path, KIND, "parsed")]))
    ctx.image = _image(ctx, config.get("image"), line_of(config, "image"), "image")
    options = config.get("options")
    ctx.max_time = number(options.get("max-time")) if isinstance(options, dict) else None
    definitions = config.get("definitions")
    _services(ctx, definitions)
    if isinstance(definitions, dict) and definitions.get("steps"):
        mark_reuse(pipeline, "definitions")  # steps written once, used through YAML anchors
    for section, kind in _SECTIONS.items():
        body = pipelines.get(section)
        line = line_of(pipelines, section)
        if section == "default":
            if isinstance(body, list):
                pipeline.triggers.append(Trigger(kind, section, Location(path, line)))
                _items(ctx, body, _Group(section, kind), f"pipelines.{section}", [])
            continue
        for pattern, items in body.items() if isinstance(body, dict) else ():
            location = Location(path, line_of(body, pattern, line))
            if not isinstance(items, list):
                ctx.error(f"pipelines.{section}.{pattern} is not a list of steps", location.line)
                continue
            branches = [] if kind == "manual" else [str(pattern)]
            pipeline.triggers.append(Trigger(kind, section, location, branches))
            _items(ctx, items, _Group(f"{section}/{pattern}", kind), f"pipelines.{section}.{pattern}", [])
    transitive_upstream(pipeline.jobs)
    ctx.parsed.pipelines.append(pipeline)
    return ctx.parsed


def _image(ctx: _Context, value: Any, line: int, locator: str) -> str:
    """An `image:` (a name, or a mapping with `name`), recorded as a reference."""
    if isinstance(value, dict):
        value = value.get("name")
    if not isinstance(value, str) or not value:
        return ""
    add_ref(ctx.pipeline, parse_image(value, Location(ctx.path, line), locator))
    return value


def _services(ctx: _Context, definitions: Any) -> None:
    services = definitions.get("services") if isinstance(definitions, dict) else None
    for name, service in services.items() if isinstance(services, dict) else ():
        if isinstance(service, dict):
            _image(ctx, service.get("image"), line_of(service, "image", line_of(services, name)),
                   f"definitions.services.{name}.image")


# -- the steps of one pipeline -------------------------------------------------------------------
def _items(ctx: _Context, items: list[Any], group: _Group, locator: str, previous: list[str]) -> list[str]:
    """Jobs for a pipeline's items, in order; returns the ids the next item waits for."""
    for index, item in enumerate(items):
        here = f"{locator}[{index}]"
        line = line_of(items, index)
        if not isinstance(item, dict):
            ctx.error(f"{here} is not a mapping", line)
            continue
        if "step" in item:
            previous = [_job(ctx, item["step"], group, f"{here}.step", line_of(item, "step", line), previous).id]
        elif "parallel" in item:
            previous = _parallel(ctx, item["parallel"], group, f"{here}.parallel", line, previous)
        elif "stage" in item:
            previous = _stage(ctx, item["stage"], group, f"{here}.stage", line, previous)
        elif "import" in item:
            previous = [_import(ctx, str(item["import"]), group, here, line_of(item, "import", line), previous).id]
        # `variables:` of a custom pipeline declare inputs: nothing runs
    return previous


def _parallel(ctx: _Context, block: Any, group: _Group, locator: str, line: int, previous: list[str]) -> list[str]:
    """Steps of a `parallel` block all wait for what came before, not for each other."""
    steps = block.get("steps") if isinstance(block, dict) else block
    ids = []
    for index, entry in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(entry, dict) and "step" in entry:
            here = f"{locator}[{index}].step"
            ids.append(_job(ctx, entry["step"], group, here, line_of(entry, "step", line), previous).id)
        else:
            ctx.error(f"{locator}[{index}] is not a step", line_of(steps, index, line))
    return ids or previous


def _stage(ctx: _Context, stage: Any, group: _Group, locator: str, line: int, previous: list[str]) -> list[str]:
    if not isinstance(stage, dict):
        ctx.error(f"{locator} is not a mapping", line)
        return previous
    inner = _Group(group.label, group.kind, str(stage.get("name") or locator), str(stage.get("deployment") or ""),
                   stage.get("trigger") == "manual", _condition(stage.get("condition")))
    steps = stage.get("steps")
    return _items(ctx, steps if isinstance(steps, list) else [], inner, f"{locator}.steps", previous)


def _import(ctx: _Context, reference: str, group: _Group, locator: str, line: int, previous: list[str]) -> Job:
    """`import: pipeline@repository`: a pipeline shared from another repository."""
    mark_reuse(ctx.pipeline, "import")
    location = Location(ctx.path, line)
    name, _, repository = reference.partition("@")
    add_ref(ctx.pipeline, ExternalRef("include", reference, repository or name, "", "none", False, False, False,
                                      location, f"{locator}.import"))
    job = Job(id=_unique(ctx, f"{group.label}/{reference}"), name=reference, locator=locator, location=location,
              needs=list(previous), reusable=reference, triggers=[group.kind])
    ctx.pipeline.jobs.append(job)
    return job


def _job(ctx: _Context, step: Any, group: _Group, locator: str, line: int, previous: list[str]) -> Job:
    if not isinstance(step, dict):
        step = {}
        ctx.error(f"{locator} is not a mapping", line)
    number_in_group = sum(1 for job in ctx.pipeline.jobs if job.id.startswith(group.label + "/")) + 1
    name = str(step.get("name") or f"step {number_in_group}")
    job = Job(
        id=_unique(ctx, f"{group.label}/{name}"), name=name, locator=locator, location=Location(ctx.path, line),
        needs=list(previous), stage=group.stage, triggers=[group.kind],
        timeout_minutes=number(step.get("max-time")) or ctx.max_time,
        environment=str(step.get("deployment") or group.deployment or ""),
        manual=step.get("trigger") == "manual" or group.manual,
        condition=_condition(step.get("condition")) or group.condition,
    )
    job.image = _image(ctx, step.get("image"), line_of(step, "image", line), f"{locator}.image") or ctx.image
    job.steps = _scripts(ctx, step, "script", locator, line) + _scripts(ctx, step, "after-script", locator, line)
    kinds = {kind for s in job.steps for kind in s.kinds}
    if job.environment and not kinds & {"deploy", "publish"}:
        kinds.add("deploy")  # Bitbucket records a step with `deployment:` as a deployment
    job.kinds = sorted(kinds)
    job.tools = sorted({tool for s in job.steps for tool in s.tools})
    ctx.pipeline.jobs.append(job)
    return job


def _unique(ctx: _Context, job_id: str) -> str:
    ctx.seen[job_id] = ctx.seen.get(job_id, 0) + 1
    return job_id if ctx.seen[job_id] == 1 else f"{job_id}#{ctx.seen[job_id]}"


def _condition(value: Any) -> str:
    changesets = value.get("changesets") if isinstance(value, dict) else None
    if isinstance(changesets, dict):
        return "; ".join(f"changesets.{key}: {', '.join(strings(paths))}" for key, paths in changesets.items())
    return ""


def _scripts(ctx: _Context, step: dict[str, Any], key: str, locator: str, line: int) -> list[Step]:
    lines = step.get(key)
    result = []
    for index, entry in enumerate(lines if isinstance(lines, list) else []):
        here = f"{locator}.{key}[{index}]"
        location = Location(ctx.path, line_of(lines, index, line))
        condition = key if key == "after-script" else ""
        if isinstance(entry, dict) and "pipe" in entry:
            result.append(_pipe(ctx, entry, here, location, condition))
        elif isinstance(entry, (str, int, float)):
            run = str(entry)
            kinds, tools = ctx.classifier.classify(run=run)
            result.append(Step(name=first_line(run), locator=here, location=location, run=run, kinds=kinds,
                               tools=tools, condition=condition))
        else:
            ctx.error(f"{here} is neither a command nor a pipe", location.line)
    return result


def _pipe(ctx: _Context, entry: dict[str, Any], locator: str, location: Location, condition: str) -> Step:
    uses = str(entry["pipe"])
    ref = parse_pipe(uses, location, f"{locator}.pipe")
    add_ref(ctx.pipeline, ref)
    variables = entry.get("variables")
    arguments = [str(v) for v in variables.values()] if isinstance(variables, dict) else []
    kinds, tools = ctx.classifier.classify(run="\n".join(arguments), uses=ref.name)
    return Step(name=uses, locator=locator, location=location, uses=uses, kinds=kinds, tools=tools,
                condition=condition)


def parse_pipe(pipe: str, location: Location, locator: str) -> ExternalRef:
    """A pipe (`atlassian/aws-s3-deploy:1.1.0`, `docker://owner/image:tag`): a Docker image run as a step."""
    ref = parse_image(pipe.removeprefix("docker://"), location, locator)
    ref.type, ref.ref = "action", pipe
    ref.first_party = ref.name.split("/", 1)[0].lower() in _FIRST_PARTY
    return ref
