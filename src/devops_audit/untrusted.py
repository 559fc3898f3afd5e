"""Values from the repository made safe for CEL and the reporters, at the point where they enter.

Three things a hostile file can carry that valid Python values still hold, and that crash whatever
reads them later: lone surrogates (`"\\ud800"` in JSON, a file name that is not UTF-8), non-finite numbers
(`NaN`, `Infinity`, `1e999`) and mapping keys CEL cannot represent (`null`, `1.5`). `load_json` refuses
non-finite numbers and integers beyond 64 bits and replaces lone surrogates; `clean` does the same for any value already built
(dataclass records included: it is also what turns facts into plain JSON values, in the same pass).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import fields, is_dataclass
from functools import cache
from typing import Any

__all__ = ["clean", "clean_text", "load_json", "NonFiniteNumber", "TooManyValues", "INT64", "MAX_JSON_VALUES",
           "BIDI_CONTROLS"]

# the bidirectional controls reorder what a line shows ("Trojan Source": a file name that reads backwards, a
# message that hides its end); the terminal and Markdown reports drop them from what the repository wrote
BIDI_CONTROLS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = r"\\[uU][dD][89a-fA-F]"
_SURROGATE_ESCAPE_TEXT, _SURROGATE_ESCAPE_BYTES = re.compile(_SURROGATE_ESCAPE), re.compile(_SURROGATE_ESCAPE.encode())
INT64 = range(-(2**63), 2**63)
MAX_JSON_VALUES = 4_000_000


class NonFiniteNumber(ValueError):
    """A JSON number that is NaN, an infinity, or too large for a float."""


class TooManyValues(ValueError):
    """A JSON document with more values than it is safe to hold in memory."""


def clean_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (a no-op, and cheap, for valid text)."""
    if text.isascii():
        return text
    return _SURROGATE.sub("\ufffd", text)


def clean(value: Any) -> Any:
    """A copy of a JSON-like value that CEL and every reporter can take: lone surrogates replaced,
    non-finite floats and integers beyond 64 bits become None, keys that are not text, integers or
    booleans become text, tuples and sets become lists, dataclass records (`Location`, `Step`, ...) dicts
    of their fields in field order."""
    kind = type(value)  # the common cases first, ASCII text (no surrogate) without a call
    if kind is str:
        return value if value.isascii() else clean_text(value)
    if kind is dict:  # ASCII text keys and values, most of them, are kept as they are without a call
        return {(k if type(k) is str and k.isascii() else _key(k)): (v if type(v) is str and v.isascii() else clean(v))
                for k, v in value.items()}
    if kind is list:
        return [v if type(v) is str and v.isascii() else clean(v) for v in value]
    if kind is bool or value is None:
        return value
    if kind is int:
        return value if value in INT64 else None
    names = _field_names(kind)
    if names is not None:
        return {name: clean(getattr(value, name)) for name in names}
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, int):
        return value if value in INT64 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_key(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [clean(v) for v in value]
    return value


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type, None for any other type."""
    return tuple(item.name for item in fields(kind)) if is_dataclass(kind) else None


def _key(key: Any) -> Any:
    if isinstance(key, str):
        return clean_text(key)
    if isinstance(key, (bool, int)) and key in INT64:
        return key
    return clean_text(str(key))


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NonFiniteNumber(f"number {text[:40]} is out of range")
    return number


def _no_constant(name: str) -> float:
    raise NonFiniteNumber(f"{name} is not a JSON number")


def _int64(text: str) -> int:
    number = int(text) if len(text) <= 20 else None
    if number is None or number not in INT64:
        raise NonFiniteNumber(f"integer {text[:40]} is out of range")
    return number


def load_json(data: bytes | str, max_values: int = MAX_JSON_VALUES) -> Any:
    """JSON from an untrusted file: ValueError (NonFiniteNumber for NaN/Infinity/1e999, TooManyValues over
    `max_values` objects, JSONDecodeError with a line for bad syntax), RecursionError when nested too deeply;
    lone surrogates become U+FFFD."""
    separators = (b"{", b"[", b",") if isinstance(data, bytes) else ("{", "[", ",")
    if sum(data.count(s) for s in separators) > max_values:  # memory: ~100 bytes per value once parsed
        raise TooManyValues(f"more than {max_values:,} values; refused (memory bound)")
    value = json.loads(data, parse_float=_finite, parse_int=_int64, parse_constant=_no_constant)
    escapes = _SURROGATE_ESCAPE_TEXT if isinstance(data, str) else _SURROGATE_ESCAPE_BYTES
    return clean(value) if escapes.search(data) else value
