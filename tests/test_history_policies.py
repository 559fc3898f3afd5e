"""End to end: scans of git repositories built in tmp_path, and the verdicts of the history indicators."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git
from test_history import Repo

from devops_audit.scan import run_scan

HISTORY_INDICATORS = ("CD.VC.03", "CD.VC.05", "CD.CM.01", "CD.CM.02", "CD.CI.02", "CD.DR.05", "CD.MF.01")
RELEASE_WORKFLOW = "on:\n  push:\n    tags: ['v*']\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make dist\n"


def verdicts(path: Path) -> dict[str, tuple[str, str]]:
    result = run_scan(path)
    return {v.indicator.id: (v.status, v.message) for v in result.verdicts if v.indicator.id in HISTORY_INDICATORS}


def statuses(path: Path) -> dict[str, str]:
    return {key: status for key, (status, _) in verdicts(path).items()}


def _add_file(repo: Repo, path: str, text: str) -> None:
    target = repo.path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repo.path, "add", path)


def healthy(repo: Repo) -> Repo:
    """Three weeks of trunk-based work: a squash-merged change every working day, a one-day branch merged through
    a pull request on Tuesdays and Thursdays, a release tag every five days and a tag-triggered release job."""
    _add_file(repo, ".github/workflows/release.yml", RELEASE_WORKFLOW)
    repo.commit("Add the release workflow (#1)", 0)
    number = 1
    for day in range(1, 21):
        if day % 7 < 5:
            number += 1
            repo.commit(f"Change {number} (#{number})", day)
        if day % 7 in (1, 3):
            number += 1
            repo.branch(f"feature/{number}", [(f"PROJ-{number} work", day)], f"Merge pull request #{number} from "
                        f"org/feature/{number}", merge_day=day + 0.25)
        if day % 5 == 0:
            repo.tag(f"v1.{day // 5}.0", day=day + 0.3, annotated=True)
    return repo


def neglected(repo: Repo) -> Repo:
    """Six weeks of ten-day branches merged without references, and releases six weeks apart."""
    repo.commit("Initial import", 0)
    repo.tag("v0.1.0")
    for start in (1, 15, 29):
        repo.branch(f"big-{start}", [(f"work {day}", day) for day in range(start, start + 10) if day % 7 < 5],
                    f"Merge branch 'big-{start}'", merge_day=start + 11)
    repo.tag("v0.2.0", day=42, annotated=True)
    return repo


def test_a_healthy_history_passes_every_history_indicator(tmp_path: Path) -> None:
    found = verdicts(healthy(Repo(tmp_path / "repo")).path)
    assert {key: status for key, (status, _) in found.items()} == dict.fromkeys(HISTORY_INDICATORS, "pass")
    assert "median release interval 5 days over 4 release(s)" in found["CD.DR.05"][1]
    assert "deployment frequency (proxy) 0.31 releases/week (medium)" in found["CD.DR.05"][1]
    assert "time to restore none (no failed release)" in found["CD.MF.01"][1]


def test_a_neglected_history_fails_them(tmp_path: Path) -> None:
    found = verdicts(neglected(Repo(tmp_path / "repo")).path)
    expected = {"CD.VC.03": "fail", "CD.VC.05": "fail", "CD.CM.01": "fail", "CD.CM.02": "fail", "CD.CI.02": "fail",
                "CD.DR.05": "fail", "CD.MF.01": "pass"}
    assert {key: status for key, (status, _) in found.items()} == expected
    assert "median merged branch age 11 days over 3 merge(s)" in found["CD.VC.03"][1]
    assert "(1 violation)" in found["CD.VC.05"][1]  # tags exist; no pipeline is triggered by them
    assert "0.0% of 4 default-branch commits" in found["CD.CM.02"][1]


def test_without_release_tags_delivery_metrics_and_cadence_fail(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("Initial commit (#1)", 0)
    found = statuses(repo.path)
    # the whole history is visible and holds no release: the cadence is measured, and too slow
    assert (found["CD.MF.01"], found["CD.DR.05"], found["CD.VC.05"]) == ("fail", "fail", "fail")
    assert found["CD.VC.03"] == "unknown"  # no merge commit: branch age cannot be seen


def test_a_shallow_clone_answers_unknown_instead_of_guessing(tmp_path: Path) -> None:
    origin = healthy(Repo(tmp_path / "origin"))
    git(tmp_path, "clone", "-q", "--no-tags", "--depth", "3", f"file://{origin.path}", "shallow")
    found = verdicts(tmp_path / "shallow")
    assert {key: status for key, (status, _) in found.items()} == dict.fromkeys(HISTORY_INDICATORS, "unknown")
    assert "shallow clone: history stops at" in found["CD.CM.02"][1]


def test_a_folder_without_git_answers_unknown_with_the_way_to_provide_history(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# project\n")
    found = verdicts(tmp_path)
    assert {key: status for key, (status, _) in found.items()} == dict.fromkeys(HISTORY_INDICATORS, "unknown")
    assert "fetch-depth: 0" in found["CD.CM.02"][1]


@pytest.mark.parametrize("indicator", ["CD.CM.02", "CD.CI.02"])
def test_thresholds_come_from_the_policy_parameters(tmp_path: Path, indicator: str) -> None:
    repo = neglected(Repo(tmp_path / "repo"))
    (repo.path / ".devops-audit.yml").write_text(
        "params:\n  CD.CM.02: {min_issue_ref_share: 0.0}\n  CD.CI.02: {min_daily_share: 0.0}\n")
    assert statuses(repo.path)[indicator] == "pass"
