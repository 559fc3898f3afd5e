"""The engine's combination rules on their own: Kleene conjunction of parts, and what unreadable evidence can
still change (docs/architecture.md, "How the engine decides")."""

from __future__ import annotations

import itertools

import pytest
from test_engine import ci, indicator, policies

from devops_audit.engine import combine, contain, evaluate
from devops_audit.facts import Evidence, InventoryEntry

T, F, U, E, NA = "pass", "fail", "unknown", "error", "not_applicable"

# Kleene's strong conjunction, with `error` (evidence or policy broken) ranking between false and unknown
AND = {
    (T, T): T, (T, F): F, (T, U): U, (T, E): E,
    (F, T): F, (F, F): F, (F, U): F, (F, E): F,
    (U, T): U, (U, F): F, (U, U): U, (U, E): E,
    (E, T): E, (E, F): F, (E, U): E, (E, E): E,
}


@pytest.mark.parametrize(("left", "right"), sorted(AND))
def test_two_parts_combine_by_the_truth_table(left, right):
    assert combine([left, right]) == AND[(left, right)]


@pytest.mark.parametrize("statuses", list(itertools.product([T, F, U, E, NA], repeat=3)))
def test_combination_is_the_table_folded_and_ignores_parts_that_do_not_apply(statuses):
    relevant = [s for s in statuses if s != NA]
    expected = NA if not relevant else relevant[0]
    for status in relevant[1:]:
        expected = AND[(expected, status)]
    assert combine(list(statuses)) == expected
    assert combine(list(reversed(statuses))) == expected  # the order of parts never matters


CONTAIN = {  # (status read from the readable files, quantifier) -> status when some file was unreadable
    (T, "exists"): T,  # proven by what was read: the unreadable file cannot take it back
    (F, "exists"): E,  # the missing thing may be in the unreadable file
    (T, "all"): E,  # the violation may be in the unreadable file
    (F, "all"): F,  # a violation found stays a violation
    (U, "exists"): U, (U, "all"): U, (NA, "exists"): NA, (NA, "all"): NA, (E, "exists"): E, (E, "all"): E,
}


@pytest.mark.parametrize(("status", "quantifier"), sorted(CONTAIN))
def test_unreadable_evidence_changes_only_what_it_could_have_changed(status, quantifier):
    assert contain(status, quantifier, unreadable=True) == CONTAIN[(status, quantifier)]
    assert contain(status, quantifier, unreadable=False) == status


TWO_PARTS = """\
evidence: [ci]
parts:
  - id: no-silent-failures
    evidence: [ci]
    violations: 'ci.jobs.filter(j, j.allow_failure).map(j, {"path": "ci.yml", "line": j.line, "message": "job " + j.id + " may fail"})'
    messages: {fail: a test job may fail silently.}
  - id: required-checks
    evidence: [protection]
    quantifier: exists
    unknown_if: '!protection.complete'
    assert: 'size(protection.checks) > 0'
    messages: {fail: no required status checks., unknown: the required checks are not visible.}
messages: {fail: Failures can get through., unknown: Cannot tell.}
"""


def protection(checks: list[str] | None, complete: bool = True, errors: list[InventoryEntry] = ()) -> Evidence:
    if checks is None:
        return Evidence("protection", False, None, hint="export the branch rules")
    return Evidence("protection", True, {"checks": checks, "complete": complete}, list(errors))


JOBS = {"clean": [{"id": "test", "allow_failure": False, "line": 3}],
        "violating": [{"id": "test", "allow_failure": True, "line": 7}]}
PROTECTION = {"checks": ["test"], "none": [], "hidden": None, "incomplete": "incomplete"}
EXPECTED = {  # the indicator's verdict for every combination of the two parts' evidence
    ("clean", "checks"): T, ("clean", "none"): F, ("clean", "hidden"): U, ("clean", "incomplete"): U,
    ("violating", "checks"): F, ("violating", "none"): F, ("violating", "hidden"): F, ("violating", "incomplete"): F,
}


