"""Markdown for `$GITHUB_STEP_SUMMARY` and merge-request comments.

Order: gate result and reasons; levels per area (domains folded in `<details>`); counts; expired waivers
and baseline changes; failing indicators (with a link to their section of docs/indicators.md and their
first violations); waived ones; unknown and error; then compact lists of passing and not-applicable ids.
GitHub refuses a step summary over 1 MiB, so the output stops before `MAX_BYTES` and says how many
indicators were left out ("… N more").
"""

from __future__ import annotations

from typing import Any

from devops_audit.reporters.fingerprints import keyed_violations
from devops_audit.untrusted import BIDI_CONTROLS

__all__ = ["MAX_BYTES", "render"]

MAX_BYTES = 1_000_000  # GitHub's step summary limit is 1 MiB (1,048,576 bytes); keep a margin
_VIOLATIONS_SHOWN = 10
_ICON = {"pass": "✅", "fail": "❌", "not_applicable": "➖", "unknown": "❔", "error": "⚠️"}


def render(result: Any, options: Any) -> str:
    head = _head(result)
    blocks = _blocks(result)
    tail = "\n" + _footer(result)
    out = [head]
    size = _bytes(head) + _bytes(tail) + 200  # room for the "… N more" line
    for index, (_, block) in enumerate(blocks):
        if size + _bytes(block) > MAX_BYTES:
            rest = sum(1 for is_entry, _ in blocks[index:] if is_entry)
            out.append(f"\n… {rest} more indicator entries not shown: the summary is capped below 1 MiB; "
                       "see the JSON or SARIF report for everything.\n")
            break
        out.append(block)
        size += _bytes(block)
    out.append(tail)
    return "".join(out)


def _head(result: Any) -> str:
    lines = [f"## devops-audit: {'✅ gate passed' if result.gate.passed else '❌ gate failed'}", ""]
    lines += [f"- {_md(reason)}" for reason in result.gate.reasons]
    project = result.facts.get("project")
    if isinstance(project, dict) and project.get("kind"):
        lines += ["", f"**Project:** {project['kind']} — {_md(project['summary'])}"]
    lines += ["", "| Area | Level | Target | Status | Next level |", "|---|---|---|---|---|"]
    for area in result.areas:
        status = "✅ met" if area.met else "❌ below target"
        lines.append(f"| {_md(area.name)} ({area.id}) | {area.level} / {area.max_level} | {area.target} | {status} "
                     f"| {_md(area.describe())} |")
    lines += ["", "<details><summary>Levels per domain</summary>", "",
              "| Domain | Level | Blocking the next level |", "|---|---|---|"]
    for area in result.areas:
        for domain in area.domains:
            lines.append(f"| {area.id}.{domain.id} {_md(domain.name)} | {domain.level} | "
                         f"{', '.join(domain.blocking) or '—'} |")
    lines += ["", "</details>", ""]
    counts = result.counts()
    lines.append(" · ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in ("fail", "error", "unknown", "pass",
                                                                          "not_applicable"))
                 + (f" · {counts['waived']} waived" if counts["waived"] else ""))
    lines += _waiver_lines(result) + _baseline_lines(result)
    return "\n".join(lines) + "\n"


def _waiver_lines(result: Any) -> list[str]:
    waivers = result.extras.get("waivers") or {}
    lines = [f"> ⚠️ `{_md(e.path)}`: {_md(e.reason)}" for e in result.inventory  # --config-ref
             if e.kind == "config" and e.status == "skipped"]
    for waiver in waivers.get("expired", []):
        lines.append(f"> ⚠️ Waiver for {waiver['indicator']} expired on {waiver['expires']} "
                     f"(owner {_md(waiver['owner'])}): it no longer applies.")
    for waiver in waivers.get("unused", []):
        lines.append(f"> ℹ️ Waiver for {waiver['indicator']} matched no failure: remove it.")
    return ["", *lines] if lines else []


