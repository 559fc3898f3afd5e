"""Groups of `fnmatch` globs tested against many paths: compiled once, cheap per path.

Most globs we use are plain names (`pom.xml`), `*suffix` (`*.jar`) or `prefix*` (`Dockerfile.*`): those are
a set lookup and one `str.endswith` / `str.startswith` with a tuple, done in C. The others use regular
expressions built by `fnmatch.translate`: one matched at the start for globs that begin with a plain part
(`docker-compose*.yml`), and for each glob that begins with `*` a search without that `*`
(`*/migrations/0*.py` is searched as `/migrations/0*.py`), run only when the text contains the plain part
it starts with (`/migrations/0`): a substring test is far cheaper than a regex search along a long path.
Semantics are `fnmatch.fnmatchcase`: case-sensitive, `*` also crosses `/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

__all__ = ["Globs", "globs"]

_WILDCARD = re.compile(r"[*?\[]")


class Globs:
    """Matches a text against any of `patterns`; call it: `Globs(["*.jar", "pom.xml"])("lib/a.jar")`."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(dict.fromkeys(patterns))
        names, suffixes, prefixes, others = set(), [], [], []
        for pattern in self.patterns:
            if not _WILDCARD.search(pattern):
                names.add(pattern)
            elif pattern.startswith("*") and not _WILDCARD.search(pattern[1:]):
                suffixes.append(pattern[1:])
            elif pattern.endswith("*") and not _WILDCARD.search(pattern[:-1]):
                prefixes.append(pattern[:-1])
            else:
                others.append(pattern)
        self.names = frozenset(names)
        self.suffixes = tuple(suffixes)
        self.prefixes = tuple(prefixes)
        self.anchored = _translate(p for p in others if not p.startswith("*"))
        self.floating = tuple((_plain_start(p.lstrip("*")), _translate([p.lstrip("*")])) for p in others
                              if p.startswith("*"))

    def __call__(self, text: str) -> bool:
        if text in self.names or text.endswith(self.suffixes) or text.startswith(self.prefixes):
            return True
        if self.anchored is not None and self.anchored.match(text):
            return True
        for plain, regex in self.floating:
            if plain in text and regex.search(text):
                return True
        return False


@cache
def globs(patterns: tuple[str, ...]) -> Globs:
    """The compiled group for `patterns`, built once per process."""
    return Globs(patterns)


def _translate(patterns: Iterable[str]) -> re.Pattern[str] | None:
    from fnmatch import translate

    regexes = [translate(p) for p in patterns]
    return re.compile("|".join(regexes)) if regexes else None


def _plain_start(pattern: str) -> str:
    """The characters before the first wildcard (`/migrations/0` of `/migrations/0*.py`); empty with a set."""
    return "" if "[" in pattern else re.split(r"[*?]", pattern, maxsplit=1)[0]
