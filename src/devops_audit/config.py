"""`.devops-audit.yml`: validated against `schemas/config.schema.json`; errors name file, line and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops_audit.errors import ConfigError
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
    lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line, for later error messages


def parse_targets(text: str, source: str = "--target") -> dict[str, int]:
    """`cd=3,sr=2` -> {"CD": 3, "SR": 2}."""
    targets: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        area, sep, level = part.partition("=")
        if not sep or not level.strip().isdigit():
            raise ConfigError(f"{source}: expected AREA=LEVEL like cd=3,sr=2, got {part!r}")
        targets[area.strip().upper()] = int(level)
    return targets


def load_config(path: Path, *, required: bool) -> Config:
    """Read and validate a config file; a missing default file is an empty config."""
    if not path.is_file():
        if required:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    try:
        text = path.read_bytes()[: 1024 * 1024 + 1].decode("utf-8-sig", errors="replace")
        documents = load_documents(text)
    except YamlError as exc:
        raise ConfigError(f"{path}:{exc.line or 1}: {exc.reason}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    data = documents[0] if documents else None
    if data is None:
        return Config(path=str(path))
    _validate(path, data)
    _check_classification(path, data.get("classification") or [])
    base = path.parent
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
        lines={str(k): line_of(data, k) for k in data},
    )


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
