"""`hatch run [env:]X` and `pdm run X` scripts from `pyproject.toml`; `uv run`, `poetry run` and others wrap a command.

A name that is not a script is a command run in the project's environment (`hatch run pytest`,
`uv run make test`): it is classified and followed as such.
"""

from __future__ import annotations

import tomllib

from devops_audit.collectors.ci.follow.model import Call, Definitions, options_and_words
from devops_audit.collectors.ci.follow.toml_tasks import table_at, targets_from_table

NAME = "pyproject"
FILES = ("pyproject.toml",)
# wrappers that run a command in an environment, and their options that take a value
_WRAPPERS = {
    ("uv", "run"): frozenset({"--with", "--python", "-p", "--extra", "--group", "--package", "--directory",
                              "--project", "--env-file", "--index", "--with-requirements"}),
    ("poetry", "run"): frozenset({"-C", "--directory", "-P", "--project"}),
    ("pipenv", "run"): frozenset(),
    ("pipx", "run"): frozenset({"--spec", "--python"}),
    ("uvx",): frozenset({"--from", "--with", "--python", "-p"}),
    ("conda", "run"): frozenset({"-n", "--name", "-p", "--prefix"}),
    ("mamba", "run"): frozenset({"-n", "--name", "-p", "--prefix"}),
    ("micromamba", "run"): frozenset({"-n", "--name", "-p", "--prefix"}),
    ("bundle", "exec"): frozenset(),
    ("npx",): frozenset({"-p", "--package"}),
}
_SCRIPT_RUNNERS = {"hatch": frozenset({"-e", "--env"}), "pdm": frozenset({"-p", "--project", "-v"})}
_PDM_BUILTINS = frozenset({"add", "build", "cache", "config", "export", "fix", "import", "info", "init", "install",
                           "list", "lock", "outdated", "publish", "remove", "search", "self", "show", "sync",
                           "update", "use", "venv", "python", "py"})


def match(argv: tuple[str, ...]) -> Call | None:
    for prefix, with_value in _WRAPPERS.items():
        if argv[: len(prefix)] == prefix:
            rest = _after_options(argv[len(prefix):], with_value)
            return Call("inline", inline=_join(rest)) if rest else None
    runner = argv[0]
    if runner not in _SCRIPT_RUNNERS:
        return None
    options, _ = options_and_words(argv[1:], _SCRIPT_RUNNERS[runner])
    words = _after_options(argv[1:], _SCRIPT_RUNNERS[runner])
    if words and words[0] == "run":
        words = _after_options(tuple(words[1:]), frozenset())
    elif runner == "hatch" or not words or words[0] in _PDM_BUILTINS:
        return None  # hatch build, pdm install, ...
    if not words:
        return None
    env = options.get("-e") or options.get("--env") or ""
    name = words[0]
    if runner == "hatch" and ":" in name:
        env, name = name.split(":", 1)
    key = f"hatch:{env or 'default'}:{name}" if runner == "hatch" else f"pdm:{name}"
    return Call(NAME, FILES, (key,), inline=_join((name, *words[1:])))


def _after_options(argv: tuple[str, ...], with_value: frozenset[str]) -> list[str]:
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        index += 2 if argv[index] in with_value else 1
    return list(argv[index:])


def _join(words: tuple[str, ...] | list[str]) -> str:
    return " ".join(words)


def parse(text: str, path: str) -> Definitions:
    data = tomllib.loads(text)
    targets = {}
    for env, body in table_at(data, "tool", "hatch", "envs").items():
        scripts = table_at(body, "scripts")
        header = f"tool.hatch.envs.{env}.scripts"
        for name, target in targets_from_table(text, header, scripts, (), ()).items():
            target.name = f"hatch:{env}:{name}"
            targets[target.name] = target
    pdm = targets_from_table(text, "tool.pdm.scripts", table_at(data, "tool", "pdm", "scripts"),
                             ("cmd", "shell", "composite", "call"), ())
    for name, target in pdm.items():
        target.name = f"pdm:{name}"
        for hook in (f"pre_{name}", f"post_{name}"):
            if hook in pdm:
                (target.before if hook.startswith("pre") else target.after).append(f"pdm:{hook}")
        targets[target.name] = target
    return Definitions(targets)
