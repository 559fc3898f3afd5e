"""Run bandit and semgrep (our shipped rules) on a repository, offline and time-bounded, with a cache.

Used by `--run-scanners` (`CollectOptions.run_scanners`). Both tools only parse the repository's files;
nothing of the repository is executed, and neither can import the repository's modules (a planted `yaml.py`,
`bandit/` or `sitecustomize.py`): each runs isolated (`python -I`: no current folder, no `PYTHONPATH`, no user
site), from an empty temporary folder outside the repository, on the repository's absolute path, with
`PYTHON*` variables removed and git (which semgrep calls) hardened through `GIT_CONFIG_*` variables (see
`gitcmd`). bandit runs as `python -I -m bandit -r <root> -f json` with tests, virtual environments and vendored
folders excluded; semgrep runs as `semgrep scan --config <our rules> --metrics=off --disable-version-check
--no-git-ignore` (no registry, no network). Each run is bounded by `options.scanner_timeout` seconds (the whole
process group is killed past it). Their output is untrusted input: bounded, parsed as JSON of the expected
shape, paths made repository-relative, then read by the same parsers as any report.

Results are cached in `<cache_dir>/scanners/` (default `~/.cache/devops-audit/scanners/`) as
`<commit>-<tool>-<key>.json`, where the key hashes our ruleset and the size and modification time of every
listed file, so uncommitted edits are rescanned. A missing tool, a crash or a timeout is an outcome with a
message (naming the `devops-audit[scanners]` extra when a tool is missing), never an exception.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops_audit.workspace import Workspace

__all__ = ["ScanOutcome", "RULES_DIR", "BANDIT_EXCLUDES", "run_scanners", "ruleset_digest", "cache_folder"]

RULES_DIR = Path(__file__).resolve().parent / "rules" / "semgrep"
BANDIT_EXCLUDES = ("*/tests/*", "*/test/*", "*/.venv/*", "*/venv/*", "*/node_modules/*", "*/.tox/*",
                   "*/site-packages/*", "*/.git/*", "*/build/*", "*/dist/*")
INSTALL_HINT = "install it with `pip install 'devops-audit[scanners]'`"
_OUTPUT_LIMIT = 256 * 1024 * 1024


@dataclass
class ScanOutcome:
    """What running one scanner gave: its JSON report (`document`) or why there is none."""

    tool: str
    status: str  # ran | cached | missing | failed | timeout
    message: str
    document: Any = None
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"devops-audit --run-scanners: {self.tool}"

    @property
    def status_for_inventory(self) -> str:
        return "parsed" if self.document is not None else "error"


def run_scanners(workspace: Workspace, options: Any) -> list[ScanOutcome]:
    timeout = float(getattr(options, "scanner_timeout", 300.0) or 300.0)
    folder = cache_folder(getattr(options, "cache_dir", None))
    state = _tree_digest(workspace)
    commit = (workspace.git.commit if workspace.git else None) or "nocommit"
    outcomes = []
    for tool, command in (("bandit", _bandit_command), ("semgrep", _semgrep_command)):
        key = hashlib.sha256(f"{tool}\0{ruleset_digest()}\0{state}".encode()).hexdigest()[:16]
        cache_file = folder / f"{commit}-{tool}-{key}.json"
        cached = _read_cache(cache_file)
        if cached is not None:
            outcomes.append(ScanOutcome(tool, "cached", f"{tool}: cached result of {cache_file.name}", cached))
            continue
        argv = command(workspace.root)
        if argv is None:
            outcomes.append(ScanOutcome(tool, "missing", f"{tool} is not installed; {INSTALL_HINT}"))
            continue
        outcome = _run(tool, argv, workspace.root, timeout)
        if outcome.document is not None:
            _write_cache(cache_file, outcome.document)
        outcomes.append(outcome)
    return outcomes


def cache_folder(cache_dir: str | None) -> Path:
    if cache_dir:
        return Path(cache_dir).expanduser() / "scanners"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "devops-audit" / "scanners"


def ruleset_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(RULES_DIR.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _tree_digest(workspace: Workspace) -> str:
    """Changes whenever a listed file is added, removed or modified."""
    digest = hashlib.sha256()
    for path in workspace.files:
        try:
            stat = os.lstat(workspace.root / path)
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _bandit_command(root: Path) -> list[str] | None:
    if importlib.util.find_spec("bandit") is not None:
        launcher = [sys.executable, "-I", "-m", "bandit"]
    elif shutil.which("bandit"):
        launcher = [str(shutil.which("bandit"))]
    else:
        return None
    base = root.as_posix()
    excludes = [f"{base}/{pattern.removeprefix('*/')}" for pattern in BANDIT_EXCLUDES]
    excludes += [f"{base}/{pattern}" for pattern in BANDIT_EXCLUDES]
    return [*launcher, "-r", base, "-f", "json", "-q", "-x", ",".join(excludes)]


def _semgrep_command(root: Path) -> list[str] | None:
    beside = Path(sys.executable).parent / "semgrep"
    if beside.is_file():  # our own environment's console script: run it isolated too
        launcher = [sys.executable, "-I", str(beside)]
    elif shutil.which("semgrep"):
        launcher = [str(shutil.which("semgrep"))]
    else:
        return None
    return [*launcher, "scan", "--config", str(RULES_DIR), "--json", "--metrics=off", "--disable-version-check",
            "--no-git-ignore", "--quiet", "--timeout", "30", root.as_posix()]


def scanner_env() -> dict[str, str]:
    """The environment a scanner gets: no `PYTHON*` variable, no inherited git setting, git hardened."""
    from devops_audit.gitcmd import OVERRIDES, hardened_env

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GIT_"))}
    env.update({k: v for k, v in hardened_env().items() if k.startswith("GIT_")})
    env["GIT_CONFIG_COUNT"] = str(len(OVERRIDES))
    for index, setting in enumerate(OVERRIDES):
        key, _, value = setting.partition("=")
        env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
    env.update({"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0", "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONNOUSERSITE": "1", "PYTHONSAFEPATH": "1"})
    return env


def _run(tool: str, argv: list[str], root: Path, timeout: float) -> ScanOutcome:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"devops-audit-{tool}-") as outside:
        try:
            process = subprocess.Popen(argv, cwd=outside, env=scanner_env(), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            return ScanOutcome(tool, "failed", f"{tool} could not start: {exc}; {INSTALL_HINT}")
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return ScanOutcome(tool, "timeout", f"{tool} timed out after {timeout:g} s (scanner_timeout)",
                               seconds=time.monotonic() - started)
    seconds = time.monotonic() - started
    document = _parse_output(out, root)
    if document is None:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        reason = " | ".join(tail) or "no output"
        return ScanOutcome(tool, "failed", f"{tool} failed (exit {process.returncode}): {reason}", seconds=seconds)
    if tool == "semgrep":
        _shorten_rule_ids(document)
    count = len(document.get("results") or [])
    return ScanOutcome(tool, "ran", f"{tool} ran in {seconds:.1f} s: {count} result(s)", document, seconds)


def _parse_output(out: bytes, root: Path) -> dict[str, Any] | None:
    """The scanner's JSON report, untrusted: bounded, of the expected shape, paths relative to the root."""
    if not out or len(out) > _OUTPUT_LIMIT:
        return None
    try:
        document = json.loads(out)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    if not (isinstance(document, dict) and isinstance(document.get("results"), list)):
        return None
    prefix = root.as_posix().rstrip("/") + "/"
    for result in document["results"]:
        for key in ("filename", "path"):  # bandit, semgrep
            if isinstance(result, dict) and isinstance(result.get(key), str) and result[key].startswith(prefix):
                result[key] = result[key][len(prefix):]
    return document


def _shorten_rule_ids(document: dict[str, Any]) -> None:
    """semgrep prefixes rule ids with the rules folder's path; ours are documented by their own id."""
    for result in document["results"]:
        if isinstance(result, dict) and isinstance(result.get("check_id"), str):
            result["check_id"] = "devops-audit." + result["check_id"].rsplit(".", 1)[-1]


def _read_cache(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_cache(path: Path, document: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only cache only costs time