@pytest.mark.parametrize(("jobs", "rules"), sorted(EXPECTED))
def test_a_definite_violation_decides_even_when_the_other_part_lacks_evidence(tmp_path, jobs, rules):
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 3, TWO_PARTS))
    raw = PROTECTION[rules]
    evidence = {"ci": ci(JOBS[jobs]),
                "protection": protection([], complete=False) if raw == "incomplete" else protection(raw)}
    (verdict,) = evaluate(policy_set, evidence)
    assert verdict.status == EXPECTED[(jobs, rules)]
    parts = {p.id: p.status for p in verdict.parts}
    if verdict.status == F and jobs == "violating":
        # the message names the part that decided, and the violation is located
        assert "no-silent-failures: a test job may fail silently." in verdict.message
        assert [(v.path, v.line) for v in verdict.violations] == [("ci.yml", 7)]
    if verdict.status == U:
        assert parts["no-silent-failures"] == T
        assert "required-checks:" in verdict.message and "no-silent-failures" not in verdict.message
    if rules == "hidden":
        assert "export the branch rules" in next(p.message for p in verdict.parts if p.id == "required-checks")


def test_parts_that_do_not_apply_are_left_out_and_all_of_them_make_not_applicable(tmp_path):
    body = """\
    parts:
      - {id: migrations, applies: 'params.database', assert: 'params.migrations', messages: {not_applicable: no database.}}
      - {id: environments, applies: 'params.deployed', assert: 'true', messages: {not_applicable: nothing deployed.}}
    params: {database: false, deployed: false, migrations: false}
    messages: {not_applicable: Nothing to version.}
    """
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, body))
    (verdict,) = evaluate(policy_set, {})
    assert verdict.status == NA
    assert verdict.message == "Nothing to version. migrations: no database.; environments: nothing deployed."
    (verdict,) = evaluate(policy_set, {}, overrides={"ZZ.AA.01": {"deployed": True}})
    assert verdict.status == T  # the one part that applies holds
    (verdict,) = evaluate(policy_set, {}, overrides={"ZZ.AA.01": {"deployed": True, "database": True}})
    assert verdict.status == F and "migrations: Requirement not met." in verdict.message


def test_an_existential_part_proven_by_readable_files_stays_pass_a_universal_one_becomes_error(tmp_path):
    body = """\
    evidence: [ci]
    parts:
      - {id: build-job, evidence: [ci], quantifier: exists, assert: 'ci.jobs.exists(j, j.id == "build")'}
      - {id: timeouts, evidence: [ci], violations: 'ci.jobs.filter(j, j.timeout == 0).map(j, j.id + " has no timeout")'}
    """
    broken = InventoryEntry(".github/workflows/broken.yml", "github-actions", "error", "invalid YAML", 3)
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, body))
    (verdict,) = evaluate(policy_set, {"ci": ci([{"id": "build", "timeout": 10}], errors=[broken])})
    parts = {p.id: p.status for p in verdict.parts}
    assert parts == {"build-job": T, "timeouts": E}
    assert verdict.status == E
    assert verdict.message.startswith("Cannot confirm:")
    assert "timeouts: evidence could not be read (.github/workflows/broken.yml:3: invalid YAML)" in verdict.message
    (verdict,) = evaluate(policy_set, {"ci": ci([{"id": "build", "timeout": 0}], errors=[broken])})
    assert verdict.status == F and "Also unreadable: .github/workflows/broken.yml:3" in verdict.message


def test_an_existential_claim_not_proven_is_error_not_fail_when_a_file_was_unreadable(tmp_path):
    body = "evidence: [ci]\nquantifier: exists\nassert: 'ci.jobs.exists(j, j.id == \"build\")'"
    broken = InventoryEntry(".github/workflows/broken.yml", "github-actions", "error", "invalid YAML", 3)
    policy_set = policies(tmp_path, indicator("ZZ.AA.01", 2, body))
    (verdict,) = evaluate(policy_set, {"ci": ci([{"id": "lint"}], errors=[broken])})
    assert verdict.status == E
    assert ".github/workflows/broken.yml:3: invalid YAML" in verdict.message
    (verdict,) = evaluate(policy_set, {"ci": ci([{"id": "lint"}])})
    assert verdict.status == F  # everything was read: the absence is real


def test_a_policy_cannot_mix_parts_with_its_own_assert(tmp_path):
    from devops_audit.errors import PolicyError

    body = "assert: 'true'\nparts:\n  - {id: one, assert: 'true'}"
    with pytest.raises(PolicyError, match="exclude each other|oneOf|valid"):
        policies(tmp_path, indicator("ZZ.AA.01", 2, body))


def test_a_quantifier_other_than_exists_or_all_is_refused(tmp_path):
    from devops_audit.errors import PolicyError

    with pytest.raises(PolicyError, match="quantifier"):
        policies(tmp_path, indicator("ZZ.AA.01", 2, "quantifier: some\nassert: 'true'"))
