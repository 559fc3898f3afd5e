"""`task X` (and `task` alone: `default`): tasks of a `Taskfile.yml`, `deps` first, `cmds` in order."""

from __future__ import annotations

from typing import Any

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, options_and_words
from devops_audit.yamlsafe import line_of, load_documents

NAME = "task"
FILES = ("Taskfile.yml", "taskfile.yml", "Taskfile.yaml", "taskfile.yaml", "Taskfile.dist.yml", "Taskfile.dist.yaml")
_WITH_VALUE = frozenset({"-d", "--dir", "-t", "--taskfile", "-o", "--output", "-C", "--concurrency"})


def match(argv: tuple[str, ...]) -> Call | None:
    if argv[0] not in ("task", "go-task"):
        return None
    options, words = options_and_words(argv[1:], _WITH_VALUE)
    if "--" in argv:
        words = words[: max(0, len(words) - (len(argv) - argv.index("--") - 1))]
    file = options.get("-t") or options.get("--taskfile")
    cwd = options.get("-d") or options.get("--dir") or ""
    return Call(NAME, (file,) if file else FILES, tuple(w for w in words if "=" not in w) or ("default",), cwd)


def parse(text: str, path: str) -> Definitions:
    documents = load_documents(text)
    document = documents[0] if documents else None
    tasks = document.get("tasks") if isinstance(document, dict) else None
    targets: dict[str, Target] = {}
    for name, body in tasks.items() if isinstance(tasks, dict) else ():
        line = line_of(tasks, name)
        target = Target(str(name), line)
        if isinstance(body, (str, list)):
            body = {"cmds": body if isinstance(body, list) else [body]}
        if not isinstance(body, dict):
            continue
        for dep in _list(body.get("deps")):
            dep = dep.get("task") if isinstance(dep, dict) else dep
            if isinstance(dep, str):
                target.before.append(dep)
        commands = _list(body.get("cmds")) or _list(body.get("cmd"))
        for index, command in enumerate(commands):
            command_line = line_of(commands, index, line) if isinstance(commands, list) else line
            if isinstance(command, dict) and isinstance(command.get("task"), str):
                target.commands.append((f"task {command['task']}", command_line))
            elif isinstance(command, dict) and isinstance(command.get("cmd"), str):
                target.commands.append((command["cmd"], command_line))
            elif isinstance(command, str):
                target.commands.append((command, command_line))
        targets[str(name)] = target
    return Definitions(targets, ("default",))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
