"""`nox -s a b` (and `nox` alone): sessions of `noxfile.py`, read with `ast` (never imported or run).

A session's commands are its `session.run(...)` calls with their literal arguments (anything computed
reads as `…`); `session.notify("x")` runs session `x` afterwards; `nox.options.sessions` is the default.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, options_and_words

NAME = "nox"
FILES = ("noxfile.py",)
_WITH_VALUE = frozenset({"-s", "--session", "--sessions", "-e", "-f", "--noxfile", "-p", "--python", "-t", "--tags"})
_RUNS = frozenset({"run", "run_always", "run_install"})


def match(argv: tuple[str, ...]) -> Call | None:
    if argv[0] != "nox":
        return None
    sessions: list[str] = []
    index = 1
    while index < len(argv):
        if argv[index] in ("-s", "--session", "--sessions", "-e"):
            index += 1
            while index < len(argv) and not argv[index].startswith("-"):
                sessions.append(argv[index])
                index += 1
            continue
        index += 1
    options, _ = options_and_words(argv[1:], _WITH_VALUE)
    file = options.get("-f") or options.get("--noxfile")
    return Call(NAME, (file,) if file else FILES, tuple(sessions))


def parse(text: str, path: str) -> Definitions:
    tree = ast.parse(text, path)
    targets: dict[str, Target] = {}
    default: tuple[str, ...] = ()
    for node in _statements(tree):
        if isinstance(node, ast.Assign) and any(_dotted(t) == "nox.options.sessions" for t in node.targets):
            default = tuple(_literal_strings(node.value))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = _session_name(node)
            if name:
                targets[name] = _session(node, name)
    return Definitions(targets, default or tuple(targets))


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """The module's statements at every depth in `ast.walk`'s order, without entering expressions (no
    statement is ever inside one: only modules, statements, `except` handlers and `case`s hold them)."""
    queue: deque[ast.AST] = deque([tree])
    while queue:
        node = queue.popleft()
        queue.extend(child for child in ast.iter_child_nodes(node)
                     if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)))
        yield node


def _session_name(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = _dotted(call.func if call else decorator)
        if target in ("nox.session", "session"):
            for keyword in call.keywords if call else ():
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
            return node.name
    return ""


def _session(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> Target:
    target = Target(name, node.lineno)
    for child in ast.walk(node):
        if not (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)):
            continue
        if child.func.attr in _RUNS:
            words = [_word(arg) for arg in child.args]
            if words:
                target.commands.append((" ".join(words), child.lineno))
        elif child.func.attr == "notify" and child.args:
            target.after.extend(_literal_strings(child.args[0]))
    return target


def _word(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return "…"


def _literal_strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""
