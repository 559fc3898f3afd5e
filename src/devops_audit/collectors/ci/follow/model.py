"""What the followers share: a call found in a command, and the targets a repository file defines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["Call", "Target", "Definitions", "json_scripts", "line_of_key", "options_and_words"]


class Call(NamedTuple):  # a NamedTuple: made at import ~10x faster than a frozen dataclass
    """A command that runs something a repository file defines (or, with `inline`, a command it wraps).

    `files` are candidate files relative to the command's working directory (plus `cwd`), the first that
    exists wins; `targets` empty means the file's default (make's first goal, tox's envlist, ...).
    """

    kind: str
    files: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    cwd: str = ""
    inline: str = ""  # `sh -c "..."`, `uv run pytest`: a command to classify and follow in place


@dataclass
class Target:
    """A make target, npm script, tox env, nox session, just recipe, task...: its commands and dependencies."""

    name: str
    line: int
    commands: list[tuple[str, int]] = field(default_factory=list)  # (command text, line)
    before: list[str] = field(default_factory=list)  # same-file targets run first (prerequisites, pre hooks)
    after: list[str] = field(default_factory=list)  # and after (post hooks, notified sessions)


@dataclass
class Definitions:
    """Every target of one file. `fallback` serves names without their own target (tox's `[testenv]`)."""

    targets: dict[str, Target] = field(default_factory=dict)
    default: tuple[str, ...] = ()
    fallback: str = ""
    runs_in_file_dir: bool = True  # commands run in the file's folder (a shell script runs in the caller's)

    def lookup(self, name: str) -> Target | None:
        if name in self.targets:
            return self.targets[name]
        base = re.split(r"[-(]", name, maxsplit=1)[0]  # nox `tests-3.12`, `tests(python='3.12')`
        if base in self.targets:
            return self.targets[base]
        return self.targets.get(self.fallback) if self.fallback else None


def line_of_key(text: str, key: str, start: int = 0) -> int:
    """The 1-based line where `key` is defined (`"key":`, `key =`, `key:`) at or after offset `start`."""
    pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*[:=]""", re.MULTILINE)
    found = pattern.search(text, start)
    return text.count("\n", 0, found.start() if found else start) + 1


def json_scripts(text: str) -> Iterator[tuple[str, int, list[str]]]:
    """The `scripts` map of a package.json or composer.json: (name, line, commands), a command being a string or
    each string of a list; anything else in the file is ignored."""
    data = json.loads(text)
    scripts = data.get("scripts") if isinstance(data, dict) else None
    start = max(text.find('"scripts"'), 0)
    for name, value in scripts.items() if isinstance(scripts, dict) else ():
        commands = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        yield name, line_of_key(text, name, start), [c for c in commands if isinstance(c, str)]


def options_and_words(argv: tuple[str, ...], with_value: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    """Split arguments into `{option: value}` (for options in `with_value`, `-x v`, `-xv`, `--x=v`) and words."""
    options: dict[str, str] = {}
    words: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            options[name] = value
        elif word in with_value and index + 1 < len(argv):
            options[word] = argv[index + 1]
            index += 1
        elif word.startswith("-") and len(word) > 2 and word[:2] in with_value:
            options[word[:2]] = word[2:]
        elif word.startswith("-"):
            options[word] = ""
        else:
            words.append(word)
        index += 1
    return options, words
