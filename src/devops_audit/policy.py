"""Policy packs: load YAML, validate against `schemas/policy.schema.json`, compile every CEL expression once."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from devops_audit.errors import PolicyError
from devops_audit.resources import data_dir, load_schema
from devops_audit.yamlsafe import YamlError, line_of, load_documents

__all__ = ["Area", "Indicator", "Part", "PolicySet", "load_policies", "check_policy_files", "EXPRESSION_FIELDS",
           "QUANTIFIERS"]

EXPRESSION_FIELDS = ("applies", "unknown_if", "assert", "violations", "summary")
PART_FIELDS = ("applies", "unknown_if", "assert", "violations", "summary")
QUANTIFIERS = ("exists", "all")  # `all` is the safe default: unseen files could hold a violation
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
class Part:
    """One claim of an indicator, judged on its own to true / false / unknown (docs/architecture.md).

    `quantifier` says what unreadable evidence can do to it: `exists` (a thing is there: proven by what was
    read, only a `false` is in doubt) or `all` (nothing anywhere violates: only a `true` is in doubt).
    """

    id: str
    evidence: list[str]
    evidence_any: list[str]
    quantifier: str
    expressions: dict[str, str]
    messages: dict[str, str]
    programs: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property  # read for every part of every scan; the fields do not change once loaded
    def required_namespaces(self) -> list[str]:
        return [*self.evidence, *self.evidence_any]


@dataclass
class Indicator:
    """One indicator: metadata, parameters, compiled CEL programs and the parts the engine combines.

    An indicator written with a single `assert` / `violations` has one part named `main` holding them."""

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
    parts: list[Part] = field(default_factory=list)
    programs: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property  # read several times per scan; the fields and parts do not change once loaded
    def required_namespaces(self) -> list[str]:
        """Every namespace the indicator or one of its parts reads, in order, once."""
        names = [*self.evidence, *self.evidence_any, *(n for p in self.parts for n in p.required_namespaces)]
        return list(dict.fromkeys(names))

    @cached_property
    def words(self) -> frozenset[str]:
        """The words of its own and its parts' expressions (`scan.needed_collectors` looks for namespaces)."""
        text = " ".join([*self.expressions.values(), *(e for p in self.parts for e in p.expressions.values())])
        return frozenset(re.findall(r"\w+", text))

    @property
    def named_parts(self) -> bool:
        """Written with `parts:` (False: one part `main` made of the indicator's own `assert`/`violations`)."""
        return "assert" not in self.expressions and "violations" not in self.expressions


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
    named = policy_files(list(extra))  # a built-in pack named here is loaded once, and validated
    for path in [*builtin, *(p for p in named if p.resolve() not in {b.resolve() for b in builtin})]:
        text = _read(path)
        digest.update(text.encode())
        document = _parse(path, text, validate=validate_builtin or path not in builtin or path in named)
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
        _check_references(indicator, areas)
    return PolicySet(areas, indicators, digest.hexdigest()[:16])


def _check_references(indicator: Indicator, areas: dict[str, Area]) -> None:
    """The area, domain, level and evidence namespaces an indicator names must exist."""
    from devops_audit.collectors import COLLECTORS

    where = f"{indicator.source}:{indicator.line}: indicator {indicator.id}"
    area = areas.get(indicator.area)
    if area is None:
        raise PolicyError(f"{where} names unknown area {indicator.area!r} (valid: {', '.join(areas)})")
    if indicator.domain not in area.domains:
        raise PolicyError(f"{where} names unknown domain {indicator.domain!r} of area {indicator.area} "
                          f"(valid: {', '.join(area.domains)})")
    if indicator.level > area.max_level:
        raise PolicyError(f"{where}: level {indicator.level} is above {area.id}'s top level {area.max_level}")
    unknown = [n for n in indicator.required_namespaces if n not in COLLECTORS]
    if unknown:
        raise PolicyError(f"{where} names unknown evidence namespace {unknown[0]!r} (valid: {', '.join(COLLECTORS)})")


