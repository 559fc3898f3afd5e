"""Field selections are compiled as index access (`ci.steps` -> `ci["steps"]`): the same answers, errors and
syntax messages as the policy text as written, without the CEL core's copy of every selected value."""

from __future__ import annotations

from pathlib import Path

import pytest

import devops_audit.celexpr as celexpr
from devops_audit.celexpr import cel_module, compile_expression
from devops_audit.celindex import indexed
from devops_audit.policy import load_policies
from devops_audit.scan import ScanOptions, run_scan

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("source", "compiled"), [
    ('ci.steps.exists(s, s.run == "make")', 'ci["steps"].exists(s, s["run"] == "make")'),
    ("x.y\n  .map(z, z.a)", 'x["y"]\n  .map(z, z["a"])'),  # a call on the next line stays a call
    ("f(x).y + [1][0].z + {'a': 1}.a", "f(x)[\"y\"] + [1][0][\"z\"] + {'a': 1}[\"a\"]"),
    ("1.5 + x.y", '1.5 + x["y"]'),  # a float is no selection
    ("has(a.b.c) ? a.b.c : 0", 'has(a.b.c) ? a["b"]["c"] : 0'),  # has() needs its argument as written
    ("x.?y.orValue(1)", "x.?y.orValue(1)"),  # an optional selection
    ("x.in", "x.in"),  # a reserved word: the syntax error stays
    ("a . b", "a . b"),  # spaced: left alone
    ('"a.b" + x.y // see a.b\n + c.d', '"a.b" + x["y"] // see a.b\n + c["d"]'),  # texts and comments kept
    ("s.run == r'\\' + 'a.b' + x.y", "s[\"run\"] == r'\\' + 'a.b' + x[\"y\"]"),  # a raw string has no escapes
    ("'''a.b\n'c.d'''.size() + e.f", "'''a.b\n'c.d'''.size() + e[\"f\"]"),
    ("b'a.b'.size() + rb'x\\' + q.r", "b'a.b'.size() + rb'x\\' + q[\"r\"]"),
    ("size(ci.steps)", 'size(ci["steps"])'),
    ("true", "true"),
])
def test_selections_are_written_as_index_access(source, compiled):
    assert indexed(source) == compiled


FACTS = {"ci": {"steps": [{"run": "make test", "location": {"path": "ci.yml", "line": 3}}], "jobs": []},
         "missing": None}


@pytest.mark.parametrize("source", [
    'ci.steps.map(s, s.location.path + ":" + string(s.location.line))',
    "ci.jobs.size() == 0 && ci.steps[0].run.startsWith('make')",
    "ci.nope",  # a missing key: the same error
    "missing.steps",  # a null: the same error
    "ci.steps.run",  # a list: the same error
    "ci.steps[0].run.size.x",
])
def test_the_same_answer_or_the_same_error(source):
    assert indexed(source) != source
    assert _outcome(source) == _outcome(indexed(source))


def test_a_syntax_error_names_the_text_as_written():
    with pytest.raises(ValueError) as caught:
        compile_expression("ci.steps.exists(s, s.run ==)")
    assert "ci.steps.exists(s, s.run ==)" in str(caught.value)
    assert 'ci["steps"]' not in str(caught.value)


def test_every_shipped_expression_is_compiled_in_the_index_form():
    """The speed is had on the shipped policies: their rewritten text parses (no fallback to the text as
    written) and changes wherever they select a field."""
    sources = _shipped_sources()
    assert len(sources) > 100
    for source in sources:
        cel_module().compile(indexed(source))  # raises on a rewrite the core cannot parse
    assert sum(indexed(s) != s for s in sources) > 0.9 * len(sources)


@pytest.mark.parametrize("repo", ["example", "pipelines/gitlab-full", "pipelines/azure-full", "pipelines/jenkins-declarative"])
def test_every_shipped_expression_answers_the_same_on_real_facts(repo, monkeypatch):
    """Each program of every shipped indicator, compiled as written and as indexed, evaluated on the facts a
    scan of a fixture repository gives CEL, with the indicator's params: equal answers, or equal errors."""
    captured: dict = {}
    original = celexpr.new_context

    def capture(variables, changing=None):
        captured.update(variables)
        return original(variables, changing)

    monkeypatch.setattr(celexpr, "new_context", capture)
    run_scan(ROOT / "fixtures" / repo, ScanOptions(offline=True))
    assert captured["evidence"]["ci"] is True
    compared = 0
    for indicator in load_policies([]).indicators:
        params = {"params": dict(indicator.params)}
        context = cel_module().Context(variables=captured, functions=celexpr.FUNCTIONS)
        context.set_variable_resolver(params.get)
        for owner in (indicator, *indicator.parts):
            for name, source in owner.expressions.items():
                if name in owner.programs:
                    assert _outcome(source, context) == _outcome(indexed(source), context), (indicator.id, name)
                    compared += 1
    assert compared > 100


def _shipped_sources() -> list[str]:
    return [source for indicator in load_policies([]).indicators for owner in (indicator, *indicator.parts)
            for name, source in owner.expressions.items() if name in owner.programs]


def _outcome(source: str, context=None):
    try:
        return ("value", cel_module().compile(source).execute(context or cel_module().Context(variables=FACTS)))
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return ("error", type(exc).__name__, str(exc))
