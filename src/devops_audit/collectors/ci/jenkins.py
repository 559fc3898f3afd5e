"""Jenkins: `Jenkinsfile`, `Jenkinsfile*`, `*.jenkinsfile` anywhere outside test-data folders, and `*.groovy`
at the usual places (root, `.jenkins/`, `jenkins/`, `ci/`, ...) whose content is a declarative `pipeline {` or
scripted `node {` block (`.jenkins.groovy`), read with `groovy` (never executed) into the pipeline model.
An IDE descriptor (`Jenkinsfile.gdsl`) or a Groovy class is skipped with the reason, never an error.

Declarative pipelines (`pipeline { ... }`): `agent` (docker image -> image ref, kubernetes pod YAML images),
`options { timeout(...) }`, `triggers { cron / pollSCM / upstream ... }`, `stages` with `stage`, nested
`stages`, `parallel` and `matrix`, each leaf stage a `Job` whose `needs` are the stages that finish just
before it (parallel branches share them) and whose `upstream` is everything before it; `when` (branch, tag,
buildingTag, changeRequest, triggeredBy, allOf / anyOf / not) -> `job.triggers` and `job.condition`; `input`
-> `job.manual`; `steps` and `post`: every `sh` / `bat` / `powershell` / `pwsh` command is a `Step`
classified by its script, `catchError(buildResult: 'SUCCESS'|'UNSTABLE')` / `warnError` / `returnStatus: true`
make it `continue_on_error`; calls to functions defined in the same file are followed (their commands keep
their own lines); well-known steps of shared libraries and plugins (`LIBRARY_STEPS`) are steps with kinds.
Scripted pipelines (`node { stage('x') { sh '...' } }`): every `stage` is a job in source order
(`parallel` branches share their predecessors), `timeout(...) { }` around stages sets their timeout.
A Jenkinsfile with no stage at all (e.g. only `buildPlugin(...)`) is one job named after its first library
step (its `reusable`), with that step's `timeout:` minutes when it names them. `@Library('name@ref')` and `library 'name@ref'` are `ExternalRef(type="library")`, with
`pipeline.reuse` "shared-library" (also set when a well-known library step is called).

Triggers: a Jenkinsfile does not say whether it builds pull requests; that is the job's configuration. Without
a `triggers {}` block, or when `when` conditions use `changeRequest` / `branch` / `tag` (which only exist in
multibranch projects), we assume the multibranch convention and emit `push` and `pull_request` triggers with
raw "multibranch" (plus `tag` when a stage runs on tags), so policies can tell an assumption from a declared
trigger. `cron` / `parameterizedCron` -> schedule, `pollSCM` / `githubPush` -> push, anything else -> other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.github_actions import parse_image, transitive_upstream
from devops_audit.collectors.ci.gitlab_ci import version_pinning
from devops_audit.collectors.ci.groovy import GroovyError, Node, Token, split_args, text_of
from devops_audit.collectors.ci.groovy import parse as parse_groovy
from devops_audit.collectors.ci.pipelines import Parsed, is_test_data
from devops_audit.errors import EvidenceError
from devops_audit.facts import ExternalRef, InventoryEntry, Job, Location, Pipeline, Step, Trigger
from devops_audit.workspace import Workspace

__all__ = ["SYSTEM", "KIND", "LIBRARY_STEPS", "discover", "parse"]

SYSTEM = "jenkins"
KIND = "jenkins"
SHELL_STEPS = frozenset({"sh", "bat", "powershell", "pwsh"})
MAX_CALL_DEPTH = 5
MAX_BYTES = 256 * 1024  # the largest real Jenkinsfiles are ~50 kB; parsing cost grows faster than the size

# Well-known steps of shared libraries and plugins -> (kinds, where the step comes from). Data: extend it here.
LIBRARY_STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "buildPlugin": (("build", "test"), "jenkins-infra/pipeline-library: mvn verify of a Jenkins plugin"),
    "buildPluginWithGradle": (("build", "test"), "jenkins-infra/pipeline-library: gradle build of a plugin"),
    "buildDockerAndPublishImage": (("build", "publish"), "jenkins-infra/pipeline-library"),
    "runATH": (("test",), "jenkins-infra/pipeline-library: acceptance tests"),
    "runPCT": (("test",), "jenkins-infra/pipeline-library: plugin compatibility tests"),
    "preCommit": (("lint",), "elastic/apm-pipeline-library: pre-commit hooks"),
    "junit": (("test",), "JUnit plugin: publishes test results"),
    "xunit": (("test",), "xUnit plugin: publishes test results"),
    "jacoco": (("coverage",), "JaCoCo plugin"),
    "cobertura": (("coverage",), "Cobertura plugin"),
    "recordCoverage": (("coverage",), "Coverage plugin"),
    "publishCoverage": (("coverage",), "Code Coverage API plugin"),
    "recordIssues": (("lint",), "Warnings NG plugin: static analysis results"),
    "dependencyCheck": (("sca",), "OWASP Dependency-Check plugin"),
    "dependencyCheckPublisher": (("sca",), "OWASP Dependency-Check plugin"),
    "snykSecurity": (("sca",), "Snyk Security plugin"),
    "docker.build": (("build",), "Docker Pipeline plugin"),
    "kubernetesDeploy": (("deploy",), "Kubernetes Continuous Deploy plugin"),
    "nexusPublisher": (("publish",), "Nexus Platform plugin"),
    "s3Upload": (("publish",), "Pipeline: AWS Steps"),
}
_LIBRARY_ONLY = frozenset({"buildPlugin", "buildPluginWithGradle", "buildDockerAndPublishImage", "runATH",
                           "runPCT", "preCommit"})
# library steps whose `timeout:` argument bounds the whole build, in minutes (jenkins-infra/pipeline-library)
_LIBRARY_TIMEOUTS = frozenset({"buildPlugin", "buildPluginWithGradle"})
_TIME_UNITS = {"NANOSECONDS": 1 / 6e10, "MICROSECONDS": 1 / 6e7, "MILLISECONDS": 1 / 60000, "SECONDS": 1 / 60,
               "MINUTES": 1, "HOURS": 60, "DAYS": 1440}
_TRIGGER_KINDS = {"cron": "schedule", "parameterizedCron": "schedule", "pollSCM": "push", "githubPush": "push",
                  "bitbucketPush": "push", "gitlab": "push"}
_CAUSE_KINDS = {"TimerTrigger": "schedule", "TimerTriggerCause": "schedule", "UserIdCause": "manual",
                "SCMTrigger": "push", "BranchIndexingCause": "push", "BranchEventCause": "push"}
_POD_IMAGE = re.compile(r"^\s*-?\s*image:\s*[\"']?([^\s\"']+)", re.M)


# folders where Groovy pipelines usually live (a `.groovy` elsewhere is library or application code)
_GROOVY_FOLDERS = frozenset({"", ".jenkins", "jenkins", "ci", ".ci", "jenkinsfiles", "pipelines", ".pipelines",
                             "cicd", "build", ".build", "infra", "tools"})
_IDE_DESCRIPTORS = (".gdsl", ".dsld")


def discover(workspace: Workspace) -> list[str]:
    index = workspace.index
    # the base names `_is_candidate` can accept, from the index (case-insensitive: `.Groovy`, `JENKINSFILE`)
    names = [name for ending, names in index.endings.items() if ending.lower() in (".groovy", ".jenkinsfile")
             for name in names]
    names += [name for initial in "jJ" for name in index.initials.get(initial, ())
              if name.lower().startswith("jenkinsfile")]
    return [p for p in index.named(*names) if _is_candidate(p) and not is_test_data(p)]


def _is_candidate(path: str) -> bool:
    folder, _, name = path.rpartition("/")
    lower = name.lower()
    if lower.endswith((".md", ".txt", ".rst", ".adoc", ".html", ".png", ".svg")):
        return False
    if lower.startswith("jenkinsfile") or lower.endswith(".jenkinsfile"):
        return True
    return lower.endswith(".groovy") and folder.lower() in _GROOVY_FOLDERS


def _not_a_pipeline(path: str, nodes: list[Node]) -> str:
    """Why a candidate file is not a pipeline (an IDE descriptor, a library class), or "" when it is one."""
    if path.lower().endswith(_IDE_DESCRIPTORS):
        return "an IDE descriptor (GDSL), not a pipeline"
    if path.lower().endswith(".groovy") and not any(n.name in ("pipeline", "node") and n.blocks for n in nodes):
        return "Groovy without a top-level `pipeline {` or `node {` block (library or build code), not a pipeline"
    return ""


def parse(workspace: Workspace, path: str, classifier: Classifier) -> Parsed:
    text = workspace.read_text(path, max_bytes=MAX_BYTES)
    if "\0" in text:
        raise EvidenceError(path, "binary content, not a Jenkinsfile")
    try:
        nodes = parse_groovy(text)
    except GroovyError as exc:
        if path.lower().endswith((".groovy", *_IDE_DESCRIPTORS)):
            return Parsed([], [InventoryEntry(path, KIND, "skipped", f"not read as a pipeline: {exc.reason}", exc.line)])
        raise EvidenceError(path, f"cannot read as Groovy: {exc.reason}", exc.line) from None
    reason = _not_a_pipeline(path, nodes)
    if reason:
        return Parsed([], [InventoryEntry(path, KIND, "skipped", reason)])
    pipeline = Pipeline(system=SYSTEM, path=path, name=path, location=Location(path, 1), files=[path])
    reader = _Reader(pipeline, classifier, text, _functions(nodes))
    reader.libraries(nodes)
    declarative = next((n for n in nodes if n.name == "pipeline" and n.blocks), None)
    if declarative is not None:
        reader.declarative(declarative)
    else:
        reader.scripted(nodes)
    transitive_upstream(pipeline.jobs)
    pipeline.triggers = reader.triggers()
    if not pipeline.jobs:
        raise EvidenceError(path, "no pipeline, stage or step found", 1)
    return Parsed([pipeline], [InventoryEntry(path, KIND, "parsed")], documents={path: nodes})


@dataclass(frozen=True)
class _Context:
    """What a stage inherits from where it sits."""

    timeout: float | None = None
    image: str = ""
    triggers: tuple[str, ...] | None = None
    condition: str = ""
    parent: str = ""
    locator: str = ""


@dataclass
class _Collected:
    """The steps of a block of a Jenkinsfile, and whether an `input` makes it manual."""

    steps: list[Step] = field(default_factory=list)
    manual: bool = False


class _Reader:
    def __init__(self, pipeline: Pipeline, classifier: Classifier, text: str,
                 functions: dict[str, list[Node]]) -> None:
        self.pipeline = pipeline
        self.path = pipeline.path
        self.classifier = classifier
        self.text = text
        self.functions = functions
        self.declared_triggers: list[Trigger] | None = None
        self.multibranch_hint = False

    def location(self, node: Node | Token) -> Location:
        return Location(self.path, node.line)

    # libraries ----------------------------------------------------------------------------------
    def libraries(self, nodes: list[Node]) -> None:
        for node in (n for top in nodes for n in top.walk()):
            if node.name == "@Library":
                names = [t.value for t in node.tokens if t.kind == "string"]
            elif node.name == "library":
                positional, named = split_args(node)
                source = named.get("identifier") or (positional[0] if positional else [])
                names = [t.value for t in source if t.kind == "string"][:1]
            else:
                continue
            for name in names:
                self._library_ref(name, node)

    def _library_ref(self, spec: str, node: Node) -> None:
        name, _, version = spec.partition("@")
        pinned_by = version_pinning(version)
        self.pipeline.refs.append(ExternalRef("library", spec, name, version, pinned_by,
                                              pinned_by in ("sha", "version"), False, False, self.location(node),
                                              f"@Library('{spec}')"))
        if "shared-library" not in self.pipeline.reuse:
            self.pipeline.reuse.append("shared-library")

    # declarative -----------------------------------------------------------------------------
    def declarative(self, pipeline_node: Node) -> None:
        sections = _sections(pipeline_node.body)
        context = _Context(timeout=_options_timeout(sections.get("options")),
                           image=self._agent_image(sections.get("agent"), "pipeline.agent"))
        if "triggers" in sections:
            self.declared_triggers = self._declared_triggers(sections["triggers"])
        stages = sections.get("stages")
        if stages is not None:
            self._stages(stages.body, [], context)

    def _stages(self, nodes: list[Node], preds: list[str], context: _Context) -> list[str]:
        for node in nodes:
            if node.name == "stage":
                preds = self._stage(node, preds, context)
        return preds

    def _stage(self, node: Node, preds: list[str], context: _Context) -> list[str]:
        name = _first_string(node) or "stage"
        sections = _sections(node.body)
        locator = f"{context.locator} > stage('{name}')" if context.locator else f"stage('{name}')"
        when = sections.get("when")
        kinds = self._when(when) if when is not None else None
        inner = replace(
            context,
            timeout=_options_timeout(sections.get("options")) or context.timeout,
            image=self._agent_image(sections["agent"], f"{locator}.agent") if "agent" in sections else context.image,
            triggers=tuple(sorted(kinds)) if kinds is not None else context.triggers,
            condition=self._source(when) if when is not None else context.condition,
            parent=name, locator=locator,
        )
        if "parallel" in sections:
            exits: list[str] = []
            for child in sections["parallel"].body:
                if child.name == "stage":
                    exits.extend(self._stage(child, preds, inner))
            return exits or preds
        nested = sections.get("stages")
        if nested is None and "matrix" in sections:
            nested = _sections(sections["matrix"].body).get("stages")
        if nested is not None:
            return self._stages(nested.body, preds, inner)
        collected = _Collected(manual="input" in sections)
        self._steps(sections.get("steps"), f"{locator}.steps", collected, False, 0)
        self._steps(sections.get("post"), f"{locator}.post", collected, False, 0)
        job = self._job(name, node, locator, preds, replace(inner, parent=context.parent), collected)
        return [job.id]

    def _job(self, name: str, node: Node, locator: str, preds: list[str], context: _Context,
             collected: _Collected) -> Job:
        job_id = name
        taken = {job.id for job in self.pipeline.jobs}
        counter = 2
        while job_id in taken:
            job_id, counter = f"{name} ({counter})", counter + 1
        kinds: set[str] = set()
        tools: set[str] = set()
        for step in collected.steps:
            kinds.update(step.kinds)
            tools.update(step.tools)
        if context.image:
            image_kinds, image_tools = self.classifier.classify(image=context.image)
            kinds.update(image_kinds)
            tools.update(image_tools)
        job = Job(id=job_id, name=name, locator=locator, location=self.location(node), steps=collected.steps,
                  kinds=sorted(kinds), tools=sorted(tools), needs=list(preds), stage=context.parent,
                  timeout_minutes=context.timeout, manual=collected.manual, image=context.image,
                  condition=context.condition, triggers=list(context.triggers or ()),
                  continue_on_error=bool(collected.steps) and all(s.continue_on_error for s in collected.steps))
        self.pipeline.jobs.append(job)
        return job

    def _agent_image(self, agent: Node | None, locator: str) -> str:
        if agent is None:
            return ""
        image = ""
        for node in (n for top in agent.body for n in top.walk()):
            if node.name == "docker" and not node.blocks:
                image = _first_string(node)
            elif node.name == "image" and not image:
                image = _first_string(node)
            elif node.name == "yaml":
                for match in _POD_IMAGE.finditer(_first_string(node)):
                    self._image_ref(match.group(1), node, f"{locator}.kubernetes")
            if node.name in ("docker", "image") and image:
                self._image_ref(image, node, locator)
                return image
        return image

    def _image_ref(self, image: str, node: Node, locator: str) -> None:
        location = self.location(node)
        if not any(r.ref == image and r.location == location for r in self.pipeline.refs):
            self.pipeline.refs.append(parse_image(image, location, locator))

    # steps -----------------------------------------------------------------------------------
    def _steps(self, section: Node | None, locator: str, collected: _Collected, lenient: bool, depth: int,
               nodes: list[Node] | None = None) -> None:
        for node in nodes if nodes is not None else (section.body if section is not None else []):
            for call in _embedded_calls(node):
                self._steps(None, locator, collected, lenient, depth, [call])
            name = node.name
            if name in SHELL_STEPS:
                self._shell(node, locator, collected, lenient)
                continue
            if name in LIBRARY_STEPS:
                self._library_step(node, locator, collected, lenient)
            elif name == "input":
                collected.manual = True
            elif name == "docker.image" and _first_string(node):
                self._image_ref(_first_string(node), node, f"{locator}.docker.image")
            elif name in self.functions and depth < MAX_CALL_DEPTH:
                self._steps(None, locator, collected, lenient, depth + 1, self.functions[name])
            if name in ("changeRequest", "buildingTag"):
                self.multibranch_hint = True
            inner_lenient = lenient or name == "warnError" or (name == "catchError" and _soft_catch(node))
            for block in node.blocks:
                self._steps(None, locator, collected, inner_lenient, depth, block)

    def _shell(self, node: Node, locator: str, collected: _Collected, lenient: bool) -> None:
        positional, named = split_args(node)
        script = text_of(named["script"]) if "script" in named else text_of(positional[0]) if positional else ""
        label = text_of(named["label"]) if "label" in named else ""
        returns_status = "returnStatus" in named and text_of(named["returnStatus"]) == "true"
        kinds, tools = self.classifier.classify(run=script)
        first = (script.strip().splitlines() or [""])[0]
        collected.steps.append(Step(
            name=(label or first)[:200], locator=_next_locator(collected, locator), location=self.location(node),
            run=script, kinds=kinds, tools=tools, continue_on_error=lenient or returns_status))

    def _library_step(self, node: Node, locator: str, collected: _Collected, lenient: bool) -> None:
        kinds = list(LIBRARY_STEPS[node.name][0])
        inputs = {key: text_of(value)[:200] for key, value in split_args(node)[1].items()}
        jdks = [node.tokens[i + 2].text for i in range(len(node.tokens) - 2)  # `configurations: [[jdk: 21], ...]`
                if node.tokens[i].text == "jdk" and node.tokens[i + 1].text == ":" and node.tokens[i + 2].kind == "number"]
        if jdks:
            inputs["jdk"] = ", ".join(dict.fromkeys(jdks))
        collected.steps.append(Step(name=node.name, locator=_next_locator(collected, locator),
                                    location=self.location(node), uses=node.name, kinds=kinds, tools=[node.name],
                                    continue_on_error=lenient, inputs=inputs))
        if node.name in _LIBRARY_ONLY and "shared-library" not in self.pipeline.reuse:
            self.pipeline.reuse.append("shared-library")

    # when and triggers -----------------------------------------------------------------------
    def _when(self, when: Node) -> set[str] | None:
        return self._all_of(when.body)

    def _all_of(self, nodes: list[Node]) -> set[str] | None:
        result: set[str] | None = None
        for node in nodes:
            kinds = self._condition(node)
            if kinds is not None:
                result = kinds if result is None else result & kinds
        return result

    def _condition(self, node: Node) -> set[str] | None:
        name = node.name
        if name in ("branch", "changeRequest", "tag", "buildingTag"):
            self.multibranch_hint = True
        if name == "branch":
            return {"pull_request"} if _first_string(node).startswith("PR-") else {"push"}
        if name == "changeRequest":
            return {"pull_request"}
        if name in ("tag", "buildingTag"):
            return {"tag"}
        if name == "triggeredBy":
            kind = _CAUSE_KINDS.get(_first_string(node))
            return {kind} if kind else None
        if name == "allOf":
            return self._all_of(node.body)
        if name == "anyOf":
            parts = [self._condition(child) for child in node.body]
            return None if not parts or any(p is None for p in parts) else set().union(*parts)
        return None  # not, expression, environment, changeset, equals...: any source

    def _declared_triggers(self, section: Node) -> list[Trigger]:
        triggers = []
        for node in section.body:
            if not node.name:
                continue
            kind = _TRIGGER_KINDS.get(node.name, "other")
            triggers.append(Trigger(kind, node.name, self.location(node)))
            if node.name == "gitlab" and "triggerOnMergeRequest" in split_args(node)[1]:
                triggers.append(Trigger("pull_request", "gitlab", self.location(node)))
        return triggers

    def triggers(self) -> list[Trigger]:
        triggers = list(self.declared_triggers or [])
        if self.declared_triggers is None or self.multibranch_hint:
            where = Location(self.path, 1)
            triggers += [Trigger("push", "multibranch", where), Trigger("pull_request", "multibranch", where)]
            if any("tag" in job.triggers for job in self.pipeline.jobs):
                triggers.append(Trigger("tag", "multibranch", where))
        return triggers

    # scripted --------------------------------------------------------------------------------
    def scripted(self, nodes: list[Node]) -> None:
        self.declared_triggers = self._properties_triggers(nodes)
        top = [n for n in nodes if n.name not in ("def", "class", "import", "@Library", "library", "properties")]
        if any(n.name == "stage" for top_node in top for n in top_node.walk()):
            self._scripted(top, [], _Context())
            return
        collected = _Collected()
        self._steps(None, "steps", collected, False, 0, top)
        if not collected.steps:
            return
        step = next((s for s in collected.steps if s.uses in _LIBRARY_ONLY), None)
        name = step.uses if step else "main"
        job = self._job(name, top[0] if top else Node("", 1, []), name, [], _Context(), collected)
        job.reusable = step.uses if step else ""
        minutes = step.inputs.get("timeout", "") if step and step.uses in _LIBRARY_TIMEOUTS else ""
        if minutes.isascii() and minutes.isdigit():  # `'²'.isdigit()` too, which float() refuses
            job.timeout_minutes = float(minutes)

    def _scripted(self, nodes: list[Node], preds: list[str], context: _Context) -> list[str]:
        for node in nodes:
            if node.name == "stage" and not any(n.name == "stage" for b in node.blocks for top in b
                                                 for n in top.walk()):
                name = _first_string(node) or "stage"
                collected = _Collected()
                locator = f"stage('{name}')"
                self._steps(None, f"{locator}.steps", collected, False, 0, node.body)
                preds = [self._job(name, node, locator, preds, context, collected).id]
            elif node.name == "parallel":
                exits: list[str] = []
                for block in node.blocks:
                    exits.extend(self._scripted(block, preds, context))
                preds = exits or preds
            else:
                timeout = _timeout_minutes(node) if node.name == "timeout" else None
                inner = replace(context, timeout=timeout or context.timeout)
                for block in node.blocks:
                    preds = self._scripted(block, preds, inner)
        return preds

    def _properties_triggers(self, nodes: list[Node]) -> list[Trigger] | None:
        """`properties([pipelineTriggers([cron('...')])])` in a scripted pipeline."""
        triggers = []
        for node in (n for n in nodes if n.name == "properties"):
            for token in node.tokens:
                if token.kind == "name" and token.text in _TRIGGER_KINDS:
                    triggers.append(Trigger(_TRIGGER_KINDS[token.text], token.text, self.location(token)))
        return triggers or None

    def _source(self, node: Node) -> str:
        return self.text[node.start:node.end].strip()[:500]


def _next_locator(collected: _Collected, prefix: str) -> str:
    index = sum(1 for step in collected.steps if step.locator.startswith(prefix + "["))
    return f"{prefix}[{index}]"


def _sections(nodes: list[Node]) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for node in nodes:
        found.setdefault(node.name, node)
    return found


def _first_string(node: Node) -> str:
    for token in node.tokens:
        if token.kind == "string":
            return token.value
    return ""


def _functions(nodes: list[Node]) -> dict[str, list[Node]]:
    """Top-level `def name(...) { }` (or a typed `void name(...)`) of the file: name -> body."""
    functions = {}
    for node in nodes:
        tokens = node.tokens
        if (len(tokens) >= 3 and node.blocks and tokens[0].kind == "name" and tokens[1].kind == "name"
                and tokens[2].text == "(" and node.name not in ("class", "interface", "enum")):
            functions[tokens[1].text] = node.body
    return functions


def _embedded_calls(node: Node) -> list[Node]:
    """Shell and library steps called inside an expression: `def out = sh(script: 'x', returnStdout: true)`."""
    tokens = node.tokens
    calls = []
    for k in range(1, len(tokens) - 1):
        if tokens[k].kind != "name" or tokens[k - 1].text in (".", "?."):
            continue
        end = k
        while end + 2 < len(tokens) and tokens[end + 1].text == "." and tokens[end + 2].kind == "name":
            end += 2
        name = "".join(t.text for t in tokens[k:end + 1])
        if end + 1 < len(tokens) and tokens[end + 1].text == "(" and (name in SHELL_STEPS or name in LIBRARY_STEPS):
            close = _matching(tokens, end + 1)
            calls.append(Node(name, tokens[k].line, tokens[k:close + 1], start=tokens[k].start, end=tokens[close].end))
    return calls


def _matching(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(tokens)):
        if tokens[index].text in "([":
            depth += 1
        elif tokens[index].text in ")]":
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1


def _soft_catch(node: Node) -> bool:
    result = split_args(node)[1].get("buildResult")
    return result is not None and text_of(result) in ("SUCCESS", "UNSTABLE", "null")


def _options_timeout(options: Node | None) -> float | None:
    for node in options.body if options is not None else ():
        if node.name == "timeout":
            return _timeout_minutes(node)
    return None


def _timeout_minutes(node: Node) -> float | None:
    positional, named = split_args(node)
    amount = text_of(named["time"]) if "time" in named else text_of(positional[0]) if positional else ""
    unit = text_of(named["unit"]) if "unit" in named else "MINUTES"
    try:
        value = float(amount)
    except ValueError:
        return None
    return round(value * _TIME_UNITS.get(unit.rsplit(".", 1)[-1].upper(), 1), 2)
