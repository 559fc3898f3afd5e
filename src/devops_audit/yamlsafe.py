"""Safe YAML loading that keeps line numbers and bounds alias expansion.

PyYAML composes a node graph (aliases are shared nodes, so composing a "billion laughs" file is cheap);
we build plain Python values from that graph ourselves, counting every node visited, and stop at a bound.
Only the standard scalar types are constructed, and only finite numbers that fit 64 bits (`.inf`, `.nan` and
huge integers stay text); lone surrogates become U+FFFD. Any other tag (GitLab's `!reference`, Python object tags)
becomes inert data, so no tag can ever run code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml

from devops_audit.untrusted import INT64, clean_text

__all__ = ["YamlMap", "YamlList", "YamlTag", "YamlError", "load_documents", "line_of"]

MAX_NODES = 200_000
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_STANDARD_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
}
_DEFAULT_TAGS = {
    yaml.ScalarNode: "tag:yaml.org,2002:str",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}


class _Loader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader (libyaml's when installed) with a cheaper tag resolution.

    The composer calls `resolve` once per node, and PyYAML's version (~1 µs) is a fifth of composing. The safe
    loader has no path resolvers and no wildcard resolver (one tried on every text), which lets this one skip
    their look-ups: a plain scalar gets the tag of the first implicit type its text matches (`1`, `true`, `~`,
    ...), any other node the default tag of its kind, as PyYAML's version gives them."""

    def resolve(self, kind: type, value: str | None, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                if regexp.match(value):
                    return tag
        return _DEFAULT_TAGS[kind]


class YamlError(Exception):
    """The text is not valid YAML or is too expensive to expand; `line` is 1-based when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class YamlMap(dict):
    """A mapping that remembers the line of itself (`line`) and of each key (`lines[key]`)."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}


class YamlList(list):
    """A sequence that remembers its own line and the line of each item."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []


@dataclass(frozen=True)
class YamlTag:
    """A value carrying a non-standard tag, e.g. GitLab's `!reference [.setup, script]`."""

    tag: str
    value: Any
    line: int


def line_of(value: Any, key: Any = None, default: int = 1) -> int:
    """Line of `value` (or of `value[key]`) when it came from YAML, else `default`."""
    if key is not None:
        lines = getattr(value, "lines", None)
        if isinstance(lines, dict) and key in lines:
            return lines[key]
        if isinstance(lines, list) and isinstance(key, int) and 0 <= key < len(lines):
            return lines[key]
    return getattr(value, "line", default)


def load_documents(text: str, max_nodes: int = MAX_NODES) -> list[Any]:
    """Every document of `text`, as plain values with line information."""
    try:
        loader = _Loader(text)
        try:
            nodes = []
            while loader.check_node():
                nodes.append(loader.get_node())
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlError(f"invalid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    builder = _Builder(max_nodes)
    return [builder.build(node) for node in nodes if node is not None]


class _Builder:
    def __init__(self, max_nodes: int) -> None:
        self.budget = max_nodes
        self.depth = 0

    def build(self, node: yaml.Node) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise YamlError(
                "document expands to too many nodes (alias bomb?); refused", node.start_mark.line + 1
            )
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:  # most nodes: the text itself, built inline (no call per node)
                text = node.value  # PyYAML's own parser takes a `"\ud800"` escape, no valid text
                return text if text.isascii() else clean_text(text)
            return self._scalar(node, node.start_mark.line + 1)
        line = node.start_mark.line + 1
        self.depth += 1
        if self.depth > 200:
            raise YamlError("document nests too deeply; refused", line)
        try:
            if isinstance(node, yaml.SequenceNode):
                value: Any = self._sequence(node, line)
            else:
                value = self._mapping(node, line)
        finally:
            self.depth -= 1
        if node.tag.startswith("tag:yaml.org,2002:") or node.tag in ("!", "?"):
            return value
        return YamlTag(node.tag, value, line)

    def _scalar(self, node: yaml.ScalarNode, line: int) -> Any:
        """A scalar whose tag is not `str`: a standard type constructed, any other tag inert text."""
        text = clean_text(node.value)
        if node.tag in _STANDARD_SCALAR_TAGS:
            try:
                value = _SCALAR.yaml_constructors[node.tag](_SCALAR, node)
            except (ValueError, yaml.YAMLError):
                return text
            if isinstance(value, str):
                return text
            # `.inf`, `.nan`, `1.0e+999` and integers beyond 64 bits stay the text they were written as
            if isinstance(value, float) and not math.isfinite(value) or isinstance(value, int) and value not in INT64:
                return text
            return value
        if node.tag.startswith("tag:yaml.org,2002:"):
            return text
        return YamlTag(node.tag, text, line)

    def _sequence(self, node: yaml.SequenceNode, line: int) -> YamlList:
        result = YamlList(line)
        for item in node.value:
            result.append(self.build(item))
            result.lines.append(item.start_mark.line + 1)
        return result

    def _mapping(self, node: yaml.MappingNode, line: int) -> YamlMap:
        result = YamlMap(line)
        merged: list[YamlMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                value = self.build(value_node)
                merged.extend(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict))
                continue
            key = self.build(key_node)
            if isinstance(key, (dict, list, YamlTag)):
                key = str(key)
            result[key] = self.build(value_node)
            result.lines[key] = key_node.start_mark.line + 1
        for source in merged:
            for key, value in source.items():
                if key not in result:
                    result[key] = value
                    result.lines[key] = line_of(source, key, line)
        return result
