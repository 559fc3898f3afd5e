"""Script injection, dangerous triggers and inline suppressions in CI definitions, as located facts.

Read from the parsed pipelines (and, for GitHub, the workflow or action file itself):
- `injections`: an attacker-controlled value reaching a sink (a shell script, a `github-script` script, an action
  input evaluated as code, an Azure/GitLab/CircleCI script, a Jenkins `sh` GString), with the context as written,
  what an attacker can put in it (`arbitrary`, `structured`, `unknown` when it is set at run time) and the chain
  it was followed through (`env.TITLE <- github.event.issue.title`);
- `dangerous_checkouts`: a `pull_request_target` / `workflow_run` / `issue_comment` workflow checking out the
  untrusted head, with what the job holds (credentials persisted, secrets, write permissions);
- `suppressions`: `# devops-audit: ignore[ID] reason` and `# zizmor: ignore[rule]` comments.
Nothing here judges: SR.BD.03/SR.BD.04 decide. What an attacker controls in each GitHub context comes from
`contexts.json` (generated from GitHub's webhook schemas), the sinks of every system from `injection.yaml`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from devops_audit.errors import EvidenceError
from devops_audit.facts import InventoryEntry, Location, Pipeline, Step, to_data
from devops_audit.yamlsafe import line_of

if TYPE_CHECKING:
    from devops_audit.collectors.ci.files import SharedFiles
    from devops_audit.workspace import Workspace

__all__ = ["Injection", "DangerousCheckout", "Suppression", "analyse", "rate_expression", "contexts_table", "sinks_table",
           "tables", "describe"]

_RANK = {"fixed": 0, "unknown": 1, "structured": 2, "arbitrary": 3}
_EXPRESSION = re.compile(r"\$\{\{(.{0,2000}?)\}\}", re.S)  # bounded: a `${{` never closed costs little
_MAX_DEPTH = 8
_BUDGET = 20_000  # contexts followed per file: chains of env/matrix/outputs cannot explode
_MAX_LINE = 4096
_BOOLEAN_FUNCTIONS = {"contains", "startswith", "endswith", "success", "always", "failure", "cancelled",
                      "hashfiles"}
_PASS_THROUGH_FUNCTIONS = {"format", "join", "tojson", "fromjson", "case"}
_COMPARISON = re.compile(r"==|!=|<=|>=|<|>")
_WRITTEN = {  # `echo "name=value" >> "$GITHUB_OUTPUT"` (or the deprecated `::set-output`), `>> $GITHUB_ENV`
    "GITHUB_OUTPUT": (re.compile(r"""([A-Za-z_][\w-]*)=(.*?)["']?\s*>>\s*["']?\$\{?GITHUB_OUTPUT"""),
                      re.compile(r"::set-output name=([\w-]+)::(.*)")),
    "GITHUB_ENV": (re.compile(r"""([A-Za-z_][\w-]*)=(.*?)["']?\s*>>\s*["']?\$\{?GITHUB_ENV"""),),
}
_SHELL_VALUE = re.compile(r"\$[\w{(]|`")
_SUPPRESSION = re.compile(r"(?:#|//)\s*(devops-audit|zizmor)\s*:\s*ignore\[([^\]]*)\]\s*(.*?)\s*$")
_ZIZMOR_RULES = {"template-injection": "SR.BD.04", "dangerous-triggers": "SR.BD.04", "artipacked": "SR.BD.04",
                 "unpinned-uses": "SR.BD.03", "unpinned-images": "SR.BD.03"}
_FOLLOWED_CONTEXTS = frozenset({"env", "matrix", "steps", "needs"})  # rated through their values, not `contexts.json`
_ALIAS_VALUE = re.compile(r":\s*\*([\w-]+)\s*(#.*)?$")


@cache
def contexts_table() -> dict[str, Any]:
    """What an attacker can put in each GitHub context (`contexts.json`, generated from the webhook schemas)."""
    return json.loads((Path(__file__).with_name("contexts.json")).read_text(encoding="utf-8"))


@cache
def sinks_table() -> dict[str, Any]:
    """The sinks and attacker-controlled values of every system (`injection.yaml`)."""
    import yaml

    text = (Path(__file__).with_name("injection.yaml")).read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def _code_inputs() -> dict[str, Any]:
    """The inputs each GitHub action runs as code, by its lower-case name."""
    return {name.lower(): inputs for name, inputs in sinks_table()["github"]["code_inputs"].items()}


def tables() -> tuple[dict[str, Any], dict[str, Any]]:
    return contexts_table(), sinks_table()