def _baseline_lines(result: Any) -> list[str]:
    baseline = result.extras.get("baseline")
    if not baseline:
        return []
    counts = f"{len(baseline['new'])} new, {baseline['unchanged']} unchanged, {len(baseline['fixed'])} fixed"
    lines = ["", f"Baseline `{_md(str(baseline.get('file')))}`: {counts}."]
    if baseline["baselined"]:
        lines.append(f"Baselined (not gating): {', '.join(baseline['baselined'])}.")
    for entry in baseline["fixed"][:_VIOLATIONS_SHOWN]:
        lines.append(f"- fixed: {entry['indicator']} `{_md(entry['path'])}` {_md(entry['locator'])}")
    if len(baseline["fixed"]) > _VIOLATIONS_SHOWN:
        lines.append(f"- … {len(baseline['fixed']) - _VIOLATIONS_SHOWN} more fixed")
    return lines


def _blocks(result: Any) -> list[tuple[bool, str]]:
    """(is an indicator entry, text): section headings and one entry per indicator, in display order."""
    baselined = set((result.extras.get("baseline") or {}).get("baselined", []))
    waived = {fp for w in (result.extras.get("waivers") or {}).get("applied", []) for fp in w["fingerprints"]}
    failing = [v for v in result.verdicts if v.status == "fail" and not v.waiver]
    failing.sort(key=lambda v: (-_SEVERITY_RANK[v.indicator.severity], v.indicator.level, v.indicator.id))
    sections = [
        ("Failing", failing, lambda v: _entry(v, baselined, waived)),
        ("Waived", [v for v in result.verdicts if v.status == "fail" and v.waiver], _waived_entry),
        ("Unknown or error", [v for v in result.verdicts if v.status in ("unknown", "error")], _short_entry),
    ]
    blocks = []
    for title, verdicts, render_entry in sections:
        if verdicts:
            blocks.append((False, f"\n### {title} ({len(verdicts)})\n\n"))
            blocks += [(True, render_entry(v)) for v in verdicts]
    for title, status in (("Passing", "pass"), ("Not applicable", "not_applicable")):
        ids = [v.indicator.id for v in result.verdicts if v.status == status]
        if ids:
            blocks.append((False, f"\n### {title} ({len(ids)})\n\n"))
            blocks += [(True, f"{i}{',' if n < len(ids) - 1 else ''} ") for n, i in enumerate(ids)]
            blocks.append((False, "\n"))
    return blocks


_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _link(verdict: Any) -> str:
    from devops_audit.docs import DOCS_URL, anchor

    indicator = verdict.indicator
    return f"[{indicator.id}]({DOCS_URL}#{anchor(indicator)}) {_md(indicator.title)}"


def _entry(verdict: Any, baselined: set[str], waived: set[str]) -> str:
    indicator = verdict.indicator
    mark = " · baselined" if indicator.id in baselined else ""
    lines = [f"- ❌ **{_link(verdict)}** — L{indicator.level} · {indicator.severity}{mark}: {_md(verdict.message)}"]
    keyed = [(v, fp) for v, fp in keyed_violations(verdict) if v]
    for violation, fp in keyed[:_VIOLATIONS_SHOWN]:
        note = " *(waived)*" if fp in waived else ""
        via = f" (via {' → '.join(f'`{_md(c)}`' for c in violation.chain)})" if violation.chain else ""
        lines.append(f"  - `{_md(violation.path)}:{violation.line}` {_md(violation.message)}{via}{note}")
    if len(keyed) > _VIOLATIONS_SHOWN:
        lines.append(f"  - … {len(keyed) - _VIOLATIONS_SHOWN} more violations")
    return "\n".join(lines) + "\n"


def _waived_entry(verdict: Any) -> str:
    w = verdict.waiver or {}
    return (f"- 🏷️ {_link(verdict)}: waived until {w.get('expires')} by {_md(str(w.get('owner')))}: "
            f"{_md(str(w.get('reason')))}\n")


def _short_entry(verdict: Any) -> str:
    return f"- {_ICON[verdict.status]} {_link(verdict)} ({verdict.status}): {_md(verdict.message)}\n"


def _footer(result: Any) -> str:
    commit = result.git.commit[:10] if result.git and result.git.commit else "working tree"
    return f"<sub>devops-audit · {commit} · {result.generated_at} · policies {result.policy_digest}</sub>\n"


def _md(text: str) -> str:
    """One line of untrusted text, safe inside Markdown tables and out of HTML, without bidirectional controls."""
    text = " ".join(str(text).translate(_NO_BIDI).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


_NO_BIDI = dict.fromkeys(BIDI_CONTROLS)


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))
