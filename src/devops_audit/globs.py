"""Groups of `fnmatch` globs tested against many paths: compiled once, cheap per path.

Most globs we use are plain names (`pom.xml`), `*suffix` (`*.jar`) or `prefix*` (`Dockerfile.*`): those are
a set lookup and one `str.endswith` / `str.startswith` with a tuple, done in C. The others go through two
regular expressions built by `fnmatch.translate`: one matched at the start for globs that begin with a plain
part (`docker-compose*.yml`), one searched for globs that begin with `*` (`*/migrations/0*.py` is searched as
`/migrations/0*.py`), which is much cheaper on a long path than a match that starts with `.*`.
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
        self.floating = _translate(p.lstrip("*") for p in others if p.startswith("*"))

    def __call__(self, text: str) -> bool:
        return (text in self.names or text.endswith(self.suffixes) or text.startswith(self.prefixes)
                or (self.anchored is not None and self.anchored.match(text) is not None)
                or (self.floating is not None and self.floating.search(text) is not None))


@cache
def globs(patterns: tuple[str, ...]) -> Globs:
    """The compiled group for `patterns`, built once per process."""
    return Globs(patterns)


def _translate(patterns: Iterable[str]) -> re.Pattern[str] | None:
    from fnmatch import translate

    regexes = [translate(p) for p in patterns]
    return re.compile("|".join(regexes)) if regexes else None
