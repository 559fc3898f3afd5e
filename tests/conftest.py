"""Shared test helpers: paths to fixtures and to the real-world corpus (skipped when absent)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = Path(os.environ.get("DEVOPS_AUDIT_CORPUS", ROOT.parent / "shared" / "corpus"))
# hermetic scans: remote CI definitions only from the local test servers, cached in a throw-away folder
# (environment variables, so fleet workers in other processes inherit them)
os.environ["DEVOPS_AUDIT_REMOTE_HOSTS"] = "localhost,127.0.0.1"
os.environ.setdefault("DEVOPS_AUDIT_REMOTE_CACHE", tempfile.mkdtemp(prefix="devops-audit-remote-"))


def corpus_repos() -> list[Path]:
    """Every `../shared/corpus/<name>/repo` folder; empty when the corpus is absent."""
    return sorted(CORPUS.glob("*/repo")) if CORPUS.is_dir() else []


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    return CORPUS


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in `cwd` with a fixed identity; returns stdout."""
    full_env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
                "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", **(env or {})}
    return subprocess.run(["git", *args], cwd=cwd, env=full_env, check=True, capture_output=True, text=True).stdout


def make_git_repo(source: Path, dest: Path) -> Path:
    """Copy a fixture folder to `dest` and commit it as one git commit on `main`."""
    shutil.copytree(source, dest, symlinks=True)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "Initial import (#1)")
    return dest
