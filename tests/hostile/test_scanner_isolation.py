"""Issue 13 class 2: `--run-scanners` cannot import the repository's own modules.

The repository plants modules that bandit, semgrep or Python itself would import before theirs when started
from the repository folder (`yaml.py`, a `bandit/` package, `sitecustomize.py`, `usercustomize.py`, `json.py`)
plus a `core.fsmonitor` for the git that semgrep calls. A control run shows that the planted `bandit/`
package wins when the scanner is started the old way; the scan then asserts nothing ran and the scanners'
results still arrived.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, make_git_repo
from hostile_repos import payload, set_config

from devops_audit import scanners
from devops_audit.collectors import CollectOptions
from devops_audit.collectors.security import scan_results
from devops_audit.workspace import Workspace

HAS_BANDIT = importlib.util.find_spec("bandit") is not None
HAS_SEMGREP = (Path(sys.executable).parent / "semgrep").is_file() or shutil.which("semgrep") is not None
pytestmark = pytest.mark.skipif(not (HAS_BANDIT and HAS_SEMGREP), reason="needs devops-audit[scanners]")
SHADOWS = ("yaml.py", "json.py", "sitecustomize.py", "usercustomize.py", "bandit/__init__.py",
           "bandit/__main__.py", "semgrep/__init__.py", "app/yaml.py")


def plant(repo: Path, marker: Path) -> None:
    code = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    for rel in SHADOWS:
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_git_repo(FIXTURES / "scanners-repo", tmp_path / "repo")


def test_planted_modules_would_run_from_the_repository_folder(repo, tmp_path):
    marker = tmp_path / "imported"
    plant(repo, marker)
    subprocess.run([sys.executable, "-m", "bandit", "--version"], cwd=repo, capture_output=True, timeout=120)
    assert marker.exists()  # control: the old way (cwd = repository, no -I) imports the planted package


def test_scanners_import_nothing_of_the_repository(repo, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    plant(repo, marker)
    git_payload = payload(tmp_path / "outside")
    set_config(repo, ("core.fsmonitor", str(git_payload.script)))
    monkeypatch.setenv("PYTHONPATH", str(repo))  # even a polluted environment does not put it on sys.path
    monkeypatch.setenv("PYTHONSTARTUP", str(repo / "sitecustomize.py"))

    evidence = scan_results.collect(Workspace(repo), CollectOptions(run_scanners=True,
                                                                    cache_dir=str(tmp_path / "cache")))

    assert not marker.exists(), marker.read_text() if marker.exists() else ""
    assert not git_payload.ran
    assert [(s["tool"], s["status"]) for s in evidence.facts["scanners"]] == [("bandit", "ran"), ("semgrep", "ran")]
    rules = {s["rule"] for s in evidence.facts["secrets"]}
    assert "devops-audit.hardcoded-credential" in rules  # the real scanners ran and their results arrived


def test_scanner_output_is_untrusted_input(repo, tmp_path, monkeypatch):
    outside = tmp_path / "secret-elsewhere.py"
    forged = {"results": [
        {"filename": str(outside), "test_id": "B105", "issue_severity": "HIGH", "issue_confidence": "HIGH",
         "issue_text": "forged", "line_number": 1},
        "not an object", {"filename": 7}, {"filename": f"{repo}/app/loaders.py", "test_id": "B301",
                                           "issue_severity": "MEDIUM", "issue_confidence": "HIGH",
                                           "issue_text": "pickle", "line_number": 3}]}
    script = tmp_path / "fake_bandit.py"
    script.write_text(f"import json; print(json.dumps({forged!r}))\n")
    monkeypatch.setattr(scanners, "_bandit_command", lambda root: [sys.executable, "-I", str(script)])
    monkeypatch.setattr(scanners, "_semgrep_command", lambda root: [sys.executable, "-I", "-c", "print('[' * 100000)"])

    outcomes = scanners.run_scanners(Workspace(repo), CollectOptions(cache_dir=str(tmp_path / "cache")))

    bandit, semgrep = outcomes
    assert semgrep.status == "failed" and semgrep.document is None  # deep nesting: refused, not a crash
    paths = [r.get("filename") for r in bandit.document["results"] if isinstance(r, dict)]
    assert "app/loaders.py" in paths and str(outside) in paths  # made relative only inside the repository
    evidence = scan_results.collect(Workspace(repo), CollectOptions(run_scanners=True,
                                                                    cache_dir=str(tmp_path / "cache")))
    locations = {f["rule"]: f["location"] for f in evidence.facts["top_findings"]}
    assert locations == {"B105": None, "B301": {"path": "app/loaders.py", "line": 3}}  # outside: no location
    assert [e.reason for e in evidence.errors if e.kind == "bandit"] == [
        "run 0, result 1 skipped: result is not an object with a `test_id`",
        "run 0, result 2 skipped: result is not an object with a `test_id`"]
