"""The `ci` namespace: every CI system's files, parsed into one CI-neutral pipeline model.

Each system module (`github_actions`, `gitlab_ci`, ...) exposes `SYSTEM`, `KIND`, `discover(workspace)`
returning its entry files, and `parse(workspace, path, classifier)` returning a `Parsed`. This module runs
them all and flattens the result so policies can say `ci.jobs.exists(j, "test" in j.kinds)`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from devops_audit.classify import default_classifier
from devops_audit.collectors import unexpected_content
from devops_audit.collectors.ci.files import SharedFiles
from devops_audit.collectors.ci.follow import Follower
from devops_audit.collectors.ci.injection import analyse
from devops_audit.collectors.ci.remote import Fetcher, Unresolved, resolve
from devops_audit.collectors.ci.toolchains import toolchains
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence, InventoryEntry, Pipeline
from devops_audit.fileindex import FileIndex
from devops_audit.forge import repository_owner
from devops_audit.untrusted import clean
from devops_audit.workspace import Workspace

__all__ = ["NAME", "SYSTEMS", "Parsed", "collect", "flatten", "is_test_data"]

NAME = "ci"


def _may_hold_jenkins(index: FileIndex) -> bool:
    """A `Jenkinsfile*`, `*.jenkinsfile` or `*.groovy` name, in any case (what `jenkins.discover` looks at)."""
    names = [*index.initials.get("j", ()), *index.initials.get("J", ())]
    return (any(name.lower().startswith("jenkinsfile") for name in names)
            or any(ending.lower() in (".groovy", ".jenkinsfile") for ending in index.endings))


# system module -> whether the file index may hold that system's files (true whenever its `discover` would find
# one): the module of a system the repository does not use is not imported, its regexes are not compiled
SYSTEMS: dict[str, Callable[[FileIndex], bool]] = {
    "devops_audit.collectors.ci.github_actions": lambda index: (
        ".github/workflows" in index.folders or "action.yml" in index.names or "action.yaml" in index.names),
    "devops_audit.collectors.ci.gitlab_ci": lambda index: ".gitlab-ci.yml" in index.file_set,
    "devops_audit.collectors.ci.jenkins": _may_hold_jenkins,
    "devops_audit.collectors.ci.azure_pipelines": lambda index: ".yml" in index.endings or ".yaml" in index.endings,
    "devops_audit.collectors.ci.circleci": lambda index: ".circleci" in index.folders,
    "devops_audit.collectors.ci.bitbucket": lambda index: "bitbucket-pipelines.yml" in index.file_set,
    "devops_audit.collectors.ci.services": lambda index: any(name in index.names for name in (
        ".pre-commit-config.yaml", ".pre-commit-config.yml", "secret_scanning.yml", "secret_scanning.yaml")),
}
# system module -> the light module whose `discover` finds its files, when that needs more than the file index:
# the parser is imported only when a file is found
DISCOVERY: dict[str, str] = {"devops_audit.collectors.ci.azure_pipelines": "devops_audit.collectors.ci.azure_discovery"}
_TEST_DATA_PARTS = frozenset({"testdata", "test-data", "test_data", "fixtures", "__fixtures__", "testfixtures"})


@dataclass
class Parsed:
    """What parsing one entry file gave: pipelines, and every file read (parsed or failed)."""

    pipelines: list[Pipeline] = field(default_factory=list)
    inventory: list[InventoryEntry] = field(default_factory=list)
    documents: dict[str, Any] = field(default_factory=dict)  # parsed YAML by path, for `injection` to reuse


def is_test_data(path: str) -> bool:
    """Files under test-data folders (`testdata/.github/workflows/x.yml`) are not this repository's CI."""
    return any(part.lower() in _TEST_DATA_PARTS for part in path.split("/")[:-1])


