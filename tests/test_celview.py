"""CEL is given only the fields of fact records the policy expressions read; any other use keeps them whole."""

from __future__ import annotations

import pytest

from devops_audit.celexpr import compile_expression, new_context
from devops_audit.celview import fields_read, narrowed

STEPS = [{"run": "make test", "uses": "", "kinds": ["test"], "location": {"path": "ci.yml", "line": 3}},
         {"run": "", "uses": "actions/checkout@v4", "kinds": [], "location": {"path": "ci.yml", "line": 5}}]


@pytest.mark.parametrize(("sources", "fields"), [
    (['ci.steps.exists(s, s.run != "")'], {"run"}),
    (['ci.steps.map(s, "test" in s.kinds, s.location.path + ":" + string(s.location.line))'], {"kinds", "location"}),
    (['ci.steps.all(s, s.run.startsWith("make"))', 'ci.anchor != ""'], {"run"}),
    (['ci.jobs.exists(j, ci.steps.exists(s, s.uses == j.id))'], {"uses"}),
    (['(evidence.ci ? [] : [{"locator": "ci", "message": "ci.steps"}]) + ci.steps.map(s, s.run)'], {"run"}),
    (["ci.steps.exists(s, s.run == r'\\' + 'ci')"], {"run"}),
    (['ci.anchor'], set()),
    (['ci.steps.exists(s, s.run != "") // not size(ci.steps)\n || false'], {"run"}),
])
def test_the_fields_an_expression_reads(sources, fields):
    assert fields_read(tuple(sources), "ci", "steps") == fields


@pytest.mark.parametrize("source", [
    "size(ci.steps) > 0",  # the list itself
    "ci.steps.filter(s, s.run != '').size() > 0",  # a filter gives the records themselves
    "ci.steps.exists(s, s == {})",  # a whole record
    "ci.steps.exists(s, size(s) > 3)",
    "ci.steps.exists(s, s.exists(k, k == 'uses'))",  # a record's keys
    "ci.steps.exists(s, s['uses'] != '')",
    "ci['steps'].exists(s, s.run != '')",  # the namespace indexed
    "[ci].exists(c, c.steps.exists(s, s.uses != ''))",  # the namespace as a value
    "ci.steps.exists(s, s.?uses.hasValue())",
    "ci.steps.exists(i, s, s.uses != '')",  # two variables: `s` is the record
    "ci.steps.exists(s, s.run != '') // it's\n || size(ci.steps) > 0",  # a quote in a comment hides nothing
    "ci.steps.exists(s, s.run != 'a//b' || size(ci.steps) > 0)",  # nor `//` in a text
    "ci.steps.exists(s, s.run != r'\\' || size(ci.steps) > 0)",  # nor a raw text's backslash
])
def test_any_other_use_keeps_the_records_whole(source):
    assert fields_read((source, "ci.steps.exists(s, s.run != '')"), "ci", "steps") is None


def test_the_narrowed_facts_give_the_same_answers_and_the_facts_stay_whole():
    facts = {"steps": STEPS, "anchor": "ci.yml", "systems": ["github"]}
    sources = ('ci.steps.map(s, s.uses != "", s.uses + "@" + string(s.location.line))',
               'ci.steps.exists(s, "test" in s.kinds)', "size(ci.systems)")
    view = narrowed("ci", facts, sources)
    assert view["steps"] == [{k: v for k, v in step.items() if k != "run"} for step in STEPS]
    assert view["anchor"] == "ci.yml" and facts["steps"] is STEPS and "run" in STEPS[0]
    whole, narrow = new_context({"ci": facts}), new_context({"ci": view})
    for source in sources:
        program = compile_expression(source)
        assert program.execute(narrow) == program.execute(whole)
