"""`just X` (and `just` alone: the first recipe): recipes of a `justfile`, dependencies first."""

from __future__ import annotations

import re

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, options_and_words

NAME = "just"
FILES = ("justfile", "Justfile", ".justfile", "JUSTFILE")
_WITH_VALUE = frozenset({"-f", "--justfile", "-d", "--working-directory", "--set", "--shell", "--dotenv-path"})
_RECIPE = re.compile(r"^@?([A-Za-z_][\w-]*)((?:\s+[^:=]+?)?)\s*:(?!=)\s*(.*)$")
_ALIAS = re.compile(r"^alias\s+([\w-]+)\s*:=\s*([\w-]+)")
_KEYWORDS = ("set ", "export ", "import ", "mod ", "alias ", "[", "#")


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
        if not raw.strip() or raw.startswith(_KEYWORDS):
            continue
        recipe = _RECIPE.match(raw)
        if recipe:
            name, _, dependencies = recipe.groups()
            before, _, after = dependencies.partition("&&")
            current = targets[name] = Target(name, number, before=_names(before), after=_names(after))
            default = default or (name,)
    for alias, name in aliases.items():
        if name in targets:
            targets.setdefault(alias, targets[name])
    return Definitions(targets, default)


def _names(dependencies: str) -> list[str]:
    """`build (test "x") lint` -> build, test, lint."""
    return [m.group(1) for m in re.finditer(r"(?:^|\s|\()([A-Za-z_][\w-]*)", dependencies)
            if not dependencies[m.end():m.end() + 1] == '"']
