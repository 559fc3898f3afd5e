"""The assessment pack of one scanned repository: artefacts, manifest.json, index.html, self-assessment.xlsx, zip."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops_audit import __version__
from devops_audit.assess.artefacts import build_artefacts
from devops_audit.assess.decide import STATUSES, ArtefactState, ItemResult, SubItemResult, decide_item, rate_sub_item
from devops_audit.assess.mapping import AssessmentMap, load_map

__all__ = ["Pack", "build_pack", "MANIFEST", "INDEX", "WORKBOOK"]

MANIFEST, INDEX, WORKBOOK = "manifest.json", "index.html", "self-assessment.xlsx"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class Pack:
    out: Path
    manifest: dict[str, Any]
    items: list[ItemResult]
    sub_items: list[SubItemResult]
    artefacts: dict[str, ArtefactState]
    zip_path: Path | None = None


def build_pack(result: Any, out: Path, target_level: int = 3, lang: str = "zh", make_zip: bool = False,
               amap: AssessmentMap | None = None) -> Pack:
    """`result` is a ScanResult (scanned with the `history_timeline` setting for the charts)."""
    from devops_audit.assess.index import render_index
    from devops_audit.assess.workbook import write_workbook

    amap = amap or load_map()
    out.mkdir(parents=True, exist_ok=True)
    commit = result.git.commit if result.git else None
    artefacts = build_artefacts(amap, result.facts, commit, out, lang)
    verdicts = {v.indicator.id: v for v in result.verdicts}
    targets = _targets(result, target_level)
    deciding = frozenset(a.id for a in amap.artefacts.values() if a.decides)
    root = Path(result.target)

    def is_file(path: str) -> bool:
        return (root / path).is_file()

    items, subs = [], []
    for sub in amap.sub_items:
        decided = [decide_item(sub, item, verdicts, artefacts, deciding, is_file) for item in sub.items]
        items += decided
        subs.append(rate_sub_item(sub, decided, targets.get(sub.area_id, target_level)))
    manifest = _manifest(result, amap, items, subs, artefacts, targets, target_level)
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    pack = Pack(out, manifest, items, subs, artefacts)
    (out / INDEX).write_text(render_index(pack, lang), encoding="utf-8")
    write_workbook(pack, out / WORKBOOK)
    if make_zip:
        pack.zip_path = _zip(out)
    return pack


def _targets(result: Any, target_level: int) -> dict[str, int]:
    """CD aims at `--level`; SR keeps the scan's target (2 by default, `--target sr=N`)."""
    targets = {a.id: a.target for a in result.areas}
    targets["CD"] = target_level
    return targets


def _counts(items: list[ItemResult]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for item in items:
        counts[item.status] += 1
    return counts


def _names(sub_result: SubItemResult) -> dict[str, Any]:
    sub = sub_result.sub
    return {"area": sub.area.to_dict(), "sub_domain": sub.sub_domain.to_dict(), "capability": sub.capability.to_dict(),
            "sub_item": sub.sub_item.to_dict()}


def _manifest(result: Any, amap: AssessmentMap, items: list[ItemResult], subs: list[SubItemResult],
              artefacts: dict[str, ArtefactState], targets: dict[str, int], target_level: int) -> dict[str, Any]:
    levels = sorted({r.item.level for r in items})
    in_scope = [r for r in items if r.item.level <= targets.get(r.sub.area_id, target_level)]
    area_names = {s.sub.area_id: s.sub.area.to_dict() for s in subs}
    return {
        "tool": {"name": "devops-audit", "version": __version__},
        "generated_at": result.generated_at,
        "target": {"path": result.target, "commit": result.git.commit if result.git else None,
                   "branch": result.git.branch if result.git else None},
        "target_level": target_level,
        "map_digest": amap.digest,
        "summary": {
            "items": len(items), "by_status": _counts(items),
            "by_level": {str(level): _counts([r for r in items if r.item.level == level]) for level in levels},
            "decided_up_to_target": sum(r.status in ("verified", "failed") for r in in_scope),
        },
        "areas": [{"id": a.id, "name": area_names.get(a.id, {"zh": a.name, "en": a.name}), "scan_level": a.level,
                   "target": targets.get(a.id, a.target)} for a in result.areas if a.id in area_names],
        "sub_items": [{**_names(s), "level_reached": s.level_reached, "gap": s.gap, "blocking": s.blocking,
                       "pending_attestations": s.pending_attestations,
                       "requirements": {str(k): v for k, v in s.sub.requirements.items()},
                       "codes": [i.code for i in s.sub.items]} for s in subs],
        "artefacts": [{"id": a.id, "title": amap.artefacts[a.id].title.to_dict(), "file": amap.artefacts[a.id].file,
                       "files": a.files, "available": a.available, "reason": a.reason, "sources": a.sources,
                       "commit": result.git.commit if result.git else None} for a in artefacts.values()],
        "items": [_item(r) for r in items],
    }


def _item(r: ItemResult) -> dict[str, Any]:
    item = r.item
    data: dict[str, Any] = {
        "code": item.code, "area": r.sub.area.to_dict(), "sub_domain": r.sub.sub_domain.to_dict(),
        "capability": r.sub.capability.to_dict(), "sub_item": r.sub.sub_item.to_dict(), "level": item.level,
        "kind": item.kind, "title": item.title.to_dict(), "description": item.description,
        "indicators": [{"id": s.id, "status": s.status, "message": s.message} for s in r.indicators],
        "status": r.status, "reason": r.reason,
    }
    if item.synthesized_code:
        data["synthesized_code"] = True
    if r.status == "verified":
        data |= {"evidence": r.evidence, "artefacts": r.artefacts}
    elif r.status == "failed":
        data |= {"missing": r.missing, "fix": r.fix}
    elif r.status == "unknown":
        data |= {"missing": r.missing, "how_to_provide": r.how_to_provide}
    else:
        data["expects"] = attestation_template(item)
    return data


def attestation_template(item: Any) -> str:
    """What the assessor expects: the map's own words, else a template from the item's kind and description."""
    if item.expects:
        return item.expects
    what = {"document": "A document", "screenshot": "Screenshots of a live demonstration",
            "video": "A recorded demonstration"}[item.kind]
    return (f"{what} named 《{item.code}-{item.title.zh}》 ({item.title.en}) showing: {item.description.rstrip('。')}。 "
            "State the system or process shown, its owner, the date, and link the records it refers to.")


def _zip(out: Path) -> Path:
    """`DIR.zip` beside DIR, entries under DIR's name, fixed timestamps (same content, same bytes)."""
    target = out.with_name(out.name + ".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{out.name}/{path.relative_to(out).as_posix()}", _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return target
