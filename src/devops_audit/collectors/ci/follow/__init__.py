"""Follow CI commands into the repository: scripts, Makefiles, package.json, tox, nox, just, Taskfile, pixi...

Read, never executed. A step whose command calls a repository file or task (`make test`, `./ci.sh`,
`npm run ci`, `tox -e lint`) gets the commands it leads to as extra steps of its job, located in the file
that holds them and carrying the chain of locations that led there (`step.via`), so `ci.yml:68 → Makefile:40`
can explain a verdict. Bounded depth, cycle-safe, only files inside the repository (through the Workspace),
each file parsed once and each (file, target) expanded once per scan.
"""

from __future__ import annotations

import functools
import importlib
import posixpath
from types import ModuleType
from typing import NamedTuple

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.follow.model import Call, Definitions
from devops_audit.collectors.ci.follow.shell import commands
from devops_audit.errors import EvidenceError
from devops_audit.facts import InventoryEntry, Job, Location, Pipeline, Step
from devops_audit.workspace import Workspace
from devops_audit.yamlsafe import YamlError

__all__ = ["Follower", "Followed", "MAX_DEPTH", "MAX_STEPS", "add_kinds"]

# program -> follower module, so a follower is imported only when a command calls its program
_PROGRAMS = {
    "make": "make", "gmake": "make", "npm": "node", "pnpm": "node", "yarn": "node", "bun": "node",
    "tox": "tox", "nox": "nox", "just": "just", "task": "task", "go-task": "task", "pixi": "pixi",
    "hatch": "pyproject", "pdm": "pyproject", "uv": "pyproject", "uvx": "pyproject", "poetry": "pyproject",
    "pipenv": "pyproject", "pipx": "pyproject", "conda": "pyproject", "mamba": "pyproject",
    "micromamba": "pyproject", "bundle": "pyproject", "npx": "pyproject", "composer": "composer",
    "composer.phar": "composer", "pre-commit": "precommit", "prek": "precommit",
}
_KIND_MODULES = {"package.json": "node", "pre-commit": "precommit"}  # Call.kind -> module, when they differ
MAX_DEPTH = 6  # files deep, from the CI step
MAX_STEPS = 2000  # followed commands per call
MAX_FILE_BYTES = 1024 * 1024
KIND = "ci-followed"


class Followed(NamedTuple):  # a NamedTuple: made at import ~10x faster than a frozen dataclass
    """A command read from a followed file; `via` are the locations between the caller and it."""

    text: str
    location: Location
    via: tuple[str, ...]


