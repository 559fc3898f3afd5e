"""`composer X` / `composer run-script X`: scripts of `composer.json` (`@other` calls another script)."""

from __future__ import annotations

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, json_scripts, options_and_words

NAME = "composer"
FILES = ("composer.json",)
_BUILTINS = frozenset({"install", "i", "update", "u", "upgrade", "require", "r", "remove", "rm", "dump-autoload",
                       "dumpautoload", "validate", "show", "info", "outdated", "audit", "create-project", "config",
                       "global", "self-update", "selfupdate", "diagnose", "exec", "init", "search", "depends",
                       "why", "why-not", "prohibits", "status", "archive", "check-platform-reqs", "clear-cache",
                       "clearcache", "licenses", "fund", "list", "help", "bump", "reinstall", "suggests"})
_WITH_VALUE = frozenset({"-d", "--working-dir"})


def match(argv: tuple[str, ...]) -> Call | None:
    if argv[0] not in ("composer", "composer.phar"):
        return None
    options, words = options_and_words(argv[1:], _WITH_VALUE)
    cwd = options.get("-d") or options.get("--working-dir") or ""
    if words[:1] in (["run-script"], ["run"]) and len(words) > 1:
        return Call(NAME, FILES, (words[1],), cwd)
    if words and words[0] not in _BUILTINS:
        return Call(NAME, FILES, (words[0],), cwd)
    return None


def parse(text: str, path: str) -> Definitions:
    targets = {name: Target(name, line, [(_command(command), line) for command in commands])
               for name, line, commands in json_scripts(text)}
    return Definitions(targets)


def _command(command: str) -> str:
    """`@lint` runs script `lint`; `@php x` and `@composer x` run those programs."""
    if command.startswith(("@php ", "@composer ", "@putenv ")):
        return command[1:]
    if command.startswith("@"):
        return f"composer run-script {command[1:]}"
    return command
