"""GitHub Actions: root `.github/workflows/*.yml|yaml` (GitHub runs nothing else), into the pipeline model.

Understood: triggers (`on:` as string, list or mapping), top-level and job `permissions`, jobs with `needs`,
`timeout-minutes`, `continue-on-error`, `environment`, `container`/`services` images, `if:`; steps with
`run`/`uses`; reusable workflows (`jobs.<id>.uses`, local ones read and classified); local composite
actions (`uses: ./path` reads `path/action.yml`); every `uses:` and image with its pinning state.
"""

from __future__ import annotations

import re
from typing import Any

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.common import mark_reuse, number, strings
from devops_audit.collectors.ci.files import SharedFiles, shared
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.facts import ExternalRef, InventoryEntry, Job, Location, Pipeline, Step, Trigger
from devops_audit.workspace import Workspace
from devops_audit.yamlsafe import line_of

__all__ = ["SYSTEM", "KIND", "discover", "parse", "parse_uses", "parse_image", "transitive_upstream"]

SYSTEM = "github"
KIND = "github-actions"
MAX_UPSTREAM = 1_000_000  # (job, upstream job) pairs in one pipeline: ~1400 jobs in sequence
_WORKFLOW = re.compile(r"^\.github/workflows/[^/]+\.ya?ml$")
_ACTION = re.compile(r"(^|/)action\.ya?ml$")
ACTION_KIND = "github-action"
MAX_ACTION_DEPTH = 5
_SHA = re.compile(r"^[0-9a-f]{40}$")
_VERSIONISH = re.compile(r"^v?\d+(\.\d+)*([-.+][\w.]+)?$")
_FIRST_PARTY = ("actions", "github")
_EVENT_KINDS = {
    "push": "push",
    "pull_request": "pull_request",
    "pull_request_target": "pull_request",
    "merge_group": "pull_request",
    "schedule": "schedule",
    "workflow_dispatch": "manual",
    "release": "tag",
}


def discover(workspace: Workspace) -> list[str]:
    """Workflows, and every action definition of the repository (CI code others run), outside test data."""
    from devops_audit.collectors.ci.pipelines import is_test_data

    index = workspace.index
    workflows = [p for p in index.folders.get(".github/workflows", ()) if _WORKFLOW.match(p)]
    actions = index.named(*(name for name in index.initials.get("a", ()) if _ACTION.match(name)))
    return sorted(workflows + [p for p in actions if not is_test_data(p) and not _WORKFLOW.match(p)])


def parse(workspace: Workspace | SharedFiles, path: str, classifier: Classifier) -> Parsed:
    workspace = shared(workspace)
    if _ACTION.search(path) and not _WORKFLOW.match(path):
        return _parse_action(workspace, path, classifier)
    documents = workspace.load_yaml(path)
    if not documents or documents[0] is None:
        raise EvidenceError(path, "empty workflow file")
    workflow = documents[0]
    if not isinstance(workflow, dict):
        raise EvidenceError(path, f"a workflow must be a mapping, found a {type(workflow).__name__}", line_of(workflow))
    parsed = Parsed(inventory=[InventoryEntry(path, KIND, "parsed")], documents={path: workflow})
    pipeline = Pipeline(
        system=SYSTEM, path=path, name=str(workflow.get("name") or path.rsplit("/", 1)[-1]),
        location=Location(path, 1), files=[path],
    )
    on_key = "on" if "on" in workflow else True if True in workflow else None
    if on_key is None:
        raise EvidenceError(path, "workflow has no `on:` trigger", 1)
    pipeline.triggers = _triggers(workflow[on_key], path, line_of(workflow, on_key))
    pipeline.permissions = _plain(workflow.get("permissions"))
    jobs = workflow.get("jobs")
    if not isinstance(jobs, dict):
        raise EvidenceError(path, "workflow has no `jobs:` mapping", line_of(workflow, "jobs", 1))
    for job_id, body in jobs.items():
        job_line = line_of(jobs, job_id)
        if not isinstance(body, dict):
            parsed.inventory.append(InventoryEntry(path, KIND, "error", f"job {job_id!r} is not a mapping", job_line))
            continue
        pipeline.jobs.append(_job(workspace, pipeline, str(job_id), body, job_line, classifier, parsed))
    transitive_upstream(pipeline.jobs)
    parsed.pipelines.append(pipeline)
    return parsed


