"""`.devops-audit.yml`: validated against `schemas/config.schema.json`; errors name file, line and key.

The repository's own config (`repository=` its root) is confined to it: a symlink leading out, a FIFO, a device
or a folder in its place, and policy paths (or files inside a named policy folder) that resolve outside the
repository are refused with exit 3 and a one-line message that never shows the file's content.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops_audit.errors import ConfigError, TargetError
from devops_audit.facts import InventoryEntry
from devops_audit.resources import load_schema
from devops_audit.yamlsafe import YamlError, line_of, load_documents

__all__ = ["Config", "load_config", "parse_targets", "check_params", "DEFAULT_CONFIG_NAME"]

DEFAULT_CONFIG_NAME = ".devops-audit.yml"


@dataclass
class Config:
    """The repository's settings; every field has a default so a missing file is an empty config."""

    path: str | None = None
    targets: dict[str, int] = field(default_factory=dict)
    policies: list[str] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    disable: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_file_mib: float = 5.0
    evidence: dict[str, list[str]] = field(default_factory=dict)
    history_window_days: int = 90
    api_url: str | None = None
    offline: bool = False
    classification: list[dict[str, Any]] = field(default_factory=list)
    waivers: list[dict[str, Any]] = field(default_factory=list)
    fail_on: dict[str, Any] = field(default_factory=dict)
    scanners: dict[str, Any] = field(default_factory=dict)
    collectors: dict[str, Any] = field(default_factory=dict)
    project: dict[str, Any] = field(default_factory=dict)  # the project's kind, when detection gets it wrong
    lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line, for later error messages
    inventory: list[InventoryEntry] = field(default_factory=list)  # notes for the report (e.g. --config-ref)


def parse_targets(text: str, source: str = "--target") -> dict[str, int]:
    """`cd=3,sr=2` -> {"CD": 3, "SR": 2}."""
    targets: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        area, sep, level = part.partition("=")
        if not sep or not level.strip().isdigit():
            raise ConfigError(f"{source}: expected AREA=LEVEL like cd=3,sr=2, got {part!r}")
        targets[area.strip().upper()] = int(level)
    return targets


MAX_CONFIG_BYTES = 1024 * 1024


def load_config(path: Path, *, required: bool, repository: Path | None = None) -> Config:
    """Read and validate a config file; a missing default file is an empty config. With `repository`, the
    file is the repository's own: it and the policy paths it names must stay inside it (TargetError)."""
    if repository is not None:
        check_inside(path, repository, "config file")
    if not path.is_file():
        if required:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    try:
        data = path.read_bytes()[: MAX_CONFIG_BYTES + 1]
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(data, path, repository)


def check_inside(path: Path, repository: Path, what: str) -> None:
    """Refuse (TargetError, exit 3) a path of the repository that leads out of it or is not a regular file."""
    shown = _shown(path, repository)
    if not os.path.lexists(path):
        return
    real = Path(os.path.realpath(path))
    if real != repository and repository not in real.parents:
        raise TargetError(f"{shown}: {what} resolves outside the repository; refused")
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode) and not (stat.S_ISDIR(mode) and what == "policy folder"):
        raise TargetError(f"{shown}: {what} is not a regular file ({_kind(mode)}); refused")


