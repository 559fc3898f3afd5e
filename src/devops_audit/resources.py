"""Locate the data shipped with the package: policy packs, JSON Schemas, the tool table."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["data_dir", "load_schema"]

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`policies` or `schemas`: inside the wheel (`_data/`), or at the top of a source checkout."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent.parent / name


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema from `schemas/`, e.g. `load_schema("policy")`."""
    return json.loads((data_dir("schemas") / f"{name}.schema.json").read_text(encoding="utf-8"))
