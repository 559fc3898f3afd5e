"""`devops-audit assess` on git repositories built here: items verified, failed, unknown and attested, the
manifest valid and deterministic, the workbook read back, the zip complete."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, git

from devops_audit.cli import main
from devops_audit.resources import load_schema

pytest.importorskip("matplotlib")
pytest.importorskip("openpyxl")

START = datetime(2026, 9, 7, 9, tzinfo=UTC)  # a Monday


def _at(day: float) -> dict[str, str]:
    stamp = (START + timedelta(days=day)).isoformat()
    return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}


def _change(repo: Path, path: str, text: str, message: str, day: float) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, env=_at(day))


def build_service(dest: Path) -> Path:
    """The example payments service with six weeks of history: short feature branches merged through pull
    requests that reference issues, direct fixes, and release tags."""
    shutil.copytree(FIXTURES / "example", dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "Initial import (#1)", env=_at(0))
    for week in range(6):
        for n in range(2):
            number = 10 + week * 2 + n
            day = week * 7 + n * 2 + 1
            git(dest, "checkout", "-q", "-b", f"feature/pay-{number}")
            _change(dest, f"src/payments/feature_{number}.py", f"VALUE = {number}\n", f"Add feature {number} (PAY-{number})", day)
            _change(dest, f"tests/test_feature_{number}.py", f"def test_{number}():\n    assert True\n", f"Test feature {number} (PAY-{number})", day + 0.2)
            git(dest, "checkout", "-q", "main")
            git(dest, "merge", "-q", "--no-ff", f"feature/pay-{number}", "-m",
                f"Merge pull request #{number} from acme/feature/pay-{number}\n\nFixes PAY-{number}", env=_at(day + 0.5))
        _change(dest, "CHANGES.md", f"week {week}\n", f"Release notes for week {week} (#{90 + week})", week * 7 + 4)
        git(dest, "tag", "-a", f"v1.{week}.0", "-m", f"Release 1.{week}.0", env=_at(week * 7 + 4))
    return dest


def build_script_repo(dest: Path) -> Path:
    """A small tool with a build-only pipeline: no linter rules, no test report, no merge requests."""
    files = {
        "pyproject.toml": "[project]\nname = 'tool'\nversion = '0.1.0'\n",
        "src/tool/__init__.py": "def run():\n    return 1\n",
        ".gitignore": "dist/\n",
        ".github/workflows/build.yml": (
            "name: build\non:\n  push:\n    branches: [main]\njobs:\n  build:\n    runs-on: ubuntu-latest\n"
            "    timeout-minutes: 10\n    steps:\n      - uses: actions/checkout@v4\n      - run: python -m build\n"),
    }
    dest.mkdir()
    git(dest, "init", "-q", "-b", "main")
    for day, (path, text) in enumerate(files.items()):
        _change(dest, path, text, f"Add {path}", day)
    return dest


def assess(repo: Path, out: Path, *extra: str) -> dict:
    assert main(["assess", str(repo), "--out", str(out), *extra]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    jsonschema.validate(manifest, load_schema("assessment"))
    return manifest


def items(manifest: dict) -> dict[str, dict]:
    return {i["code"]: i for i in manifest["items"]}


@pytest.fixture(scope="module")
def service_pack(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("service")
    repo = build_service(root / "repo")
    out = root / "pack"
    return out, assess(repo, out, "--zip")


def test_repository_evidence_verifies_items_with_locations_and_artefacts(service_pack):
    out, manifest = service_pack
    by_code = items(manifest)
    branch = by_code["CM-VC-BM-L3-2"]  # 分支信息与合并过程: short branches, merged through PRs
    assert branch["status"] == "verified", branch
    assert {"artefacts/branch-graph.svg", "artefacts/merge-requests.svg"} <= set(branch["artefacts"])
    commit_build = by_code["BCI-BP-BP-L3-1"]  # 提交即构建
    assert commit_build["status"] == "verified"
    assert any(e["path"].startswith(".github/workflows/") for e in commit_build["evidence"])
    tests = by_code["TM-TH-TO-L3-1"]  # unit tests run, pass, coverage above the threshold
    assert tests["status"] == "verified" and "artefacts/tests.html" in tests["artefacts"]
    for artefact in manifest["artefacts"]:
        if artefact["id"] != "scan-results":
            assert artefact["available"], artefact
            assert all((out / f).is_file() for f in artefact["files"])
            assert artefact["commit"] == manifest["target"]["commit"]


def test_branch_graph_and_merge_requests_are_drawn_from_the_history(service_pack):
    out, _ = service_pack
    svg = (out / "artefacts" / "merge-requests.svg").read_text(encoding="utf-8")
    assert "n=19" in svg  # 12 merged pull requests, 6 squashed ones "(#9x)" and the initial import "(#1)"
    graph = (out / "artefacts" / "branch-graph.svg").read_text(encoding="utf-8")
    assert "12 merged branches" in graph and "feature/pay-21" in graph
    releases = (out / "artefacts" / "releases.html").read_text(encoding="utf-8")
    assert all(f"v1.{week}.0" in releases for week in range(6))


@pytest.fixture(scope="module")
def tool_pack(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("tool")
    return assess(build_script_repo(root / "repo"), root / "pack", "--lang", "en")


def test_every_decidable_item_of_a_well_kept_service_is_verified(service_pack):
    _, manifest = service_pack
    assert manifest["summary"]["by_status"]["failed"] == manifest["summary"]["by_status"]["unknown"] == 0
    assert manifest["summary"]["decided_up_to_target"] >= 50


def test_missing_reports_are_unknown_with_the_way_to_provide_them(tool_pack):
    scan_results = items(tool_pack)["SR-TC-SG-L3-1"]  # security scan results: no SARIF kept in the repository
    assert scan_results["status"] == "unknown"
    assert any("--evidence sarif=" in step for step in scan_results["how_to_provide"])
    report = items(tool_pack)["TM-TH-HS-L2-2"]  # 测试报告: no JUnit report in the repository
    assert report["status"] == "unknown" and any("CD.TM.04" in m for m in report["missing"])


def test_documents_the_repository_cannot_prove_are_attestations_with_a_template(service_pack):
    _, manifest = service_pack
    drill = items(manifest)["CM-VC-VCS-L3-4"]  # 备份与恢复演练报告记录
    assert drill["status"] == "attestation"
    assert "half a day" in drill["expects"]
    assert items(manifest)["CM-VC-BM-L5-1"]["synthesized_code"] is True
    team = next(s for s in manifest["sub_items"] if s["sub_item"]["zh"] == "构建职责")  # only a team document
    assert team["level_reached"] is None and team["gap"] is None and team["pending_attestations"] == ["BCI-BP-BR-L3-1"]


def test_definite_violations_fail_with_what_to_fix(tool_pack):
    manifest = tool_pack
    index = (Path(manifest["target"]["path"]).parent / "pack" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in index and "<h1>Assessment pack <span class=alt>评估材料包</span></h1>" in index
    by_code = items(manifest)
    rules = by_code["TM-CQ-QR-L2-1"]  # 团队级代码质量规约: no linter configuration at all
    assert rules["status"] == "failed"
    assert any("CD.TM.05" in m for m in rules["missing"]) and rules["fix"]
    merges = next(a for a in manifest["artefacts"] if a["id"] == "merge-requests")
    assert not merges["available"] and "direct commits" in merges["reason"]
    assert by_code["CM-VC-BM-L3-2"]["status"] == "unknown"
    sub = next(s for s in manifest["sub_items"] if s["sub_item"]["zh"] == "代码质量规约")
    assert sub["level_reached"] == 1 and sub["gap"] == 2 and "TM-CQ-QR-L2-1" in sub["blocking"]


def test_manifest_and_charts_are_deterministic_apart_from_generated_at(service_pack, tmp_path):
    out, manifest = service_pack
    repo = Path(manifest["target"]["path"])
    again = assess(repo, tmp_path / "again")
    manifest.pop("generated_at"), again.pop("generated_at")
    assert again == manifest
    for name in ("branch-graph.svg", "integration-frequency.svg", "pipelines.html"):
        assert (tmp_path / "again" / "artefacts" / name).read_bytes() == (out / "artefacts" / name).read_bytes()


def test_workbook_reads_back_with_the_self_rating(service_pack):
    from openpyxl import load_workbook

    out, manifest = service_pack
    book = load_workbook(out / "self-assessment.xlsx")
    sheet = book["自评表 Self-assessment"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(manifest["sub_items"])
    branch = next(r for r in rows if r[3].startswith("分支管理"))
    sub = next(s for s in manifest["sub_items"] if s["sub_item"]["zh"] == "分支管理")
    assert str(branch[9]).startswith(str(sub["level_reached"])) and branch[10] == sub["gap"]
    assert "短周期分支" in branch[6]  # the level-3 requirement of the CAICT table
    assert "CM-VC-BM-L2-2" in branch[13]
    evidence = {r[0]: r for r in book["材料清单 Evidence items"].iter_rows(min_row=2, values_only=True)}
    assert evidence["CM-VC-BM-L2-2"][5] == "verified" and "branch-graph.svg" in evidence["CM-VC-BM-L2-2"][6]


def test_zip_holds_the_whole_pack(service_pack):
    out, _ = service_pack
    with zipfile.ZipFile(out.with_name(out.name + ".zip")) as archive:
        names = set(archive.namelist())
    expected = {f"{out.name}/{p.relative_to(out).as_posix()}" for p in out.rglob("*") if p.is_file()}
    assert names == expected and f"{out.name}/index.html" in names


def test_without_matplotlib_the_command_says_which_extra_to_install(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["assess", str(tmp_path), "--out", str(tmp_path / "pack")]) == 2
    assert "devops-audit[assess]" in capsys.readouterr().err


def test_hostile_names_from_the_history_stay_text(tmp_path):
    """Branch names and subjects come from the repository: markup is escaped, `$…$` is not parsed as math."""
    repo = build_script_repo(tmp_path / "repo")
    branch = "feat/<svg/onload=alert(1)>$x_1$"
    git(repo, "checkout", "-q", "-b", branch)
    _change(repo, "src/tool/extra.py", "X = 1\n", "Extra", 10)
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", branch, "-m", f"Merge branch '{branch}'", env=_at(11))
    _change(repo, "src/tool/more.py", "Y = 2\n", "<img src=x onerror=alert(2)> $\\frac{a}{$ (#7)", 12)
    out = tmp_path / "pack"
    assess(repo, out)
    graph = (out / "artefacts" / "branch-graph.svg").read_text(encoding="utf-8")
    assert "<svg/onload" not in graph and "feat/&lt;svg/onload=alert(1)&gt;$x" in graph  # label cut at 28
    changes = (out / "artefacts" / "changes.html").read_text(encoding="utf-8")
    assert "<img" not in changes and "&lt;img src=x onerror=alert(2)&gt;" in changes
