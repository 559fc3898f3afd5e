"""The terminal report: columns align whatever the characters' widths, and colour appears only when asked."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from devops_audit.cli import main
from devops_audit.reporters import RenderOptions, parse_format, render
from devops_audit.reporters.terminal import _first_sentence
from devops_audit.scan import ScanOptions, run_scan

LEGACY = Path(__file__).resolve().parent.parent / "fixtures" / "legacy-service"
WIDE_TITLE = "发布流程由持续集成自动执行并且每个制品都已签名"  # 23 characters, 46 cells


@pytest.fixture(scope="module")
def result():
    return run_scan(LEGACY, ScanOptions(offline=True))


def terminal(result, color: bool | None = False) -> str:
    return render(result, parse_format("terminal"), RenderOptions(color=color))


def cut(line: str, start: int, end: int | None = None) -> str:
    """The part of `line` between two cell offsets."""
    out, at = [], 0
    for char in line:
        if at >= start and (end is None or at < end):
            out.append(char)
        at += cell_len(char)
    return "".join(out).rstrip()


def test_the_verdict_table_aligns_and_wraps_a_wide_character_title(result, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    first = result.verdicts[0]
    first.indicator = dataclasses.replace(first.indicator, title=WIDE_TITLE)
    lines = terminal(result).splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("Indicator "))
    header = lines[top]
    title_at, detail_at = (cell_len(header[: header.index(name)]) for name in ("Title", "Detail"))
    rows = lines[top + 1: top + 1 + next(i for i, line in enumerate(lines[top + 1:]) if not line.strip())]
    assert all(cell_len(line) <= 80 for line in rows)
    starts = [i for i, line in enumerate(rows) if not line.startswith(" ")]
    assert [rows[i].split()[0] for i in starts] == [v.indicator.id for v in result.verdicts]
    first_rows = rows[: starts[1]]
    assert len(first_rows) > 1  # 46 cells do not fit the column: the title wraps within it
    assert "".join(cut(line, title_at, detail_at) for line in first_rows) == WIDE_TITLE
    assert " ".join(cut(line, detail_at) for line in first_rows).split() == _first_sentence(first.message, 90).split()
    for i in starts:  # every row's detail starts in the detail column, after the wide title too
        assert cut(rows[i], detail_at - 2, detail_at) == "" and not cut(rows[i], detail_at).startswith(" ")
        assert cut(rows[i], detail_at)


def test_colour_only_when_asked(result, monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" not in terminal(result, color=False)
    coloured = terminal(result, color=True)
    assert "\x1b[1;31mFAIL\x1b[0m" in coloured and "\x1b[1;31mGate: FAILED" in coloured
    assert "\x1b[" not in terminal(result, color=None)  # auto: pytest's stdout is not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert "\x1b[1;31mFAIL\x1b[0m" in terminal(result, color=None)  # auto on a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in terminal(result, color=None)
    assert "\x1b[1;31mFAIL\x1b[0m" in terminal(result, color=True)  # --color always wins over NO_COLOR


def test_the_color_option_reaches_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    for choice, escapes in (("always", True), ("never", False)):
        out = tmp_path / f"{choice}.txt"
        main(["scan", str(LEGACY), "--offline", "--color", choice, "-f", f"terminal={out}"])
        assert ("\x1b[" in out.read_text()) is escapes


def test_control_characters_from_the_repository_do_not_reach_the_terminal(result):
    verdict = result.verdicts[1]
    verdict.message = "Hidden\rshown \x1b]0;title\x07 and\x08 \x9b2J done"
    for color in (False, True):
        text = terminal(result, color=color)
        assert "Hidden" in text and not any(char in text for char in "\r\x07\x08\x9b")
        assert "]0;title" in text and "\x1b]" not in text  # the repository's escape is gone, colour or not
        assert ("\x1b[" in text) is color  # only our own colours start with an escape
