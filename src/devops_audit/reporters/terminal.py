"""The terminal report (rich): levels per area and domain, every verdict, and what blocks the next level."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

__all__ = ["render"]

_STYLE = {"pass": "green", "fail": "bold red", "not_applicable": "dim", "unknown": "yellow", "error": "magenta"}
_LABEL = {"pass": "pass", "fail": "FAIL", "not_applicable": "n/a", "unknown": "unknown", "error": "ERROR"}


def render(result: Any, options: Any) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    color = options.color if options.color is not None else (sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    buffer = io.StringIO()
    width = int(os.environ.get("COLUMNS", "0") or 0) or (None if color else 120)
    console = Console(file=buffer, force_terminal=bool(color), no_color=not color, width=width, highlight=False,
                      soft_wrap=False)
    data = result.to_dict()
    target = data["target"]
    where = target["path"]
    if target["commit"]:
        where += f" ({target['branch'] or 'detached'} @ {target['commit'][:10]})"
    console.print(Text.assemble(("devops-audit ", "bold"), data["tool"]["version"], "  ", where))
    if data.get("project"):
        project = data["project"]
        console.print(Text.assemble(("Project: ", "bold"), f"{project['kind']} — {project['summary']}"))
    console.print()

    for area in result.areas:
        mark = Text("✓ target met", "green") if area.met else Text(f"✗ below target {area.target}", "bold red")
        console.print(Text.assemble((f"{area.name} ({area.id})", "bold"), f"  Level {area.level}/{area.max_level}  ",
                                    mark, f"  — {area.describe()}"))
        domains = Table.grid(padding=(0, 2))
        for domain in area.domains:
            blocked = f"next: {', '.join(domain.blocking)}" if domain.blocking else ""
            domains.add_row(f"  {area.id}.{domain.id}", domain.name, f"L{domain.level}", Text(blocked, "dim"))
        console.print(domains)
    console.print()

    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1), expand=False)
    for column in ("Indicator", "L", "Status", "Title", "Detail"):
        table.add_column(column, overflow="fold")
    for verdict in result.verdicts:
        status = verdict.status
        label = "waived" if verdict.waiver else _LABEL[status]
        table.add_row(verdict.indicator.id, str(verdict.indicator.level), Text(label, _STYLE[status]),
                      verdict.indicator.title, _first_sentence(verdict.message, 90))
    console.print(table)

    blocking = [v for area in result.areas if area.level < area.max_level for v in area.blocking]
    if blocking:
        console.print()
        console.print(Text("What blocks the next level, and how to fix it", "bold"))
        for verdict in blocking:
            indicator = verdict.indicator
            console.print(Text.assemble(f"• {indicator.id} ", (f"[{_LABEL[verdict.status]}]", _STYLE[verdict.status]),
                                        f" Level {indicator.level}: {indicator.title}"))
            console.print(f"    {_shorten(verdict.message, 400)}")
            for violation in verdict.violations[:5]:
                via = f" (via {' → '.join(violation.chain)})" if violation.chain else ""
                console.print(f"    - {violation.path}:{violation.line}: {violation.message}{via}")
            if len(verdict.violations) > 5:
                console.print(f"    - … {len(verdict.violations) - 5} more")
            fix = indicator.remediation.strip().splitlines()[0] if indicator.remediation.strip() else ""
            if fix:
                console.print(Text(f"    Fix: {fix}", "cyan"))

    errors = [e for e in result.inventory if e.status == "error"]
    parsed = sum(1 for e in result.inventory if e.status == "parsed")
    skipped = sum(1 for e in result.inventory if e.status == "skipped")
    console.print()
    console.print(f"Evidence: {parsed} file(s) parsed, {skipped} skipped, {len(errors)} could not be read")
    for entry in errors[:20]:
        console.print(Text(f"  ! {entry.path or entry.kind}{f':{entry.line}' if entry.line else ''}: {entry.reason}",
                           "magenta"))
    for entry in (e for e in result.inventory if e.kind == "config" and e.status == "skipped"):  # --config-ref
        console.print(Text(f"  ! {entry.path}: {entry.reason}", "yellow"))
    for waiver in result.extras.get("waivers", {}).get("expired", []):
        console.print(Text(f"  ! waiver for {waiver.get('indicator')} expired on {waiver.get('expires')} "
                           f"(owner {waiver.get('owner')}): it no longer applies", "yellow"))
    baseline = result.extras.get("baseline")
    if baseline:
        console.print(f"Baseline {baseline.get('file')}: {len(baseline.get('new', []))} new finding(s), "
                      f"{baseline.get('unchanged', 0)} unchanged (the gate judges them as met), "
                      f"{len(baseline.get('fixed', []))} fixed")
    counts = result.counts()
    console.print(" · ".join(f"{counts[s]} {s}" for s in ("pass", "fail", "unknown", "error", "not_applicable"))
                  + (f" · {counts['waived']} waived" if counts["waived"] else ""))
    if result.gate.passed:
        console.print(Text("Gate: passed (exit 0)", "bold green"))
    else:
        console.print(Text(f"Gate: FAILED (exit 1): {'; '.join(result.gate.reasons)}", "bold red"))
    return buffer.getvalue()


def _first_sentence(text: str, limit: int) -> str:
    """The table shows the gist; the full message is in the blocking section and the JSON report."""
    head = text.split(". ", 1)[0].split("; ", 1)[0].rstrip(".")
    return _shorten(head, limit)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
