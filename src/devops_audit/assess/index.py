"""`index.html`: the pack's bilingual overview, area → sub-domain → capability → sub-item → evidence codes."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from devops_audit.assess.page import bi, esc, page

__all__ = ["render_index"]

_STATUS = {"verified": "已验证 verified", "failed": "未满足 failed", "unknown": "未找到证据 unknown",
           "attestation": "需提供材料 attestation"}
_KIND = {"document": "材料文档 document", "screenshot": "演示截图 screenshot", "video": "演示视频 video"}


def render_index(pack: Any, lang: str) -> str:
    manifest = pack.manifest
    items = {i["code"]: i for i in manifest["items"]}
    subs = manifest["sub_items"]
    parts = [_header(manifest, lang), _overview(subs, items, lang), _artefacts(manifest, lang)]
    for _, area_subs in groupby(subs, key=lambda s: s["area"]["zh"]):
        area_subs = list(area_subs)
        parts.append(f"<h2>{bi(area_subs[0]['area'], lang)}</h2>")
        for _, domain_subs in groupby(area_subs, key=lambda s: s["sub_domain"]["zh"]):
            domain_subs = list(domain_subs)
            parts.append(f"<h3>{bi(domain_subs[0]['sub_domain'], lang)}</h3>")
            for _, cap_subs in groupby(domain_subs, key=lambda s: s["capability"]["zh"]):
                cap_subs = list(cap_subs)
                parts.append(f"<h4>{bi(cap_subs[0]['capability'], lang)}</h4>")
                parts += [_sub_item(s, subs.index(s), items, lang) for s in cap_subs]
    title = "评估材料包 Assessment pack" if lang == "zh" else "Assessment pack 评估材料包"
    return page(title, "\n".join(parts), lang)


def _header(manifest: dict[str, Any], lang: str) -> str:
    target, summary = manifest["target"], manifest["summary"]
    counts = " · ".join(f'<span class="status {s}">{esc(_STATUS[s])}</span> <b data-count="{s}">{n}</b>'
                        for s, n in summary["by_status"].items())
    areas = "".join(
        f'<tr data-area="{esc(a["id"])}"><td>{bi(a["name"], lang)}</td><td>{esc(a["scan_level"])}</td>'
        f'<td>{esc(a["target"])}</td></tr>' for a in manifest["areas"])
    return (f"<h1>{'评估材料包 <span class=alt>Assessment pack</span>' if lang == 'zh' else 'Assessment pack <span class=alt>评估材料包</span>'}</h1>"
            f"<p>仓库 Repository: <code>{esc(target['path'])}</code> · 分支 branch <code>{esc(target['branch'])}</code>"
            f" · 提交 commit <code>{esc(target['commit'])}</code><br>生成时间 Generated: {esc(manifest['generated_at'])}"
            f" · 目标级别 Target level: <b>{manifest['target_level']}</b> · devops-audit {esc(manifest['tool']['version'])}</p>"
            f"<p>{summary['items']} 项 items: {counts}<br>目标级别以内由仓库判定 Decided from the repository up to the "
            f"target: <b>{summary['decided_up_to_target']}</b></p>"
            "<table><thead><tr><th>能力域 Area</th><th>扫描达到级别 Level reached by the scan</th>"
            f"<th>目标 Target</th></tr></thead><tbody>{areas}</tbody></table>"
            '<p class="note">状态 Statuses: verified — the repository proves it (file:line evidence and generated '
            "artefacts); failed — the repository shows it is not met (what is missing, how to fix); unknown — the "
            "evidence could exist but was not found (how to provide it); attestation — a document or demonstration "
            "only the team can supply (what the assessor expects).</p>")


def _overview(subs: list[dict[str, Any]], items: dict[str, dict[str, Any]], lang: str) -> str:
    """One row per sub-item: where it sits in the model, the level reached, the gap and its items per status."""
    rows = []
    for number, sub in enumerate(subs):
        counts = {s: sum(items[c]["status"] == s for c in sub["codes"]) for s in _STATUS}
        cells = " ".join(f'<span class="status {s}">{n}</span>' for s, n in counts.items() if n)
        rows.append(f'<tr><td>{bi(sub["sub_domain"], lang)}</td><td>{bi(sub["capability"], lang)}</td>'
                    f'<td><a href="#sub-{number}">{bi(sub["sub_item"], lang)}</a></td><td>{_level(sub)}</td>'
                    f"<td>{_gap(sub)}</td><td>{cells}</td></tr>")
    return ("<h2>总览 Overview</h2><table id=\"overview\"><thead><tr><th>能力子域 Sub-domain</th><th>能力项 Capability</th>"
            "<th>能力子项 Sub-item</th><th>达到级别 Level reached</th><th>差距 Gap</th><th>材料状态 Items</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")


def _level(sub: dict[str, Any]) -> str:
    return "—" if sub["level_reached"] is None else str(sub["level_reached"])


def _gap(sub: dict[str, Any]) -> str:
    if sub["gap"] is None:
        return '<span class="note">仅需材料 attestation only</span>'
    return '<span class="met">0</span>' if sub["gap"] == 0 else f'<span class="gap">{sub["gap"]}</span>'


def _artefacts(manifest: dict[str, Any], lang: str) -> str:
    rows = []
    for art in manifest["artefacts"]:
        links = " ".join(f'<a href="{esc(f)}">{esc(f.rsplit("/", 1)[-1])}</a>' for f in art["files"])
        rows.append(f'<tr id="artefact-{esc(art["id"])}"><td>{bi(art["title"], lang)}</td><td>{links or "—"}</td>'
                    f'<td>{esc(art["reason"])}</td></tr>')
    return ("<h2>生成的证据 Generated artefacts</h2><table><thead><tr><th>证据 Artefact</th><th>文件 Files</th>"
            f"<th>未生成原因 Why not drawn</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _sub_item(sub: dict[str, Any], number: int, items: dict[str, dict[str, Any]], lang: str) -> str:
    gap = ('<span class="note">仅需材料 attestation only</span>' if sub["gap"] is None else
           '<span class="met">达到目标 target met</span>' if sub["gap"] == 0
           else f'<span class="gap">差距 gap {sub["gap"]}</span>')
    pending = (f' · 待提供材料 attestations owed: {len(sub["pending_attestations"])}'
               if sub["pending_attestations"] else "")
    rows = "".join(_item_row(items[code], lang) for code in sub["codes"])
    return (f'<section class="sub-item" id="sub-{number}" data-sub-item="{esc(sub["sub_item"]["zh"])}" data-level="{_level(sub)}"'
            f' data-gap="{sub["gap"]}"><p><b>{bi(sub["sub_item"], lang)}</b> — 达到级别 level reached: '
            f'<b>{_level(sub)}</b> · {gap}{pending}</p>'
            + (f"<table><thead><tr><th>编号 Code</th><th>级别 Level</th><th>类型 Kind</th><th>材料 Item</th>"
               f"<th>状态 Status</th><th>证据 Evidence</th></tr></thead><tbody>{rows}</tbody></table>" if rows
               else '<p class="note">无材料审查和模拟演示 No evidence is asked for this sub-item.</p>')
            + "</section>")


def _item_row(item: dict[str, Any], lang: str) -> str:
    status = item["status"]
    return (f'<tr id="{esc(item["code"])}" data-status="{status}"><td><code>{esc(item["code"])}</code></td>'
            f'<td>L{item["level"]}</td><td>{esc(_KIND[item["kind"]])}</td><td>{bi(item["title"], lang)}'
            f'<details><summary>说明 Description</summary>{esc(item["description"])}</details></td>'
            f'<td><span class="status {status}">{esc(_STATUS[status])}</span></td><td>{_detail(item)}</td></tr>')


def _detail(item: dict[str, Any]) -> str:
    parts = []
    if item.get("artefacts"):
        parts.append(" ".join(f'<a class="artefact" href="{esc(f)}">{esc(f.rsplit("/", 1)[-1])}</a>'
                              for f in item["artefacts"]))
    if item.get("evidence"):
        parts.append("<ul>" + "".join(f"<li><code>{esc(e['path'])}:{e['line']}</code> ({esc(e['indicator'])})</li>"
                                      for e in item["evidence"][:8]) + "</ul>")
    for key, label in (("missing", "缺少 Missing"), ("fix", "如何修复 How to fix"),
                       ("how_to_provide", "如何提供 How to provide")):
        if item.get(key):
            parts.append(f"<b>{label}</b><ul>" + "".join(f"<li>{esc(v)}</li>" for v in item[key]) + "</ul>")
    if item.get("expects"):
        parts.append(f"<b>评估专家期望 The assessor expects</b><p>{esc(item['expects'])}</p>")
    if item["indicators"]:
        parts.append('<p class="note">' + ", ".join(f"{esc(i['id'])}: {esc(i['status'])}"
                                                    for i in item["indicators"]) + "</p>")
    return "".join(parts)