class Follower:
    """One scan's follower: parses each file once and expands each (file, target) and each CI step text once."""

    def __init__(self, workspace: Workspace, classifier: Classifier) -> None:
        self.workspace = workspace
        self.classifier = classifier
        self.inventory: list[InventoryEntry] = []
        self._definitions: dict[tuple[str, str], Definitions | None] = {}
        self._expansions: dict[tuple[Call, str], tuple[Followed, ...]] = {}
        self._active: list[tuple[Call, str]] = []
        self._top: dict[str, tuple[Followed, ...]] = {}  # a CI step's text -> what it leads to
        self._classes: dict[str, tuple[list[str], list[str]]] = {}  # a followed command -> (kinds, tools)

    # -- into the pipeline model -------------------------------------------------------------------
    def follow_pipeline(self, pipeline: Pipeline) -> None:
        """Add to every job the steps its commands lead to, and their kinds and tools to the job."""
        for job in pipeline.jobs:
            steps: list[Step] = []
            followed: list[Step] = []
            for step in job.steps:
                steps.append(step)
                if step.run:
                    found = self.steps_for(step)
                    steps.extend(found)
                    followed.extend(found)
            if not followed:
                continue
            job.steps = steps
            if pipeline.kind != "action":  # an action definition's job runs in its callers, it has no kinds
                add_kinds(job, followed)

    def steps_for(self, step: Step) -> list[Step]:
        """The followed steps of one CI step, each classified and located, with its chain."""
        origin = [*step.via, f"{step.location.path}:{step.location.line}"]
        result = []
        if step.run not in self._top:  # a composite action's steps come back in every pipeline calling it
            self._top[step.run] = tuple(self.follow_text(step.run, ""))
        for index, item in enumerate(self._top[step.run]):
            kinds, tools = self._classified(item.text)
            result.append(Step(
                name=item.text[:200], locator=f"{step.locator}>{item.location.path}[{index}]",
                location=item.location, run=item.text, kinds=list(kinds), tools=list(tools),
                continue_on_error=step.continue_on_error, condition=step.condition,
                via=[*origin, *item.via],
            ))
        return result

    def _classified(self, text: str) -> tuple[list[str], list[str]]:
        """(kinds, tools) of a followed command, classified once: the same commands come back for every
        step that leads to them (copy the lists before giving them to a step)."""
        if text not in self._classes:
            self._classes[text] = self.classifier.classify(run=text)
        return self._classes[text]

    # -- following ---------------------------------------------------------------------------------
    def follow_text(self, text: str, cwd: str, here: str = "") -> list[Followed]:
        """What the commands of `text` lead to; `here` is the text's own location (`file:line`) when nested."""
        found: list[Followed] = []
        for command in commands(text):
            argv = command.argv
            if argv[0] == "cd" and len(argv) > 1 and not argv[1].startswith(("-", "$", "/", "~")):
                cwd = _inside(posixpath.join(cwd, argv[1])) or cwd
                continue
            call = _match(argv)
            if call is None:
                continue
            found.extend(self._follow_call(call, cwd, here))
            if len(found) > MAX_STEPS:
                break
        return found[:MAX_STEPS]

    def _follow_call(self, call: Call, cwd: str, here: str) -> list[Followed]:
        prefix = (here,) if here else ()
        if call.kind == "inline":
            return [Followed(f.text, f.location, prefix + f.via) for f in self.follow_text(call.inline, cwd, here)]
        key = (call, cwd)
        if key in self._active or len(self._active) >= MAX_DEPTH:
            return []  # a cycle (`a: b`, `b: a`) or too deep
        if key not in self._expansions:
            self._active.append(key)
            try:
                self._expansions[key] = tuple(self._expand(call, cwd))
            finally:
                self._active.pop()
        expanded = self._expansions[key]
        if not expanded and call.inline:  # `pixi run pytest`: not a task, a command
            return [Followed(f.text, f.location, prefix + f.via) for f in self.follow_text(call.inline, cwd, here)]
        return [Followed(f.text, f.location, prefix + f.via) for f in expanded]

    def _expand(self, call: Call, cwd: str) -> list[Followed]:
        module = _follower(_KIND_MODULES.get(call.kind, call.kind))
        path = self._find(call, cwd)
        definitions = self._parse(module, path) if path else None
        if definitions is None:
            return []
        inner_cwd = posixpath.dirname(path) if definitions.runs_in_file_dir else cwd
        names = call.targets or definitions.default
        result: list[Followed] = []
        done: set[str] = set()

        def run(name: str) -> None:
            target = definitions.lookup(name)
            if target is None or target.name in done or len(result) > MAX_STEPS:
                return
            done.add(target.name)
            for before in target.before:
                run(before)
            for text, line in target.commands:
                location = Location(path, line)
                result.append(Followed(text, location, ()))
                result.extend(self.follow_text(text, inner_cwd, f"{path}:{line}"))
            for after in target.after:
                run(after)

        for name in names:
            run(name)
        return result

    def _find(self, call: Call, cwd: str) -> str | None:
        base = _inside(posixpath.join(cwd, call.cwd)) if call.cwd else cwd
        if base is None:
            return None
        for name in call.files:
            for folder in dict.fromkeys((base, "")):
                candidate = _inside(posixpath.join(folder, name))
                if candidate and self.workspace.exists(candidate):
                    return candidate
        return None

    def _parse(self, module: ModuleType, path: str) -> Definitions | None:
        key = (module.NAME, path)
        if key not in self._definitions:
            self._definitions[key] = None
            try:
                text = self.workspace.read_text(path, MAX_FILE_BYTES)
                self._definitions[key] = module.parse(text, path)
                self.inventory.append(InventoryEntry(path, f"{KIND}-{module.NAME}", "parsed"))
            except EvidenceError as exc:
                self.inventory.append(InventoryEntry(path, f"{KIND}-{module.NAME}", "skipped",
                                                     f"not followed: {exc.reason}", exc.line))
            except (ValueError, SyntaxError, RecursionError, YamlError) as exc:  # JSON, TOML, YAML, Python
                line = getattr(exc, "lineno", None)
                self.inventory.append(InventoryEntry(path, f"{KIND}-{module.NAME}", "skipped",
                                                     f"not followed: cannot read it ({type(exc).__name__})", line))
        return self._definitions[key]


def add_kinds(job: Job, steps: list[Step]) -> None:
    """Give the job the kinds and tools of steps read elsewhere, remembering the chain of each new kind."""
    for step in steps:
        for kind in step.kinds:
            if kind not in job.kinds and kind not in job.kinds_via:
                job.kinds_via[kind] = " → ".join([*step.via, f"{step.location.path}:{step.location.line}"])
    job.kinds = sorted({*job.kinds, *(k for s in steps for k in s.kinds)})
    job.tools = sorted({*job.tools, *(t for s in steps for t in s.tools)})


def _match(argv: tuple[str, ...]) -> Call | None:
    """The call a command makes: its program's follower, else a script (`./x.sh`, `bash x.sh`)."""
    program = argv[0].rsplit("/", 1)[-1] if argv[0].endswith("make") else argv[0]
    name = _PROGRAMS.get(program)
    call = _follower(name).match(argv) if name else None
    return call if call is not None else _follower("script").match(argv)


@functools.cache  # asked for every command: `import_module` costs more than a dict look-up
def _follower(name: str) -> ModuleType:
    return importlib.import_module(f"devops_audit.collectors.ci.follow.{name}")


def _inside(path: str) -> str | None:
    """A normalised repository-relative path, or None when it would leave the repository."""
    if path.startswith("/"):
        return None
    normal = posixpath.normpath(path)
    if normal == ".":
        return ""
    if normal.startswith("../") or normal == "..":
        return None
    return normal
