"""Small helpers shared by the CI parsers (GitHub Actions, Azure Pipelines, CircleCI, Bitbucket Pipelines)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from devops_audit.facts import ExternalRef, Pipeline

__all__ = ["strings", "number", "add_ref", "first_line", "mark_reuse"]


def strings(value: Any) -> list[str]:
    """A scalar or list as a list of strings (None gives [])."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def number(value: Any) -> float | None:
    """An int or float (not a bool, not a string) as a float, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def add_ref(pipeline: Pipeline, ref: ExternalRef) -> None:
    """Record a reference once, however many jobs reuse the definition (YAML anchors, templates)."""
    key = (ref.type, ref.ref, ref.location.path, ref.location.line)
    if all((r.type, r.ref, r.location.path, r.location.line) != key for r in pipeline.refs):
        pipeline.refs.append(ref)


def mark_reuse(pipeline: Pipeline, how: str) -> None:
    if how not in pipeline.reuse:
        pipeline.reuse.append(how)


def first_line(text: str, limit: int = 200) -> str:
    """The first non-blank line of a script, as a display name."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def kinds_from_name(name: str) -> list[str]:
    """The kinds the last part of `owner/name[/path]` names (`names.yaml`): what a shared definition does when
    its content is not visible (a CircleCI orb job, a GitHub action of a collection read offline)."""
    last = name.partition("@")[0].lower().rstrip("/").rsplit("/", 1)[-1]
    dashed = "-" + re.sub(r"[_.]", "-", last) + "-"
    return sorted({kind for phrase, kind in _name_kinds().items() if f"-{phrase}-" in dashed})


@cache
def _name_kinds() -> dict[str, str]:
    import yaml  # our own data: the C loader, without the line tracking repository files need

    text = Path(__file__).with_name("names.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
