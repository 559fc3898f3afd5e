"""The assessment map (`assessment/assessment-map.yaml`): checklist codes, their names and how each is decided."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from devops_audit.errors import PolicyError
from devops_audit.resources import data_dir, load_schema

__all__ = ["Names", "MapItem", "SubItem", "ArtefactSpec", "AssessmentMap", "load_map", "map_path"]


@dataclass(frozen=True)
class Names:
    zh: str
    en: str

    def to_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class ArtefactSpec:
    id: str
    title: Names
    file: str
    decides: bool = False  # evidence itself: an item naming it is unknown when it cannot be drawn


@dataclass(frozen=True)
class MapItem:
    """One evidence code of the checklist: `decide` is `repository` or `attestation`."""

    code: str
    level: int
    kind: str  # document | screenshot | video
    title: Names
    description: str
    decide: str
    indicators: tuple[str, ...] = ()
    artefacts: tuple[str, ...] = ()
    expects: str = ""
    synthesized_code: bool = False


@dataclass(frozen=True)
class SubItem:
    """A capability sub-item (能力子项) with its place in the model and its checklist items."""

    area: Names
    sub_domain: Names
    capability: Names
    sub_item: Names
    requirements: dict[int, str]
    items: tuple[MapItem, ...]

    @property
    def area_id(self) -> str:
        return "SR" if self.items and self.items[0].code.startswith("SR-") else "CD"


@dataclass
class AssessmentMap:
    artefacts: dict[str, ArtefactSpec]
    sub_items: list[SubItem]
    digest: str
    items: dict[str, tuple[SubItem, MapItem]] = field(default_factory=dict)

    def indicator_ids(self) -> set[str]:
        return {i for _, item in self.items.values() for i in item.indicators}


def map_path() -> Path:
    return data_dir("assessment") / "assessment-map.yaml"


@cache
def load_map(path: Path | None = None) -> AssessmentMap:
    """Load and validate the map; a broken map is a PolicyError (exit 2) naming what is wrong."""
    import jsonschema
    import yaml

    path = path or map_path()
    raw = path.read_bytes()
    data = yaml.safe_load(raw)
    for sub in data.get("sub_items", []) if isinstance(data, dict) else []:
        if isinstance(sub.get("requirements"), dict):
            sub["requirements"] = {str(k): v for k, v in sub["requirements"].items()}
    errors = sorted(jsonschema.Draft202012Validator(load_schema("assessment-map")).iter_errors(data), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path)
        raise PolicyError(f"{path}: {where}: {errors[0].message}")
    artefacts = {a["id"]: ArtefactSpec(a["id"], _names(a["title"]), a["file"], a.get("decides", False)) for a in data["artefacts"]}
    result = AssessmentMap(artefacts, [], hashlib.sha256(raw).hexdigest()[:16])
    for sub in data["sub_items"]:
        items = tuple(_item(i) for i in sub["items"])
        entry = SubItem(_names(sub["area"]), _names(sub["sub_domain"]), _names(sub["capability"]),
                        _names(sub["sub_item"]), {int(k): v for k, v in sub.get("requirements", {}).items()}, items)
        result.sub_items.append(entry)
        for item in items:
            if item.code in result.items:
                raise PolicyError(f"{path}: evidence code {item.code} appears twice")
            unknown = [a for a in item.artefacts if a not in artefacts]
            if unknown:
                raise PolicyError(f"{path}: {item.code} names unknown artefacts {unknown}")
            result.items[item.code] = (entry, item)
    return result


def _names(value: dict[str, str]) -> Names:
    return Names(value["zh"], value["en"])


def _item(value: dict[str, Any]) -> MapItem:
    return MapItem(
        code=value["code"], level=value["level"], kind=value["kind"], title=_names(value["title"]),
        description=value["description"], decide=value["decide"], indicators=tuple(value.get("indicators", ())),
        artefacts=tuple(value.get("artefacts", ())), expects=value.get("expects", ""),
        synthesized_code=bool(value.get("synthesized_code", False)),
    )
