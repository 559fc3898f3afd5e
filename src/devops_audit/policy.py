"""Policy packs: load YAML, validate against `schemas/policy.schema.json`, compile every CEL expression once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops_audit.errors import PolicyError
from devops_audit.resources import data_dir, load_schema
from devops_audit.yamlsafe import YamlError, line_of, load_documents

__all__ = ["Area", "Indicator", "PolicySet", "load_policies", "check_policy_files", "EXPRESSION_FIELDS"]

EXPRESSION_FIELDS = ("applies", "unknown_if", "assert", "violations", "summary")
SEVERITIES = ("info", "low", "medium", "high", "critical")
MAX_POLICY_BYTES = 1024 * 1024  # a policy file is a few kB; a bigger one is a mistake or an attack


@dataclass(frozen=True)
class Area:
    """A maturity area (CD, SR) and its domains, from a pack's header."""

    id: str
    name: str
    max_level: int
    default_target: int
    domains: dict[str, str]


@dataclass
class Indicator:
    """One indicator: metadata, parameters and compiled CEL programs."""

    id: str
    name: str
    title: str
    area: str
    domain: str
    level: int
    severity: str
    description: str
    remediation: str
    references: dict[str, Any]
    evidence: list[str]
    evidence_any: list[str]
    params: dict[str, Any]
    expressions: dict[str, str]
    messages: dict[str, str]
    anchor: str
    source: str
    line: int
    programs: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def required_namespaces(self) -> list[str]:
        return [*self.evidence, *self.evidence_any]


@dataclass
class PolicySet:
    """Every loaded area and indicator, in a stable order (pack order, then file order)."""

    areas: dict[str, Area]
    indicators: list[Indicator]
    digest: str  # changes whenever any policy text changes: part of the fleet cache key

    def get(self, indicator_id: str) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)


def builtin_policy_files() -> list[Path]:
    return sorted(data_dir("policies").glob("*.yaml"))


def policy_files(paths: list[str | Path]) -> list[Path]:
    """Expand folders to their `*.yaml` / `*.yml` files."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        elif path.is_file():
            files.append(path)
        else:
            raise PolicyError(f"{raw}: no such policy file or folder")
    return files


def load_policies(extra: list[str | Path] = (), *, validate_builtin: bool = False, compile_all: bool = True) -> PolicySet:
    """The built-in packs plus `extra` files or folders. User files are always schema-validated."""
    areas: dict[str, Area] = {}
    indicators: list[Indicator] = []
    digest = hashlib.sha256()
    seen: dict[str, str] = {}
    builtin = builtin_policy_files()
    for path in [*builtin, *policy_files(list(extra))]:
        text = _read(path)
        digest.update(text.encode())
        document = _parse(path, text, validate=validate_builtin or path not in builtin)
        if "area" in document:
            area = _area(document)
            areas.setdefault(area.id, area)
        for index, raw in enumerate(document.get("indicators") or []):
            indicator = _indicator(raw, path, line_of(document["indicators"], index))
            if indicator.id in seen:
                raise PolicyError(f"{path}:{indicator.line}: indicator {indicator.id} is already defined in {seen[indicator.id]}")
            seen[indicator.id] = f"{path}:{indicator.line}"
            if compile_all:
                _compile(indicator)
            indicators.append(indicator)
    for indicator in indicators:
        if indicator.area not in areas:
            raise PolicyError(f"{indicator.source}:{indicator.line}: indicator {indicator.id} names unknown area {indicator.area!r}")
        if indicator.domain not in areas[indicator.area].domains:
            raise PolicyError(f"{indicator.source}:{indicator.line}: indicator {indicator.id} names unknown domain "
                              f"{indicator.domain!r} of area {indicator.area}")
    return PolicySet(areas, indicators, digest.hexdigest()[:16])


def check_policy_files(paths: list[str]) -> list[str]:
    """Validate policy files (schema and CEL); returns `file:line: problem` strings, empty when all good."""
    problems: list[str] = []
    for path in policy_files(paths):
        try:
            document = _parse(path, _read(path), validate=True)
            for index, raw in enumerate(document.get("indicators") or []):
                _compile(_indicator(raw, path, line_of(document["indicators"], index)))
        except PolicyError as exc:
            problems.append(str(exc))
    return problems


def _read(path: Path) -> str:
    """A policy file's text: valid UTF-8 within MAX_POLICY_BYTES, else a PolicyError naming file and line."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"{path}: policy file over {MAX_POLICY_BYTES // 1024 // 1024} MiB; refused")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PolicyError(f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None


def _parse(path: Path, text: str, *, validate: bool) -> dict[str, Any]:
    try:
        documents = load_documents(text)
    except YamlError as exc:
        raise PolicyError(f"{path}:{exc.line or 1}: {exc.reason}") from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise PolicyError(f"{path}:1: a policy file holds one mapping with `indicators:`")
    document = documents[0]
    if validate:
        _validate(path, document, "policy")
    return document


def _validate(path: Path, document: Any, schema_name: str) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema(schema_name))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        raise PolicyError("\n".join(
            f"{path}:{_line_at(document, list(error.absolute_path))}: "
            f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}" for error in errors))


def _line_at(document: Any, keys: list[Any]) -> int:
    """Line of the deepest node along `keys` that carries line information."""
    line = line_of(document)
    node = document
    for key in keys:
        try:
            line = line_of(node, key, line)
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    return line


def _area(document: dict[str, Any]) -> Area:
    area = document["area"]
    return Area(
        id=str(area["id"]), name=str(area["name"]), max_level=int(area["max_level"]),
        default_target=int(area["default_target"]),
        domains={str(d["id"]): str(d["name"]) for d in document.get("domains") or []},
    )


def _indicator(raw: dict[str, Any], path: Path, line: int) -> Indicator:
    try:
        return Indicator(
            id=str(raw["id"]), name=str(raw["name"]), title=str(raw["title"]), area=str(raw["area"]),
            domain=str(raw["domain"]), level=int(raw["level"]), severity=str(raw["severity"]),
            description=str(raw.get("description", "")).strip(), remediation=str(raw.get("remediation", "")).strip(),
            references=dict(raw.get("references") or {}), evidence=list(raw.get("evidence") or []),
            evidence_any=list(raw.get("evidence_any") or []), params=dict(raw.get("params") or {}),
            expressions={k: str(raw[k]) for k in EXPRESSION_FIELDS if raw.get(k)},
            messages={k: str(v) for k, v in (raw.get("messages") or {}).items()},
            anchor=str(raw.get("anchor") or ""), source=str(path), line=line,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{path}:{line}: indicator is missing or has a bad field: {exc}") from None


def _compile(indicator: Indicator) -> None:
    from devops_audit.celexpr import compile_expression

    if "assert" in indicator.expressions and "violations" in indicator.expressions:
        raise PolicyError(f"{indicator.source}:{indicator.line}: {indicator.id} has both `assert` and `violations`")
    if "assert" not in indicator.expressions and "violations" not in indicator.expressions:
        raise PolicyError(f"{indicator.source}:{indicator.line}: {indicator.id} needs `assert` or `violations`")
    for name, source in indicator.expressions.items():
        try:
            indicator.programs[name] = compile_expression(source)
        except (ValueError, RuntimeError) as exc:
            raise PolicyError(f"{indicator.source}:{indicator.line}: {indicator.id}.{name}: invalid CEL: "
                              f"{str(exc).splitlines()[0]}") from None
