"""The assessment map covers the assessor's checklist: every evidence code mapped, every indicator real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

from devops_audit.assess.mapping import load_map
from devops_audit.errors import PolicyError
from devops_audit.policy import load_policies

CHECKLIST = CORPUS.parent / "reference" / "caict-cd-evidence-checklist.txt"  # ../shared/reference
CODE = re.compile(r"《([A-Z]+(?:-[A-Z]+)+-L[1-5]-\d+)-")


def test_the_shipped_map_is_valid_and_names_only_existing_indicators():
    amap = load_map()
    known = {i.id for i in load_policies([]).indicators}
    assert amap.indicator_ids() <= known, amap.indicator_ids() - known
    assert len(amap.items) > 180
    for _, item in amap.items.values():
        assert item.decide == "attestation" or item.indicators or item.artefacts, item.code
    sr = [code for code in amap.items if code.startswith("SR-")]
    assert {i for c in sr for i in amap.items[c][1].indicators} == {i for i in known if i.startswith("SR.")}


def test_every_code_of_the_shared_checklist_is_mapped():
    if not CHECKLIST.is_file():
        pytest.skip("../shared/reference is absent")
    codes = set(CODE.findall(CHECKLIST.read_text(encoding="utf-8")))
    assert len(codes) >= 170
    amap = load_map()
    assert codes <= set(amap.items), sorted(codes - set(amap.items))
    for code in codes:  # the checklist's own level and kind (材料文档 / 演示截图 / 演示视频)
        assert amap.items[code][1].level == int(code.rsplit("-", 2)[1][1])


def test_every_level_of_continuous_delivery_is_present():
    levels = {item.level for sub, item in load_map().items.values() if sub.area_id == "CD"}
    assert levels == {1, 2, 3, 4, 5}


def test_a_broken_map_is_a_policy_error_naming_the_problem(tmp_path: Path):
    bad = tmp_path / "map.yaml"
    text = (ROOT / "assessment" / "assessment-map.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("kind: document", "kind: memo", 1), encoding="utf-8")
    with pytest.raises(PolicyError, match="memo"):
        load_map(bad)
    bad.write_text(text.replace("artefacts: [configuration-items]", "artefacts: [screenshots]", 1), encoding="utf-8")
    with pytest.raises(PolicyError, match="unknown artefacts"):
        load_map(bad)


def test_the_readme_excerpt_uses_real_codes_and_statuses():
    import json

    from doc_snippets import snippet

    amap = load_map()
    for item in json.loads(f"[{snippet('assess-manifest')}]"):
        assert item["code"] in amap.items
        assert item["status"] in ("verified", "failed", "unknown", "attestation")
        _, mapped = amap.items[item["code"]]
        assert set(i["id"] for i in item.get("indicators", [])) <= set(mapped.indicators)
