"""Helpers for the merge-gate tests: scan the gate fixture, render one format, run the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from devops_audit.reporters import RenderOptions, parse_format, render
from devops_audit.scan import ScanOptions, run_scan

REPO = Path(__file__).resolve().parent.parent / "fixtures" / "gate" / "repo"
NOW = "2026-11-25T10:00:00+00:00"
LOW_TARGETS = {"CD": 1, "SR": 1}  # levels never gate, so only --fail-on, waivers and baselines decide


def gate_repo(tmp_path: Path, config: str | None = None) -> Path:
    """A fresh copy of fixtures/gate/repo (optionally with a `.devops-audit.yml`)."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo)
    if config is not None:
        (repo / ".devops-audit.yml").write_text(config, encoding="utf-8")
    return repo


def scan(path: Path, **options: Any):
    options.setdefault("now", NOW)
    options.setdefault("targets", dict(LOW_TARGETS))
    return run_scan(path, ScanOptions(**options))


def rendered(result: Any, fmt: str, **options: Any) -> str:
    return render(result, parse_format(fmt), RenderOptions(**options))


def as_json(result: Any, fmt: str, **options: Any) -> Any:
    return json.loads(rendered(result, fmt, **options))