# -- facts ---------------------------------------------------------------------------------------
@dataclass
class Injection:
    """An attacker-controlled value reaching a sink; `line` is the line of the value inside the script."""

    system: str
    path: str
    line: int
    locator: str
    pipeline: str
    job: str
    sink: str  # run | github-script | with:<input> | script (Azure, GitLab) | sh/bat/powershell | circleci-run
    sink_line: int  # where the sink starts (the `run:` key, the `sh` call)
    context: str  # as written: github.event.issue.title, env.TITLE, $(Build.SourceBranch), env.CHANGE_TITLE
    capability: str  # arbitrary | structured | unknown
    via: list[str] = field(default_factory=list)  # the chain followed: [env.TITLE, github.event.issue.title]
    triggers: list[str] = field(default_factory=list)  # the pipeline's triggers (raw names)
    suppressed: bool = False
    suppression: str = ""  # the comment that suppresses it, or why a comment was not honoured
    input: str = ""  # the action input run as code (sink `with:<input>`)
    # who can set the value: `anyone` (a pull request / issue / comment author, the caller of a reusable workflow
    # or action) or `writers` (only people who can push refs or start the workflow by hand)
    reach: str = "anyone"


@dataclass
class DangerousCheckout:
    """A privileged trigger's workflow checking out the untrusted head; located at the checkout."""

    path: str
    line: int
    locator: str
    pipeline: str
    job: str
    trigger: str
    trigger_location: Location
    ref: str
    persist_credentials: bool
    secrets: bool
    permissions: str  # write | read | default (not set in the file)
    suppressed: bool = False
    suppression: str = ""


@dataclass
class Suppression:
    """An inline ignore comment; `applies_to` is the line it covers (its own, or the next one when alone)."""

    path: str
    line: int
    applies_to: int
    tool: str  # devops-audit | zizmor
    rules: list[str]
    indicators: list[str]
    reason: str
    honoured: bool


