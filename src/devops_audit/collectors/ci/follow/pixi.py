"""`pixi run X`: tasks of `pixi.toml` (`[tasks]`, `[feature.*.tasks]`) or `pyproject.toml` (`[tool.pixi.tasks]`).

A name that is not a task is a command pixi runs in its environment: it is classified and followed as such.
"""

from __future__ import annotations

import tomllib

from devops_audit.collectors.ci.follow.model import Call, Definitions, options_and_words
from devops_audit.collectors.ci.follow.toml_tasks import table_at, targets_from_table

NAME = "pixi"
FILES = ("pixi.toml", "pyproject.toml")
_WITH_VALUE = frozenset({"-e", "--environment", "--manifest-path", "-m"})


def match(argv: tuple[str, ...]) -> Call | None:
    if argv[0] != "pixi" or len(argv) < 2 or argv[1] not in ("run", "r"):
        return None
    options, words = options_and_words(argv[2:], _WITH_VALUE)
    file = options.get("--manifest-path") or options.get("-m")
    return Call(NAME, (file,) if file else FILES, tuple(words[:1]), inline=" ".join(words))


def parse(text: str, path: str) -> Definitions:
    data = tomllib.loads(text)
    prefix = ("tool", "pixi") if path.endswith("pyproject.toml") else ()
    root = table_at(data, *prefix) if prefix else data
    header = ".".join((*prefix, "tasks"))
    targets = targets_from_table(text, header, table_at(root, "tasks"), ("cmd",), ("depends-on", "depends_on"))
    for feature, body in table_at(root, "feature").items():
        for name, target in targets_from_table(text, ".".join((*prefix, "feature", feature, "tasks")),
                                               table_at(body, "tasks"), ("cmd",),
                                               ("depends-on", "depends_on")).items():
            targets.setdefault(name, target)
    return Definitions(targets)
