"""CEL (Common Expression Language) through the Rust core of `common-expression-language`.

The package's `__init__` also imports its command-line interface (typer, rich, prompt_toolkit: ~150 ms),
so we load only its compiled extension module (~10 ms) and fall back to the package import when the
extension cannot be found that way.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

__all__ = ["cel_module", "compile_expression", "new_context", "FUNCTIONS"]


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
    """A compiled program; raises ValueError with the parser's message on a syntax error."""
    return cel_module().compile(source)


def _percent(value: Any) -> str:
    return f"{float(value) * 100:.1f}%"


def _join(items: Any, separator: str = ", ") -> str:
    return separator.join(str(item) for item in items)


def _flatten(items: Any) -> list[Any]:
    return [inner for outer in items for inner in outer]


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


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


def new_context(variables: dict[str, Any]) -> Any:
    """A reusable evaluation context: the facts as variables, plus our helper functions."""
    return cel_module().Context(variables=variables, functions=FUNCTIONS)