# -- entry point ----------------------------------------------------------------------------------
def analyse(workspace: Workspace | SharedFiles, pipelines: list[Pipeline], documents: dict[str, Any] | None = None,
            inventory: list[InventoryEntry] | None = None) -> dict[str, Any]:
    """`injections`, `dangerous_checkouts` and `suppressions` of every pipeline, as plain facts; `documents` are
    the YAML documents the parsers already loaded, by path (anything else is loaded here). A file whose analysis
    fails is an `error` in `inventory` (its findings are lost, the others are kept)."""
    from devops_audit.collectors.ci.files import shared

    files = shared(workspace)
    texts = _Texts(files)
    injections: list[Injection] = []
    checkouts: list[DangerousCheckout] = []
    seen_github: set[str] = set()
    for pipeline in pipelines:
        try:
            if pipeline.system == "github":
                for path in [pipeline.path, *pipeline.files]:
                    if path not in seen_github:
                        seen_github.add(path)
                        document = (documents or {}).get(path)
                        if document is None:
                            document = _load(files, path)
                        if isinstance(document, dict):
                            _GithubFile.read(document, texts, path, pipeline, injections, checkouts)
            elif pipeline.system == "jenkins":
                injections.extend(_jenkins(pipeline, texts, documents or {}))
            elif pipeline.system in _OTHER_SYSTEMS:
                injections.extend(_OTHER_SYSTEMS[pipeline.system](pipeline, texts))
        except (RecursionError, ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            if inventory is not None:
                inventory.append(InventoryEntry(pipeline.path, "ci-injection", "error",
                                                f"script-injection analysis failed: {type(exc).__name__}: {exc}",
                                                evidence="ci"))
    files = sorted({path for pipeline in pipelines for path in [pipeline.path, *pipeline.files]})
    suppressions = [s for path in files for s in _suppressions(path, texts.get(path))]
    _apply(suppressions, injections, checkouts)
    return {"injections": to_data(injections), "dangerous_checkouts": to_data(checkouts),
            "suppressions": to_data(suppressions)}


def _load(workspace: SharedFiles, path: str) -> Any:
    try:
        documents = workspace.load_yaml(path)
    except EvidenceError:
        return None  # the parser has reported it
    return documents[0] if documents else None


class _Texts:
    """File lines, read once (a file that cannot be read has no lines: its parser already reported it)."""

    def __init__(self, files: SharedFiles) -> None:
        self.files = files

    def get(self, path: str) -> list[str]:
        return self.files.lines(path)

    def locate(self, path: str, start: int, needle: str, window: int = 400) -> int:
        """The first line at or after `start` holding `needle` (within `window` lines), else `start`."""
        lines = self.get(path)
        for number in range(max(start, 1), min(len(lines), start + window) + 1):
            if needle in lines[number - 1]:
                return number
        return start


# -- GitHub Actions ---------------------------------------------------------------------------------
class _Scope(NamedTuple):  # a NamedTuple: made at import ~10x faster than a dataclass
    """Where an expression is rated: its job, the steps around it, its step."""

    job: dict[str, Any] | None
    steps: list[Any]
    step: dict[str, Any] | None


class _GithubFile:
    """One workflow (`jobs`) or action (`runs.steps`) file: its sinks and privileged checkouts."""

    def __init__(self, path: str, document: dict[str, Any], pipeline: Pipeline, texts: _Texts) -> None:
        self.path = path
        self.doc = document
        self.pipeline = pipeline
        self.texts = texts
        self.is_action = "runs" in document and "jobs" not in document
        on = document.get("on", document.get(True)) if not self.is_action else None
        if isinstance(on, str):
            on = {on: None}
        elif isinstance(on, list):
            on = {str(event): None for event in on}
        self.events: dict[str, Any] = on if isinstance(on, dict) else {}
        self.triggers = [str(event) for event in self.events]
        self.budget = _BUDGET

    @classmethod
    def read(cls, document: dict[str, Any], texts: _Texts, path: str, pipeline: Pipeline,
             injections: list[Injection], checkouts: list[DangerousCheckout]) -> None:
        github = cls(path, document, pipeline, texts)
        if github.is_action:
            runs = github.doc.get("runs")
            steps = runs.get("steps") if isinstance(runs, dict) else None
            if isinstance(steps, list):
                injections.extend(github.steps(None, "", steps, "runs"))
            return
        jobs = github.doc.get("jobs")
        for job_id, job in jobs.items() if isinstance(jobs, dict) else ():
            if isinstance(job, dict) and isinstance(job.get("steps"), list):
                injections.extend(github.steps(job, str(job_id), job["steps"], f"jobs.{job_id}"))
                checkouts.extend(github.checkouts(job, str(job_id)))

    def steps(self, job: dict[str, Any] | None, job_id: str, steps: list[Any], locator: str) -> list[Injection]:
        code_inputs = _code_inputs()
        found: list[Injection] = []
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            scope = _Scope(job, steps, step)
            here = f"{locator}.steps[{index}]"
            if isinstance(step.get("run"), str):
                found.extend(self.sink(step, "run", step["run"], "run", scope, job_id, here))
            uses = str(step.get("uses") or "").split("@", 1)[0].lower()
            with_args = step.get("with")
            for name in code_inputs.get(uses, ()) if isinstance(with_args, dict) else ():
                if isinstance(with_args.get(name), str):
                    sink = "github-script" if uses == "actions/github-script" else f"with:{name}"
                    found.extend(self.sink(with_args, name, with_args[name], sink, scope, job_id, here))
        return found

    def sink(self, holder: dict[str, Any], key: str, text: str, sink: str, scope: _Scope, job_id: str,
             locator: str) -> list[Injection]:
        if "${{" not in text:
            return []
        key_line = line_of(holder, key, line_of(holder))
        start = self._value_start(key_line)
        found = []
        cursor = start
        window = text.count("\n") + 3
        for match in _EXPRESSION.finditer(text):
            capability, via = rate_expression(match.group(1), self, scope)
            if capability == "fixed":
                continue
            line = self.texts.locate(self.path, cursor, match.group(0).splitlines()[0], window)
            cursor = line
            found.append(Injection(
                "github", self.path, line, locator, self.pipeline.path, job_id, sink, key_line,
                " ".join(match.group(1).split()), capability, via, self.triggers,
                input=key if sink.startswith("with:") else "", reach=self.reach(via)))
        return found

    def reach(self, via: list[str]) -> str:
        """`writers` when the value comes from a ref only writers create, or no trigger lets an outsider in."""
        github = sinks_table()["github"]
        origin = via[-1] if via else ""
        if origin in github["writer_contexts"]:
            return "writers"
        if origin.startswith(("inputs.", "github.event.inputs.")) and not self.is_action:
            call = self.events.get("workflow_call")  # a caller passes anything; a manual run needs write access
            declared = call.get("inputs") if isinstance(call, dict) else None
            return "anyone" if isinstance(declared, dict) and origin.rsplit(".", 1)[-1] in declared else "writers"
        if self.is_action or any(event in github["outsider_triggers"] for event in self.triggers):
            return "anyone"
        return "writers"

    def _value_start(self, key_line: int) -> int:
        """Where a value's text starts: the key's line, or the anchor it aliases (`run: *script`)."""
        lines = self.texts.get(self.path)
        alias = _ALIAS_VALUE.search(lines[key_line - 1]) if 0 < key_line <= len(lines) else None
        if alias:
            anchor = re.compile(rf"&{re.escape(alias.group(1))}\b")
            return next((n for n, text in enumerate(lines, 1) if anchor.search(text)), key_line)
        return key_line

    # what each context can hold ----------------------------------------------------------------
    def context(self, name: str, scope: _Scope, depth: int) -> tuple[str, list[str]]:
        parts = name.split(".")
        head = parts[0]
        self.budget -= 1
        if depth > _MAX_DEPTH or self.budget < 0:
            return "unknown", []
        if head == "inputs" or name.startswith("github.event.inputs."):
            return self._input(parts[-1] if len(parts) > 1 else ""), []
        if name.startswith("github.event.") or name == "github.event":
            return _event(name[len("github.event."):] if name != "github.event" else ""), []
        # the table never names the contexts followed through the file: `${{ matrix.x }}` alone does not load it
        contexts = contexts_table()["contexts"] if head not in _FOLLOWED_CONTEXTS else {}
        if name in contexts or head in contexts:
            return contexts.get(name, contexts.get(head, "unknown")), []
        if head == "env" and len(parts) == 2:
            return self._env(parts[1], scope, depth)
        if head == "matrix" and len(parts) >= 2:
            return self._matrix(parts[1], scope, depth)
        if head == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self._step_output(parts[1], parts[3], scope, depth)
        if head == "steps" and len(parts) == 3 and parts[2] in ("outcome", "conclusion"):
            return "fixed", []
        if head == "needs" and len(parts) == 4 and parts[2] == "outputs":
            return self._job_output(parts[1], parts[3], depth)
        if head == "needs" and len(parts) == 3 and parts[2] == "result":
            return "fixed", []
        return "unknown", []

    def _input(self, name: str) -> str:
        if self.is_action:
            return "arbitrary"  # a composite action's caller passes anything
        found = None
        for event in ("workflow_call", "workflow_dispatch"):
            config = self.events.get(event)
            inputs = config.get("inputs") if isinstance(config, dict) else None
            spec = inputs.get(name) if isinstance(inputs, dict) else None
            if isinstance(spec, dict) or (isinstance(inputs, dict) and name in inputs):
                kind = str((spec or {}).get("type") or "string")
                rating = "arbitrary" if kind == "string" else "fixed"
                found = rating if found is None else max(found, rating, key=_RANK.__getitem__)
        return found or "unknown"

    def _env(self, name: str, scope: _Scope, depth: int) -> tuple[str, list[str]]:
        for holder in (scope.step, scope.job, self.doc):
            env = holder.get("env") if isinstance(holder, dict) else None
            if isinstance(env, dict) and name in env:
                return _rate_value(env[name], self, scope, depth)
        earlier = scope.steps[:scope.steps.index(scope.step)] if scope.step in scope.steps else []
        for step in reversed(earlier):  # the last earlier step writing it to $GITHUB_ENV wins
            written = self._written(step, name, "GITHUB_ENV", scope, depth)
            if written is not None:
                return written
        return "unknown", []  # set by an action or the runner

    def _matrix(self, name: str, scope: _Scope, depth: int) -> tuple[str, list[str]]:
        strategy = scope.job.get("strategy") if isinstance(scope.job, dict) else None
        matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
        if isinstance(matrix, str):
            return _rate_value(matrix, self, scope, depth)
        if not isinstance(matrix, dict):
            return "unknown", []
        values = [matrix[name]] if name in matrix else []
        for extra in ("include",):
            entries = matrix.get(extra)
            if isinstance(entries, str):
                values.append(entries)
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict) and name in entry:
                    values.append(entry[name])
        if not values:
            return "unknown", []
        return _worst(_rate_value(value, self, scope, depth) for value in values)

    def _step_output(self, step_id: str, output: str, scope: _Scope, depth: int) -> tuple[str, list[str]]:
        step = next((s for s in scope.steps if isinstance(s, dict) and str(s.get("id")) == step_id), None)
        written = self._written(step, output, "GITHUB_OUTPUT", scope, depth) if step is not None else None
        return written or ("unknown", [])  # an action's output, or a step we cannot see

    def _written(self, step: Any, name: str, target: str, scope: _Scope, depth: int) -> tuple[str, list[str]] | None:
        """What a `run` step writes as `name` to $GITHUB_OUTPUT / $GITHUB_ENV; None when it does not."""
        run = step.get("run") if isinstance(step, dict) else None
        if not isinstance(run, str) or target not in run:
            return None
        lines = [line for line in run.splitlines() if len(line) <= _MAX_LINE and name in line]
        values = [m.group(2) for line in lines for pattern in _WRITTEN[target]
                  for m in pattern.finditer(line) if m.group(1) == name]
        if not values:
            return None
        rated = []
        for value in values:
            if _EXPRESSION.search(value):
                rated.append(_rate_value(value, self, _Scope(scope.job, scope.steps, step), depth))
            else:  # a shell value (`$(date)`, `$label`) is computed at run time; a literal is fixed
                rated.append(("unknown" if _SHELL_VALUE.search(value) else "fixed", []))
        return _worst(rated)

    def _job_output(self, job_id: str, output: str, depth: int) -> tuple[str, list[str]]:
        jobs = self.doc.get("jobs")
        job = jobs.get(job_id) if isinstance(jobs, dict) else None
        outputs = job.get("outputs") if isinstance(job, dict) else None
        if not isinstance(outputs, dict) or output not in outputs:
            return "unknown", []
        steps = job.get("steps") if isinstance(job.get("steps"), list) else []
        return _rate_value(outputs[output], self, _Scope(job, steps, None), depth)

    # privileged checkouts -------------------------------------------------------------------------
    def checkouts(self, job: dict[str, Any], job_id: str) -> list[DangerousCheckout]:
        sinks = sinks_table()
        privileged = [e for e in self.triggers if e in sinks["github"]["privileged_triggers"]]
        if not privileged:
            return []
        head = re.compile("|".join(sinks["github"]["untrusted_head"]))
        command = re.compile("|".join(sinks["github"]["untrusted_head_commands"]))
        trigger = privileged[0]
        trigger_line = next((t.location.line for t in self.pipeline.triggers if t.raw == trigger),
                            line_of(self.doc, "on", 1))
        secrets = _holds_secrets(job) or _holds_secrets(self.doc.get("env"))
        found = []
        for index, step in enumerate(job["steps"]):
            if not isinstance(step, dict):
                continue
            here = f"jobs.{job_id}.steps[{index}]"
            if str(step.get("uses") or "").lower().startswith("actions/checkout@"):
                with_args = step.get("with") if isinstance(step.get("with"), dict) else {}
                ref = " ".join(str(with_args.get(k) or "") for k in ("ref", "repository")).strip()
                if head.search(ref):
                    found.append(DangerousCheckout(
                        self.path, line_of(step, "uses", line_of(job["steps"], index)), here, self.pipeline.path,
                        job_id, trigger, Location(self.path, trigger_line), ref,
                        str(with_args.get("persist-credentials", True)).lower() != "false", secrets,
                        self._permissions(job)))
            elif isinstance(step.get("run"), str):  # `gh pr checkout`, `git fetch origin pull/N/head`
                for text in step["run"].splitlines():
                    if len(text) <= _MAX_LINE and command.search(text):
                        line = self.texts.locate(self.path, line_of(step, "run"), text.strip())
                        found.append(DangerousCheckout(
                            self.path, line, here, self.pipeline.path, job_id, trigger,
                            Location(self.path, trigger_line), text.strip(), False, secrets, self._permissions(job)))
        return found

    def _permissions(self, job: dict[str, Any]) -> str:
        permissions = job.get("permissions", self.doc.get("permissions"))
        if permissions is None:
            return "default"
        if permissions == "write-all" or isinstance(permissions, dict) and "write" in map(str, permissions.values()):
            return "write"
        return "read"


