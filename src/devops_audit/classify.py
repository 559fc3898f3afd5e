"""Recognise what a CI step does from the tools it invokes, using the table in `tools.yaml`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

__all__ = ["ToolRule", "Commands", "Classifier", "default_classifier", "KINDS"]

KINDS = (
    "build", "test", "lint", "sast", "sca", "secret-scan", "iac-scan", "coverage",
    "deploy", "publish", "sbom", "provenance", "signing", "rollback",
)


class Commands:
    """A row's `commands` patterns, joined into one alternation that is compiled at its first search.

    When every pattern starts with a plain word (`\\bpytest\\b`, `--cov\\b`: `words`), a script without any of
    those words cannot match, so the classifier does not search it: most rows never meet their tool and are
    never compiled."""

    def __init__(self, patterns: Sequence[str], trusted: bool) -> None:
        self.pattern = "|".join(f"(?:{p})" for p in patterns)
        self.trusted = trusted
        words = [_leading_words(p) for p in patterns]
        self.words = tuple(dict.fromkeys(w for ws in words for w in ws)) if all(words) else ()  # empty: search all

    @cached_property
    def regex(self) -> Any:
        """`re` for our table; RE2 (linear time: no input makes it slow) for a config's rows."""
        if self.trusted:
            return re.compile(self.pattern, re.MULTILINE)
        from devops_audit.celexpr import linear_regex

        return linear_regex(self.pattern, multiline=True)


# a pattern's start, after an optional `\\b`: a plain word (`\\bpytest`, `--cov`) or a group of plain words
# (`\\b(npm|pnpm|yarn)`), and the character after it
_LEADING = re.compile(r"(?:\\b)?(?:(?P<word>[A-Za-z0-9_-]+)|\((?:\?:)?(?P<group>[A-Za-z0-9_-]+(?:\|[A-Za-z0-9_-]+)*)\))"
                      r"(?P<next>.?)")
_QUANTIFIERS = ("?", "*", "{")
_MAX_SCRIPTS = 4096  # scripts remembered by a classifier (the shipped one lives as long as the process)


def _leading_words(pattern: str) -> tuple[str, ...]:
    """Texts one of which every match of `pattern` contains: the plain word it starts with (less its last
    character when a quantifier follows), or the words of the plain group it starts with. Empty when the
    pattern starts otherwise, or a `|` outside its groups or a quantifier on the group makes that start optional."""
    found = _LEADING.match(pattern)
    if not found or "|" in _top_level(pattern):
        return ()
    if found["group"]:
        return () if found["next"] in _QUANTIFIERS else tuple(found["group"].split("|"))
    word = found["word"][:-1] if found["next"] in _QUANTIFIERS else found["word"]
    return (word,) if word else ()


def _top_level(pattern: str) -> str:
    """`pattern` without its escapes, character classes and groups."""
    if "|" not in pattern:
        return pattern
    text = re.sub(r"\\.", "", pattern)
    text = re.sub(r"\[\^?\]?[^\]]*\]", "", text)  # `[]a]` and `[^]a]` hold a `]`
    while (shorter := re.sub(r"\([^()]*\)", "", text)) != text:
        text = shorter
    return text


@dataclass(frozen=True)
class ToolRule:
    """One row of the table: a tool, what it does, and how to recognise it."""

    tool: str
    kinds: tuple[str, ...]
    commands: Commands | None = None
    uses: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    min_versions: tuple[tuple[str, tuple[int, ...]], ...] = ()  # `uses: ['owner/action@>=1.11']`

    @classmethod
    def from_data(cls, data: dict[str, Any], trusted: bool = True) -> ToolRule:
        """A row of our table (`trusted`), or of a config's `classification:` (compiled now, with RE2: a bad
        pattern is a ValueError)."""
        unknown = set(data.get("kinds", ())) - set(KINDS)
        if unknown:
            raise ValueError(f"tool {data.get('tool')!r}: unknown kinds {sorted(unknown)}")
        commands = Commands(data["commands"], trusted) if data.get("commands") else None
        if commands is not None and not trusted:
            commands.regex  # noqa: B018 - compiled now, so that a config with a bad pattern is refused
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
        self._scripts: dict[str, list[ToolRule]] = {}  # script -> the rows its text matches (CI files repeat)
        # which rows a script can match: the rows one of whose words it contains, and the rows without words
        self._by_word: dict[str, list[ToolRule]] = {}
        self._unfiltered = [rule for rule in self.rules if rule.commands is not None and not rule.commands.words]
        # which rows a reference can match: those naming it or a folder of it (`owner/repo` for `owner/repo/sub`)
        self._by_uses: dict[str, list[ToolRule]] = {}
        self._by_min_version: dict[str, list[tuple[ToolRule, tuple[int, ...]]]] = {}
        self._with_images = [rule for rule in self.rules if rule.images]
        for rule in self.rules:
            for word in rule.commands.words if rule.commands is not None else ():
                self._by_word.setdefault(word, []).append(rule)
            for uses in rule.uses:
                self._by_uses.setdefault(uses, []).append(rule)
            for name, minimum in rule.min_versions:
                self._by_min_version.setdefault(name, []).append((rule, minimum))

    def extended(self, extra: Iterable[dict[str, Any]]) -> Classifier:
        return Classifier((*(ToolRule.from_data(e, trusted=False) for e in extra), *self.rules))

    def classify(self, run: str = "", uses: str = "", image: str = "") -> tuple[list[str], list[str]]:
        """(kinds, tools) recognised, each sorted and without duplicates."""
        matched = list(self._script_rules(run)) if run else []
        uses_l = _strip_version(uses.lower())
        if uses_l:
            parts = uses_l.split("/")
            for prefix in ("/".join(parts[:n]) for n in range(1, len(parts) + 1)):  # `a`, `a/b`, `a/b/c`
                matched += self._by_uses.get(prefix, ())
            matched += [rule for rule, minimum in self._by_min_version.get(uses_l, ()) if _at_least(uses, minimum)]
        image_l = image.lower()
        if image_l:
            matched += [rule for rule in self._with_images if image_l.startswith(rule.images)]
        return sorted({kind for rule in matched for kind in rule.kinds}), sorted({rule.tool for rule in matched})

    def _script_rules(self, run: str) -> list[ToolRule]:
        """The rows whose `commands` match the script (remembered; past `_MAX_SCRIPTS` scripts the memo starts anew)."""
        if run in self._scripts:
            return self._scripts[run]
        candidates = dict.fromkeys(self._unfiltered)
        for word, rules in self._by_word.items():
            if word in run:
                candidates.update(dict.fromkeys(rules))
        if len(self._scripts) >= _MAX_SCRIPTS:
            self._scripts.clear()
        found = self._scripts[run] = [rule for rule in candidates if rule.commands.regex.search(run) is not None]
        return found


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
