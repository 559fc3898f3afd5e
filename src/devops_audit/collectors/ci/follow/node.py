"""`package.json` scripts: `npm|pnpm|yarn|bun run X`, `npm test` / `start`, `yarn X`, with `preX` / `postX` hooks."""

from __future__ import annotations

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, json_scripts, options_and_words

NAME = "package.json"
FILES = ("package.json",)
_MANAGERS = frozenset({"npm", "pnpm", "yarn", "bun"})
_RUN = frozenset({"run", "run-script", "rum", "urn"})
_LIFECYCLE = {"test": "test", "t": "test", "tst": "test", "start": "start", "stop": "stop", "restart": "restart"}
# subcommands of the managers themselves (`yarn install`), which are not scripts
_BUILTINS = frozenset({
    "install", "i", "ci", "add", "remove", "rm", "uninstall", "update", "up", "upgrade", "exec", "dlx", "x",
    "publish", "pack", "audit", "init", "create", "config", "cache", "info", "why", "version", "link", "unlink",
    "outdated", "list", "ls", "global", "workspace", "workspaces", "login", "logout", "set", "setup", "prune",
    "dedupe", "fetch", "import", "rebuild", "store", "env", "help", "node", "plugin", "npm", "bin", "root",
    "licenses", "patch", "tag", "constraints", "explain", "self-update", "pm",
})
_WITH_VALUE = frozenset({"--prefix", "-C", "--dir", "--cwd", "--filter", "-F", "--workspace", "-w"})


def match(argv: tuple[str, ...]) -> Call | None:
    manager = argv[0]
    if manager not in _MANAGERS:
        return None
    options, words = options_and_words(argv[1:], _WITH_VALUE)
    cwd = options.get("--prefix") or options.get("-C") or options.get("--dir") or options.get("--cwd") or ""
    if not words:
        return None
    if words[0] in _RUN:
        return Call(NAME, FILES, (words[1],), cwd) if len(words) > 1 else None
    if words[0] in _LIFECYCLE and manager != "bun":  # `bun test` is bun's own test runner
        return Call(NAME, FILES, (_LIFECYCLE[words[0]],), cwd)
    if manager in ("yarn", "pnpm") and words[0] not in _BUILTINS:
        return Call(NAME, FILES, (words[0],), cwd)
    return None


def parse(text: str, path: str) -> Definitions:
    targets = {name: Target(name, line, [(commands[0], line)])
               for name, line, commands in json_scripts(text) if len(commands) == 1}  # npm: a string each
    for name, target in targets.items():
        if f"pre{name}" in targets:
            target.before.append(f"pre{name}")
        if f"post{name}" in targets:
            target.after.append(f"post{name}")
    return Definitions(targets)
