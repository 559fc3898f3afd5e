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
