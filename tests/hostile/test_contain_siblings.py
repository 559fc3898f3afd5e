"""One bad file loses only itself, for each shape the issue names: the file gets an `error` inventory entry
with its path and reason, the collector carries on with the other files, and the verdicts that do not
depend on the bad file are unchanged."""

from __future__ import annotations

import sqlite3

import pytest
from helpers import scan_dict, write
from robust_support import example_copy, statuses

from devops_audit.collectors import CollectOptions, collect_all
from devops_audit.collectors.testing import junit
from devops_audit.workspace import Workspace


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return scan_dict(example_copy(tmp_path_factory.mktemp("clean") / "repo"))


def _entries(report: dict, path: str) -> list[dict]:
    return [e for e in report["inventory"] if e["path"] == path]


def _unchanged_outside(report: dict, clean: dict, *namespaces: str) -> None:
    """Verdicts reading none of `namespaces` are as in the clean scan."""
    before = statuses(clean)
    for verdict in report["indicators"]:
        if not set(verdict["evidence"]["namespaces"]) & set(namespaces):
            assert verdict["status"] == before[verdict["id"]], verdict["id"]


@pytest.mark.parametrize("condition", ["[$CI_COMMIT_TAG]", "{when: always}"])
def test_a_non_string_rules_if_in_gitlab_loses_only_that_pipeline(tmp_path, clean, condition):
    repo = example_copy(tmp_path / "repo")  # GitLab itself refuses it: "rules:if config should be a string"
    (repo / ".gitlab-ci.yml").write_text(f"workflow:\n  rules:\n    - if: {condition}\ntest:\n  script: [pytest]\n")
    report = scan_dict(repo)
    (entry,) = _entries(report, ".gitlab-ci.yml")
    assert entry["status"] == "error" and entry["reason"].startswith("unexpected content")
    assert {e["status"] for e in _entries(report, ".github/workflows/ci.yml")} == {"parsed"}
    _unchanged_outside(report, clean, "ci")


def test_a_boolean_hooks_in_pre_commit_loses_only_that_file(tmp_path, clean):
    repo = example_copy(tmp_path / "repo")
    (repo / ".pre-commit-config.yaml").write_text("repos:\n  - repo: https://github.com/gitleaks/gitleaks\n"
                                                  "    rev: v8.18.0\n    hooks: true\n")
    report = scan_dict(repo)
    (entry,) = _entries(report, ".pre-commit-config.yaml")
    assert entry["status"] == "error" and "TypeError" in entry["reason"]
    assert {e["status"] for e in _entries(report, "pyproject.toml")} <= {"parsed"}
    _unchanged_outside(report, clean, "files")


@pytest.mark.parametrize("encoding", ["x-unknown", "ebcdic", "shift_jis"])
def test_an_xml_report_in_an_unknown_encoding_loses_only_itself(tmp_path, clean, encoding):
    repo = example_copy(tmp_path / "repo")
    text = (repo / "coverage.xml").read_text()
    (repo / "coverage.xml").write_text(text.replace('encoding="utf-8"', "").replace(
        "<?xml version=\"1.0\" ?>", "").replace("<?xml version=\"1.0\"?>", "").lstrip())
    body = (repo / "coverage.xml").read_text()
    (repo / "coverage.xml").write_text(f'<?xml version="1.0" encoding="{encoding}"?>\n' + body)
    report = scan_dict(repo)
    (entry,) = _entries(report, "coverage.xml")
    assert entry["status"] == "error" and "unsupported XML encoding" in entry["reason"]
    assert {e["status"] for e in _entries(report, "junit.xml")} == {"parsed"}
    _unchanged_outside(report, clean, "coverage")


def test_an_integer_where_sarif_has_a_list_loses_only_that_report(tmp_path, clean):
    repo = example_copy(tmp_path / "repo")
    (repo / "reports" / "semgrep.sarif").write_text(
        '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep"}}, "results": 5}]}')
    report = scan_dict(repo)
    assert "error" in {e["status"] for e in _entries(report, "reports/semgrep.sarif")}
    assert {e["status"] for e in _entries(report, "reports/bandit.sarif")} == {"parsed"}
    _unchanged_outside(report, clean, "security")