def _triggers(on: Any, path: str, line: int) -> list[Trigger]:
    if isinstance(on, str):
        on = {on: None}
    elif isinstance(on, list):
        on = {str(event): None for event in on}
    if not isinstance(on, dict):
        return []
    triggers = []
    for event, config in on.items():
        event = str(event)
        location = Location(path, line_of(on, event, line))
        config = config if isinstance(config, dict) else {}
        branches = strings(config.get("branches"))
        paths = strings(config.get("paths"))
        paths_ignore = strings(config.get("paths-ignore"))
        if event == "push" and ("tags" in config or "tags-ignore" in config):
            triggers.append(Trigger("tag", "push.tags", location))
            if not ("branches" in config or "branches-ignore" in config):
                continue  # a tags-only push trigger
        inputs = [str(name) for name in config["inputs"]] if isinstance(config.get("inputs"), dict) else []
        triggers.append(Trigger(_EVENT_KINDS.get(event, "other"), event, location, branches, paths, paths_ignore, inputs))
    return triggers


def _job(workspace: SharedFiles, pipeline: Pipeline, job_id: str, body: dict[str, Any], line: int,
         classifier: Classifier, parsed: Parsed) -> Job:
    path = pipeline.path
    locator = f"jobs.{job_id}"
    job = Job(
        id=job_id, name=str(body.get("name") or job_id), locator=locator, location=Location(path, line),
        needs=strings(body.get("needs")),
        timeout_minutes=number(body.get("timeout-minutes")),
        continue_on_error=body.get("continue-on-error") is True,
        condition=str(body.get("if") or ""),
        permissions=_plain(body.get("permissions")),
        runs_on=_runner_labels(body.get("runs-on")),
    )
    environment = body.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    job.environment = str(environment or "")
    container = body.get("container")
    image = container.get("image") if isinstance(container, dict) else container
    if isinstance(image, str) and image:
        job.image = image
        pipeline.refs.append(parse_image(image, Location(path, line_of(body, "container", line)), f"{locator}.container"))
    services = body.get("services")
    if isinstance(services, dict):
        for name, service in services.items():
            service_image = service.get("image") if isinstance(service, dict) else service
            if isinstance(service_image, str) and service_image:
                pipeline.refs.append(parse_image(service_image, Location(path, line_of(services, name, line)),
                                                 f"{locator}.services.{name}"))
    kinds: set[str] = set()
    tools: set[str] = set()
    reusable = body.get("uses")
    if isinstance(reusable, str):
        job.reusable = reusable
        ref = parse_uses(reusable, Location(path, line_of(body, "uses", line)), f"{locator}.uses", "reusable-workflow")
        pipeline.refs.append(ref)
        pipeline.reuse.append("reusable-workflow")
        step_kinds, step_tools = classifier.classify(uses=reusable)
        kinds.update(step_kinds)
        tools.update(step_tools)
        if ref.local:
            local_kinds, local_tools = _local_reusable(workspace, reusable, classifier, parsed, pipeline)
            kinds.update(local_kinds)
            tools.update(local_tools)
    steps = body.get("steps")
    if isinstance(steps, list):
        for index, raw in enumerate(steps):
            if not isinstance(raw, dict):
                parsed.inventory.append(InventoryEntry(path, KIND, "error", f"{locator}.steps[{index}] is not a mapping",
                                                       line_of(steps, index, line)))
                continue
            for step in _step(workspace, pipeline, raw, f"{locator}.steps[{index}]",
                              Location(path, line_of(steps, index, line)), classifier, parsed):
                job.steps.append(step)
                kinds.update(step.kinds)
                tools.update(step.tools)
    if job.environment and not kinds & {"deploy", "publish"}:
        kinds.add("deploy")  # GitHub records every job that targets an environment as a deployment
    job.kinds = sorted(kinds)
    job.tools = sorted(tools)
    return job


