"""SR.BD.03 / SR.BD.04 against zizmor on the real GitHub workflows of ../shared/corpus.

zizmor (from PyPI, the `test` extra) runs offline on each repository; every finding of its `unpinned-uses`,
`template-injection` and `dangerous-triggers` audits must be found by us, or differ for a reason documented in
docs/security-evidence.md ("Compared with zizmor"). Skips when zizmor or the corpus is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import corpus_repos
from helpers import scan_dict, verdicts

from devops_audit.collectors.ci.pipelines import collect
from devops_audit.workspace import Workspace

AUDITS = ("unpinned-uses", "template-injection", "dangerous-triggers")
GITHUB_REPOS = [repo for repo in corpus_repos() if (repo / ".github" / "workflows").is_dir()]


def zizmor_binary() -> str:
    found = shutil.which("zizmor") or str(Path(sys.executable).with_name("zizmor"))
    if not Path(found).is_file():
        pytest.skip("zizmor is not installed: pip install 'devops-audit[test]' (or pip install zizmor)")
    return found


def zizmor(repo: Path) -> list[tuple[str, str, int]]:
    """(audit, path, line) of zizmor's primary locations in the three audits we compare."""
    done = subprocess.run([zizmor_binary(), "--offline", "--no-config", "--format", "json", "--no-progress",
                           str(repo)], capture_output=True, text=True, timeout=300)
    if done.returncode not in (0, *range(10, 15)):  # 10-14: findings of a given severity
        pytest.skip(f"zizmor failed on {repo.parent.name}: {done.stderr.strip().splitlines()[-1:]}")
    findings = []
    for finding in json.loads(done.stdout or "[]"):
        if finding["ident"] not in AUDITS:
            continue
        for location in finding["locations"]:
            if location["symbolic"]["kind"] == "Primary":
                path = Path(location["symbolic"]["key"]["Local"]["given_path"]
                            if "given_path" in location["symbolic"]["key"]["Local"]
                            else location["symbolic"]["key"]["Local"]["verbatim_path"])
                relative = path.resolve().relative_to(repo.resolve()).as_posix()
                findings.append((finding["ident"], relative,
                                 location["concrete"]["location"]["start_point"]["row"] + 1))
    return findings


def ours(repo: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return collect(Workspace(repo), None).facts, verdicts(scan_dict(repo, offline=True))


@pytest.fixture(scope="module")
def compared() -> list[tuple[Path, list[tuple[str, str, int]], dict[str, Any], dict[str, Any]]]:
    if not GITHUB_REPOS:
        pytest.skip("../shared/corpus is absent")
    return [(repo, zizmor(repo), *ours(repo)) for repo in GITHUB_REPOS]


def test_every_unpinned_use_zizmor_reports_fails_sr_bd_03(compared):
    missed = [(repo.parent.name, path, line) for repo, found, _, verdict in compared
              for audit, path, line in found if audit == "unpinned-uses"
              and (path, line) not in {(v["path"], v["line"]) for v in verdict["SR.BD.03"]["violations"]}]
    assert missed == []
    assert sum(audit == "unpinned-uses" for _, found, _, _ in compared for audit, _, _ in found) > 50


def test_every_template_injection_zizmor_reports_is_located_on_the_same_line(compared):
    for repo, found, facts, verdict in compared:
        injections = {(f["path"], f["line"]): f for f in facts["injections"] if f["system"] == "github"}
        failing = {(v["path"], v["line"]) for v in verdict["SR.BD.04"]["violations"]}
        for audit, path, line in found:
            if audit != "template-injection":
                continue
            assert (path, line) in injections, (repo.parent.name, path, line)
            # the differences: a value set at run time (an action's output, `$GITHUB_ENV`, a matrix built from a
            # job output) is `unknown`, and one only people with push access set is `writers`: both are listed,
            # not failed (zizmor reports the first at low severity)
            finding = injections[path, line]
            assert ((path, line) in failing) == (finding["capability"] != "unknown" and finding["reach"] == "anyone")


def test_dangerous_checkouts_are_a_subset_of_zizmors_dangerous_triggers(compared):
    for repo, found, facts, _ in compared:
        triggers = {(path, line) for audit, path, line in found if audit == "dangerous-triggers"}
        for checkout in facts["dangerous_checkouts"]:
            location = (checkout["trigger_location"]["path"], checkout["trigger_location"]["line"])
            # zizmor flags every privileged trigger; we flag the checkout of the untrusted head in one
            assert location in triggers or checkout["suppression"].startswith("zizmor:"), (repo.parent.name, checkout)


def test_what_we_fail_that_zizmor_does_not_report(compared):
    extra = []
    for repo, found, facts, verdict in compared:
        reported = {(path, line) for _, path, line in found}
        failing = {(v["path"], v["line"]) for v in verdict["SR.BD.04"]["violations"]}
        extra += [(repo.parent.name, f["path"], f["line"], f["context"]) for f in facts["injections"]
                  if f["system"] == "github" and (f["path"], f["line"]) in failing
                  and (f["path"], f["line"]) not in reported]
    assert extra == []  # documented in docs/security-evidence.md when it is not empty
