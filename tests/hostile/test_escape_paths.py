"""Issue 13 class 6: nothing outside the repository is read because the repository says so.

A symlinked `.devops-audit.yml`, policy paths (or files in a policy folder) leading out, a `.git` file naming
another repository's git directory and a symlinked `.github/workflows` are refused: exit 3 with a one-line
message for the config, an inventory entry with the path and the reason otherwise; the outside content never
reaches the output.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, git
from hostile_repos import commit, example_repo, inventory, scan_cli, statuses

from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

SECRET = "OUTSIDE-SECRET-7f3a9"
OUTSIDE_POLICY = f"""\
indicators:
  - id: CD.VC.90
    name: outside-policy
    title: {SECRET}
    area: CD
    domain: VC
    level: 1
    severity: low
    description: A policy file that lives outside the repository.
    remediation: none
    references: {{}}
    evidence: [repo]
    assert: repo.is_git
"""


def outside_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "settings.yml").write_text(f"targets: {{cd: 1}}\n# {SECRET}\n")
    (folder / "policy.yaml").write_text(OUTSIDE_POLICY)
    return folder


def assert_refused(code: int, out: str, err: str, *words: str) -> None:
    assert code == 3, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and all(w in lines[0] for w in words), err
    assert SECRET not in out + err


def test_symlinked_config_leading_out_is_refused(tmp_path):
    repo = example_repo(tmp_path / "repo")
    folder = outside_folder(tmp_path)
    (repo / ".devops-audit.yml").symlink_to(folder / "settings.yml")
    commit(repo, {}, "Link the config (#2)")

    assert_refused(*scan_cli(repo)[:3], ".devops-audit.yml", "outside the repository")


def test_config_that_is_a_fifo_or_a_folder_is_refused(tmp_path):
    repo = example_repo(tmp_path / "repo")
    os.mkfifo(repo / ".devops-audit.yml")  # reading it would block forever

    assert_refused(*scan_cli(repo)[:3], ".devops-audit.yml", "a FIFO")
    (repo / ".devops-audit.yml").unlink()
    (repo / ".devops-audit.yml").mkdir()
    assert_refused(*scan_cli(repo)[:3], ".devops-audit.yml", "a folder")


def test_policy_paths_leading_out_are_refused(tmp_path):
    repo = example_repo(tmp_path / "repo")
    folder = outside_folder(tmp_path)
    for policies in ("[../outside]", f"[{folder / 'policy.yaml'}]", "[policies/linked.yaml]", "[policies]"):
        (repo / "policies").mkdir(exist_ok=True)
        link = repo / "policies" / "linked.yaml"
        if not link.is_symlink():
            link.symlink_to(folder / "policy.yaml")
        (repo / ".devops-audit.yml").write_text(f"policies: {policies}\n")

        assert_refused(*scan_cli(repo)[:3], "policy", "outside the repository")


def test_the_users_own_config_may_name_policies_beside_it(tmp_path):
    repo = example_repo(tmp_path / "repo")
    folder = outside_folder(tmp_path)
    (folder / "settings.yml").write_text("policies: [policy.yaml]\n")

    code, _, err, report = scan_cli(repo, "--config", str(folder / "settings.yml"))

    assert code in (0, 1), err
    assert statuses(report)["CD.VC.90"] == "pass"  # --config is the user's choice: read where it is


def test_git_file_naming_another_repository_is_refused(tmp_path):
    other = example_repo(tmp_path / "other")
    commit(other, {"NOTES.md": "private\n"}, f"Private work {SECRET}")
    git(other, "remote", "add", "origin", f"https://user:{SECRET}@git.example.com/acme/private.git")
    plain = tmp_path / "plain"
    shutil.copytree(FIXTURES / "example", plain)
    target = tmp_path / "target"
    shutil.copytree(FIXTURES / "example", target)
    (target / ".git").write_text(f"gitdir: {other / '.git'}\n")

    code, out, err, report = scan_cli(target)
    _, _, _, reference = scan_cli(plain)

    [entry] = inventory(report, ".git")
    assert entry["status"] == "error" and "outside the repository" in entry["reason"]
    # scanned as the folder it is; only "under git?" cannot be confirmed: the refused `.git` could have answered it
    assert code in (0, 1) and statuses(report) == {**statuses(reference), "CD.VC.01": "error"}
    assert ".git" in next(v["message"] for v in report["indicators"] if v["id"] == "CD.VC.01")
    text = out + err + (target.parent / "target-report.json").read_text()
    assert SECRET not in text and git(other, "rev-parse", "HEAD").strip() not in text


def test_symlinked_workflows_folder_is_named_not_followed(tmp_path):
    repo = example_repo(tmp_path / "repo")
    elsewhere = tmp_path / "outside-workflows"
    elsewhere.mkdir()
    (elsewhere / "ci.yml").write_text(f"on: push\njobs:\n  {SECRET}:\n    runs-on: x\n    steps: [run: make]\n")
    shutil.rmtree(repo / ".github" / "workflows", ignore_errors=True)
    (repo / ".github").mkdir(exist_ok=True)
    (repo / ".github" / "workflows").symlink_to(elsewhere, target_is_directory=True)
    commit(repo, {}, "Link the workflows (#2)")

    code, out, err, report = scan_cli(repo)

    [entry] = inventory(report, ".github/workflows")
    assert entry["status"] == "error" and entry["evidence"] == "ci"
    assert "symlink to a folder outside the repository" in entry["reason"]
    assert code in (0, 1) and SECRET not in out + err + (repo.parent / "repo-report.json").read_text()
    blind = [v for v in report["indicators"] if ".github/workflows" in v["message"]]
    # what the readable files prove on their own (e.g. secret scanning in pre-commit) stays a pass, and says so
    assert blind and all(v["status"] in ("error", "unknown", "fail") or "Proven by the readable files" in v["message"]
                         for v in blind)


def test_commondir_naming_another_repository_is_refused(tmp_path):
    other = example_repo(tmp_path / "other")
    commit(other, {"NOTES.md": "private\n"}, f"Private work {SECRET}")
    repo = example_repo(tmp_path / "repo")
    (repo / ".git" / "commondir").write_text(f"{other / '.git'}\n")
    assert SECRET in git(repo, "log", "-1")  # control: git now reads the other repository's history

    code, out, err, report = scan_cli(repo)

    [entry] = [e for e in inventory(report, ".git") if e["status"] == "error"]
    assert "outside the repository" in entry["reason"] and code in (0, 1)
    assert SECRET not in out + err + (repo.parent / "repo-report.json").read_text()


def test_a_read_through_any_symlinked_folder_or_name_resolves_as_realpath_does(tmp_path):
    """`Workspace.resolve` remembers each folder's real path for the rest of the scan: a folder or a name that
    is a symlink (inside or out, chained, `..`) still resolves exactly where `os.path.realpath` says, and a file
    reached through a link out of the repository is refused."""
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret.yml").write_text("token: x\n")
    root = tmp_path / "repo"
    (root / "real" / "sub").mkdir(parents=True)
    (root / "real" / "sub" / "ci.yml").write_text("ok: 1\n")
    (root / "real" / "inner.yml").write_text("ok: 2\n")
    (root / "in").symlink_to(root / "real")  # a folder link inside
    (root / "out").symlink_to(outside / "deep")  # a folder link out
    (root / "chain").symlink_to(root / "in")  # a link to a link
    (root / "real" / "name.yml").symlink_to(outside / "deep" / "secret.yml")  # a name leading out
    (root / "real" / "alias.yml").symlink_to("inner.yml")  # a name leading inside
    workspace = Workspace(root)
    paths = ["real/sub/ci.yml", "in/sub/ci.yml", "chain/sub/ci.yml", "in/../real/inner.yml", "real/sub/..",
             "out/secret.yml", "chain/name.yml", "in/alias.yml", "in/missing.yml", "real/sub/", "."]
    for _ in range(2):  # the second time from the remembered folders
        for path in paths:
            candidate = os.path.join(str(workspace.root), path)
            assert workspace._realpath(candidate) == os.path.realpath(candidate), path
    assert workspace.read_text("chain/sub/ci.yml") == "ok: 1\n"
    assert workspace.read_text("in/alias.yml") == "ok: 2\n"
    for escaping in ("out/secret.yml", "chain/name.yml", "in/../out/secret.yml"):
        with pytest.raises(EvidenceError, match="resolves outside the repository"):
            workspace.read_bytes(escaping)
