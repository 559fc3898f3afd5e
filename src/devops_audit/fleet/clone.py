"""The clone cache: one working copy per repository URL, cloned once and updated on later runs.

- Layout: `<cache_dir>/<host>/<path>-<hash8>` (only `[A-Za-z0-9._-]` in names; the hash of the full URL and
  branch keeps two URLs or branches apart). Default cache: `~/.cache/devops-audit/repos`.
- Clones are blob-less (`--filter=blob:none`: the history comes whole, file contents only for the checked-out
  tree) and shallow by the history window: `--shallow-since` = today - window - 30 days of branch slack.
  After the clone the tip's date is checked: when the window (which ends at the newest commit) reaches
  further back than what was fetched, the clone is deepened; when the branch has no commit in the range at
  all, or `full=True`, the clone is a full blob-less one.
- Updates fetch the branch again (shallow-since when the clone is shallow), `reset --hard` to it and
  `clean -ffdx`, so nothing from an earlier checkout is read as evidence.
- A clone goes to a temporary folder renamed into place when complete: an interrupted run never leaves a
  half clone behind. Every git command goes through the hardened runner (`gitcmd`): no inherited or global
  config, no prompt, no hooks, no LFS or other filter drivers, no submodules, and a time limit each.
- Local paths are scanned in place (not copied); their commit is cacheable only when the tree is clean.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devops_audit.fleet.sources import RepoSpec, redact

__all__ = ["CloneSettings", "Checkout", "CloneError", "prepare", "cache_path", "DEFAULT_CACHE_DIR"]

DEFAULT_CACHE_DIR = "~/.cache/devops-audit/repos"
BRANCH_SLACK_DAYS = 30
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CloneError(Exception):
    """A repository could not be cloned or updated (message has no credentials)."""


@dataclass(frozen=True)
class CloneSettings:
    """How repositories are fetched; picklable, sent to every worker."""

    cache_dir: str = DEFAULT_CACHE_DIR
    window_days: int = 90
    full: bool = False
    timeout: float = 600.0
    today: str | None = None  # ISO date: a fixed "now" for tests


@dataclass(frozen=True)
class Checkout:
    """A working copy ready to scan."""

    path: str
    commit: str | None
    cacheable: bool  # False for a local folder with changes, or not under git: always scanned again


def cache_path(cache_dir: str | Path, url: str, branch: str | None = None) -> Path:
    """Where the working copy of `url` (at `branch`) lives inside the cache."""
    clean = re.sub(r"^[a-z][a-z0-9+.-]*://", "", redact(url), flags=re.IGNORECASE).replace("***@", "")
    clean = clean.split("@", 1)[-1].replace(":", "/")
    parts = [p for p in (_SAFE.sub("_", p).strip("._") for p in clean.split("/")) if p][-4:] or ["repo"]
    digest = hashlib.sha256(f"{url}#{branch or ''}".encode()).hexdigest()[:8]
    parts[-1] = f"{parts[-1].removesuffix('.git')}-{digest}"
    return Path(cache_dir).expanduser().joinpath(*parts)


def prepare(spec: RepoSpec, settings: CloneSettings) -> Checkout:
    """Clone or update `spec` (or look at a local folder); raises CloneError."""
    if spec.url is None:
        return _local(Path(spec.path or spec.repository))
    target = cache_path(settings.cache_dir, spec.url, spec.branch)
    if (target / ".git").is_dir():
        _update(target, spec, settings)
    else:
        _clone(target, spec, settings)
    return Checkout(str(target), _git(target, "rev-parse", "HEAD", timeout=60).strip(), True)


def _local(path: Path) -> Checkout:
    if not path.is_dir():
        raise CloneError(f"{path}: no such directory")
    if not (path / ".git").exists():
        return Checkout(str(path), None, False)
    try:  # one status gives both: HEAD's commit (`# branch.oid`) and the changes (every line not `# `)
        out = _git(path, "status", "--porcelain=v2", "--branch", "--no-ahead-behind", "--untracked-files=normal",
                   timeout=120, neutralize_drivers=True)  # status may run filter drivers: emptied
    except CloneError:
        return Checkout(str(path), None, False)
    lines = out.splitlines()
    oid = next((line.removeprefix("# branch.oid ") for line in lines if line.startswith("# branch.oid ")), None)
    commit = None if oid in (None, "(initial)") else oid  # `(initial)`: no commit yet
    dirty = any(not line.startswith("# ") for line in lines)
    return Checkout(str(path), commit, commit is not None and not dirty)


def _clone(target: Path, spec: RepoSpec, settings: CloneSettings) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    branch = ["--branch", spec.branch] if spec.branch else []
    base = ["clone", "--quiet", "--filter=blob:none", "--no-recurse-submodules", *branch]
    try:
        if settings.full:
            _git(target.parent, *base, "--", spec.url, str(temp), timeout=settings.timeout)
        else:
            since = _since(_today(settings), settings.window_days)
            try:
                _git(target.parent, *base, f"--shallow-since={since}", "--", spec.url, str(temp),
                     timeout=settings.timeout)
                _deepen(temp, settings)
            except CloneError:  # no commit in the range (an inactive branch), or a server without shallow
                shutil.rmtree(temp, ignore_errors=True)
                _git(target.parent, *base, "--", spec.url, str(temp), timeout=settings.timeout)
        shutil.rmtree(target, ignore_errors=True)
        temp.rename(target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _update(target: Path, spec: RepoSpec, settings: CloneSettings) -> None:
    shallow = (target / ".git" / "shallow").exists()
    try:
        if shallow:
            try:
                _git(target, "fetch", "--quiet", "--prune", "--tags",
                     f"--shallow-since={_since(_today(settings), settings.window_days)}", "origin",
                     timeout=settings.timeout)
            except CloneError:  # nothing new in the range: a plain fetch still brings new commits
                _git(target, "fetch", "--quiet", "--prune", "--tags", "origin", timeout=settings.timeout)
            _deepen(target, settings, ref=_ref(spec))
        else:
            _git(target, "fetch", "--quiet", "--prune", "--tags", "origin", timeout=settings.timeout)
        _git(target, "reset", "--quiet", "--hard", _ref(spec), timeout=settings.timeout)
        _git(target, "clean", "-q", "-ffdx", timeout=settings.timeout)
    except CloneError:
        shutil.rmtree(target, ignore_errors=True)  # a broken cache entry is cloned again next attempt
        raise


def _deepen(path: Path, settings: CloneSettings, ref: str = "HEAD") -> None:
    """Fetch more history when the window, which ends at the tip's date, starts before the shallow edge."""
    if not (path / ".git" / "shallow").exists():
        return
    tip = int(_git(path, "log", "-1", "--format=%ct", ref, timeout=60).strip() or 0)
    tip_day = datetime.fromtimestamp(tip, UTC).date()
    if (_today(settings) - tip_day).days > BRANCH_SLACK_DAYS:  # the slack no longer covers the window
        needed = _since(tip_day, settings.window_days)
        try:
            _git(path, "fetch", "--quiet", f"--shallow-since={needed}", "origin", timeout=settings.timeout)
        except CloneError:
            _git(path, "fetch", "--quiet", "--unshallow", "origin", timeout=settings.timeout)


def _ref(spec: RepoSpec) -> str:
    return f"origin/{spec.branch}" if spec.branch else "origin/HEAD"


def _today(settings: CloneSettings):  # -> date
    if settings.today:
        return datetime.fromisoformat(settings.today).date()
    return datetime.now(UTC).date()


def _since(day: Any, window_days: int) -> str:
    return (day - timedelta(days=window_days + BRANCH_SLACK_DAYS + 1)).isoformat()


def _git(cwd: Path, *args: str, timeout: float, neutralize_drivers: bool = False) -> str:
    """Run one hardened git command (`gitcmd`), bounded in time; errors become CloneError without secrets."""
    from devops_audit.gitcmd import GitError, run_git

    try:
        out = run_git(args, cwd=cwd, timeout=timeout, neutralize_drivers=neutralize_drivers)
    except GitError as exc:
        raise CloneError(str(exc)) from None
    return out.decode("utf-8", "replace")
