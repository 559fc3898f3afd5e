"""A small, careful Groovy reader for Jenkinsfiles: tokens, then a tree of statements and blocks.

Nothing is evaluated. The tokenizer knows comments (`//`, `/* */`, a leading `#!`), single, double and
triple-quoted strings (GStrings with nested `${ ... }`), slashy and dollar-slashy strings, numbers, names
and operators, and keeps each token's line. The parser groups tokens into statements the way Groovy
does (a newline ends a statement unless a bracket is open or the line ends in an operator or comma, or the
next line starts with `.`), and every `{ ... }` opened inside a statement becomes one of its blocks. This is
enough for the Jenkins DSL, where everything is `name(args) { block }` or `name args`.

A tree-sitter Groovy grammar (tree-sitter-groovy 0.1.2 from PyPI) was measured on the corpus Jenkinsfiles:
about 10 ms to load and 0.1-2.5 ms per file, but it reports syntax errors on two of the three real files
(`docker.withRegistry(...) { }`, nested GStrings), losing stages. This reader takes well under 10 ms per
file, has no native dependency, and tolerates unbalanced braces (a stray `}` is skipped, blocks still open
at the end of the file are closed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Token", "Node", "GroovyError", "tokenize", "parse", "split_args", "text_of"]

MAX_DEPTH = 200
_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?[a-zA-Z]?")
_OPERATORS = ("..<", "==~", "<=>", "?.", "?:", "*.", ".&", "..", "=~", "==", "!=", "<=", ">=", "&&", "||",
              "->", "++", "--", "+=", "-=", "*=", "/=", "<<", ">>", "**", "::")
_CONTINUES = frozenset({"+", "-", "*", "/", "%", "&&", "||", "?", ":", "?:", "=", "==", "!=", ",", ".", "?.",
                        "->", "(", "[", "<<", "+=", "-=", "=~", "==~", "<", ">", "<=", ">=", "|", "&"})
_SLASHY_AFTER = frozenset({"(", ",", "=", "=~", "==~", ":", "[", "!", "&&", "||", "{", ";", "return", "?",
                           "==", "!="})
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"',
            "$": "$", "/": "/", "\n": ""}


class GroovyError(Exception):
    """The text cannot be read as Groovy (an unterminated string or comment); `line` is 1-based."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class Token:
    """`kind` is name, string, number, op or newline; `value` is a string's content, else the text."""

    kind: str
    text: str
    value: str
    line: int
    start: int
    end: int


@dataclass
class Node:
    """One statement: its dotted head (`stage`, `sh`, `docker.image`, `@Library`), its own tokens (not
    those of its blocks), and the blocks (`{ ... }`) opened inside it, in order."""

    name: str
    line: int
    tokens: list[Token]
    blocks: list[list[Node]] = field(default_factory=list)
    start: int = 0
    end: int = 0

    @property
    def body(self) -> list[Node]:
        """The statement's last block (the DSL section body), or nothing."""
        return self.blocks[-1] if self.blocks else []

    def walk(self) -> list[Node]:
        """This node and every node nested in its blocks, in source order."""
        found = [self]
        for block in self.blocks:
            for child in block:
                found.extend(child.walk())
        return found


# -- tokens -------------------------------------------------------------------------------------
def tokenize(source: str) -> list[Token]:
    return _Lexer(source).run()


