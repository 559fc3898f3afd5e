"""yamlsafe: plain values with line numbers, standard scalars only, bounded expansion."""

from __future__ import annotations

import pytest

from devops_audit.yamlsafe import YamlError, YamlTag, line_of, load_documents


def test_scalars_are_the_standard_types_and_unsafe_numbers_stay_text():
    (doc,) = load_documents('a: text\nb: "12"\nc: 12\nd: 1.5\ne: true\nf: null\ng: .inf\nh: 99999999999999999999\n'
                            'j: 2024-01-01\n')
    assert doc == {"a": "text", "b": "12", "c": 12, "d": 1.5, "e": True, "f": None, "g": ".inf",
                   "h": "99999999999999999999", "j": "2024-01-01"}
    assert type(doc["b"]) is str and type(doc["e"]) is bool


def test_lines_merge_keys_and_inert_tags():
    (doc,) = load_documents("base: &b\n  x: 1\njob:\n  <<: *b\n  y: !reference [.setup, script]\n  list:\n    - a\n    - b\n")
    assert doc["job"]["x"] == 1 and line_of(doc["job"], "x") == 2
    assert doc["job"]["y"] == YamlTag("!reference", [".setup", "script"], 5)
    assert line_of(doc, "job") == 3 and line_of(doc["job"]["list"], 1) == 8


def test_an_alias_bomb_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6))
    with pytest.raises(YamlError, match="too many nodes"):
        load_documents(bomb)
