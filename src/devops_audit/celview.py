"""The facts as CEL is given them: a list of records under a namespace (`ci.steps`, `ci.jobs`, ...) keeps only
the fields the loaded policy expressions read from it.

The Rust CEL core converts every value it is given (~2 us each) and copies a list whole each time an expression
names it; `ci.steps` alone is thousands of values, of which the policies read a few fields. A record's field is
kept when an expression reads it as `v.field` (or `v.field.more`), `v` bound by a macro over the list
(`ns.key.exists(v, ...)`, `all`, `exists_one`, `map`). The list is given whole when any expression uses it
otherwise (`size(ns.key)`, `ns.key.filter(...)`, `ns.key[0]`, `x in ns.key`), uses such a `v` otherwise
(`v == w`, `size(v)`, `v.exists(...)`, `v["field"]`), or names the namespace otherwise (`ns["key"]`). A field
read never depends on the fields beside it, so every expression gives what it gives on the whole facts.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["narrowed"]

# `.exists(v, ...`; not `.exists(i, v, ...` (two variables: the second would be the record)
_MACRO = re.compile(r"\s*\.\s*(?:exists|all|exists_one|map)\s*\(\s*(\w+)\s*,(?!\s*\w+\s*,)")
_FIELD = re.compile(r"\s*\.\s*(\w+)\b(?!\s*\()")  # `.field`, not `.method(`


def narrowed(namespace: str, facts: Any, sources: tuple[str, ...]) -> Any:
    """`facts` of `namespace` with its lists of records cut down to the fields `sources` (every loaded policy
    expression) read; the facts themselves are not changed."""
    if not isinstance(facts, dict):
        return facts
    view = dict(facts)
    for key, value in facts.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            fields = fields_read(sources, namespace, key)
            if fields is not None:
                view[key] = [{name: item[name] for name in item if name in fields} for item in value]
    return view


@lru_cache(maxsize=256)
def fields_read(sources: tuple[str, ...], namespace: str, key: str) -> frozenset[str] | None:
    """The fields of the records in `namespace.key` that `sources` read, or None when they may use a record
    (or the list, or the namespace) some other way."""
    sources = tuple(_code(source) for source in sources)
    if None in sources:
        return None
    bare_namespace = re.compile(rf"(?<![\w.]){re.escape(namespace)}\b(?!\s*\.\s*\w)")
    the_list = re.compile(rf"(?<![\w.]){re.escape(namespace)}\s*\.\s*{re.escape(key)}\b")
    fields: set[str] = set()
    for source in sources:
        if bare_namespace.search(source):
            return None
        for mention in the_list.finditer(source):
            bound = _MACRO.match(source, mention.end())
            if bound is None:
                return None
            variable = re.escape(bound.group(1))
            # a use of the variable reads a field, unless it is a macro binding it (here or elsewhere)
            bindings = {m.start(1) for m in re.finditer(rf"\.\s*\w+\s*\(\s*({variable})\s*,", source)}
            for use in re.finditer(rf"(?<![\w.]){variable}\b", source):
                if use.start() in bindings:
                    continue
                field = _FIELD.match(source, use.end())
                if field is None:
                    return None
                fields.add(field.group(1))
    return frozenset(fields)


def _code(source: str) -> str | None:
    """`source` with each string literal emptied and each `//` comment dropped (a name in a text is no use of
    it); None when the result is not the same program's code (it no longer compiles, or names other variables)."""
    from devops_audit.celexpr import compile_expression

    out, i = [], 0
    while i < len(source):
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = len(source) if end < 0 else end
            continue
        if source[i] not in "\"'":
            out.append(source[i])
            i += 1
            continue
        raw = "r" in re.search(r"[rRbB]{0,2}$", source[max(0, i - 2):i]).group(0).lower()
        quote = source[i:i + 3] if source[i:i + 3] in ('"""', "'''") else source[i]
        i += len(quote)
        while i < len(source) and not source.startswith(quote, i):
            i += 2 if source[i] == "\\" and not raw else 1
        out.append('""')
        i += len(quote)
    code = "".join(out)
    try:
        same = compile_expression(code).variables() == compile_expression(source).variables()
    except (ValueError, RuntimeError):
        return None
    return code if same else None
