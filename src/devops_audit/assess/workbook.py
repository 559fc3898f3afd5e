"""`self-assessment.xlsx`: the self-assessment table an assessment starts with, filled from the scan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_workbook", "HEADERS"]

HEADERS = ["能力域 Area", "能力子域 Sub-domain", "能力项 Capability", "能力子项 Sub-item",
           "1级 Level 1", "2级 Level 2", "3级 Level 3", "4级 Level 4", "5级 Level 5",
           "自评 Self-rating", "差距 Gap to target", "阻断项 Blocking codes", "待提供材料 Attestations owed",
           "材料编号 Evidence codes"]


def write_workbook(pack: Any, path: Path) -> None:
    """One sheet per the CAICT layout (one row per sub-item), plus one row per evidence code on a second sheet.
    The workbook's timestamps are fixed so the same pack gives the same cells."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    manifest = pack.manifest
    book = Workbook()
    sheet = book.active
    sheet.title = "自评表 Self-assessment"
    sheet.append([f"目标级别 Target level: {manifest['target_level']}", f"提交 Commit: {manifest['target']['commit']}"])
    sheet.append(HEADERS)
    for sub in manifest["sub_items"]:
        reqs = sub["requirements"]
        owed = sub["pending_attestations"]
        rating = ("— (attestation only)" if sub["level_reached"] is None else
                  f"{sub['level_reached']}" + (f" (+{len(owed)} attestations owed)" if owed else ""))
        sheet.append([*(f"{sub[k]['zh']} {sub[k]['en']}" for k in ("area", "sub_domain", "capability", "sub_item")),
                      *(reqs.get(str(level), "") for level in range(1, 6)), rating,
                      "—" if sub["gap"] is None else sub["gap"],
                      ", ".join(sub["blocking"]), ", ".join(owed), ", ".join(sub["codes"])])
    items = book.create_sheet("材料清单 Evidence items")
    items.append(["编号 Code", "能力子项 Sub-item", "级别 Level", "类型 Kind", "材料 Item", "状态 Status", "证据 Evidence"])
    for item in manifest["items"]:
        evidence = item.get("artefacts", []) + [f"{e['path']}:{e['line']}" for e in item.get("evidence", [])]
        items.append([item["code"], item["sub_item"]["zh"], item["level"], item["kind"],
                      f"{item['title']['zh']} {item['title']['en']}", item["status"],
                      "; ".join(evidence) or "; ".join(item.get("missing", [])) or item.get("expects", "")])
    for ws in (sheet, items):
        for cell in ws[2 if ws is sheet else 1]:
            cell.font = Font(bold=True)
        for column in ws.columns:
            ws.column_dimensions[column[0].column_letter].width = 28
            for cell in column:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    fixed = datetime(2000, 1, 1)
    book.properties.created = book.properties.modified = fixed
    book.save(path)