def _holds_secrets(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("secrets") == "inherit" or any(_holds_secrets(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secrets(v) for v in value)
    return isinstance(value, str) and bool(re.search(r"secrets\.(?!GITHUB_TOKEN\b)\w", value))


def _event(path: str) -> str:
    """What an attacker can put in `github.event.<path>` (`commits[0].message` is `commits.*.message`)."""
    contexts = contexts_table()
    if not path:
        return contexts["contexts"]["github.event"]
    table = contexts["event"]
    parts = [("*" if p.isdigit() or p == "*" else p) for p in path.split(".")]
    key = ".".join(parts)
    if key in table:
        return table[key]
    for cut in range(len(parts) - 1, 0, -1):  # free-form objects: client_payload.*, inputs.*
        if table.get(".".join(parts[:cut]) + ".*") == "arbitrary":
            return "arbitrary"
    suffixes = _suffix_ratings()  # a path the schemas do not show: rated as its tail is elsewhere
    for size in (3, 2):
        if len(parts) > size and ".".join(parts[-size:]) in suffixes:
            return suffixes[".".join(parts[-size:])]
    return "unknown"


@cache
def _suffix_ratings() -> dict[str, str]:
    """The most capable rating of each two- and three-segment tail of the event paths (`labels.*.name`)."""
    index: dict[str, str] = {}
    for path, rating in contexts_table()["event"].items():
        parts = path.split(".")
        for size in (2, 3):
            if len(parts) > size:
                tail = ".".join(parts[-size:])
                index[tail] = max(rating, index.get(tail, rating), key=_RANK.__getitem__)
    return index


def _rate_value(value: Any, github: _GithubFile, scope: _Scope, depth: int) -> tuple[str, list[str]]:
    """A YAML value's worst expression (a literal is fixed)."""
    texts = value if isinstance(value, list) else [value]
    return _worst(rate_expression(m.group(1), github, scope, depth + 1)
                  for text in texts if isinstance(text, str) for m in _EXPRESSION.finditer(text))


def _worst(rated: Any) -> tuple[str, list[str]]:
    best: tuple[str, list[str]] = ("fixed", [])
    for capability, via in rated:
        if _RANK[capability] > _RANK[best[0]]:
            best = (capability, via)
    return best


def rate_expression(expression: str, github: _GithubFile, scope: _Scope, depth: int = 0) -> tuple[str, list[str]]:
    """What an attacker can make `${{ expression }}` expand to, and the chain of contexts it came through.

    `a || b` is either side; `a && b` is `b`, or a falsy `a` ('', 0, false, null): only its last operand counts,
    so the ternary `inputs.x && '--x' || ''` expands to literals only."""
    return _worst(_rate_operand(_split(part, ("&&",))[-1], github, scope, depth)
                  for part in _split(expression, ("||",)))


def _rate_operand(operand: str, github: _GithubFile, scope: _Scope, depth: int) -> tuple[str, list[str]]:
    operand = operand.strip()
    while operand.startswith("(") and _closing(operand, 0) == len(operand) - 1:
        operand = operand[1:-1].strip()
    if len(_split(operand, ("||", "&&"))) > 1:
        return rate_expression(operand, github, scope, depth + 1) if depth <= _MAX_DEPTH else ("unknown", [])
    if not operand or operand[0] in "'\"0123456789" or operand in ("true", "false", "null"):
        return "fixed", []
    if operand.startswith("!") or _COMPARISON.search(_outside_quotes(operand)):
        return "fixed", []  # a boolean
    call = re.match(r"([A-Za-z_]\w*)\s*\(", operand)
    if call:
        name = call.group(1).lower()
        if name in _BOOLEAN_FUNCTIONS:
            return "fixed", []
        if name not in _PASS_THROUGH_FUNCTIONS:
            return "unknown", []
        inner = operand[call.end():_closing(operand, call.end() - 1)]
        if depth > _MAX_DEPTH:
            return "unknown", []
        return _worst(_rate_operand(arg, github, scope, depth + 1) for arg in _split(inner, (",",)))
    reference = _reference(operand)
    if reference is None:
        return "unknown", []
    capability, via = github.context(reference, scope, depth)
    return capability, [reference, *via]


def _reference(operand: str) -> str | None:
    """`github.event['pull_request'].title` -> `github.event.pull_request.title`; None if not a context."""
    text = re.sub(r"\[\s*['\"]([^'\"]+)['\"]\s*\]", r".\1", operand)
    text = re.sub(r"\[\s*(\d+|\*)\s*\]", r".\1", text)
    return text if re.fullmatch(r"[A-Za-z_][\w-]*(\.[\w*-]+)*", text) else None


def _split(text: str, separators: tuple[str, ...]) -> list[str]:
    """`text` split at top-level separators (not inside parentheses or quotes)."""
    if not any(s in text for s in separators):  # most expressions: nothing to split
        return [text]
    parts, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and any(text.startswith(s, i) for s in separators):
            sep = next(s for s in separators if text.startswith(s, i))
            parts.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return parts


def _closing(text: str, open_at: int) -> int:
    depth, quote = 0, ""
    for i in range(open_at, len(text)):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def _outside_quotes(text: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", text)


# -- other systems --------------------------------------------------------------------------------
def _steps(pipeline: Pipeline) -> list[tuple[str, Step]]:
    return [(job.id, step) for job in pipeline.jobs for step in job.steps if step.run]


def _finding(pipeline: Pipeline, texts: _Texts, job_id: str, step: Step, sink: str, needle: str,
             context: str, via: list[str] | None = None) -> Injection:
    path, start = step.location.path, step.location.line
    return Injection(pipeline.system, path, texts.locate(path, start, needle), step.locator, pipeline.path, job_id,
                     sink, start, context, "arbitrary", via or [context], [t.raw for t in pipeline.triggers])


def _azure(pipeline: Pipeline, texts: _Texts) -> list[Injection]:
    sinks = sinks_table()
    names = "|".join(re.escape(v).replace(r"\*", r"[\w.]+") for v in sinks["azure"]["variables"])
    macro = re.compile(rf"\$\(\s*({names})\s*\)", re.I)
    variable = re.compile(rf"variables(?:\[\s*['\"]|\.)({names})\b", re.I)
    found = []
    for job_id, step in _steps(pipeline):
        for match in macro.finditer(step.run):
            found.append(_finding(pipeline, texts, job_id, step, "script", match.group(0), match.group(0),
                                  [match.group(1)]))
        for match in _EXPRESSION.finditer(step.run):  # `${{ variables['Build.SourceBranch'] }}`
            name = variable.search(match.group(1))
            if name:
                found.append(_finding(pipeline, texts, job_id, step, "script", match.group(0), match.group(0),
                                      [name.group(1)]))
    return found


def _shell_variables(pipeline: Pipeline, texts: _Texts) -> list[Injection]:
    """GitLab / Bitbucket: an attacker's variable evaluated (`eval`, `sh -c`) or run as the command itself.
    Expanded as an argument, even unquoted, a variable's value is data to the shell."""
    names = "|".join(sinks_table()[pipeline.system]["variables"])
    variable = re.compile(rf"\$\{{?({names})\b\}}?")
    command = re.compile(rf"""(?:^|[;&|(`]|\$\(|\b(?:then|do|else|exec)\s)\s*["']?\$\{{?({names})\b""")
    shell_c = re.compile(r"(?:^|[\s;&|(])(?:eval|(?:ba|z)?sh\s+-c|source|\.)\s")
    found = []
    for job_id, step in _steps(pipeline):
        for line in step.run.splitlines():
            if not variable.search(line):
                continue
            hits = [m.group(1) for m in command.finditer(line)]
            if not hits and shell_c.search(line):
                hits = [m.group(1) for m in variable.finditer(line)]
            for name in dict.fromkeys(hits):
                found.append(_finding(pipeline, texts, job_id, step, "script", line.strip(), f"${name}"))
    return found


def _circleci(pipeline: Pipeline, texts: _Texts) -> list[Injection]:
    sinks = sinks_table()
    names = "|".join(re.escape(p) for p in sinks["circleci"]["parameters"])
    parameter = re.compile(rf"<<\s*({names})\s*>>")
    return [_finding(pipeline, texts, job_id, step, "run", match.group(0), match.group(1))
            for job_id, step in _steps(pipeline) for match in parameter.finditer(step.run)]


def _jenkins(pipeline: Pipeline, texts: _Texts, documents: dict[str, Any]) -> list[Injection]:
    """`sh "... ${env.CHANGE_TITLE} ..."`: Groovy interpolates before the shell runs (single quotes are safe)."""
    from devops_audit.collectors.ci.groovy import GroovyError, parse

    sinks = sinks_table()
    names = "|".join(sinks["jenkins"]["variables"])
    interpolation = re.compile(rf"(?<!\\)\$(\{{\s*)?((?:env\.)?(?:{names})\b|params\.\w+)")
    shells = set(sinks["jenkins"]["shell_steps"])
    steps = {(step.location.path, step.location.line): (job.id, step.locator)
             for job in pipeline.jobs for step in job.steps}
    found = []
    for path in dict.fromkeys([pipeline.path, *pipeline.files]):
        nodes = documents.get(path)  # the statements the Jenkins parser read
        if nodes is None:
            try:
                nodes = parse("\n".join(texts.get(path)))
            except GroovyError:
                continue  # the parser has reported it
        for node in (inner for top in nodes for inner in top.walk()):
            if node.name not in shells:
                continue
            job_id, locator = steps.get((path, node.line), ("", f"{node.name}:{node.line}"))
            for string in _script_strings(node.tokens, 1):
                for match in interpolation.finditer(string.text):
                    line = string.line + string.text.count("\n", 0, match.start())
                    found.append(Injection("jenkins", path, line, locator, pipeline.path, job_id, node.name,
                                           node.line, match.group(2), "arbitrary", [match.group(2)],
                                           [t.raw for t in pipeline.triggers]))
    return found


def _script_strings(tokens: list[Any], start: int) -> list[Any]:
    """The double-quoted (interpolating) strings of a step call's script: positional or `script:`, not `label:`."""
    strings, depth = [], 0
    for index in range(start, min(len(tokens), start + 200)):
        token = tokens[index]
        if token.kind == "op" and token.text in "([":
            depth += 1
        elif token.kind == "op" and token.text in ")]":
            depth -= 1
            if depth <= 0:
                break
        elif token.kind == "newline" and depth == 0 or token.kind == "op" and token.text == "{":
            break
        elif token.kind == "string" and token.text.startswith('"'):
            named = index - start >= 2 and tokens[index - 1].text == ":" and tokens[index - 2].kind == "name"
            if not named or tokens[index - 2].text == "script":
                strings.append(token)
    return strings


_OTHER_SYSTEMS = {"azure": _azure, "gitlab": _shell_variables, "bitbucket": _shell_variables, "circleci": _circleci}


# -- suppressions ---------------------------------------------------------------------------------
def _suppressions(path: str, lines: list[str]) -> list[Suppression]:
    found = []
    for number, text in enumerate(lines, 1):
        if "ignore[" not in text:
            continue
        match = _SUPPRESSION.search(text)
        if not match:
            continue
        tool, rules = match.group(1), [r.strip() for r in match.group(2).split(",") if r.strip()]
        reason = match.group(3).lstrip("-—:# ").strip()
        applies_to = number
        if text.strip().startswith(("#", "//")):  # a comment on its own line covers the next line of code
            applies_to = next((n for n in range(number + 1, len(lines) + 1)
                               if lines[n - 1].strip() and not lines[n - 1].strip().startswith(("#", "//"))), number)
        if tool == "zizmor":
            indicators = sorted({_ZIZMOR_RULES[r] for r in rules if r in _ZIZMOR_RULES})
            honoured = True
        else:
            indicators = sorted({r.upper() for r in rules})
            honoured = bool(reason)
        found.append(Suppression(path, number, applies_to, tool, rules, indicators, reason, honoured))
    return found


def _apply(suppressions: list[Suppression], injections: list[Injection], checkouts: list[DangerousCheckout]) -> None:
    by_line: dict[tuple[str, int], list[Suppression]] = {}
    for suppression in suppressions:
        if "SR.BD.04" in suppression.indicators:
            by_line.setdefault((suppression.path, suppression.applies_to), []).append(suppression)
    for finding in [*injections, *checkouts]:
        # an injection is covered on its line or its sink's; a checkout on its line or its trigger's
        related = finding.sink_line if isinstance(finding, Injection) else finding.trigger_location.line
        lines = {finding.line, related}
        matches = [s for line in sorted(lines) for s in by_line.get((finding.path, line), [])]
        if not matches:
            continue
        honoured = next((s for s in matches if s.honoured), None)
        if honoured:
            finding.suppressed = True
            finding.suppression = (f"{honoured.tool}: ignore[{', '.join(honoured.rules)}]"
                                   + (f" {honoured.reason}" if honoured.reason else "") + f" (line {honoured.line})")
        else:
            finding.suppression = (f"`devops-audit: ignore[SR.BD.04]` on line {matches[0].line} has no reason, "
                                   "so it is not honoured")


# -- documentation ---------------------------------------------------------------------------------
def describe() -> str:
    """The context classes and sinks, from the data (`devops-audit explain SR.BD.04`)."""
    contexts, sinks = tables()
    named: dict[str, list[str]] = {}
    for name, rating in contexts["contexts"].items():
        named.setdefault(rating, []).append(name)
    counts = {rating: sum(1 for r in contexts["event"].values() if r == rating) for rating in contexts["ratings"]}
    examples = {rating: [p for p, r in contexts["event"].items() if r == rating and p.count(".") <= 1][:6]
                for rating in contexts["ratings"]}
    lines = [f"### Context classes (GitHub, from {contexts['source']})", ""]
    for rating, meaning in (("arbitrary", "any string an attacker chooses"),
                            ("structured", "partly chosen (a URL, an e-mail, an object holding arbitrary strings)"),
                            ("fixed", "numbers, SHAs, booleans, enums, dates, ids")):
        shown = ", ".join(f"`{n}`" for n in named.get(rating, []))
        lines.append(f"- **{rating}** ({meaning}): {shown + '; ' if shown else ''}{counts[rating]} `github.event.*` "
                     f"paths, e.g. {', '.join(f'`{p}`' for p in examples[rating])}")
    lines += ["- `inputs.*`: string inputs of `workflow_call` / `workflow_dispatch` and every input of a composite "
              "action are arbitrary; boolean, number, choice and environment inputs are fixed",
              "- `env.*`, `matrix.*`, `steps.*.outputs.*`, `needs.*.outputs.*`: followed to their source where it "
              "is written in the file; **unknown** when set at run time (listed, never failed)",
              "- who can set it: **anyone** when an outsider fires one of the triggers ("
              + ", ".join(f"`{t}`" for t in sinks["github"]["outsider_triggers"]) + ") or calls the action; "
              "**writers** otherwise, and always for " + ", ".join(f"`{c}`" for c in sinks["github"]["writer_contexts"])
              + " (counted, failed only with `include_writers`)", "",
              "### Sinks", "",
              "- GitHub: `run:` of workflow and composite-action steps; action inputs run as code: "
              + ", ".join(f"`{a}` {'/'.join(i)}" for a, i in sinks["github"]["code_inputs"].items()),
              "- GitHub privileged triggers with a checkout of the untrusted head: "
              + ", ".join(f"`{t}`" for t in sinks["github"]["privileged_triggers"]),
              "- Azure Pipelines `script` / `bash` / `powershell` / `pwsh` and inline script tasks: `$(...)` macros "
              "and `${{ variables[...] }}` of " + ", ".join(f"`{v}`" for v in sinks["azure"]["variables"]),
              "- GitLab `script`: `eval`, `sh -c` or a command position with "
              + ", ".join(f"`${v}`" for v in sinks["gitlab"]["variables"]),
              "- Bitbucket `script`: the same with " + ", ".join(f"`${v}`" for v in sinks["bitbucket"]["variables"]),
              "- Jenkins " + ", ".join(f"`{s}`" for s in sinks["jenkins"]["shell_steps"])
              + " with a double-quoted Groovy string interpolating `params.*` or "
              + ", ".join(f"`{v}`" for v in sinks["jenkins"]["variables"]) + " (single quotes are safe)",
              "- CircleCI `run`: " + ", ".join(f"`<< {p} >>`" for p in sinks["circleci"]["parameters"])]
    return "\n".join(lines)
