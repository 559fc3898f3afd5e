"""CEL field selections written as index access before compiling: `ci.steps` becomes `ci["steps"]`.

Both mean the same for the maps our facts are (the same value, the same error for a missing key or a null),
but the CEL core copies the selected value on a field selection and not on an index: `size(ci.steps)` costs
~1 us per step, `size(ci["steps"])` nothing, and a selection inside a comprehension is paid on every item.
Policies keep the readable form; only the compiled program differs.

Left as written: a method or macro call (`.exists(`), the argument of `has(...)` (it must stay a selection),
optional selections (`.?name`), reserved words, and the text of strings and comments. Whatever the rewrite
cannot parse is compiled as written (`celexpr.compile_expression`).
"""

from __future__ import annotations

import re

__all__ = ["indexed"]

_RESERVED = ("as|break|const|continue|else|false|for|function|if|import|in|let|loop|package|namespace|null|return"
             "|true|var|void|while")
_PIECE = re.compile(
    r"""(?=[/'"h.rRbB])                                    # where a piece can start: skips the rest fast
    (?:(?P<kept>//[^\n]*                                   # a comment
         |(?<!\w)(?:[bB]?[rR]|[rR][bB])                    # a raw string: no escapes
          (?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|"[^"\n]*")
         |(?:(?<!\w)[bB])?                                 # a string, or bytes
          (?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")
         |(?<!\w)has\s*\([^()]*\))                        # has(a.b.c): a selection it must keep
      |(?<=[\w)\]}"'])\.(?P<name>(?!(?:"""
    + _RESERVED
    + r""")\b)[A-Za-z_]\w*)\b(?!\s*\())                   # .name, not .name( (a call)
    """,
    re.VERBOSE | re.DOTALL,
)


def indexed(source: str) -> str:
    """`source` with every plain field selection (`x.name` not followed by `(`) written `x["name"]`."""
    if "." not in source:
        return source
    return _PIECE.sub(_replacement, source)


def _replacement(match: re.Match[str]) -> str:
    kept = match["kept"]
    return kept if kept is not None else f'["{match["name"]}"]'
