"""The labelled real-repository set: well-formed labels, and agreement that never falls below the floor."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import accuracy  # noqa: E402

from devops_audit.engine import STATUSES  # noqa: E402
from devops_audit.policy import load_policies  # noqa: E402

# Agreement measured with `python benchmarks/accuracy.py`; raise it when recognition or policy logic improves.
AGREEMENT_FLOOR = 0.98


def test_the_set_has_a_dozen_real_repositories_with_their_origin() -> None:
    cases = accuracy.case_names()
    assert len(cases) >= 12
    for case in cases:
        origin = yaml.safe_load((accuracy.CASES / case / "origin.yaml").read_text(encoding="utf-8"))
        assert re.fullmatch(r"github:[\w.-]+/[\w.-]+", origin["repository"]), case
        assert re.fullmatch(r"[0-9a-f]{40}", origin["commit"]), case
        assert any((accuracy.CASES / case / "files").rglob("*")), case


def test_every_label_names_a_real_indicator_a_status_and_a_reason() -> None:
    known = {indicator.id for indicator in load_policies([]).indicators}
    for case in accuracy.case_names():
        for label in accuracy.labels(case):
            assert label.indicator in known, f"{case}: {label.indicator}"
            assert label.expected in STATUSES, f"{case} {label.indicator}: {label.expected}"
            assert len(label.reason) > 10, f"{case} {label.indicator} has no reason"


@pytest.mark.slow
def test_agreement_with_the_labels_stays_above_the_floor() -> None:
    outcomes = accuracy.evaluate(accuracy.case_names())
    wrong = [f"{o.label.case} {o.label.indicator}: expected {o.label.expected}, got {o.actual}"
             for o in outcomes if not o.agrees]
    assert accuracy.agreement(outcomes) >= AGREEMENT_FLOOR, "\n".join(wrong)
