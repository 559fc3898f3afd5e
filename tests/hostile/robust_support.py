"""Helpers for the crash, containment, budget and redaction tests: run the command line in-process with every
output format written to files, and compare a hostile copy of a fixture with its clean original."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from helpers import FIXTURES

from devops_audit.cli import main
from devops_audit.reporters import FORMATS


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]  # format -> text written

    @property
    def everything(self) -> str:
        return "\n".join([self.stdout, self.stderr, *self.outputs.values()])


def run_scan_cli(capsys, target: Path, out: Path, *extra: str) -> Run:
    """`devops-audit scan TARGET` with every format written under `out`; what a user sees."""
    out.mkdir(parents=True, exist_ok=True)
    formats = [arg for name in FORMATS for arg in ("--format", f"{name}={out / name}")]
    capsys.readouterr()
    code = main(["scan", str(target), "--color", "never", *formats, *extra])
    captured = capsys.readouterr()
    outputs = {name: (out / name).read_text(encoding="utf-8") for name in FORMATS if (out / name).exists()}
    return Run(code, captured.out, captured.err, outputs)


def example_copy(dest: Path, name: str = "example") -> Path:
    """A copy of a fixture repository (plain folder, no git history) to make hostile."""
    shutil.copytree(FIXTURES / name, dest, symlinks=True)
    return dest


def statuses(report: dict) -> dict[str, str]:
    return {v["id"]: v["status"] for v in report["indicators"]}