def collect(workspace: Workspace, options: Any) -> Evidence:
    classifier = default_classifier()
    if getattr(options, "classification", None):
        classifier = classifier.extended(options.classification)
    pipelines: list[Pipeline] = []
    inventory: list[InventoryEntry] = []
    documents: dict[str, Any] = {}
    follower = Follower(workspace, classifier)
    files = SharedFiles(workspace)  # what the parsers and the injection analysis read, read once
    settings = getattr(options, "settings", None) or {}
    fetcher = Fetcher(offline=True if options is None else bool(getattr(options, "offline", False)),
                      api_url=getattr(options, "api_url", None), cache_dir=getattr(options, "cache_dir", None),
                      circleci_api=settings.get("circleci_api"),
                      owner=functools.cache(lambda: repository_owner(workspace, settings)))  # read once, if needed
    unresolved: list[Unresolved] = []
    for module_name, may_hold in SYSTEMS.items():
        if not may_hold(workspace.index):
            continue
        finder = _system(DISCOVERY.get(module_name, module_name))
        paths = finder.discover(workspace) if finder is not None else []
        system = _system(module_name) if paths else None
        if system is None:
            continue
        for path in paths:
            try:
                parsed = system.parse(workspace if getattr(system, "EDITS_YAML", False) else files, path, classifier)
                for pipeline in parsed.pipelines:
                    follower.follow_pipeline(pipeline)  # what the commands run: scripts, make, npm, tox, ...
                    unresolved.extend(resolve(pipeline, fetcher, classifier))  # remote workflows, includes, ...
                    pipeline.toolchains = toolchains(workspace, pipeline)
            except EvidenceError as exc:
                inventory.append(InventoryEntry(exc.path, system.KIND, "error", exc.reason, exc.line, NAME))
                continue
            except Exception as exc:  # an unexpected shape in one file loses only that file
                inventory.append(unexpected_content(path, system.KIND, exc, NAME))
                continue
            pipelines.extend(parsed.pipelines)
            documents.update(parsed.documents)
            for entry in parsed.inventory:
                entry.evidence = NAME
            inventory.extend(parsed.inventory)
    for entry in follower.inventory:
        entry.evidence = NAME
    inventory.extend(follower.inventory)
    facts = flatten(pipelines)
    facts.update(analyse(files, pipelines, documents, inventory))  # injections, dangerous checkouts, inline suppressions
    facts["unresolved"] = unresolved
    return Evidence(
        NAME,
        present=bool(pipelines) or any(e.status == "error" for e in inventory),
        facts=clean(facts),  # plain JSON values in one pass: lone surrogates and odd numbers made safe
        inventory=inventory,
        hint=(
            "no CI configuration found (looked for .github/workflows/*.yml, .gitlab-ci.yml, Jenkinsfile, "
            "azure-pipelines.yml, .circleci/config.yml, bitbucket-pipelines.yml)"
        ),
        clean=True,
    )


def _system(module_name: str) -> Any:
    """A CI system's module (or its discovery module); None when that system is not built yet."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise


def flatten(pipelines: list[Pipeline]) -> dict[str, Any]:
    """Flat lists of pipelines, jobs, steps and references, each item knowing where it belongs.

    Nothing is nested twice (a pipeline lists its job ids, a job does not hold its steps): the CEL core copies
    a namespace's value on every access, so the `ci` facts are kept as small as the policies allow. Each item
    is a dict of its record's fields whose values are still the model's (locations, triggers, lists):
    `untrusted.clean` turns the whole into plain JSON values in one pass.
    """
    data: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    chains: list[dict[str, Any]] = []
    chain_at: dict[tuple[str, int], int] = {}  # setup step location -> its index in `chains`
    jobs_at: dict[str, list[dict[str, Any]]] = {}  # pipeline path -> the jobs of every pipeline with that path
    for model in pipelines:
        pipeline = _fields(model)
        trigger_kinds = sorted({t.kind for t in model.triggers})
        context = {"pipeline": model.path, "system": model.system}
        pipeline_jobs = jobs_at.setdefault(model.path, [])
        for job in pipeline.pop("jobs"):
            for step in job.steps:
                steps.append({**_fields(step), **context, "job": job.id, "job_kinds": job.kinds})
            record = _fields(job)
            del record["steps"]
            jobs.append({**record, **context, "triggers": job.triggers or trigger_kinds})
            pipeline_jobs.append(jobs[-1])
        pipeline["job_ids"] = [j["id"] for j in pipeline_jobs]
        pipeline["job_kinds"] = sorted({k for j in pipeline_jobs for k in j["kinds"]})
        pipeline["trigger_kinds"] = trigger_kinds
        refs.extend({**_fields(ref), **context} for ref in pipeline.pop("refs"))
        for toolchain in pipeline.pop("toolchains"):
            # once per setup step, though a composite action has many callers: the first caller's chain shown
            where = (toolchain.location.path, toolchain.location.line)
            seen = chain_at.get(where)
            if seen is None:
                chain_at[where] = len(chains)
                chains.append({**_fields(toolchain), **context})
            elif toolchain.via and not chains[seen]["via"]:
                chains[seen] = {**_fields(toolchain), **context}
        data.append(pipeline)
    return {
        # where a pipeline-wide verdict points: the main pipeline proper (not an action definition or a service)
        "anchor": _main_pipeline([p for p in data if p["kind"] == "pipeline"] or data, jobs),
        "systems": sorted({p["system"] for p in data}),
        "pipelines": data,
        "jobs": jobs,
        "steps": steps,
        "refs": refs,
        "toolchains": chains,
    }


def _fields(record: Any) -> dict[str, Any]:
    """A dataclass record's fields by name, in field order; the values themselves, not copies."""
    return {name: getattr(record, name) for name in _field_names(type(record))}


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _main_pipeline(pipelines: list[dict[str, Any]], jobs: list[dict[str, Any]]) -> str:
    """The pipeline with the most jobs that build or test on pushes or pull requests (ties: the first one),
    so a pipeline-wide verdict points at the project's CI, not at a housekeeping workflow; "." without any."""
    if not pipelines:
        return "."
    score = {p["path"]: 0 for p in pipelines}
    for job in jobs:
        if job["pipeline"] in score and {"build", "test"} & set(job["kinds"]) and {"push", "pull_request"} & set(job["triggers"]):
            score[job["pipeline"]] += 1
    return max(score, key=lambda path: score[path])