def _coverage_repo(root):
    from coverage import CoverageData

    write(root, {"src/app.py": "def f():\n    return 1\n", "pyproject.toml": "[project]\nname='app'\n",
                 "junit.xml": '<testsuite name="t" tests="1"><testcase name="a"/></testsuite>'})
    data = CoverageData(basename=str(root / ".coverage"))
    data.add_lines({str(root / "src" / "app.py"): [1, 2]})
    data.write()
    return root


@pytest.mark.parametrize("damage", [
    "UPDATE file SET path = NULL",
    "UPDATE file SET path = x'00ff'",
    "DROP TABLE line_bits",
    "garbage",
])
def test_a_null_or_garbage_in_dot_coverage_loses_only_that_file(tmp_path, damage):
    root = _coverage_repo(tmp_path / "repo")
    if damage == "garbage":
        (root / ".coverage").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    else:
        with sqlite3.connect(root / ".coverage") as db:
            db.execute(damage)
    report = scan_dict(root)
    (entry,) = _entries(report, ".coverage")
    assert entry["status"] == "error" and entry["reason"]
    assert {e["status"] for e in _entries(report, "junit.xml")} == {"parsed"}


def test_an_include_name_too_long_for_the_file_system_is_an_error_of_the_include(tmp_path):
    repo = example_copy(tmp_path / "repo")
    (repo / ".gitlab-ci.yml").write_text(
        f"include:\n  - local: ci/{'x' * 5000}.yml\ntest:\n  script: [pytest --cov]\n")
    report = scan_dict(repo)
    statuses_here = [(e["status"], e["reason"][:40]) for e in _entries(report, ".gitlab-ci.yml")]
    assert ("parsed", "") in statuses_here  # the pipeline itself is read
    assert any(status == "error" and "include" in reason for status, reason in statuses_here), statuses_here


def test_a_collector_crash_names_the_file_it_was_reading(tmp_path, monkeypatch):
    root = example_copy(tmp_path / "repo")

    def broken(workspace, path, mapper, facts, inventory):
        raise RuntimeError("a bug in the junit collector")

    monkeypatch.setattr(junit, "_read", broken)
    evidence = collect_all(Workspace(root), CollectOptions(), names=["tests", "coverage"])
    (entry,) = evidence["tests"].inventory
    assert entry.path == "junit.xml" and entry.status == "error"
    assert "collector crashed: RuntimeError: a bug in the junit collector" in entry.reason
    assert evidence["coverage"].present and evidence["coverage"].facts["line_rate"] is not None


def test_a_cvss_score_that_is_not_a_number_loses_only_that_finding_s_severity(tmp_path, clean):
    """Found by the mutation test: a list as `V3Score` crashed the whole security collector."""
    repo = example_copy(tmp_path / "repo")
    (repo / "reports" / "trivy-fs.json").write_text(
        '{"SchemaVersion": 2, "ArtifactName": ".", "Results": [{"Target": "uv.lock", "Class": "lang-pkgs", '
        '"Type": "uv", "Vulnerabilities": [{"VulnerabilityID": "CVE-2024-1", "PkgName": "jinja2", '
        '"InstalledVersion": "3.1.3", "Title": "XSS", "CVSS": {"nvd": {"V3Score": [9.8]}, '
        '"ghsa": {"V3Score": 5.4}}}]}]}')
    report = scan_dict(repo)
    (entry,) = _entries(report, "reports/trivy-fs.json")
    assert entry["status"] == "parsed" and "1 medium" in entry["reason"]  # the number that is one decides
    assert {e["status"] for e in _entries(report, "reports/bandit.sarif")} == {"parsed"}


def test_an_azure_template_that_is_not_a_mapping_is_the_error_of_the_template(tmp_path):
    """Found by the mutation test: the pipeline extending it was reported instead, the template not at all."""
    repo = example_copy(tmp_path / "repo")
    write(repo, {"azure-pipelines.yml": "trigger: [main]\nextends:\n  template: ci/pipeline.yml\n",
                 "ci/pipeline.yml": "- just a list\n"})
    report = scan_dict(repo)
    assert [e["status"] for e in _entries(report, "azure-pipelines.yml")] == ["parsed"]
    (entry,) = _entries(report, "ci/pipeline.yml")
    assert entry["status"] == "error" and "must be a YAML mapping" in entry["reason"]
