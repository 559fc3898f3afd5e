"""yamlsafe: plain values with line numbers, standard scalars only, bounded expansion."""

from __future__ import annotations

import json

import pytest
import yaml

from devops_audit import yamlsafe
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


_PLAIN = ["", "~", "null", "Null", "NULL", "nul", "true", "True", "yes", "on", "Off", "n", "y", "no", "nothing",
          "0", "-1", "+1", "0x1F", "0o17", "017", "0b101", "1_000", "190:20:30", "1.5", "-.5", ".inf", "-.Inf", ".nan",
          ".NaN", "1e3", "1.0e+3", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "<<", "=", "!", "&", "*", "text", "é",
          "name", "tag", "failure", "offset", "yesterday", "1.2.3", "- x", "+", "."]


def _tags(node):
    if isinstance(node, yaml.ScalarNode):
        return node.tag
    if isinstance(node, yaml.SequenceNode):
        return [node.tag, *(_tags(item) for item in node.value)]
    return [node.tag, *((_tags(key), _tags(value)) for key, value in node.value)]


def test_tags_resolve_as_pyyaml_resolves_them():
    assert not yaml.SafeLoader.yaml_path_resolvers and None not in yaml.SafeLoader.yaml_implicit_resolvers
    items = "".join(f"- {json.dumps(text)}\n- {text}\n- '{text}'\n- |\n  {text}\n- {{{text}: [{text}]}}\n"
                    for text in _PLAIN if text not in ("", "- x", "&", "*", "!") and not text.startswith("<<"))
    text = items + "- \n- ! 1\n- !!str 1\n- !x y\n- - x\n"
    for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        assert _tags(yamlsafe._Loader(text).get_single_node()) == _tags(loader(text).get_single_node())
    for value in _PLAIN:
        for implicit in ((True, False), (False, True)):
            assert yamlsafe._Loader("").resolve(yaml.ScalarNode, value, implicit) == \
                yaml.SafeLoader("").resolve(yaml.ScalarNode, value, implicit), value


def test_lone_surrogates_become_replacement_characters():
    # libyaml refuses `"\ud800"` escapes, PyYAML's own parser (used without libyaml) takes them
    node = yaml.SafeLoader('"\\ud800k": "\\udfffv"\nn: !x "\\ud800"\nl: ["\\ud800", !!str "\\udc00", é]\n').get_single_node()
    doc = yamlsafe._Builder(yamlsafe.MAX_NODES).build(node)
    assert doc == {"\ufffdk": "\ufffdv", "n": YamlTag("!x", "\ufffd", 2), "l": ["\ufffd", "\ufffd", "é"]}
