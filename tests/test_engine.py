"""The engine's judgement rules: unknown, not_applicable, error, pass/fail with located violations."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from devops_audit.engine import evaluate
from devops_audit.facts import Evidence, InventoryEntry
from devops_audit.maturity import compute_levels
from devops_audit.policy import load_policies

PACK = """\
area: {id: ZZ, name: Test area, max_level: 3, default_target: 2}
domains: [{id: AA, name: First}, {id: BB, name: Second}]
indicators:
"""


def indicator(id_: str, level: int, body: str, domain: str = "AA") -> str:
    head = (f"  - id: {id_}\n    name: ind-{id_[-2:]}\n    title: Indicator {id_}\n    area: ZZ\n    domain: {domain}\n"
            f"    level: {level}\n    severity: medium\n    description: d\n    remediation: fix it\n    references: {{}}\n")
    return head + textwrap.indent(textwrap.dedent(body).strip() + "\n", "    ")


def policies(tmp_path: Path, *indicators: str):
    path = tmp_path / "pack.yaml"
    path.write_text(PACK + "".join(indicators))
    policy_set = load_policies([path])
    policy_set.indicators = [i for i in policy_set.indicators if i.area == "ZZ"]
    policy_set.areas = {"ZZ": policy_set.areas["ZZ"]}
    return policy_set


def ci(jobs: list[dict], present: bool = True, errors: list[InventoryEntry] = ()) -> Evidence:
    return Evidence("ci", present, {"jobs": jobs}, list(errors), hint="add a .github/workflows file")


def test_missing_evidence_is_unknown_with_the_collectors_hint(tmp_path):
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, "evidence: [ci]\nassert: 'size(ci.jobs) > 0'"))
    (verdict,) = evaluate(policy_set, {"ci": ci([], present=False)})
    assert verdict.status == "unknown"
    assert "add a .github/workflows file" in verdict.message


def test_applies_false_is_not_applicable(tmp_path):
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, "evidence: [ci]\napplies: 'size(ci.jobs) > 0'\nassert: 'false'"))
    (verdict,) = evaluate(policy_set, {"ci": ci([])})
    assert verdict.status == "not_applicable"


def test_violations_fail_with_precise_locations(tmp_path):
    body = """\
    evidence: [ci]
    params: {max: 30}
    violations: >-
      ci.jobs.filter(j, j.timeout > params.max).map(j, {"path": j.path, "line": j.line, "locator": "jobs." + j.id,
      "message": "job " + j.id + " is slow"})
    """
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, body))
    jobs = [{"id": "a", "timeout": 10, "path": "ci.yml", "line": 3}, {"id": "b", "timeout": 90, "path": "ci.yml", "line": 9}]
    (verdict,) = evaluate(policy_set, {"ci": ci(jobs)})
    assert verdict.status == "fail"
    assert [(v.path, v.line, v.locator, v.message) for v in verdict.violations] == [("ci.yml", 9, "jobs.b", "job b is slow")]
    assert "(1 violation)" in verdict.message
    (verdict,) = evaluate(policy_set, {"ci": ci(jobs)}, overrides={"ZZ.AA.01": {"max": 120}})
    assert verdict.status == "pass"


def test_pass_on_partly_unreadable_evidence_becomes_error_naming_the_file(tmp_path):
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, "evidence: [ci]\nassert: 'size(ci.jobs) > 0'"))
    broken = InventoryEntry(".github/workflows/x.yml", "github-actions", "error", "invalid YAML", 4)
    (verdict,) = evaluate(policy_set, {"ci": ci([{"id": "a"}], errors=[broken])})
    assert verdict.status == "error"
    assert ".github/workflows/x.yml:4: invalid YAML" in verdict.message


def test_fail_on_partly_unreadable_evidence_stays_fail(tmp_path):
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, "evidence: [ci]\nassert: 'size(ci.jobs) > 5'"))
    broken = InventoryEntry(".github/workflows/x.yml", "github-actions", "error", "invalid YAML", 4)
    (verdict,) = evaluate(policy_set, {"ci": ci([{"id": "a"}], errors=[broken])})
    assert verdict.status == "fail"
    assert "Also unreadable" in verdict.message


def test_a_cel_runtime_error_is_an_error_verdict_not_a_crash(tmp_path):
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, "evidence: [ci]\nassert: 'ci.nothing.here > 1'"),
                          indicator("ZZ.AA.02", 2, "evidence: [ci]\nassert: 'true'"))
    first, second = evaluate(policy_set, {"ci": ci([])})
    assert first.status == "error" and "policy expression failed" in first.message
    assert second.status == "pass"


def test_unknown_if_answers_unknown_with_the_policy_message(tmp_path):
    body = "evidence: [ci]\nunknown_if: 'size(ci.jobs) == 0'\nassert: 'true'\nmessages: {unknown: 'Nothing ran yet.'}"
    (verdict,) = evaluate(policies(tmp_path, indicator("ZZ.AA.01", 2, body)), {"ci": ci([])})
    assert (verdict.status, verdict.message) == ("unknown", "Nothing ran yet.")


def test_disabled_indicators_are_not_evaluated(tmp_path):
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, "assert: 'true'"), indicator("ZZ.AA.02", 2, "assert: 'true'"))
    assert [v.indicator.id for v in evaluate(policy_set, {}, disabled={"ZZ.AA.01"})] == ["ZZ.AA.02"]


def test_levels_need_every_indicator_up_to_the_level_and_unknown_blocks(tmp_path):
    policy_set = policies(
        tmp_path,
        indicator("ZZ.AA.01", 2, "assert: 'true'"),
        indicator("ZZ.AA.02", 3, "evidence: [ci]\nassert: 'true'"),
        indicator("ZZ.BB.01", 2, "assert: 'true'", domain="BB"),
        indicator("ZZ.BB.02", 3, "assert: 'true'", domain="BB"),
    )
    verdicts = evaluate(policy_set, {"ci": ci([], present=False)})
    (area,) = compute_levels(policy_set.areas, verdicts, {"ZZ": 3})
    assert [(d.id, d.level) for d in area.domains] == [("AA", 2), ("BB", 3)]
    assert area.level == 2 and not area.met
    assert area.describe() == "Level 2; Level 3 unverified: 1 unknown"
    assert [v.indicator.id for v in area.blocking] == ["ZZ.AA.02"]


def test_a_failing_level_2_indicator_keeps_the_area_at_level_1(tmp_path):
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, "assert: 'false'"), indicator("ZZ.BB.01", 3, "assert: 'true'", domain="BB"))
    (area,) = compute_levels(policy_set.areas, evaluate(policy_set, {}), {})
    assert area.level == 1
    assert area.target == 2
    assert area.describe() == "Level 1; Level 2 blocked: 1 fail"


def test_the_parent_imports_what_the_helper_functions_need_before_the_children_fork(tmp_path):
    """A forked child would import RE2 for `search` again at every scan, and copy the pages it writes."""
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK + indicator("ZZ.AA.01", 2, "assert: 'search(\"abc\", \"b\")'"))
    code = ("import sys\nfrom devops_audit.engine import evaluate\nfrom devops_audit.policy import load_policies\n"
            f"verdicts = evaluate(load_policies([{str(pack)!r}]), {{}})\nprint('re2' in sys.modules, verdicts[0].status)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split()[0] == "True"