def _step(workspace: SharedFiles, pipeline: Pipeline, raw: dict[str, Any], locator: str, location: Location,
          classifier: Classifier, parsed: Parsed, via: tuple[str, ...] = ()) -> list[Step]:
    """The step, followed by the steps of the local composite action it calls (with their own locations).

    `via` is set for the steps of a called local action: the chain of callers; their `uses:` references are
    recorded by the action's own pipeline (every action definition is audited), not again here.
    """
    run = raw.get("run")
    uses = raw.get("uses")
    step = Step(
        name=str(raw.get("name") or raw.get("id") or uses or (str(run).strip().splitlines() or [""])[0])[:200],
        locator=locator, location=location,
        run=str(run) if run is not None else "",
        uses=str(uses) if uses is not None else "",
        continue_on_error=raw.get("continue-on-error") is True,
        condition=str(raw.get("if") or ""),
        via=list(via),
    )
    with_args = raw.get("with") if isinstance(raw.get("with"), dict) else {}
    step.inputs = {str(k): str(v) for k, v in with_args.items() if isinstance(v, (str, int, float, bool))}
    # arguments such as `args: --cov-fail-under 80` or a semgrep config are part of what the step does
    text = "\n".join([step.run, *(str(v) for v in with_args.values() if isinstance(v, (str, int, float)))])
    if str(with_args.get("attestations", "")).lower() == "true":
        text += "\n--attestations"  # e.g. pypi-publish's explicit PEP 740 attestations
    kinds, tools = classifier.classify(run=text, uses=_with_commented_version(workspace, location, step.uses))
    step.kinds, step.tools = list(kinds), list(tools)
    if not step.uses:
        return [step]
    ref = parse_uses(step.uses, Location(location.path, line_of(raw, "uses", location.line)), f"{locator}.uses",
                     "action")
    if not via:
        pipeline.refs.append(ref)
    if not ref.local or step.uses.startswith("docker://"):
        return [step]
    inner = _local_action(workspace, step, classifier, parsed, pipeline)
    step.kinds = sorted({*step.kinds, *(k for s in inner for k in s.kinds)})
    step.tools = sorted({*step.tools, *(t for s in inner for t in s.tools)})
    return [step, *inner]


_COMMENTED_VERSION = re.compile(r"@[0-9a-f]{40}[\"']?\s+#\s*(v?\d+(?:\.\d+)*)\b")


def _with_commented_version(workspace: SharedFiles, location: Location, uses: str) -> str:
    """`owner/action@<sha> # v1.13.0` is classified as `owner/action@v1.13.0`: the comment says which release
    the SHA is (Dependabot and Renovate keep it up to date); the pinning itself is judged on the SHA."""
    if "@" not in uses or not _SHA.match(uses.rsplit("@", 1)[1]):
        return uses
    lines = workspace.lines(location.path)
    for text in lines[location.line - 1:location.line + 1]:  # the step line, or `uses:` just after `- name:`
        found = _COMMENTED_VERSION.search(text) if uses.split("@", 1)[0] in text else None
        if found:
            return f"{uses.rsplit('@', 1)[0]}@{found.group(1)}"
    return uses


