"""Shared by the TOML-based followers: read a table of named commands and find each name's line."""

from __future__ import annotations

import re
from typing import Any

from devops_audit.collectors.ci.follow.model import Target, line_of_key

__all__ = ["table_at", "targets_from_table"]


def table_at(data: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def header_offset(text: str, header: str) -> int:
    """Offset of a `[header]` line (or 0), so a name is looked up in the right table."""
    found = re.search(rf"^\[{re.escape(header)}\]\s*$", text, re.MULTILINE)
    return found.start() if found else 0


def targets_from_table(text: str, header: str, table: dict[str, Any], command_keys: tuple[str, ...],
                       depends_keys: tuple[str, ...]) -> dict[str, Target]:
    """Named commands: a string, a list of strings, or a table with a command key and dependencies."""
    start = header_offset(text, header)
    targets: dict[str, Target] = {}
    for name, value in table.items():
        line = line_of_key(text, name, start)
        target = Target(name, line)
        if isinstance(value, dict):
            for key in depends_keys:
                target.before.extend(_strings(value.get(key)))
            value = next((value[k] for k in command_keys if k in value), None)
        for command in _strings(value):
            target.commands.append((command, line))
        targets[name] = target
    return targets


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [" ".join(v) if isinstance(v, list) else str(v) for v in value if isinstance(v, (str, list))]
    return []
