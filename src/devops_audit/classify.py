"""Recognise what a CI step does from the tools it invokes, using the table in `tools.yaml`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["ToolRule", "Classifier", "default_classifier", "KINDS"]

KINDS = (
    "build", "test", "lint", "sast", "sca", "secret-scan", "iac-scan", "coverage",
    "deploy", "publish", "sbom", "provenance", "signing", "rollback",
)


@dataclass(frozen=True)
class ToolRule:
    """One row of the table: a tool, what it does, and how to recognise it."""

    tool: str
    kinds: tuple[str, ...]
    commands: Any = None  # the row's patterns joined into one alternation (`re` or RE2: both have `search`)
    uses: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    min_versions: tuple[tuple[str, tuple[int, ...]], ...] = ()  # `uses: ['owner/action@>=1.11']`

    @classmethod
    def from_data(cls, data: dict[str, Any], trusted: bool = True) -> ToolRule:
        """A row of our table (`trusted`), or of a config's `classification:` (compiled with RE2: linear time)."""
        unknown = set(data.get("kinds", ())) - set(KINDS)
        if unknown:
            raise ValueError(f"tool {data.get('tool')!r}: unknown kinds {sorted(unknown)}")
        pattern = "|".join(f"(?:{p})" for p in data.get("commands") or ())
        if pattern and not trusted:
            from devops_audit.celexpr import linear_regex

            commands = linear_regex(pattern, multiline=True)
        else:
            commands = re.compile(pattern, re.MULTILINE) if pattern else None
        return cls(
            tool=str(data["tool"]),
            kinds=tuple(data.get("kinds", ())),
            commands=commands,
            uses=tuple(u.lower() for u in data.get("uses", ()) if "@>=" not in u),
            min_versions=tuple((u.split("@>=")[0].lower(), _version(u.split("@>=")[1]) or (0,))
                               for u in data.get("uses", ()) if "@>=" in u),
            images=tuple(i.lower() for i in data.get("images", ())),
        )


class Classifier:
    """Maps a step's script, `uses` reference and image to the tools and kinds it involves."""

    def __init__(self, rules: Iterable[ToolRule]) -> None:
        self.rules = tuple(rules)
        self._seen: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}

    def extended(self, extra: Iterable[dict[str, Any]]) -> Classifier:
        return Classifier((*(ToolRule.from_data(e, trusted=False) for e in extra), *self.rules))

    def classify(self, run: str = "", uses: str = "", image: str = "") -> tuple[list[str], list[str]]:
        """(kinds, tools) recognised, each sorted and without duplicates (memoised: CI files repeat themselves)."""
        key = (run, uses, image)
        if key not in self._seen:
            self._seen[key] = self._classify(run, uses, image)
        kinds, tools = self._seen[key]
        return list(kinds), list(tools)

    def _classify(self, run: str, uses: str, image: str) -> tuple[list[str], list[str]]:
        kinds: set[str] = set()
        tools: set[str] = set()
        uses_l = _strip_version(uses.lower())
        image_l = image.lower()
        for rule in self.rules:
            if (
                (run and rule.commands is not None and rule.commands.search(run))
                or (uses_l and any(uses_l == u or uses_l.startswith(u + "/") for u in rule.uses))
                or (image_l and any(image_l.startswith(i) for i in rule.images))
                or (uses_l and any(uses_l == name and _at_least(uses, minimum) for name, minimum in rule.min_versions))
            ):
                kinds.update(rule.kinds)
                tools.add(rule.tool)
        return sorted(kinds), sorted(tools)


def _version(text: str) -> tuple[int, ...] | None:
    found = re.match(r"^v?(\d+(?:\.\d+)*)$", text.strip())
    return tuple(int(p) for p in found.group(1).split(".")) if found else None


def _at_least(uses: str, minimum: tuple[int, ...]) -> bool:
    """`@v1.12` or a moving major tag / release branch (`@v1`, `@release/v1`: the newest release) is recent
    enough; a SHA or an older version is not (nothing says which release a SHA is)."""
    ref = uses.split("@", 1)[1] if "@" in uses else ""
    if ref.startswith("release/"):
        ref = ref[len("release/"):]
    version = _version(ref)
    if version is None:
        return False
    if len(version) == 1:
        return version[0] >= minimum[0]
    return version >= minimum


def _strip_version(reference: str) -> str:
    return reference.split("@", 1)[0].rstrip("/")


@cache
def default_classifier() -> Classifier:
    """The table shipped with the package."""
    from devops_audit.yamlsafe import load_documents

    text = (Path(__file__).with_name("tools.yaml")).read_text(encoding="utf-8")
    (rows,) = load_documents(text)
    return Classifier(ToolRule.from_data(row) for row in rows)