def check_policy_files(paths: list[str]) -> list[str]:
    """`policy check`: exactly the validation `scan --policy` runs (`load_policies` with the built-in packs),
    file by file so one bad file does not hide the next, then all together; `file:line: problem` strings."""
    problems: list[str] = []
    for path in policy_files(paths):
        try:
            load_policies([path])
        except PolicyError as exc:
            problems.extend(str(exc).splitlines())
    if not problems:
        try:
            load_policies(paths)
        except PolicyError as exc:
            problems.extend(str(exc).splitlines())
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
        indicator = Indicator(
            id=str(raw["id"]), name=str(raw["name"]), title=str(raw["title"]), area=str(raw["area"]),
            domain=str(raw["domain"]), level=int(raw["level"]), severity=str(raw["severity"]),
            description=str(raw.get("description", "")).strip(), remediation=str(raw.get("remediation", "")).strip(),
            references=dict(raw.get("references") or {}), evidence=list(raw.get("evidence") or []),
            evidence_any=list(raw.get("evidence_any") or []), params=dict(raw.get("params") or {}),
            expressions={k: str(raw[k]) for k in EXPRESSION_FIELDS if raw.get(k)},
            messages={k: str(v) for k, v in (raw.get("messages") or {}).items()},
            anchor=str(raw.get("anchor") or ""), source=str(path), line=line,
        )
        indicator.parts = _parts(raw, indicator)
        return indicator
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyError(f"{path}:{line}: indicator is missing or has a bad field: {exc}") from None


def _parts(raw: dict[str, Any], indicator: Indicator) -> list[Part]:
    """The named `parts:`, or the single part `main` made of the indicator's own `assert`/`violations`."""
    if raw.get("parts") is not None and ("assert" in raw or "violations" in raw):
        raise ValueError("`parts` and the indicator's own `assert`/`violations` exclude each other")
    if raw.get("parts") is None:
        own = {k: v for k, v in indicator.expressions.items() if k in ("unknown_if", "assert", "violations")}
        return [Part("main", indicator.evidence, indicator.evidence_any, _quantifier(raw.get("quantifier")), own,
                     dict(indicator.messages))]
    return [Part(id=str(part["id"]), evidence=list(part.get("evidence") or []),
                 evidence_any=list(part.get("evidence_any") or []), quantifier=_quantifier(part.get("quantifier")),
                 expressions={k: str(part[k]) for k in PART_FIELDS if part.get(k)},
                 messages={k: str(v) for k, v in (part.get("messages") or {}).items()})
            for part in raw["parts"]]


def _quantifier(value: Any) -> str:
    if value is None:
        return "all"
    if value not in QUANTIFIERS:
        raise ValueError(f"quantifier must be one of {', '.join(QUANTIFIERS)}, not {value!r}")
    return str(value)


def _compile(indicator: Indicator) -> None:
    where = f"{indicator.source}:{indicator.line}: {indicator.id}"
    named = indicator.named_parts
    if len({p.id for p in indicator.parts}) != len(indicator.parts) or not indicator.parts:
        raise PolicyError(f"{where}: `parts` must be a non-empty list with distinct ids")
    for part in indicator.parts:
        label = f"{indicator.id}.parts.{part.id}" if named else indicator.id
        if "assert" in part.expressions and "violations" in part.expressions:
            raise PolicyError(f"{indicator.source}:{indicator.line}: {label} has both `assert` and `violations`")
        if "assert" not in part.expressions and "violations" not in part.expressions:
            raise PolicyError(f"{indicator.source}:{indicator.line}: {label} needs `assert` or `violations`")
        _compile_into(part.programs, part.expressions, f"{indicator.source}:{indicator.line}: {label}")
    _compile_into(indicator.programs, {k: v for k, v in indicator.expressions.items() if k in ("applies", "summary")},
                  where)


def _compile_into(programs: dict[str, Any], expressions: dict[str, str], where: str) -> None:
    from devops_audit.celexpr import compile_expression

    for name, source in expressions.items():
        try:
            programs[name] = compile_expression(source)
        except (ValueError, RuntimeError) as exc:
            raise PolicyError(f"{where}.{name}: invalid CEL: {str(exc).splitlines()[0]}") from None
