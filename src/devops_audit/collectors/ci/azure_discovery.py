"""Which YAML files are Azure pipelines: `azure-pipelines.yml|yaml` at the root, and any other YAML file whose top
level has an Azure pipeline's shape, told from its text (the parser, `azure_pipelines`, is loaded only when one is
found: most repositories with YAML have none). Files other pipelines reference with `template:` are read through
them, not as pipelines of their own."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from devops_audit.collectors.ci.pipelines import is_test_data
from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

__all__ = ["discover", "resolve_template"]

_ROOT_FILES = ("azure-pipelines.yml", "azure-pipelines.yaml")
_OTHER_SYSTEMS = re.compile(r"^(\.github/|\.circleci/|\.gitlab/|\.gitlab-ci\.ya?ml$|bitbucket-pipelines\.ya?ml$)")
_AZURE_ITEM = r"(stage|job|deployment|template|script|bash|pwsh|powershell|task|checkout|download|publish|getPackage)"
_SHAPE = re.compile(
    r"^(?:(?:stages|jobs|steps):[ \t]*(?:#.*)?\r?\n(?:[ \t]*(?:#.*)?\r?\n)*[ \t]*-[ \t]+" + _AZURE_ITEM + r"[ \t]*:"
    r"|extends:[ \t]*(?:#.*)?\r?\n(?:[ \t]*(?:#.*)?\r?\n)*[ \t]+template:)",
    re.MULTILINE,
)
_TEMPLATE_REF = re.compile(r"^[ \t]*(?:-[ \t]+)?template:[ \t]*['\"]?([^'\"#\s]+)", re.MULTILINE)
_SNIFF_BYTES = 256 * 1024


def discover(workspace: Workspace) -> list[str]:
    candidates: list[str] = []
    referenced: set[str] = set()
    for path in workspace.index.find_names(("*.yml", "*.yaml")):
        if _OTHER_SYSTEMS.match(path) or is_test_data(path):
            continue
        try:
            text = workspace.read_text(path, max_bytes=_SNIFF_BYTES)
        except EvidenceError:
            if path in _ROOT_FILES:
                candidates.append(path)  # parse reports why it cannot be read
            continue
        if path in _ROOT_FILES or _SHAPE.search(text):
            candidates.append(path)
            referenced.update(_template_targets(path, text))
    return [p for p in candidates if p in _ROOT_FILES or p not in referenced]


def _template_targets(path: str, text: str) -> Iterator[str]:
    for ref in _TEMPLATE_REF.findall(text):
        if "@" not in ref and "$" not in ref:
            target = resolve_template(path, ref)
            if target:
                yield target


def resolve_template(referrer: str, ref: str) -> str | None:
    """A template path relative to the referencing file (or to the root with a leading `/`)."""
    joined = ref.lstrip("/") if ref.startswith("/") else posixpath.join(posixpath.dirname(referrer), ref)
    target = posixpath.normpath(joined)
    return None if target.startswith("../") or target == ".." else target
