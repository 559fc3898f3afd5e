"""Terminal control sequences planted by a repository (in a job id, a file name, a workflow's title) never
reach the reader's terminal: the terminal report drops them, with colour on or off, and the scan goes on. The
bidirectional controls are dropped from the Markdown report too (a pull-request comment)."""

from __future__ import annotations

import pytest
from robust_support import example_copy

from devops_audit.cli import main

# OSC 0 sets the window title, CSI 2J clears the screen, CR hides what came before on the line, BEL rings;
# RLO and LRI reorder what the line shows (a file name that reads backwards)
PLANTED = ("\x1b]0;pwned\x07", "\x1b[2J", "\x9b2J", "\r", "\u202e", "\u2066")
WORKFLOW = """\
name: "release \\e]0;pwned\\a"
on: [push, pull_request]
permissions: {contents: write}
jobs:
  "deploy\\e[2J":
    runs-on: ubuntu-latest
    steps:
      - run: "echo '${{ github.event.issue.title }}' \\r hidden"
"""


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    repo = example_copy(tmp_path_factory.mktemp("controls") / "repo")
    (repo / ".github" / "workflows" / "release.yml").write_text(WORKFLOW)
    (repo / ".github" / "workflows" / "ci\x1b[2J.yml").write_text(WORKFLOW)
    (repo / ".github" / "workflows" / "ci\u202eeliforp\u2066.yml").write_text(WORKFLOW)
    return repo


@pytest.mark.parametrize("color", ["always", "never"])
def test_no_control_sequence_from_the_repository_reaches_the_terminal(planted, capsys, color):
    code = main(["scan", str(planted), "--offline", "--color", color])
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert "SR.BD.04" in out and "deploy" in out  # the planted job is still reported and judged
    assert not [s for s in PLANTED if s in out]
    escapes = out.count("\x1b")
    assert escapes == out.count("\x1b[") and (escapes > 0) is (color == "always")  # only our own colours
    assert "\x07" not in out and "\r" not in out


def test_no_bidirectional_control_reaches_the_markdown_report(planted, tmp_path, capsys):
    report = tmp_path / "report.md"
    assert main(["scan", str(planted), "--offline", "--format", f"markdown={report}"]) in (0, 1)
    text = report.read_text(encoding="utf-8")
    assert "eliforp" in text  # the planted file is still named, in the order it was written
    assert not [c for c in "\u202e\u2066" if c in text]
