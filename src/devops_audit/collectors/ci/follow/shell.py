"""Split a shell script into simple commands (argument lists), as data: nothing is run or expanded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

__all__ = ["Command", "commands", "logical_lines"]

_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&", "!", "{", "}"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PREFIXES = frozenset({"sudo", "time", "exec", "command", "nohup", "env", "xvfb-run", "then", "do", "else",
                       "if", "while", "until", "elif"})
_MAKE_VARIABLE = re.compile(r"\$[({]MAKE[)}]")
MAX_LINE = 4000
_NEEDS_SHLEX = re.compile(r"[\"'\\#]")
_SIMPLE_TOKEN = re.compile(r"&&|\|\||;;|\|&|[;&|()]|[^\s;&|()]+")
_ESCAPE_OR_COMMENT = re.compile(r"[\\#]")
# shlex's tokens (posix, whitespace ` \t\r\n`, punctuation `;&|()`) without escapes or comments: a word of
# unquoted runs and quoted strings, a run of punctuation, or a quote never closed
_QUOTED_TOKEN = re.compile(r"""[ \t\r\n]+|((?:[^ \t\r\n;&|()'"]+|'[^']*'|"[^"]*")+)|([;&|()]+)|(.)""")
_QUOTES = re.compile(r"'([^']*)'|\"([^\"]*)\"")


class Command(NamedTuple):  # a NamedTuple: made at import ~10x faster than a frozen dataclass
    """One simple command of a script: its words and the line (1-based, within the script) it starts on."""

    argv: tuple[str, ...]
    line: int
    text: str


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each logical line: `\\` continuations joined, comments and blanks dropped."""
    pending: list[str] = []
    start = 1
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        line = " ".join(part.strip() for part in pending).strip()
        pending = []
        if line and not line.startswith("#"):
            yield start, line
    if pending:
        line = " ".join(part.strip() for part in pending).strip()
        if line and not line.startswith("#"):
            yield start, line


def commands(text: str, first_line: int = 1) -> Iterator[Command]:
    """Every simple command of a script, with leading `VAR=x`, `sudo`, `env`, `time`... removed."""
    for number, line in logical_lines(text):
        for words in _words(line[:MAX_LINE]):
            yield Command(words, first_line + number - 1, line)


@lru_cache(maxsize=4096)
def _words(line: str) -> tuple[tuple[str, ...], ...]:
    """The simple commands of one logical line, prefixes removed (memoised: the same lines come back in every
    pipeline calling a composite action, and in the files their commands call)."""
    return tuple(words for argv in _split(line) if (words := tuple(_strip_prefixes(argv))))


def _split(line: str) -> list[list[str]]:
    line = _MAKE_VARIABLE.sub("make", line)  # a Makefile's recursive `$(MAKE) target`
    if not _NEEDS_SHLEX.search(line):  # most lines: no quoting, no comment; shlex costs ten times more
        tokens = _SIMPLE_TOKEN.findall(line)
    else:
        quoted = None if _ESCAPE_OR_COMMENT.search(line) else _quoted_tokens(line)
        tokens = _shlex_tokens(line) if quoted is None else quoted
    result: list[list[str]] = [[]]
    for token in tokens:
        if token in _OPERATORS:
            result.append([])
        else:
            result[-1].append(token)
    return [argv for argv in result if argv]


def _shlex_tokens(line: str) -> list[str]:
    import shlex  # only for escapes, comments and unclosed quotes: most scans need none

    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to words
        return line.split()


def _quoted_tokens(line: str) -> list[str] | None:
    """`_shlex_tokens` of a line with quotes but no escape or comment, read by one regular expression (shlex
    reads a character at a time): words with their quotes removed, runs of `;&|()`; None for an unclosed quote."""
    tokens = []
    for match in _QUOTED_TOKEN.finditer(line):
        word, punctuation, unclosed = match.groups()
        if unclosed is not None:
            return None
        if word is not None:
            tokens.append(_unquoted(word))
        elif punctuation is not None:
            tokens.append(punctuation)
    return tokens


def _unquoted(word: str) -> str:
    """A word without its quotes (`a'b c'"d"` is `ab cd`)."""
    if "'" not in word and '"' not in word:
        return word
    return _QUOTES.sub(lambda quoted: quoted[1] if quoted[1] is not None else quoted[2], word)


def _strip_prefixes(argv: list[str]) -> list[str]:
    index = 0
    while index < len(argv):
        word = argv[index]
        if _ASSIGNMENT.match(word) or word in _PREFIXES:
            index += 1
        elif word.startswith("-") and index > 0 and argv[index - 1] in ("env", "sudo", "time"):
            index += 1
        else:
            break
    return argv[index:]
