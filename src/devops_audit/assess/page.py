"""Self-contained HTML for the pack: inline CSS, no script, no font or image from the network; every value escaped."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

__all__ = ["CSS", "bi", "page", "table", "esc", "source_note"]

CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5rem auto;max-width:1200px;
color:#1d2430;padding:0 1rem;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.25rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.1rem;margin-top:1.5rem}h4{font-size:1rem;margin:1.2rem 0 .4rem}
.alt{color:#57606a;font-weight:normal;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font-size:.85em;background:#f6f8fa;padding:0 .2em;word-break:break-all}
.status{display:inline-block;padding:0 .5em;border-radius:.6em;font-size:.85em;white-space:nowrap}
.verified{background:#dafbe1;color:#116329}.failed{background:#ffebe9;color:#a40e26}
.unknown{background:#fff8c5;color:#7d4e00}.attestation{background:#ddf4ff;color:#0a3069}
.note{color:#57606a;font-size:.85rem}.gap{font-weight:bold;color:#a40e26}.met{font-weight:bold;color:#116329}
td:first-child code{word-break:normal;white-space:nowrap}details{margin:.2rem 0}summary{cursor:pointer}ul{margin:.2rem 0;padding-left:1.2rem}
"""


def esc(value: Any) -> str:
    return escape("" if value is None else str(value))


def bi(names: Any, lang: str) -> str:
    """`names` (zh/en) with the chosen language first and the other beside it."""
    zh, en = (names["zh"], names["en"]) if isinstance(names, dict) else (names.zh, names.en)
    first, second = (zh, en) if lang == "zh" else (en, zh)
    return f'{esc(first)} <span class="alt">{esc(second)}</span>' if second and second != first else esc(first)


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]], raw: bool = False, css_id: str = "") -> str:
    """Rows of cells; cells are escaped unless `raw` (then the caller built safe HTML)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    ident = f' id="{esc(css_id)}"' if css_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def source_note(sources: list[str], commit: str | None) -> str:
    files = ", ".join(f"<code>{esc(s)}</code>" for s in sources) or "—"
    return (f'<p class="note">来源 Source: {files} · 提交 commit <code>{esc(commit or "not a git repository")}'
            "</code></p>")


def page(title: str, body: str, lang: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n")
