"""Mutating realistic evidence files and checking that the damage stays contained (class 4 test and fuzzer).

A *target* is one file a collector reads in a realistic repository (the project's fixtures, and the shared
corpus when present): the files a clean scan lists as `parsed` in its inventory. A mutation replaces one
value of that file (a YAML/JSON value, an XML attribute or text, or a span of bytes) with a hostile one.
`check_contained` then states what a user must see: the scan completes, every reporter renders clean text,
the mutated file has an inventory entry naming it, no collector crashed as a whole, and every other file
keeps the status it had before.
"""

from __future__ import annotations

import json
import math
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from conftest import CORPUS, FIXTURES

from devops_audit.reporters import FORMATS, OutputRequest, RenderOptions, render
from devops_audit.scan import ScanOptions, run_scan

NOW = "2026-11-25T00:00:00+00:00"
STRUCTURED = (".yml", ".yaml", ".json", ".sarif")
# wrong types, one at a time: what a careless or hostile author puts where a string or list belongs
WRONG_TYPES: dict[str, Any] = {
    "int": 7,
    "bool": True,
    "list": ["a", 1, None],
    "dict": {"a": {"b": 1}},
    "null": None,
    "huge": "x" * 100_000,
}


@dataclass(frozen=True)
class Target:
    root: Path
    path: str  # repository-relative

    @property
    def name(self) -> str:
        return f"{self.root.name}:{self.path}"


def fixture_roots() -> list[Path]:
    """Repository folders among the fixtures and the corpus (those with something for a collector)."""
    roots = [FIXTURES / "example", FIXTURES / "scans" / "repo", FIXTURES / "scanners-repo"]
    for group in ("pipelines", "coverage", "junit", "protection", "same-meaning"):
        roots += sorted(p for p in (FIXTURES / group).iterdir() if p.is_dir() and p.name != "reports")
    if CORPUS.is_dir():
        roots += sorted(CORPUS.glob("*/repo"))
    return roots


@cache
def baseline(root: Path) -> dict[str, str]:
    """path -> status of every inventory entry of a clean scan (the last entry wins for repeated paths)."""
    return {e.path: e.status for e in run_scan(root, ScanOptions(now=NOW)).inventory}


def targets() -> list[Target]:
    found = []
    for root in fixture_roots():
        for path, status in baseline(root).items():
            if status == "parsed" and (root / path).is_file() and not path.startswith(".devops-audit"):
                found.append(Target(root, path))
    return found


# -- mutations -------------------------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    """Safe loading that keeps unknown tags (GitLab `!reference`) as their plain value."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_multi_constructor("!", _untagged)


