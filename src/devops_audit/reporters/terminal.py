"""The terminal report: levels per area and domain, every verdict, and what blocks the next level.

Plain lines laid out here, not by rich (its table layout cost ~50 ms a report and its import ~50 ms).
Colour is ANSI escape codes, only when asked: `--color always`, or a terminal without NO_COLOR; control
characters from the scanned repository are dropped, the escape character and bidirectional controls included (our
colours are written with a random stand-in and become escapes only after that). Widths count
terminal cells (a Chinese character takes two); in the verdict table a long title or detail wraps within its
column, within the width (COLUMNS, else the terminal's, else 120). Other lines are left whole: a terminal
wraps them, a file keeps them greppable.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

from devops_audit import __version__
from devops_audit.untrusted import BIDI_CONTROLS

__all__ = ["render"]

_STYLE = {"pass": "green", "fail": "bold red", "not_applicable": "dim", "unknown": "yellow", "error": "magenta"}
_LABEL = {"pass": "pass", "fail": "FAIL", "not_applicable": "n/a", "unknown": "unknown", "error": "ERROR"}
_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "magenta": "35", "cyan": "36"}
_GAP = "  "  # between table columns
# Control characters from the repository (a file name, a message) must not drive the reader's terminal: gone,
# but for the line breaks and a tab (a space); so are the bidirectional controls
_CONTROLS = ({code: None for code in [*range(0x20), 0x7F, *range(0x80, 0xA0), *BIDI_CONTROLS] if code != 0x0A}
             | {0x09: " "})

Paint = Callable[[str, str], str]


def render(result: Any, options: Any) -> str:
    color = options.color if options.color is not None else (sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    color = bool(color) and os.environ.get("TERM") not in ("dumb", "unknown")  # as rich did: no codes there
    width = int(os.environ.get("COLUMNS", "0") or 0) or (shutil.get_terminal_size((120, 24)).columns if color else 120)
    escape = f"\ue000{secrets.token_hex(8)}"  # stands for ESC in our colours: no repository text can hold it
    paint = _painter(color, escape)
    lines: list[str] = []
    out = lines.append

    where = result.target
    if result.git and result.git.commit:
        where += f" ({result.git.branch or 'detached'} @ {result.git.commit[:10]})"
    out(f"{paint('devops-audit ', 'bold')}{__version__}  {where}")
    project = result.facts.get("project")
    if isinstance(project, dict):
        out(f"{paint('Project: ', 'bold')}{project.get('kind')} — {project.get('summary')}")
    out("")

    for area in result.areas:
        mark = paint("✓ target met", "green") if area.met else paint(f"✗ below target {area.target}", "bold red")
        out(f"{paint(f'{area.name} ({area.id})', 'bold')}  Level {area.level}/{area.max_level}  {mark}"
            f"  — {area.describe()}")
        rows = [[f"  {area.id}.{domain.id}", domain.name, f"L{domain.level}",
                 f"next: {', '.join(domain.blocking)}" if domain.blocking else ""] for domain in area.domains]
        lines += _table(rows, [["", "", "", "dim"]] * len(rows), [], width, paint)
    out("")

    rows = [["Indicator", "L", "Status", "Title", "Detail"]]
    rows += [[verdict.indicator.id, str(verdict.indicator.level),
             "waived" if verdict.waiver else _LABEL[verdict.status],
             verdict.indicator.title, _first_sentence(verdict.message, 90)] for verdict in result.verdicts]
    styles = [["bold"] * 5] + [["", "", _STYLE[verdict.status], "", ""] for verdict in result.verdicts]
    lines += _table(rows, styles, [3, 4], width, paint)

    blocking = [v for area in result.areas if area.level < area.max_level for v in area.blocking]
    if blocking:
        out("")
        out(paint("What blocks the next level, and how to fix it", "bold"))
        for verdict in blocking:
            indicator = verdict.indicator
            status = paint(f"[{_LABEL[verdict.status]}]", _STYLE[verdict.status])
            out(f"• {indicator.id} {status} Level {indicator.level}: {indicator.title}")
            out(f"    {_shorten(verdict.message, 400)}")
            for violation in verdict.violations[:5]:
                via = f" (via {' → '.join(violation.chain)})" if violation.chain else ""
                out(f"    - {violation.path}:{violation.line}: {violation.message}{via}")
            if len(verdict.violations) > 5:
                out(f"    - … {len(verdict.violations) - 5} more")
            fix = indicator.remediation.strip().splitlines()[0] if indicator.remediation.strip() else ""
            if fix:
                out(paint(f"    Fix: {fix}", "cyan"))

    errors = [e for e in result.inventory if e.status == "error"]
    parsed = sum(1 for e in result.inventory if e.status == "parsed")
    skipped = sum(1 for e in result.inventory if e.status == "skipped")
    out("")
    out(f"Evidence: {parsed} file(s) parsed, {skipped} skipped, {len(errors)} could not be read")
    for entry in errors[:20]:
        out(paint(f"  ! {entry.path or entry.kind}{f':{entry.line}' if entry.line else ''}: {entry.reason}", "magenta"))
    for entry in (e for e in result.inventory if e.kind == "config" and e.status == "skipped"):  # --config-ref
        out(paint(f"  ! {entry.path}: {entry.reason}", "yellow"))
    for waiver in result.extras.get("waivers", {}).get("expired", []):
        out(paint(f"  ! waiver for {waiver.get('indicator')} expired on {waiver.get('expires')} "
                  f"(owner {waiver.get('owner')}): it no longer applies", "yellow"))
    baseline = result.extras.get("baseline")
    if baseline:
        out(f"Baseline {baseline.get('file')}: {len(baseline.get('new', []))} new finding(s), "
            f"{baseline.get('unchanged', 0)} unchanged (the gate judges them as met), "
            f"{len(baseline.get('fixed', []))} fixed")
    counts = result.counts()
    out(" · ".join(f"{counts[s]} {s}" for s in ("pass", "fail", "unknown", "error", "not_applicable"))
        + (f" · {counts['waived']} waived" if counts["waived"] else ""))
    if result.gate.passed:
        out(paint("Gate: passed (exit 0)", "bold green"))
    else:
        out(paint(f"Gate: FAILED (exit 1): {'; '.join(result.gate.reasons)}", "bold red"))
    return ("\n".join(lines) + "\n").translate(_CONTROLS).replace(escape, "\x1b")


def _painter(color: bool, escape: str) -> Paint:
    """`paint(text, "bold red")`: the text in ANSI colour (`escape` standing for ESC), or as it is."""
    def paint(text: str, style: str) -> str:
        if not (color and style and text):
            return text
        return f"{escape}[{';'.join(_SGR[word] for word in style.split())}m{text}{escape}[0m"

    return paint


def _table(rows: list[list[str]], styles: list[list[str]], wrapped: list[int], width: int, paint: Paint) -> list[str]:
    """Rows as aligned lines, `styles[row][column]`. The `wrapped` columns share what the others leave of
    `width` (an even share each, then the rest to those that need more) and wrap within it."""
    natural = [max(_cells(row[i]) for row in rows) for i in range(len(rows[0]))]
    widths = list(natural)
    room = width - sum(w for i, w in enumerate(natural) if i not in wrapped) - len(_GAP) * (len(natural) - 1)
    for i in wrapped:
        widths[i] = min(natural[i], room // max(len(wrapped), 1))
    spare = room - sum(widths[i] for i in wrapped)
    for i in wrapped:
        extra = max(0, min(natural[i] - widths[i], spare))
        widths[i] += extra
        spare -= extra
        widths[i] = max(widths[i], 10)  # a very narrow terminal: readable cells, a line longer than the width
    lines = []
    for row, row_styles in zip(rows, styles):
        cells = [_wrap(text, widths[i]) if i in wrapped else [text] for i, text in enumerate(row)]
        for k in range(max(len(cell) for cell in cells)):
            parts = []
            for i, cell in enumerate(cells):
                text = cell[k] if k < len(cell) else ""
                parts.append(paint(text, row_styles[i]) + " " * (widths[i] - _cells(text)))
            lines.append(_GAP.join(parts).rstrip())
    return lines


def _wrap(text: str, width: int) -> list[str]:
    """Word-wrap to lines of at most `width` cells; a longer word (or a run of CJK text) is folded."""
    lines, line = [], ""
    for word in text.split():
        while _cells(word) > width:
            if line:
                lines.append(line)
                line = ""
            head = _fit(word, width)
            lines.append(head)
            word = word[len(head):]
        if not line:
            line = word
        elif _cells(line) + 1 + _cells(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line or not lines else lines


def _fit(text: str, width: int) -> str:
    """The longest start of `text` within `width` cells (at least one character)."""
    used = 0
    for end, char in enumerate(text):
        used += _char_cells(char)
        if used > width:
            return text[: max(end, 1)]
    return text


def _cells(text: str) -> int:
    """Terminal cells `text` takes: two for a wide (East Asian) character, none for a combining mark."""
    return len(text) if text.isascii() else sum(_char_cells(char) for char in text)


def _char_cells(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _first_sentence(text: str, limit: int) -> str:
    """The table shows the gist; the full message is in the blocking section and the JSON report."""
    head = text.split(". ", 1)[0].split("; ", 1)[0].rstrip(".")
    return _shorten(head, limit)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
