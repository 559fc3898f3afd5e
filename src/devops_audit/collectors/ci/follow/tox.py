"""`tox -e a,b` (and `tox` alone: the envlist): each environment's `commands` from `tox.ini`.

An environment without its own `[testenv:name]` section uses `[testenv]`; factor-conditional lines
(`lint: ruff check .`) are kept without their condition; `{posargs}` and substitutions stay as written.
"""

from __future__ import annotations

import re

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, options_and_words

NAME = "tox"
FILES = ("tox.ini",)
_WITH_VALUE = frozenset({"-e", "--env", "-c", "--conf", "-p", "--parallel", "-x", "--override", "-r"})
_SUBCOMMANDS = frozenset({"run", "r", "run-parallel", "p", "exec", "e"})
_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*[=:]\s*(.*)$")
_FACTOR = re.compile(r"^[!\w.,-]+:\s+")
_BRACES = re.compile(r"\{([^{}]*,[^{}]*)\}")
_COMMAND_KEYS = ("commands_pre", "commands", "commands_post")


def match(argv: tuple[str, ...]) -> Call | None:
    if argv[0] != "tox":
        return None
    options, words = options_and_words(argv[1:], _WITH_VALUE)
    if words and words[0] not in _SUBCOMMANDS:
        return None  # tox list, tox config, ...
    envs = options.get("-e") or options.get("--env") or ""
    file = options.get("-c") or options.get("--conf")
    names = tuple(e.strip() for e in _expand(envs) if e.strip() and e.strip() != "ALL")
    return Call(NAME, (file,) if file else FILES, names)


def parse(text: str, path: str) -> Definitions:
    sections: dict[str, dict[str, list[tuple[str, int]]]] = {}
    section: dict[str, list[tuple[str, int]]] | None = None
    key = ""
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith(("#", ";")):
            continue
        header = _SECTION.match(raw)
        if header:
            section = sections.setdefault(header.group(1).strip(), {})
            key = ""
            continue
        if section is None:
            continue
        if raw[0] in " \t" and key:
            section[key].append((raw.strip(), number))
            continue
        found = _KEY.match(raw)
        if found:
            key = found.group(1)
            section[key] = [(found.group(2), number)]
    targets: dict[str, Target] = {}
    for name, keys in sections.items():
        env = "testenv" if name == "testenv" else name.split(":", 1)[1].strip() if name.startswith("testenv:") else None
        if env is None:
            continue
        target = Target(env, min((lines[0][1] for lines in keys.values()), default=1))
        for key in _COMMAND_KEYS:
            target.commands.extend(_commands(keys.get(key, [])))
        targets[env] = target
    tox = sections.get("tox", {})
    envlist = ",".join(text for text, _ in tox.get("envlist") or tox.get("env_list") or [])
    default = tuple(e.strip() for e in _expand(envlist) if e.strip())
    return Definitions(targets, default, fallback="testenv")


def _commands(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """One command per line, without its factor condition."""
    result = []
    for text, number in lines:
        text = _FACTOR.sub("", text.strip()).rstrip("\\").strip()
        if text and not text.startswith("#"):
            result.append((text, number))
    return result


def _expand(envlist: str) -> list[str]:
    """`py{39,310}-tests,lint` -> py39-tests, py310-tests, lint."""
    names: list[str] = []
    for part in re.split(r",(?![^{]*\})", envlist):
        found = _BRACES.search(part)
        if found:
            for choice in found.group(1).split(","):
                names.extend(_expand(part[:found.start()] + choice.strip() + part[found.end():]))
        else:
            names.append(part)
    return names