def _local_action(workspace: SharedFiles, caller: Step, classifier: Classifier, parsed: Parsed,
                  pipeline: Pipeline) -> list[Step]:
    """The steps of a local composite action (`uses: ./path`), located in its `action.yml`, as the caller's."""
    folder = caller.uses[2:].split("@", 1)[0].strip("/")
    prefix = f"{folder}/" if folder else ""
    candidate = next((c for c in (f"{prefix}action.yml", f"{prefix}action.yaml") if workspace.exists(c)), None)
    if candidate is None:
        # e.g. a repository checked out into a sub-folder at run time: nothing here to read, nothing broken
        parsed.inventory.append(InventoryEntry(prefix + "action.yml", ACTION_KIND, "skipped",
                                               f"local action {caller.uses!r} is not in this repository"))
        return []
    via = (*caller.via, f"{caller.location.path}:{caller.location.line}")
    if len(via) > MAX_ACTION_DEPTH or any(v.rsplit(":", 1)[0] == candidate for v in via):
        return []  # an action calling itself, or nested too deep
    mark_reuse(pipeline, "composite-action")
    try:
        documents = workspace.load_yaml(candidate)
    except EvidenceError:
        return []  # the action definition is audited on its own and reports its error there
    if candidate not in pipeline.files:
        pipeline.files.append(candidate)
    parsed.documents[candidate] = documents[0] if documents else None
    raw_steps = _action_steps(documents)
    steps: list[Step] = []
    for index, raw in enumerate(raw_steps):
        if isinstance(raw, dict):
            steps.extend(_step(workspace, pipeline, raw, f"{caller.locator}>{candidate}:runs.steps[{index}]",
                               Location(candidate, line_of(raw_steps, index)), classifier, parsed, via))
    return steps


def _action_steps(documents: list[Any]) -> list[Any]:
    action = documents[0] if documents else None
    runs = action.get("runs") if isinstance(action, dict) else None
    steps = runs.get("steps") if isinstance(runs, dict) else None
    return steps if isinstance(steps, list) else []


def _parse_action(workspace: SharedFiles, path: str, classifier: Classifier) -> Parsed:
    """An action definition as a `Pipeline` of kind `action`: one job holding its `runs.steps`.

    Its job has no kinds (it runs inside its callers' jobs, not as this repository's CI) and `reusable` set to
    the file (no timeout or permissions of its own to judge); its steps and references are audited as CI code.
    """
    documents = workspace.load_yaml(path)
    action = documents[0] if documents else None
    runs = action.get("runs") if isinstance(action, dict) else None
    if not isinstance(runs, dict):
        return Parsed([], [InventoryEntry(path, ACTION_KIND, "skipped", "not a GitHub action definition (no `runs:`)")])
    parsed = Parsed(inventory=[InventoryEntry(path, ACTION_KIND, "parsed")])
    parsed.documents[path] = action
    pipeline = Pipeline(system=SYSTEM, path=path, name=str(action.get("name") or path), location=Location(path, 1),
                        files=[path], kind="action")
    line = line_of(action, "runs")
    job = Job(id="action", name=pipeline.name, locator="runs", location=Location(path, line), reusable=path)
    image = runs.get("image")
    if isinstance(image, str) and image.startswith("docker://"):
        pipeline.refs.append(parse_uses(image, Location(path, line_of(runs, "image", line)), "runs.image", "action"))
    raw_steps = _action_steps(documents)
    for index, raw in enumerate(raw_steps):
        if not isinstance(raw, dict):
            parsed.inventory.append(InventoryEntry(path, ACTION_KIND, "error", f"runs.steps[{index}] is not a mapping",
                                                   line_of(raw_steps, index, line)))
            continue
        job.steps.extend(_step(workspace, pipeline, raw, f"runs.steps[{index}]",
                               Location(path, line_of(raw_steps, index, line)), classifier, parsed))
    pipeline.jobs.append(job)
    parsed.pipelines.append(pipeline)
    return parsed


