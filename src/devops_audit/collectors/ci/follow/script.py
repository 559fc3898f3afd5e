"""Shell scripts: `./x.sh`, `bash x.sh`, `sh -c "..."`, `source x.sh`, `. x.sh` (read, never run).

`python x.py` runs a script too, but its Python is not read: the step is classified on its own words.
Build-tool wrappers (`./gradlew`, `./mvnw`) are launchers, not the project's code, and are not followed.
"""

from __future__ import annotations

import re

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target
from devops_audit.collectors.ci.follow.shell import logical_lines

NAME = "script"
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_SOURCE = frozenset({"source", "."})
_LAUNCHERS = frozenset({"gradlew", "mvnw", "gradlew.bat", "mvnw.cmd", "sbt", "mill", "pants", "bazelisk"})
_VARIABLE_PREFIX = re.compile(r"^\$(\{?\w+\}?|\(\w+\))/")  # `$FEEDSTOCK_ROOT/.scripts/x.sh`
_SCRIPT_SUFFIX = (".sh", ".bash")


def match(argv: tuple[str, ...]) -> Call | None:
    command = argv[0]
    if command in _SHELLS or command.rsplit("/", 1)[-1] in _SHELLS:
        rest = list(argv[1:])
        while rest and rest[0].startswith("-"):
            option = rest.pop(0)
            if option == "-c" and rest:
                return Call("inline", inline=rest[0])
        return Call(NAME, (_path(rest[0]),)) if rest else None
    if command in _SOURCE:
        return Call(NAME, (_path(argv[1]),)) if len(argv) > 1 else None
    if command.rsplit("/", 1)[-1] in _LAUNCHERS:
        return None
    if "/" in command or command.endswith(_SCRIPT_SUFFIX):
        return Call(NAME, (_path(command),))
    return None


def _path(word: str) -> str:
    return _VARIABLE_PREFIX.sub("", word)


def parse(text: str, path: str) -> Definitions:
    """Every logical line of the script is a command of the one target `""`."""
    target = Target("", 1, [(line, number) for number, line in logical_lines(text)])
    return Definitions({"": target}, ("",), runs_in_file_dir=False)