class _Lexer:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.line = 1
        self.tokens: list[Token] = []

    def run(self) -> list[Token]:
        src = self.src
        if src.startswith("#!"):
            self.pos = src.find("\n") if "\n" in src else len(src)
        while self.pos < len(src):
            ch = src[self.pos]
            if ch == "\n":
                self._add("newline", self.pos + 1, "\n")
                self.line += 1
            elif ch in " \t\r\f\\":
                self.pos += 1
            elif src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.pos = len(src) if end < 0 else end
            elif src.startswith("/*", self.pos):
                self._block_comment()
            elif ch in "'\"":
                self._string(ch)
            elif src.startswith("$/", self.pos):
                self._delimited("$/", "/$", escapes=False)
            elif ch == "/" and self._slashy_allowed():
                self._delimited("/", "/", escapes=False)
            elif ch.isdigit():
                self._match("number", _NUMBER)
            elif ch.isalpha() or ch in "_$":
                self._match("name", _NAME)
            else:
                op = next((o for o in _OPERATORS if src.startswith(o, self.pos)), ch)
                self._add("op", self.pos + len(op), op)
        return self.tokens

    def _add(self, kind: str, end: int, value: str, line: int | None = None) -> None:
        start = self.pos
        self.tokens.append(Token(kind, self.src[start:end], value, line or self.line, start, end))
        self.pos = end

    def _match(self, kind: str, pattern: re.Pattern[str]) -> None:
        match = pattern.match(self.src, self.pos)
        end = match.end() if match else self.pos + 1
        self._add(kind, end, self.src[self.pos:end])

    def _block_comment(self) -> None:
        end = self.src.find("*/", self.pos + 2)
        if end < 0:
            raise GroovyError("unterminated /* comment", self.line)
        self.line += self.src.count("\n", self.pos, end)
        self.pos = end + 2

    def _slashy_allowed(self) -> bool:
        previous = self.tokens[-1] if self.tokens else None
        return previous is None or previous.kind == "newline" or previous.text in _SLASHY_AFTER

    def _string(self, quote: str) -> None:
        triple = self.src.startswith(quote * 3, self.pos)
        opener = quote * 3 if triple else quote
        self._delimited(opener, opener, escapes=True, gstring=quote == '"', single_line=not triple)

    def _delimited(self, opener: str, closer: str, *, escapes: bool, gstring: bool = True,
                   single_line: bool = False) -> None:
        src = self.src
        start_line = self.line
        i = self.pos + len(opener)
        parts: list[str] = []
        while True:
            if i >= len(src) or (single_line and src[i] == "\n"):
                raise GroovyError(f"unterminated string starting with {opener}", start_line)
            if src.startswith(closer, i):
                break
            ch = src[i]
            if ch == "\\" and not escapes and src.startswith(closer[0], i + 1):
                parts.append(closer[0])
                i += 2
                continue
            if ch == "\\" and escapes and i + 1 < len(src):
                parts.append(_ESCAPES.get(src[i + 1], "\\" + src[i + 1]))
                i += 2
                continue
            if ch == "$" and gstring and src.startswith("${", i):
                end = _closing_brace(src, i + 2)
                if end < 0:
                    raise GroovyError("unterminated ${ in a string", start_line)
                parts.append(src[i:end + 1])
                i = end + 1
                continue
            parts.append(ch)
            i += 1
        end = i + len(closer)
        text = src[self.pos:end]
        self._add("string", end, "".join(parts), start_line)
        self.line += text.count("\n")


def _closing_brace(src: str, i: int) -> int:
    """Index of the `}` closing a `${` whose body starts at `i` (strings inside may hold braces)."""
    depth = 1
    while i < len(src):
        ch = src[i]
        if ch in "'\"":
            quote = ch * 3 if src.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < len(src) and not src.startswith(quote, j):
                j += 2 if src[j] == "\\" else 1
            i = j + len(quote)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


