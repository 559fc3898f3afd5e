"""CEL (Common Expression Language) through the Rust core of `common-expression-language`.

The package's `__init__` also imports its command-line interface (typer, rich, prompt_toolkit: ~150 ms),
so we load only its compiled extension module (~10 ms) and fall back to the package import when the
extension cannot be found that way.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import pickle
import select
import signal
import struct
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

__all__ = ["cel_module", "compile_expression", "new_context", "load_functions", "FUNCTIONS", "bounded_map",
           "Overrun", "SECONDS_PER_CALL", "linear_regex"]

SECONDS_PER_CALL = 5.0  # what one indicator may cost; the Rust core cannot be interrupted, so a child is killed
SECONDS_IN_ALL = 60.0  # what all indicators of one scan may cost together
# the CEL core recurses once per operator of a chain (`1+1+...`, `x.a.a...`) and overflows its stack, killing
# the process, past ~15,000 of them (~30,000 characters; a panic past 20,000 `has(`); the longest shipped
# expression has ~1,400
MAX_EXPRESSION_CHARS = 10_000


@cache
def cel_module() -> ModuleType:
    spec = importlib.util.find_spec("cel")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                candidate = f"{folder}/cel{suffix}"
                try:
                    loader = importlib.machinery.ExtensionFileLoader("cel.cel", candidate)
                    ext_spec = importlib.util.spec_from_file_location("cel.cel", candidate, loader=loader)
                    if ext_spec is None:
                        continue
                    module = importlib.util.module_from_spec(ext_spec)
                    loader.exec_module(module)
                    sys.modules.setdefault("cel.cel", module)
                    return module
                except (ImportError, OSError):
                    continue
    import cel  # the slow path, but correct

    return cel


def compile_expression(source: str) -> Any:
    """A compiled program, its field selections compiled as index access (`celindex`: the same meaning, without
    the core's copy of the selected value); raises ValueError with the parser's message on `source`, or when
    `source` is too long for the core to parse safely."""
    from devops_audit.celindex import indexed

    if len(source) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"the expression has {len(source):,} characters, more than {MAX_EXPRESSION_CHARS:,}: "
                         "refused (the CEL core would overflow its stack on a long chain of operators)")
    try:
        return cel_module().compile(indexed(source))
    except ValueError:
        return cel_module().compile(source)  # raises, with positions in the text as written


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.1f}%"


def _join(items: Any, separator: str = ", ") -> str:
    return separator.join(str(item) for item in items)


def _flatten(items: Any) -> list[Any]:
    return [inner for outer in items for inner in outer]


@cache
def _regex(pattern: str) -> Any:
    """Patterns come from policies and their parameters (the config may set them): RE2, linear time."""
    return linear_regex(pattern)


def linear_regex(pattern: str, multiline: bool = False) -> Any:
    """A compiled RE2 pattern (no backtracking, so no input makes it slow), with `search` like `re`'s;
    ValueError when RE2 cannot take the pattern (backreferences, lookaround)."""
    import re2

    try:
        return re2.compile(f"(?m){pattern}" if multiline else pattern)
    except re2.error as exc:
        raise ValueError(f"regular expression {pattern!r} is not supported (RE2 syntax, linear time): {exc}") from None


def _search(text: str, pattern: str) -> bool:
    return _regex(pattern).search(text) is not None


def _glob(path: str, pattern: str) -> bool:
    from fnmatch import fnmatch

    return fnmatch(path, pattern)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "percent": _percent,  # percent(0.7512) == "75.1%"
    "join": _join,  # join(["a", "b"]) == "a, b"
    "flatten": _flatten,  # flatten([[1], [2, 3]]) == [1, 2, 3]
    "glob": _glob,  # glob(".github/workflows/ci.yml", ".github/**") == true
    # search(text, pattern): like `text.matches(pattern)`, but the pattern is compiled once; the Rust core
    # recompiles a `matches` pattern on every call (~50 us), which adds up over hundreds of steps
    "search": _search,
}


def new_context(variables: dict[str, Any], changing: dict[str, Any] | None = None) -> Any:
    """A reusable evaluation context: the facts as variables, plus our helper functions, ready to evaluate.

    The core converts all variables again at the first evaluation after any `add_variable` (~5 ms for a real
    repository's facts), so variables that change between evaluations (an indicator's `params`) go in
    `changing` instead: they are looked up there at evaluation time, and the caller updates that dict. That
    first evaluation is done here, so that the children of `bounded_map` find the converted variables (in a
    child, the conversion would be repeated by each and written to pages it must copy first)."""
    context = cel_module().Context(variables=variables, functions=FUNCTIONS)
    if changing is not None:
        context.set_variable_resolver(changing.get)
    _constant().execute(context)
    return context


@cache
def _constant() -> Any:
    return compile_expression("true")


def load_functions(sources: Iterable[str]) -> None:
    """Import what the helper functions that `sources` call need (RE2 for `search`) in this process, before
    `bounded_map` forks: a child would import it anew each time (~3 ms, and its pages copied)."""
    if any("search(" in source for source in sources):
        import re2  # noqa: F401


@dataclass(frozen=True)
class Overrun:
    """What `bounded_map` gives for a call that ran out of time."""

    seconds: float


def bounded_map(call: Callable[[Any], Any], items: list[Any], seconds: float | None = None,
                total: float | None = None) -> list[Any]:
    """`[call(item) for item in items]`, where a call that runs longer than `seconds`, or past `total` seconds
    for all of them, gives `Overrun(seconds)`.

    The CEL core holds the GIL and has no cancellation, so the calls run in a forked child that sends each
    (pickled) result as it is done; when one overruns, the child is killed and a new one goes on with the next
    item. Results (and exceptions, raised here again) must pickle. Without `fork` (Windows) the calls run
    here, unbounded.
    """
    if not hasattr(os, "fork") or not items:
        return [call(item) for item in items]
    seconds = SECONDS_PER_CALL if seconds is None else seconds
    results: list[Any] = []
    deadline = time.monotonic() + (SECONDS_IN_ALL if total is None else total)
    while len(results) < len(items):
        if time.monotonic() >= deadline:
            results.extend(Overrun(seconds) for _ in items[len(results):])
            break
        start = len(results)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: evaluate and report, never return into the caller's code
            try:
                os.close(read_end)
                for item in items[start:]:
                    try:
                        data = pickle.dumps(call(item))
                    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
                        data = pickle.dumps(_Raised(exc))
                    os.write(write_end, struct.pack("!Q", len(data)))
                    _write_all(write_end, data)
            finally:
                os._exit(0)
        os.close(write_end)
        try:
            while len(results) < len(items):
                header = _read(read_end, 8, max(0.0, min(seconds, deadline - time.monotonic())))
                if header is None:  # overran (or died): this item is lost, a new child goes on after it
                    results.append(Overrun(seconds))
                    break
                body = _read(read_end, struct.unpack("!Q", header)[0], None)
                if body is None:  # died mid-result
                    results.append(Overrun(seconds))
                    break
                result = pickle.loads(body)
                if isinstance(result, _Raised):
                    raise result.exception
                results.append(result)
        finally:
            os.close(read_end)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    return results


@dataclass(frozen=True)
class _Raised:
    """An exception a child's call raised, carried to the parent to be raised there."""

    exception: Exception


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read(fd: int, size: int, seconds: float | None) -> bytes | None:
    """Exactly `size` bytes, or None when the first do not come within `seconds` or the writer is gone."""
    chunks, missing = [], size
    while missing:
        if seconds is not None and not chunks and not select.select([fd], [], [], seconds)[0]:
            return None
        chunk = os.read(fd, missing)
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