def _shown(path: Path, repository: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(repository).as_posix()
    except ValueError:
        return str(path)


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a file")


def parse_config(raw: bytes, path: Path, repository: Path | None = None) -> Config:
    """A config from its bytes; policy paths are relative to `path`'s folder (confined with `repository`)."""
    try:
        documents = load_documents(raw.decode("utf-8-sig", errors="replace"))
    except YamlError as exc:
        raise ConfigError(f"{path}:{exc.line or 1}: {exc.reason}") from None
    data = documents[0] if documents else None
    if data is None:
        return Config(path=str(path))
    _validate(path, data)
    _check_classification(path, data.get("classification") or [])
    base = path.parent
    if repository is not None:
        _confine_policies(base, data.get("policies") or [], repository)
    history = data.get("history") or {}
    api = data.get("api") or {}
    return Config(
        path=str(path),
        targets={str(k).upper(): int(v) for k, v in (data.get("targets") or {}).items()},
        policies=[str((base / p).resolve()) for p in data.get("policies") or []],
        params={str(k): dict(v) for k, v in (data.get("params") or {}).items()},
        disable=[str(i) for i in data.get("disable") or []],
        exclude=[str(p) for p in data.get("exclude") or []],
        max_file_mib=float((data.get("limits") or {}).get("max_file_mib", 5.0)),
        evidence={str(k): [str(p) for p in v] for k, v in (data.get("evidence") or {}).items()},
        history_window_days=int(history.get("window_days", 90)),
        api_url=api.get("url"),
        offline=bool(api.get("offline", False)),
        classification=[dict(row) for row in data.get("classification") or []],
        waivers=[dict(w) for w in data.get("waivers") or []],
        fail_on=dict(data.get("fail_on") or {}),
        scanners=dict(data.get("scanners") or {}),
        collectors=dict(data.get("collectors") or {}),
        project=dict(data.get("project") or {}),
        lines={str(k): line_of(data, k) for k in data},
    )


def _confine_policies(base: Path, paths: list[Any], repository: Path) -> None:
    for raw in paths:
        path = base / str(raw)
        check_inside(path, repository, "policy folder" if path.is_dir() else "policy file")
        if path.is_dir():
            for inner in sorted([*path.glob("*.yaml"), *path.glob("*.yml")]):
                check_inside(inner, repository, "policy file")


def _validate(path: Path, data: Any) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema("config"), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = list(validator.iter_errors(data))  # `format: date` refuses 2099-13-01
    if not errors:
        return
    error = min(errors, key=lambda e: len(e.absolute_path))
    keys = list(error.absolute_path)
    node, line = data, line_of(data)
    for key in keys:
        try:
            line = line_of(node, key, line)
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    where = ".".join(str(k) for k in keys) or "(top level)"
    message = error.message
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        if extra:
            line = line_of(error.instance, extra[0], line)
            where = ".".join([*map(str, keys), str(extra[0])])
            message = f"unknown key {extra[0]!r}"
    from devops_audit.redact import redact_text  # the message may quote a value: never a credential

    raise ConfigError(redact_text(f"{path}:{line}: {where}: {message}"))


def _check_classification(path: Path, rows: list[dict[str, Any]]) -> None:
    """Every `commands` pattern must compile with RE2 (linear time: a repository cannot make it hang)."""
    from devops_audit.classify import ToolRule

    for index, row in enumerate(rows):
        try:
            ToolRule.from_data(row, trusted=False)
        except ValueError as exc:
            raise ConfigError(f"{path}:{line_of(rows, index)}: classification.{index}.commands: {exc}") from None


def check_params(config: Config, known: dict[str, dict[str, Any]]) -> None:
    """Parameter overrides must name a known indicator and parameter, with the default's type."""
    for indicator_id, overrides in config.params.items():
        where = f"{config.path}:{config.lines.get('params', 1)}: params.{indicator_id}"
        if indicator_id not in known:
            raise ConfigError(f"{where}: no such indicator")
        for name, value in overrides.items():
            if name not in known[indicator_id]:
                raise ConfigError(f"{where}.{name}: no such parameter (known: {', '.join(sorted(known[indicator_id])) or 'none'})")
            default = known[indicator_id][name]
            numeric = (int, float)
            if isinstance(default, bool) != isinstance(value, bool) or (
                isinstance(default, numeric) and not isinstance(value, numeric)
            ) or (isinstance(default, (str, list, dict)) and not isinstance(value, type(default))):
                raise ConfigError(f"{where}.{name}: expected {type(default).__name__}, got {type(value).__name__}")