# -- statements and blocks ----------------------------------------------------------------------
def parse(source: str) -> list[Node]:
    """The top-level statements of a Groovy file (raises `GroovyError` on an unterminated string)."""
    return _Parser(tokenize(source)).block(closing=False, depth=0)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def block(self, closing: bool, depth: int) -> list[Node]:
        nodes: list[Node] = []
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            if token.kind == "newline" or token.text == ";":
                self.i += 1
            elif token.text == "}":
                self.i += 1
                if closing:
                    return nodes
            elif token.text in ")]":
                self.i += 1  # unbalanced: skip it
            else:
                nodes.append(self.statement(depth))
        return nodes

    def statement(self, depth: int) -> Node:
        tokens: list[Token] = []
        blocks: list[list[Node]] = []
        nesting = 0
        first = self.tokens[self.i]
        end = first.end
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            if token.kind == "newline":
                if nesting > 0 or self._continues(tokens):
                    self.i += 1
                    continue
                break
            if token.text == ";" and nesting == 0:
                break
            if token.text == "}":
                break
            if token.text == "{":
                self.i += 1
                blocks.append(self.block(closing=True, depth=depth + 1) if depth < MAX_DEPTH else [])
                end = self.tokens[self.i - 1].end
                if nesting == 0 and not self._chained():
                    break
                continue
            if token.text in "([":
                nesting += 1
            elif token.text in ")]":
                nesting = max(0, nesting - 1)
            tokens.append(token)
            end = token.end
            self.i += 1
        return Node(_head(tokens), first.line, tokens, blocks, first.start, end)

    def _continues(self, tokens: list[Token]) -> bool:
        if tokens and tokens[-1].kind == "op" and tokens[-1].text in _CONTINUES:
            return not (tokens[-1].text == "*" and len(tokens) > 1 and tokens[-2].text == ".")  # import a.*
        nxt = self._next_significant()
        return nxt is not None and nxt.text in (".", "?.", "*.", "?:")

    def _chained(self) -> bool:
        nxt = self.tokens[self.i] if self.i < len(self.tokens) else None
        return nxt is not None and nxt.text in (".", "?.", "*.", ")", ",", "]")

    def _next_significant(self) -> Token | None:
        j = self.i
        while j < len(self.tokens) and self.tokens[j].kind == "newline":
            j += 1
        return self.tokens[j] if j < len(self.tokens) else None


def _head(tokens: list[Token]) -> str:
    """`a.b.c` at the start of a statement (`@Name` for an annotation), else ''."""
    if len(tokens) >= 2 and tokens[0].text == "@" and tokens[1].kind == "name":
        return "@" + tokens[1].text
    if not tokens or tokens[0].kind != "name":
        return ""
    parts = [tokens[0].text]
    k = 1
    while k + 1 < len(tokens) and tokens[k].text in (".", "?.") and tokens[k + 1].kind == "name":
        parts.append(tokens[k + 1].text)
        k += 2
    return ".".join(parts)


def split_args(node: Node) -> tuple[list[list[Token]], dict[str, list[Token]]]:
    """Positional and named arguments of a call statement: `name(a, k: v)` or `name a, k: v`."""
    tokens = node.tokens[len(node.name.split(".")) * 2 - 1:] if node.name else node.tokens
    if node.name.startswith("@"):
        tokens = node.tokens[2:]
    if tokens and tokens[0].text == "(":
        tokens = _inside_parens(tokens)
    positional: list[list[Token]] = []
    named: dict[str, list[Token]] = {}
    for arg in _split_commas(tokens):
        if len(arg) >= 2 and arg[0].kind in ("name", "string") and arg[1].text == ":":
            named[arg[0].value] = arg[2:]
        elif arg:
            positional.append(arg)
    return positional, named


def _inside_parens(tokens: list[Token]) -> list[Token]:
    depth = 0
    for index, token in enumerate(tokens):
        if token.text in "([":
            depth += 1
        elif token.text in ")]":
            depth -= 1
            if depth == 0:
                return tokens[1:index]
    return tokens[1:]


def _split_commas(tokens: list[Token]) -> list[list[Token]]:
    args: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.text in "([":
            depth += 1
        elif token.text in ")]":
            depth -= 1
        if token.text == "," and depth == 0:
            args.append([])
        else:
            args[-1].append(token)
    return [arg for arg in args if arg]


def text_of(tokens: list[Token]) -> str:
    """An argument as text: string literals joined (`'a' + "b"`), anything else as written."""
    parts = []
    for token in tokens:
        if token.kind == "string":
            parts.append(token.value)
        elif token.text != "+":
            parts.append(token.text)
    return "".join(parts) if all(t.kind == "string" or t.text == "+" for t in tokens) else " ".join(parts)
