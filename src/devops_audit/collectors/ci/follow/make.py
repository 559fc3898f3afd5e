"""`make` / `gmake` targets: prerequisites first, then the recipe; `$(MAKE) target` is followed as a call.

Variables defined in the Makefile (`X = ...`, `:=`, `?=`) are substituted in recipes, so `$(GO) test ./...`
is read as `go test ./...`; anything else stays as written. Pattern rules and special targets are ignored.
"""

from __future__ import annotations

import re

from devops_audit.collectors.ci.follow.model import Call, Definitions, Target, options_and_words

NAME = "make"
FILES = ("GNUmakefile", "makefile", "Makefile")
_WITH_VALUE = frozenset({"-C", "--directory", "-f", "--file", "--makefile", "-j", "--jobs", "-I", "-o", "-W"})
_ASSIGN = re.compile(r"^(?:export\s+|override\s+)?([A-Za-z_][\w.-]*)\s*(::?=|\?=|\+=|!=|=)\s*(.*)$")
_REFERENCE = re.compile(r"\$[({]([A-Za-z_][\w.-]*)[)}]")
_DIRECTIVE = re.compile(r"^(ifeq|ifneq|ifdef|ifndef|else|endif|include|-include|sinclude|define|endef|export|unexport|vpath)\b")
MAX_EXPANDED = 8000
MAX_LINE = 4000  # longer lines are not rules or assignments we could use (and would cost regex time)


def match(argv: tuple[str, ...]) -> Call | None:
    if argv[0].rsplit("/", 1)[-1] not in ("make", "gmake"):
        return None
    options, words = options_and_words(argv[1:], _WITH_VALUE)
    targets = tuple(w for w in words if "=" not in w)
    cwd = options.get("-C") or options.get("--directory") or ""
    file = options.get("-f") or options.get("--file") or options.get("--makefile")
    return Call(NAME, (file,) if file else FILES, targets, cwd)


def parse(text: str, path: str) -> Definitions:
    variables: dict[str, str] = {}
    targets: dict[str, Target] = {}
    default: tuple[str, ...] = ()
    current: list[Target] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("\t") and current and not pending:
            command = raw.strip().lstrip("@-+ ")
            if command and not command.startswith("#") and len(command) <= MAX_LINE:
                for target in current:
                    target.commands.append((command, number))
            continue
        if raw.rstrip().endswith("\\"):
            pending, start = pending + raw.rstrip()[:-1] + " ", start or number
            continue
        line, first = (pending + raw).strip(), start or number
        pending, start = "", 0
        if not line or line.startswith("#"):
            continue
        if _DIRECTIVE.match(line) or len(line) > MAX_LINE:
            continue
        assignment = _ASSIGN.match(line)
        if assignment:
            name, operator, value = assignment.groups()
            if operator == "+=":
                variables[name] = (variables.get(name, "") + " " + value).strip()[:MAX_LINE]
            elif operator != "?=" or name not in variables:
                variables[name] = value
            current = []
            continue
        rule = _rule(line)
        if rule is None:
            current = []
            continue
        names, rest = rule
        prerequisites, _, inline = rest.partition(";")
        if "=" in prerequisites:  # a target-specific variable
            continue
        current = []
        for name in names.split():
            if name.startswith(".") or "%" in name:
                continue
            target = targets.setdefault(name, Target(name, first))
            target.before.extend(p for p in prerequisites.replace("|", " ").split() if "%" not in p)
            if inline.strip():
                target.commands.append((inline.strip(), first))
            current.append(target)
            if not default:
                default = (name,)
    for target in targets.values():
        target.commands = [(_expand(command, variables), line) for command, line in target.commands]
        target.before = [_expand(p, variables) for p in target.before]
    return Definitions(targets, default)


def _rule(line: str) -> tuple[str, str] | None:
    """(targets, what follows the colon) of a rule line `a b: c d` / `a:: c`, else None (string operations:
    a regular expression here goes quadratic on long lines)."""
    colon = line.find(":")
    if colon <= 0 or "=" in line[:colon]:
        return None
    rest = line[colon + 1:]
    if rest.startswith(":"):
        rest = rest[1:]
    if rest.startswith("="):
        return None
    return line[:colon].strip(), rest.strip()


def _expand(text: str, variables: dict[str, str]) -> str:
    for _ in range(5):
        expanded = _REFERENCE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)
        if expanded == text or len(expanded) > MAX_EXPANDED:
            break
        text = expanded
    return text