def slots(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every position in a structured document, outermost first (the root itself is `()`)."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += slots(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += slots(value, (*prefix, index))
    return found


def replaced(data: Any, slot: tuple, value: Any) -> Any:
    if not slot:
        return value
    head, rest = slot[0], slot[1:]
    if isinstance(data, dict):
        return {k: (replaced(v, rest, value) if k == head else v) for k, v in data.items()}
    return [replaced(v, rest, value) if i == head else v for i, v in enumerate(data)]


def load_structured(text: str, path: str) -> Any:
    if path.endswith((".json", ".sarif")):
        return json.loads(text)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - the SafeLoader subclass above


def dump_structured(data: Any, path: str) -> str:
    if path.endswith((".json", ".sarif")):
        return json.dumps(data, allow_nan=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def xml_slots(root: ET.Element) -> list[tuple[int, str | None]]:
    """(element index, attribute name or None for the text) for every element and attribute."""
    found = []
    for index, element in enumerate(root.iter()):
        found.append((index, None))
        found += [(index, name) for name in element.attrib]
    return found


def mutate_xml(data: bytes, slot: tuple[int, str | None], value: str) -> bytes:
    root = ET.fromstring(data)
    element = list(root.iter())[slot[0]]
    if slot[1] is None:
        element.text = value
    else:
        element.set(slot[1], value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def structured_slots(target: Target) -> list[tuple]:
    """The mutable positions of a target, or [] when it is neither YAML/JSON nor XML we can re-emit."""
    raw = (target.root / target.path).read_bytes()
    try:
        if target.path.endswith(".xml"):
            return xml_slots(ET.fromstring(raw))
        if target.path.endswith(STRUCTURED):
            data = load_structured(raw.decode("utf-8-sig"), target.path)
            return slots(data) if isinstance(data, (dict, list)) else []
    except (ValueError, yaml.YAMLError, ET.ParseError, RecursionError):
        return []
    return []


def mutated_bytes(target: Target, slot: tuple, value: Any) -> bytes:
    raw = (target.root / target.path).read_bytes()
    if target.path.endswith(".xml"):
        text = value if isinstance(value, str) else json.dumps(value)
        return mutate_xml(raw, slot, text)
    data = load_structured(raw.decode("utf-8-sig"), target.path)
    return dump_structured(replaced(data, slot, value), target.path).encode("utf-8", "surrogatepass")


def copy_with(target: Target, content: bytes, dest: Path) -> Path:
    """A copy of the target's repository with the target file replaced by `content`."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(target.root, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    (dest / target.path).write_bytes(content)
    return dest


# -- what must hold ----------------------------------------------------------------------------------
def scan_and_render(root: Path) -> tuple[Any, dict[str, str]]:
    """The ScanResult of a scan and the text of every output format."""
    result = run_scan(root, ScanOptions(now=NOW))
    options = RenderOptions(sarif_include_pass=True, color=False)
    return result, {name: render(result, OutputRequest(name, None), options) for name in FORMATS}


def collect_only(root: Path) -> list[Any]:
    """The inventory of every collector on `root`, their facts handed to CEL as a scan would (cheaper than a
    scan with its reports: what containment is about)."""
    from devops_audit.celexpr import new_context
    from devops_audit.collectors import CollectOptions, collect_all
    from devops_audit.workspace import Workspace

    evidence = collect_all(Workspace(root), CollectOptions())
    new_context({name: ev.facts for name, ev in evidence.items()})
    return [entry for ev in evidence.values() for entry in ev.inventory]


def check_contained(target: Target, root: Path, *, full: bool = True, same_others: bool = True,
                    expect_entry: bool = True) -> list[str]:
    """Problems a user would see after mutating `target` (an empty list: the damage stayed contained).

    `full`: a whole scan rendered in every format (else the collectors only); `same_others`: every other file
    keeps its status; `expect_entry`: the mutated file must still be recognised and listed."""
    problems = []
    if full:
        result, outputs = scan_and_render(root)
        inventory = result.inventory
        problems += _output_problems(outputs)
        for verdict in result.verdicts:
            if any(not math.isfinite(n) for n in _numbers(verdict.evidence)):
                problems.append(f"{verdict.indicator.id}: non-finite number in the verdict")
    else:
        inventory = collect_only(root)
    after: dict[str, set[str]] = {}
    for entry in inventory:
        if not entry.path:
            problems.append(f"inventory entry without a path: {entry.reason}")
        if "collector crashed" in entry.reason:
            problems.append(f"{entry.path}: {entry.reason}")
        after.setdefault(entry.path, set()).add(entry.status)
    if expect_entry and target.path not in after:
        problems.append(f"{target.path}: no inventory entry for the mutated file")
    if same_others:
        for path, status in baseline(target.root).items():
            if path != target.path and status == "parsed" and path in after and "parsed" not in after[path]:
                problems.append(f"{path}: was parsed, now {sorted(after[path])} after mutating {target.path}")
    return problems


def _output_problems(outputs: dict[str, str]) -> list[str]:
    problems = []
    for name, text in outputs.items():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{name} output holds a lone surrogate")
    try:
        json.loads(outputs["json"], parse_constant=lambda c: problems.append(f"json output holds {c}"))
    except ValueError as exc:
        problems.append(f"json output does not parse: {exc}")
    return problems


def _numbers(value: Any):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _numbers(item)
