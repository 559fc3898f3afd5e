"""Typed, JSON-serialisable facts. Collectors produce them; policies read them; nothing here judges.

Every fact that points into the repository carries a `Location`. Pipeline facts are CI-neutral: GitHub
Actions, GitLab CI, Jenkins, Azure Pipelines, CircleCI and Bitbucket all map onto
`Pipeline -> Job -> Step`, with triggers, external references and a classification of what each step does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache
from typing import Any, Literal

__all__ = [
    "Location", "InventoryEntry", "Evidence",
    "Trigger", "ExternalRef", "Step", "Job", "Pipeline", "Toolchain",
    "TRIGGER_KINDS", "to_data",
]

InventoryStatus = Literal["parsed", "skipped", "error"]
TRIGGER_KINDS = ("push", "pull_request", "schedule", "tag", "manual", "other")


@dataclass(frozen=True)
class Location:
    """A place in the repository; `line` is 1-based (1 when only the file is known)."""

    path: str
    line: int = 1


@dataclass
class InventoryEntry:
    """One evidence file and what became of it."""

    path: str
    kind: str
    status: InventoryStatus
    reason: str = ""
    line: int | None = None
    evidence: str = ""  # the fact namespace it feeds, e.g. "ci"


@dataclass
class Evidence:
    """What one collector found: facts under one namespace, plus the files it looked at.

    `present` is False when nothing was found at all (indicators that need it answer `unknown`, and
    `hint` tells the user how to provide it). `clean` is True when the collector's last step passed `facts`
    through `untrusted.clean` (so `collect_all` does not copy them a second time).
    """

    name: str
    present: bool
    facts: Any
    inventory: list[InventoryEntry] = field(default_factory=list)
    hint: str = ""
    clean: bool = False

    @property
    def errors(self) -> list[InventoryEntry]:
        return [entry for entry in self.inventory if entry.status == "error"]


# -- pipelines ---------------------------------------------------------------------------------
@dataclass
class Trigger:
    """When a pipeline runs. `kind` is one of TRIGGER_KINDS; `raw` is the system's own name."""

    kind: str
    raw: str
    location: Location
    branches: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    paths_ignore: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # manual triggers' parameters (e.g. a version to roll back to)


@dataclass
class ExternalRef:
    """Something a pipeline pulls in from elsewhere: an action, include, orb, image or library.

    `pinned_by` is `sha` (full commit SHA), `digest` (image digest), `tag`, `version`, `branch` or `none`;
    `pinned` is True only for immutable references (sha, digest).
    """

    type: str  # action | reusable-workflow | include | orb | image | library | template | repository
    ref: str
    name: str
    version: str
    pinned_by: str
    pinned: bool
    first_party: bool
    local: bool
    location: Location
    locator: str


@dataclass
class Step:
    """One command or action inside a job."""

    name: str
    locator: str
    location: Location
    run: str = ""
    uses: str = ""
    kinds: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    continue_on_error: bool = False
    condition: str = ""
    inputs: dict[str, str] = field(default_factory=dict)  # action/task arguments (GitHub `with:`, Azure `inputs:`)
    # a step read from a file the CI calls (script, Makefile, package.json, ...): the locations that led here,
    # from the CI file down to the caller (`[".github/workflows/ci.yml:68", "Makefile:12"]`); empty for CI steps
    via: list[str] = field(default_factory=list)


@dataclass
class Job:
    """A unit of work with its own runner. `needs` are direct upstream job ids in the same pipeline;
    `upstream` is every job that must succeed before this one (needs, stage order), transitively."""

    id: str
    name: str
    locator: str
    location: Location
    steps: list[Step] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)
    stage: str = ""
    timeout_minutes: float | None = None
    continue_on_error: bool = False
    environment: str = ""
    manual: bool = False
    image: str = ""
    condition: str = ""
    permissions: Any = None  # GitHub: "read-all" / mapping / None when unset
    triggers: list[str] = field(default_factory=list)  # trigger kinds this job runs on (subset of the pipeline's)
    reusable: str = ""  # a reusable workflow / template / extends it delegates to
    runs_on: list[str] = field(default_factory=list)  # runner labels: GitHub `runs-on`, GitLab `tags`, Azure pool
    # kinds learnt from followed files or remote definitions -> the chain that shows it
    # (`{"test": ".github/workflows/ci.yml:68 → Makefile:326"}`), so a verdict can say where the work happens
    kinds_via: dict[str, str] = field(default_factory=dict)


@dataclass
class Pipeline:
    """One CI definition file (with what it includes) of one system."""

    system: str  # github | gitlab | jenkins | azure | circleci | bitbucket
    path: str
    name: str
    location: Location
    triggers: list[Trigger] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    refs: list[ExternalRef] = field(default_factory=list)
    permissions: Any = None
    reuse: list[str] = field(default_factory=list)  # how it is modular: include, extends, reusable-workflow, ...
    files: list[str] = field(default_factory=list)  # every file read to build it (includes, templates)
    kind: str = "pipeline"  # pipeline | action (a GitHub action definition, audited whether called or not)
    toolchains: list[Toolchain] = field(default_factory=list)  # language toolchains its setup steps install


@dataclass
class Toolchain:
    """A language toolchain a setup step installs, and whether its version is pinned.

    `pinned_by` is `version` (an explicit version), `file` (a version file such as `.nvmrc`), or `none`
    (`stable`, `latest`, `lts/*`, `3.x`, no version at all, or `check-latest: true`); `reason` says which.
    """

    tool: str  # go | node | python | java | dotnet | ruby | rust | ...
    version: str
    pinned_by: str
    pinned: bool
    reason: str
    location: Location
    locator: str
    via: list[str] = field(default_factory=list)  # the chain of callers when the step is in a composite action


def to_data(value: Any) -> Any:
    """Facts as plain JSON values (dataclasses become dicts, tuples lists)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {name: to_data(getattr(value, name)) for name in _field_names(kind)}
    return value


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(item.name for item in fields(kind))