def _local_reusable(workspace: SharedFiles, uses: str, classifier: Classifier, parsed: Parsed,
                    pipeline: Pipeline) -> tuple[set[str], set[str]]:
    """Kinds and tools of the jobs of a local reusable workflow (`uses: ./.github/workflows/x.yml`)."""
    target = uses[2:].split("@", 1)[0]
    if not workspace.exists(target):
        parsed.inventory.append(InventoryEntry(target, KIND, "error", f"reusable workflow {uses!r} not found"))
        return set(), set()
    try:
        documents = workspace.load_yaml(target)
    except EvidenceError:
        return set(), set()  # the file is a workflow itself and reports its own error
    jobs = documents[0].get("jobs") if documents and isinstance(documents[0], dict) else None
    kinds: set[str] = set()
    tools: set[str] = set()
    for body in jobs.values() if isinstance(jobs, dict) else ():
        steps = body.get("steps") if isinstance(body, dict) else None
        for raw in steps if isinstance(steps, list) else ():
            if isinstance(raw, dict):
                k, t = classifier.classify(run=str(raw.get("run") or ""), uses=str(raw.get("uses") or ""))
                kinds.update(k)
                tools.update(t)
    return kinds, tools


def parse_uses(uses: str, location: Location, locator: str, type_: str) -> ExternalRef:
    """An `owner/repo[/path]@ref`, `./local` or `docker://image` reference and how it is pinned."""
    if uses.startswith("docker://"):
        ref = parse_image(uses[len("docker://"):], location, locator)
        ref.ref = uses
        return ref
    if uses.startswith("./"):
        return ExternalRef(type_, uses, uses, "", "local", True, True, True, location, locator)
    name, _, version = uses.partition("@")
    owner = name.split("/", 1)[0].lower()
    if _SHA.match(version):
        pinned_by = "sha"
    elif not version:
        pinned_by = "none"
    elif _VERSIONISH.match(version):
        pinned_by = "tag"
    else:
        pinned_by = "branch"
    return ExternalRef(type_, uses, name, version, pinned_by, pinned_by == "sha", owner in _FIRST_PARTY,
                       False, location, locator)


def _runner_labels(value: Any) -> list[str]:
    """`runs-on: ubuntu-24.04`, `[self-hosted, linux]` or `{group: ..., labels: [...]}` -> the labels."""
    if isinstance(value, dict):
        return [*strings(value.get("group")), *strings(value.get("labels"))]
    return strings(value)


def parse_image(image: str, location: Location, locator: str) -> ExternalRef:
    """A container image reference: pinned by digest, by tag, or not at all (implicit `latest`)."""
    name, digest = (image.split("@", 1) + [""])[:2]
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if tag:
        name = name[: -(len(tag) + 1)]
    if digest.startswith("sha256:"):
        pinned_by, version = "digest", digest
    elif tag and tag != "latest" and "${" not in tag and "$" not in tag:
        pinned_by, version = "tag", tag
    else:
        pinned_by, version = "none", tag
    return ExternalRef("image", image, name, version, pinned_by, pinned_by == "digest", False, False,
                       location, locator)


def transitive_upstream(jobs: list[Job]) -> None:
    """Fill `job.upstream` with every job that must finish before it (through `needs`); the graph's size is
    bounded (MAX_UPSTREAM links in all), so a chain of thousands of jobs is refused rather than hanging."""
    by_id = {job.id: job for job in jobs}
    links = 0
    for job in jobs:
        seen: set[str] = set()
        stack = list(job.needs)
        while stack:
            parent = stack.pop()
            if parent in seen:
                continue
            seen.add(parent)
            links += 1
            if links > MAX_UPSTREAM:
                raise EvidenceError(job.location.path, f"the `needs` graph links more than {MAX_UPSTREAM:,} job "
                                    "pairs; refused (expansion budget)", job.location.line)
            stack.extend(by_id[parent].needs if parent in by_id else ())
        job.upstream = sorted(seen)


def _plain(value: Any) -> Any:
    """Permissions as plain data (`read-all`, a scope mapping, `{}`), or None when unset."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if value is None:
        return None
    return str(value)
