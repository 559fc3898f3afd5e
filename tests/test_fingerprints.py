"""Finding fingerprints survive moved lines and unrelated changes, in SARIF, GitLab and baselines alike."""

from __future__ import annotations

import re

from gate_support import as_json, gate_repo, scan

from devops_audit.baseline import entries_for
from devops_audit.engine import Verdict, Violation
from devops_audit.reporters.fingerprints import findings, keyed_violations


def _identities(result) -> dict[str, object]:
    sarif = as_json(result, "sarif")["runs"][0]["results"]
    return {
        "sarif": sorted((r["ruleId"], r["partialFingerprints"]["devopsAudit/v1"]) for r in sarif),
        "codequality": sorted(i["fingerprint"] for i in as_json(result, "gitlab-codequality")),
        "sast": sorted(v["id"] for v in as_json(result, "gitlab-sast")["vulnerabilities"]),
        "baseline": sorted(e["fingerprint"] for e in entries_for(result.verdicts)),
    }


def _lines(result, rule_id: str) -> list[int]:
    sarif = as_json(result, "sarif")["runs"][0]["results"]
    return [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in sarif if r["ruleId"] == rule_id]


def test_inserting_lines_above_every_violation_and_editing_other_files_keeps_fingerprints(tmp_path):
    repo = gate_repo(tmp_path)
    before = scan(repo)
    workflow = repo / ".github/workflows/ci.yml"
    text = workflow.read_text()
    # a comment line above every job and every step: every violation moves down
    moved = re.sub(r"^(\s*)(- uses:|- run:|test:|deploy:)", r"\1# reviewed\n\1\2", text, flags=re.M)
    workflow.write_text("# pipeline for the sample service\n\n" + moved)
    (repo / "README.md").write_text("# sample\n\nNow with more words.\n")
    (repo / "docs").mkdir()
    (repo / "docs/notes.md").write_text("notes\n")
    after = scan(repo)

    assert _lines(after, "SR.BD.03") != _lines(before, "SR.BD.03")  # the lines did move
    assert len(_lines(before, "SR.BD.03")) == 3
    assert _identities(after) == _identities(before)


def test_fingerprint_changes_when_the_violation_is_a_different_step(tmp_path):
    repo = gate_repo(tmp_path)
    before = {r["partialFingerprints"]["devopsAudit/v1"]
              for r in as_json(scan(repo), "sarif")["runs"][0]["results"] if r["ruleId"] == "SR.BD.03"}
    workflow = repo / ".github/workflows/ci.yml"
    workflow.write_text(workflow.read_text().replace("      - uses: actions/checkout@v4\n      - uses: actions/setup",
                                                     "      - uses: actions/setup", 1))
    after = {r["partialFingerprints"]["devopsAudit/v1"]
             for r in as_json(scan(repo), "sarif")["runs"][0]["results"] if r["ruleId"] == "SR.BD.03"}
    assert len(after) == 2 and after != before


def test_same_path_and_locator_twice_gives_two_fingerprints(tmp_path):
    result = scan(gate_repo(tmp_path))
    verdict = next(v for v in result.verdicts if v.indicator.id == "SR.BD.03")
    twin = Verdict(verdict.indicator, "fail", "x",
                   [Violation("a.yml", 3, "one", "jobs.a"), Violation("a.yml", 9, "two", "jobs.a")])
    fingerprints = [fp for _, fp in keyed_violations(twin)]
    assert len(set(fingerprints)) == 2


def test_repository_level_findings_point_at_an_existing_file(tmp_path):
    repo = gate_repo(tmp_path)
    result = scan(repo)
    for finding in findings(result):
        assert (repo / finding.path).is_file(), (finding.indicator_id, finding.path)
        assert finding.line >= 1
    vc01 = next(f for f in findings(result) if f.indicator_id == "CD.VC.01")  # "not a git repository" at "."
    assert vc01.path == ".gitignore"  # the indicator's anchor, which exists here
