"""Facts become plain JSON values (`to_data`) that CEL and every reporter can take (`clean`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from devops_audit.facts import Location, Step, to_data
from devops_audit.untrusted import clean


@dataclass
class _Record:
    name: str
    where: Location
    pair: tuple[str, int] = ("a", 1)
    steps: list[Step] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)


def test_dataclasses_become_dicts_in_field_order_and_tuples_lists():
    record = _Record("r", Location("ci.yml", 3), steps=[Step("s", "jobs.a.steps[0]", Location("ci.yml", 4))],
                     extra={"k": (Location("x", 1),)})
    data = to_data([record, ("t", 2)])
    assert data[1] == ["t", 2]
    assert list(data[0]) == ["name", "where", "pair", "steps", "extra"]
    assert data[0]["where"] == {"path": "ci.yml", "line": 3} and data[0]["pair"] == ["a", 1]
    assert data[0]["steps"][0]["location"] == {"path": "ci.yml", "line": 4} and data[0]["steps"][0]["inputs"] == {}
    assert data[0]["extra"] == {"k": [{"path": "x", "line": 1}]}
    data[0]["steps"][0]["kinds"].append("test")
    assert record.steps[0].kinds == []  # a copy: the facts do not share lists with the collector's objects


class _Text(str):
    pass


def test_clean_replaces_what_cel_and_the_reporters_cannot_take():
    value = {"a\ud800": ["ok", _Text("sub\udfff"), 2**70, math.inf, 1.5, True, None, ("t",), {3}],
             None: 1, 1.5: 2, False: 3}
    assert clean(value) == {"a\ufffd": ["ok", "sub\ufffd", None, None, 1.5, True, None, ["t"], [3]],
                            "None": 1, "1.5": 2, False: 3}


def test_clean_turns_records_into_dicts_like_to_data_in_the_same_pass():
    record = _Record("r\ud800", Location("ci.yml", 3), steps=[Step("s", "jobs.a.steps[0]", Location("ci.yml", 4))],
                     extra={"k": (Location("x", 1),), "n": math.nan})
    data = clean([record, ("t", 2), _Record])
    assert data[:2] == clean(to_data([record, ("t", 2)]))
    assert data[0]["name"] == "r\ufffd" and data[0]["extra"]["n"] is None
    assert data[2] is _Record  # a dataclass type is no record
    data[0]["steps"][0]["kinds"].append("test")
    assert record.steps[0].kinds == []


def test_the_ci_collector_hands_over_plain_clean_facts(tmp_path):
    import json

    from devops_audit.collectors import CollectOptions, collect_all
    from devops_audit.workspace import Workspace

    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    timeout-minutes: .inf\n    steps:\n"
        "      - uses: actions/setup-python@v5\n        with: {python-version: .nan}\n      - run: pytest\n")
    evidence = collect_all(Workspace(tmp_path), CollectOptions(offline=True), ["ci"])["ci"]
    assert evidence.clean and evidence.facts["jobs"][0]["timeout_minutes"] is None
    assert evidence.facts["steps"][0]["location"] == {"path": ".github/workflows/ci.yml", "line": 7}
    json.dumps(evidence.facts, allow_nan=False)  # dicts, lists and JSON scalars only
