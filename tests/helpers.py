"""Helpers for end-to-end tests: scan a folder, index verdicts by id, copy fixtures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from devops_audit.scan import ScanOptions, run_scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def scan_dict(path: Path | str, **options: Any) -> dict[str, Any]:
    """The JSON report of a scan, as a user of `--format json` would read it."""
    result = run_scan(path, ScanOptions(now="2026-11-25T00:00:00+00:00", **options))
    return json.loads(json.dumps(result.to_dict()))


def verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in report["indicators"]}


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(FIXTURES / name, target, symlinks=True)
    return target


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
