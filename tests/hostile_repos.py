"""Builders for hostile repositories (shared by tests/hostile/test_git*, test_escape*, test_skip*, test_scanner*).

A payload is a shell script outside the repository that appends a line to a marker file: a test plants it
where git (or a scanner) would run it and asserts the marker is absent after the scan, after a control run
of plain git (without our hardening) has shown the planted configuration is live.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import FIXTURES, git, make_git_repo


@dataclass
class Payload:
    script: Path
    marker: Path

    @property
    def ran(self) -> bool:
        return self.marker.exists()

    def reset(self) -> None:
        self.marker.unlink(missing_ok=True)


def payload(folder: Path, name: str = "payload") -> Payload:
    """An executable outside any repository that records each run in a marker file."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{name}.ran"
    script = folder / f"{name}.sh"
    script.write_text(f'#!/bin/sh\necho "ran $0 $*" >> "{marker}"\n')
    script.chmod(0o755)
    return Payload(script, marker)


def example_repo(dest: Path) -> Path:
    """A realistic repository (the `example` fixture: CI, tests, coverage, Dockerfile) as one git commit."""
    return make_git_repo(FIXTURES / "example", dest)


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def sign_head(repo: Path) -> str:
    """Replace HEAD with the same commit carrying a `gpgsig` header (a fake signature) and move the branch."""
    raw = git(repo, "cat-file", "commit", "HEAD")
    head, _, body = raw.partition("\n\n")
    signature = ("gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEfakefakefakefakefakefakefakefake\n"
                 " =fake\n -----END PGP SIGNATURE-----")
    signed = f"{head}\n{signature}\n\n{body}"
    sha = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo, input=signed,
                         capture_output=True, text=True, check=True).stdout.strip()
    git(repo, "update-ref", "refs/heads/main", sha)
    return sha


def set_config(repo: Path, *pairs: tuple[str, str]) -> None:
    for key, value in pairs:
        git(repo, "config", key, value)


def scan_cli(target: Path, *args: str, cwd: Path | None = None) -> tuple[int, str, str, dict[str, Any] | None]:
    """`python -m devops_audit scan TARGET -f json=FILE ARGS`: exit code, stdout, stderr and the JSON report."""
    report = target.parent / f"{target.name}-report.json"
    report.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-m", "devops_audit", "scan", str(target), "-f", f"json={report}",
                           "-f", "terminal", "--color", "never", *args],
                          capture_output=True, text=True, cwd=cwd or target.parent, timeout=300)
    data = json.loads(report.read_text()) if report.is_file() else None
    return proc.returncode, proc.stdout, proc.stderr, data


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {v["id"]: v["status"] for v in report["indicators"]}


def inventory(report: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [e for e in report["inventory"] if e["path"] == path]
