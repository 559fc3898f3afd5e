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

__all__ = ["narrowed", "fields_read"]


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
    fields: set[str] = set()
    for source in sources:
        if namespace in source:
            reads = _reads(_code(source), namespace)
            read = None if reads is None else reads.get(key, frozenset())
            if read is None:
                return None
            fields |= read
    return frozenset(fields)


_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\b")  # a name, not a `.member`
_MEMBER = re.compile(r"\s*\.\s*(\w+)\b(?!\s*\()")  # `.field`, not `.method(`
_BINDING = re.compile(r"\.\s*\w+\s*\(\s*(\w+)\s*,")  # `.macro(v,`: `v` bound, not used
# `.exists(v, ...`; not `.exists(i, v, ...` (two variables: the second would be the record)
_MACRO = re.compile(r"\s*\.\s*(?:exists|all|exists_one|map)\s*\(\s*(\w+)\s*,(?!\s*\w+\s*,)")


@lru_cache(maxsize=4096)
def _reads(code: str, namespace: str) -> dict[str, frozenset[str] | None] | None:
    """Per key of `namespace` named in `code`, the record fields it reads (None: it uses them otherwise);
    None when `code` uses the namespace as a value (or binds its name)."""
    names = _names(code)
    reads: dict[str, frozenset[str] | None] = {}
    for name, end, binding in names:
        if name != namespace:
            continue
        member = None if binding else _MEMBER.match(code, end)
        if member is None:
            return None
        bound = _MACRO.match(code, member.end())
        fields = None if bound is None else _fields(code, names, bound.group(1))
        known = reads.get(member.group(1), frozenset())
        reads[member.group(1)] = None if fields is None or known is None else known | fields
    return reads


def _fields(code: str, names: list[tuple[str, int, bool]], variable: str) -> frozenset[str] | None:
    """The fields read from `variable` (`variable.field`), or None when it is used otherwise."""
    fields = set()
    for name, end, binding in names:
        if name == variable and not binding:
            field = _MEMBER.match(code, end)
            if field is None:
                return None
            fields.add(field.group(1))
    return frozenset(fields)


@lru_cache(maxsize=2048)
def _names(code: str) -> list[tuple[str, int, bool]]:
    """Each name in `code` (not a `.member`): the name, where it ends, whether a macro binds it there."""
    bindings = {m.start(1) for m in _BINDING.finditer(code)}
    return [(m.group(1), m.end(), m.start() in bindings) for m in _NAME.finditer(code)]


# a `//` comment, or a CEL string or bytes literal (raw ones have no escapes), matched from the left: a quote in
# a comment or `//` in a text is not mistaken (the sources are valid CEL: they compiled when the policy loaded)
_LITERAL = re.compile(
    r"(?=[/\"'bBrR])"  # only where one can start (twice as fast)
    r"(?://[^\n]*"
    r"|(?:[bB]?[rR]|[rR][bB])(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"[^\"\n]*\"|'[^'\n]*')"
    r"|[bB]?(?:\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"|'''(?:\\[\s\S]|[^\\])*?'''|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'))"
)


@lru_cache(maxsize=2048)
def _code(source: str) -> str:
    """`source` with each string literal emptied and each comment dropped: a name in a text is no use of it."""
    return _LITERAL.sub(lambda m: "" if m.group(0).startswith("//") else '""', source)
