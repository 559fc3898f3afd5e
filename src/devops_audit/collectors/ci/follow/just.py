"""`just X` (and `just` alone: the first recipe): recipes of a `justfile`, dependencies first."""

from __future__ import annotations

import re

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, options_and_words

NAME = "just"
FILES = ("justfile", "Justfile", ".justfile", "JUSTFILE")
_WITH_VALUE = frozenset({"-f", "--justfile", "-d", "--working-directory", "--set", "--shell", "--dotenv-path"})
_NAME = re.compile(r"@?([A-Za-z_][\w-]*)")
_ALIAS = re.compile(r"^alias\s+([\w-]+)\s*:=\s*([\w-]+)")
_KEYWORDS = ("set ", "export ", "import ", "mod ", "alias ", "[", "#")
MAX_LINE = 4000


def match(argv: tuple[str, ...]) -> Call | None:
    if argv[0] != "just":
        return None
    options, words = options_and_words(argv[1:], _WITH_VALUE)
    file = options.get("-f") or options.get("--justfile")
    cwd = options.get("-d") or options.get("--working-directory") or ""
    return Call(NAME, (file,) if file else FILES, tuple(w for w in words if "=" not in w), cwd)


def parse(text: str, path: str) -> Definitions:
    targets: dict[str, Target] = {}
    aliases: dict[str, str] = {}
    default: tuple[str, ...] = ()
    current: Target | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if raw[:1] in (" ", "\t"):
            command = raw.strip().lstrip("@-")
            if current is not None and command and not command.startswith("#"):
                current.commands.append((command, number))
            continue
        current = None
        alias = _ALIAS.match(raw)
        if alias:
            aliases[alias.group(1)] = alias.group(2)
            continue
        if not raw.strip() or raw.startswith(_KEYWORDS) or len(raw) > MAX_LINE:
            continue
        recipe = _recipe(raw)
        if recipe:
            name, dependencies = recipe
            before, _, after = dependencies.partition("&&")
            current = targets[name] = Target(name, number, before=_names(before), after=_names(after))
            default = default or (name,)
    for alias, name in aliases.items():
        if name in targets:
            targets.setdefault(alias, targets[name])
    return Definitions(targets, default)


def _recipe(line: str) -> tuple[str, str] | None:
    """(name, dependencies) of a recipe header `name param='x': dep1 dep2`, else None (`x := 1` is not one)."""
    name = _NAME.match(line)
    colon = line.find(":", name.end()) if name else -1
    if colon < 0 or line[colon + 1:colon + 2] == "=":
        return None
    return name.group(1), line[colon + 1:].strip()


def _names(dependencies: str) -> list[str]:
    """`build (test "x") lint` -> build, test, lint."""
    return [m.group(1) for m in re.finditer(r"(?:^|\s|\()([A-Za-z_][\w-]*)", dependencies)
            if not dependencies[m.end():m.end() + 1] == '"']
