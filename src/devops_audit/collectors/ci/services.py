"""CI run by a hosted service the repository only configures: pre-commit.ci and GitHub secret scanning.

- `.pre-commit-config.yaml` with a top-level `ci:` block: pre-commit.ci runs the hooks on every pull request.
  One pipeline (system `pre-commit.ci`) with one job whose steps are the hooks (minus `ci: skip`); the job is
  `lint`, plus `sast` / `secret-scan` / ... where hooks are such tools (gitleaks, bandit, detect-secrets).
- `.github/secret_scanning.yml`: GitHub secret scanning is configured; one job of kind `secret-scan` on push.

Both are `Pipeline.kind == "service"`; their job's `reusable` names the service (it defines the job's
runner, timeout and permissions, which the file cannot show).
"""

from __future__ import annotations

from devops_audit.classify import Classifier
from devops_audit.collectors.ci.pipelines import Parsed
from devops_audit.errors import EvidenceError
from devops_audit.facts import InventoryEntry, Job, Location, Pipeline, Step, Trigger
from devops_audit.workspace import Workspace
from devops_audit.yamlsafe import YamlError, line_of

__all__ = ["SYSTEM", "KIND", "discover", "parse"]

SYSTEM = "service"
KIND = "ci-service"
_SECRET_SCANNING = (".github/secret_scanning.yml", ".github/secret_scanning.yaml")


_PRECOMMIT = (".pre-commit-config.yaml", ".pre-commit-config.yml")


def discover(workspace: Workspace) -> list[str]:
    return [p for p in (*_PRECOMMIT, *_SECRET_SCANNING) if p in workspace.file_set]


def parse(workspace: Workspace, path: str, classifier: Classifier) -> Parsed:
    if path in _SECRET_SCANNING:
        return _secret_scanning(path)
    from devops_audit.collectors.ci.follow import precommit

    text = workspace.read_strict_text(path)
    try:
        config = precommit.config(text)
        definitions = precommit.parse(text, path)
    except YamlError as exc:
        raise EvidenceError(path, exc.reason, exc.line) from None
    ci = config.get("ci") if isinstance(config, dict) else None
    if not isinstance(ci, dict):
        return Parsed()  # hooks run locally (or by a CI step that is followed into them): not a service
    skipped = {str(s) for s in ci.get("skip") or ()} if isinstance(ci.get("skip"), list) else set()
    line = line_of(config, "ci")
    pipeline = Pipeline(system="pre-commit.ci", path=path, name="pre-commit.ci", location=Location(path, line),
                        triggers=[Trigger("pull_request", "pre-commit.ci", Location(path, line))], files=[path],
                        kind="service")
    job = Job(id="pre-commit.ci", name="pre-commit.ci", locator="ci", location=Location(path, line),
              reusable="pre-commit.ci", kinds=["lint"], tools=["pre-commit"])
    for name, target in definitions.targets.items():
        if name in skipped:
            continue
        for index, (command, command_line) in enumerate(target.commands):
            kinds, tools = classifier.classify(run=command)
            job.steps.append(Step(name, f"hooks.{name}[{index}]", Location(path, command_line), run=command,
                                  kinds=kinds, tools=tools))
    job.kinds = sorted({*job.kinds, *(k for s in job.steps for k in s.kinds)})
    job.tools = sorted({*job.tools, *(t for s in job.steps for t in s.tools)})
    pipeline.jobs.append(job)
    return Parsed([pipeline], [InventoryEntry(path, KIND, "parsed")])


def _secret_scanning(path: str) -> Parsed:
    location = Location(path, 1)
    pipeline = Pipeline(system="github-secret-scanning", path=path, name="GitHub secret scanning", location=location,
                        triggers=[Trigger("push", "secret-scanning", location)], files=[path], kind="service")
    pipeline.jobs.append(Job(id="secret-scanning", name="GitHub secret scanning", locator="secret-scanning",
                             location=location, kinds=["secret-scan"], tools=["github-secret-scanning"],
                             reusable="github-secret-scanning"))
    return Parsed([pipeline], [InventoryEntry(path, KIND, "parsed")])
