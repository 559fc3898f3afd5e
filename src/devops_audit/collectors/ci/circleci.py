"""CircleCI: `.circleci/config.yml`, into the pipeline model.

Understood: `orbs` (references: `ns/orb@1.2.3` is pinned by version, `@1` / `@1.2` float, `@volatile`, a
`dev:` version or none are not pinned), `executors`, reusable `commands` (their steps are read where they
are invoked), `jobs` (`docker` images, `machine.image`, `executor`, `steps`: `run` as a string or
`{command}`, `when`/`unless` step blocks, orb commands such as `python/test`, built-ins such as
`checkout`), and `workflows`: one Job per workflow job invocation (its id is the `name:` override, or the
job name, prefixed with `workflow/` when the same name appears in several workflows), `requires` (needs,
upstream), `type: approval` (a manual gate: the approval job and the jobs that require it are `manual`),
`pre-steps`/`post-steps`, `filters` (branches/tags), workflow `triggers: - schedule:` and `when`/`unless`.

Triggers: CircleCI config says nothing about push versus pull request: every branch push builds, and a pull
request builds its branch. So a workflow without `triggers:` gives `push` (raw `push`) and `pull_request`
(raw `github-pr-build`) unless all its jobs are restricted to named branches; jobs with `filters.tags.only`
add a `tag` trigger (its `branches` are the tag patterns); a scheduled workflow gives `schedule`.
Orb jobs and commands carry no steps here: they are classified by the tool table, else by the words of
their name (`deploy`, `test`, `build`, `publish`, `lint`). CircleCI jobs have no overall timeout
(`timeout_minutes` is None) and no deployment environments (`environment` is empty).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.common import add_ref, first_line, kinds_from_name, mark_reuse, strings
from devops_audit.collectors.ci.github_actions import parse_image, transitive_upstream
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.facts import ExternalRef, InventoryEntry, Job, Location, Pipeline, Step, Trigger
from devops_audit.workspace import Workspace
from devops_audit.yamlsafe import line_of

__all__ = ["SYSTEM", "KIND", "discover", "parse", "parse_orb"]

SYSTEM = "circleci"
KIND = "circleci"
_CONFIGS = (".circleci/config.yml", ".circleci/config.yaml")
_FULL_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_PARTIAL_VERSION = re.compile(r"^\d+(\.\d+)?$")
_MATCH_ALL = ("/.*/", ".*", "/.+/")
_MAX_COMMAND_DEPTH = 10
MAX_EXPANDED_STEPS = 100_000  # steps expanded from commands across one config: a command bomb stops


def discover(workspace: Workspace) -> list[str]:
    return [p for p in _CONFIGS if p in workspace.file_set][:1]


@dataclass
class _Context:
    """One CircleCI config being read: its jobs, commands and executors, and the steps expanded so far."""

    classifier: Classifier
    pipeline: Pipeline
    parsed: Parsed
    jobs: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, Any] = field(default_factory=dict)
    executors: dict[str, Any] = field(default_factory=dict)
    expanded: int = 0

    def spend(self) -> None:
        """Count one expanded step against MAX_EXPANDED_STEPS; over it, the whole config is refused."""
        self.expanded += 1
        if self.expanded > MAX_EXPANDED_STEPS:
            raise EvidenceError(self.path, f"the config expands to more than {MAX_EXPANDED_STEPS:,} steps "
                                "(commands calling commands); refused (expansion budget)")

    @property
    def path(self) -> str:
        return self.pipeline.path

    def error(self, reason: str, line: int) -> None:
        self.parsed.inventory.append(InventoryEntry(self.path, KIND, "error", reason, line))


def parse(workspace: Workspace, path: str, classifier: Classifier) -> Parsed:
    documents = workspace.load_yaml(path)
    config = documents[0] if documents else None
    if not isinstance(config, dict):
        raise EvidenceError(path, "a CircleCI config must be a YAML mapping", line_of(config) if config else None)
    pipeline = Pipeline(system=SYSTEM, path=path, name=path.rsplit("/", 1)[-1], location=Location(path, 1),
                        files=[path])
    ctx = _Context(classifier, pipeline, Parsed(inventory=[InventoryEntry(path, KIND, "parsed")]))
    ctx.jobs, ctx.commands, ctx.executors = (_mapping(config, key) for key in ("jobs", "commands", "executors"))
    _orbs(ctx, config)
    if ctx.commands:
        mark_reuse(pipeline, "commands")
    _definition_images(ctx)
    workflows = _mapping(config, "workflows")
    if not workflows and "build" in ctx.jobs:  # config 2.0 without workflows runs the `build` job
        workflows = {"build": {"jobs": ["build"]}}
    names = _job_names(workflows)
    for name, workflow in workflows.items():
        if isinstance(workflow, dict):  # `version: 2` sits among the workflows
            _workflow(ctx, str(name), workflow, line_of(workflows, name), names)
    transitive_upstream(pipeline.jobs)
    ctx.parsed.pipelines.append(pipeline)
    return ctx.parsed


def _mapping(config: dict[str, Any], key: str) -> dict[str, Any]:
    value = config.get(key)
    return value if isinstance(value, dict) else {}


# -- orbs, executors, images ---------------------------------------------------------------------
def _orbs(ctx: _Context, config: dict[str, Any]) -> None:
    orbs = _mapping(config, "orbs")
    for alias, value in orbs.items():
        mark_reuse(ctx.pipeline, "orb")
        location = Location(ctx.path, line_of(orbs, alias))
        if isinstance(value, str):
            add_ref(ctx.pipeline, parse_orb(value, location, f"orbs.{alias}"))
        # an inline orb (a mapping) is defined in this file: nothing external


def parse_orb(reference: str, location: Location, locator: str) -> ExternalRef:
    """`namespace/orb@version`: a full semantic version is immutable in the orb registry."""
    name, _, version = reference.partition("@")
    if _FULL_VERSION.match(version):
        pinned_by = "version"
    elif _PARTIAL_VERSION.match(version):
        pinned_by = "tag"
    elif version.startswith("dev:"):
        pinned_by = "branch"
    else:
        pinned_by = "none"  # no version, or `volatile`
    first_party = name.split("/", 1)[0].lower() == "circleci"
    return ExternalRef("orb", reference, name, version, pinned_by, pinned_by == "version", first_party, False,
                       location, locator)


def _definition_images(ctx: _Context) -> None:
    """Every `docker:` image of the jobs and executors defined here, recorded once."""
    for section, definitions in (("executors", ctx.executors), ("jobs", ctx.jobs)):
        for name, body in definitions.items():
            docker = body.get("docker") if isinstance(body, dict) else None
            for index, entry in enumerate(docker if isinstance(docker, list) else []):
                image = entry.get("image") if isinstance(entry, dict) else None
                if isinstance(image, str) and image:
                    add_ref(ctx.pipeline, parse_image(image, Location(ctx.path, line_of(docker, index)),
                                                      f"{section}.{name}.docker[{index}]"))


def _primary_image(ctx: _Context, body: dict[str, Any]) -> str:
    """The first `docker` image, else the `machine` image, of a job or of its local executor."""
    executor = body.get("executor")
    if isinstance(executor, dict):
        executor = executor.get("name")
    if isinstance(executor, str) and isinstance(ctx.executors.get(executor), dict):
        body = {**ctx.executors[executor], **body}
    docker = body.get("docker")
    if isinstance(docker, list) and docker and isinstance(docker[0], dict):
        return str(docker[0].get("image") or "")
    machine = body.get("machine")
    if isinstance(machine, dict):
        return str(machine.get("image") or "")
    return ""


# -- workflows -----------------------------------------------------------------------------------
def _entries(workflow: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    """(index, job reference, invocation settings) of each workflow job."""
    jobs = workflow.get("jobs")
    result = []
    for index, entry in enumerate(jobs if isinstance(jobs, list) else []):
        if isinstance(entry, str):
            result.append((index, entry, {}))
        elif isinstance(entry, dict) and len(entry) == 1:
            reference, settings = next(iter(entry.items()))
            result.append((index, str(reference), settings if isinstance(settings, dict) else {}))
    return result


def _job_names(workflows: dict[str, Any]) -> dict[str, int]:
    """How many workflows use each job name (names used in several are prefixed with the workflow)."""
    counts: dict[str, int] = {}
    for workflow in workflows.values():
        if isinstance(workflow, dict):
            for name in {str(settings.get("name") or ref) for _, ref, settings in _entries(workflow)}:
                counts[name] = counts.get(name, 0) + 1
    return counts


def _workflow(ctx: _Context, name: str, workflow: dict[str, Any], line: int, names: dict[str, int]) -> None:
    jobs_list = workflow.get("jobs")
    condition = _workflow_condition(workflow)
    schedules = _schedules(ctx, workflow, line)
    ids = {}
    created: list[Job] = []
    for index, reference, settings in _entries(workflow):
        job_name = str(settings.get("name") or reference)
        ids[job_name] = f"{name}/{job_name}" if names.get(job_name, 0) > 1 else job_name
        job = _job(ctx, reference, settings, ids[job_name], job_name,
                   f"workflows.{name}.jobs[{index}]", line_of(jobs_list, index, line))
        job.condition = condition
        job.triggers = ["schedule"] if schedules or "scheduled_pipeline" in condition else _job_triggers(settings)
        created.append(job)
    for job in created:
        job.needs = [ids.get(need, need) for need in job.needs]
    approvals = {job.id for job in created if job.manual}
    for job in created:
        job.manual = job.manual or any(need in approvals for need in job.needs)
    ctx.pipeline.jobs.extend(created)
    ctx.pipeline.triggers.extend(schedules or _workflow_triggers(ctx, workflow, created, line, condition))


def _workflow_condition(workflow: dict[str, Any]) -> str:
    for key in ("when", "unless"):
        if key in workflow:
            return f"{key}: {_plain_text(workflow[key])}"
    return ""


def _plain_text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_plain_text(v) for v in value) + "]"
    return str(value)


def _schedules(ctx: _Context, workflow: dict[str, Any], line: int) -> list[Trigger]:
    triggers = workflow.get("triggers")
    result = []
    for index, entry in enumerate(triggers if isinstance(triggers, list) else []):
        schedule = entry.get("schedule") if isinstance(entry, dict) else None
        if isinstance(schedule, dict):
            branches = _filter(schedule.get("filters"), "branches")
            result.append(Trigger("schedule", "schedule", Location(ctx.path, line_of(triggers, index, line)),
                                  strings(branches.get("only"))))
    return result


def _filter(filters: Any, key: str) -> dict[str, Any]:
    value = filters.get(key) if isinstance(filters, dict) else None
    return value if isinstance(value, dict) else {}


def _job_triggers(settings: dict[str, Any]) -> list[str]:
    """What a workflow job runs on: branch pushes (and so pull requests) unless filtered, tags if asked."""
    branches = _filter(settings.get("filters"), "branches")
    tags = _filter(settings.get("filters"), "tags")
    kinds = []
    if not any(str(pattern) in _MATCH_ALL for pattern in strings(branches.get("ignore"))):
        kinds.append("push")
        if "only" not in branches:
            kinds.append("pull_request")
    if "only" in tags:
        kinds.append("tag")
    return kinds


def _workflow_triggers(ctx: _Context, workflow: dict[str, Any], jobs: list[Job], line: int,
                       condition: str) -> list[Trigger]:
    location = Location(ctx.path, line)
    if "scheduled_pipeline" in condition:
        return [Trigger("schedule", "scheduled_pipeline", location)]
    entries = _entries(workflow)
    branch_filters = [_filter(settings.get("filters"), "branches") for _, _, settings in entries]
    kinds = {kind for job in jobs for kind in job.triggers}
    triggers = []
    if "push" in kinds:
        unrestricted = "pull_request" in kinds or not entries
        only = sorted({str(b) for f in branch_filters for b in strings(f.get("only"))})
        triggers.append(Trigger("push", "push", location, [] if unrestricted else only))
    if "pull_request" in kinds or not entries:
        triggers.append(Trigger("pull_request", "github-pr-build", location))
    if "tag" in kinds:
        tags = sorted({str(t) for _, _, s in entries for t in strings(_filter(s.get("filters"), "tags").get("only"))})
        triggers.append(Trigger("tag", "filters.tags", location, tags))
    return triggers


# -- jobs and steps ------------------------------------------------------------------------------
def _job(ctx: _Context, reference: str, settings: dict[str, Any], job_id: str, name: str, locator: str,
         line: int) -> Job:
    job = Job(id=job_id, name=name, locator=locator, location=Location(ctx.path, line),
              needs=_requires(settings.get("requires")))
    if settings.get("type") == "approval":
        job.manual = True
        return job
    steps: list[Step] = []
    steps += _steps(ctx, settings.get("pre-steps"), f"{locator}.pre-steps", line, 0)
    body = ctx.jobs.get(reference)
    if isinstance(body, dict):
        job.image = _primary_image(ctx, body)
        steps += _steps(ctx, body.get("steps"), f"jobs.{reference}.steps", line_of(ctx.jobs, reference), 0)
    elif "/" in reference:
        job.reusable = reference  # an orb job: its steps live in the orb
        steps.append(_orb_step(ctx, reference, reference, locator, line))
    else:
        ctx.error(f"workflow job {reference!r} is not defined under `jobs:`", line)
    steps += _steps(ctx, settings.get("post-steps"), f"{locator}.post-steps", line, 0)
    job.steps = steps
    job.kinds = sorted({kind for step in steps for kind in step.kinds})
    job.tools = sorted({tool for step in steps for tool in step.tools})
    return job


def _requires(value: Any) -> list[str]:
    """`requires: [a, b]`, or the 2.1 form `requires: [{a: [success, failed]}]`."""
    names: list[str] = []
    for entry in value if isinstance(value, list) else strings(value):
        names += [str(k) for k in entry] if isinstance(entry, dict) else [str(entry)]
    return names


def _steps(ctx: _Context, steps: Any, locator: str, line: int, depth: int, condition: str = "") -> list[Step]:
    result: list[Step] = []
    for index, raw in enumerate(steps if isinstance(steps, list) else []):
        ctx.spend()
        here = f"{locator}[{index}]"
        step_line = line_of(steps, index, line)
        if isinstance(raw, str):
            command, settings = raw, {}
        elif isinstance(raw, dict) and len(raw) == 1:
            command, settings = next(iter(raw.items()))
            command = str(command)
        else:
            ctx.error(f"{here} is not a step", step_line)
            continue
        if command in ("when", "unless") and isinstance(settings, dict):
            nested = f"{command}: {_plain_text(settings.get('condition'))}"
            result += _steps(ctx, settings.get("steps"), f"{here}.steps", step_line, depth, nested)
            continue
        step = _step(ctx, command, settings, here, step_line, depth)
        step.condition = step.condition or condition
        result.append(step)
    return result


def _step(ctx: _Context, command: str, settings: Any, locator: str, line: int, depth: int) -> Step:
    location = Location(ctx.path, line)
    if command in ("run", "deploy"):
        run = settings if isinstance(settings, str) else str(settings.get("command") or "") \
            if isinstance(settings, dict) else ""
        options = settings if isinstance(settings, dict) else {}
        when = str(options.get("when") or "")
        step = Step(name=str(options.get("name") or first_line(run)), locator=locator, location=location,
                    run=run, condition="" if when in ("", "on_success") else f"when: {when}")
        step.kinds, step.tools = ctx.classifier.classify(run=run)
        if command == "deploy" and "deploy" not in step.kinds:
            step.kinds = sorted({*step.kinds, "deploy"})
        return step
    if command in ctx.commands:
        return _command_step(ctx, command, locator, line, depth)
    if "/" in command:
        return _orb_step(ctx, command, command, locator, line)
    return Step(name=command, locator=locator, location=location, uses=command)  # a built-in: checkout, ...


def _command_step(ctx: _Context, command: str, locator: str, line: int, depth: int) -> Step:
    """A reusable command, read in place: its scripts are this step's `run`."""
    definition = ctx.commands[command]
    inner: list[Step] = []
    if depth < _MAX_COMMAND_DEPTH and isinstance(definition, dict):
        inner = _steps(ctx, definition.get("steps"), f"commands.{command}.steps", line_of(ctx.commands, command),
                       depth + 1)
    return Step(name=command, locator=locator, location=Location(ctx.path, line),
                run="\n".join(s.run for s in inner if s.run),
                kinds=sorted({k for s in inner for k in s.kinds}), tools=sorted({t for s in inner for t in s.tools}))


def _orb_step(ctx: _Context, uses: str, name: str, locator: str, line: int) -> Step:
    """An orb command or job: classified by the tool table, else by the words of its name."""
    kinds, tools = ctx.classifier.classify(uses=uses)
    if not kinds:
        kinds = kinds_from_name(uses)
    return Step(name=name, locator=locator, location=Location(ctx.path, line), uses=uses, kinds=kinds, tools=tools)
