"""The repository's file list grouped once, so that a glob looks only at the files that could match it.

The files are grouped by folder and by base name (one pass over the sorted list); on first use, the distinct names by ending (from the name's last dot, `.py`; a name without a dot is its own ending) and by first
character, and the folders by their first part and with a `/` after them. A glob's fixed parts (worked out once
per glob) say which group holds every file it can match: `*/Dockerfile` needs a file named `Dockerfile`,
`*Test.java` one ending in `.java`, `*.y*ml` one whose ending ends in `ml`, `k8s/*.yml` one under `k8s/`,
`*/migrations/0*.py` one whose folder holds `/migrations/`. Only those candidates
are tested, with the glob's regular expression run in C (`filter`). Semantics are `fnmatch.fnmatchcase`:
case-sensitive, `*` also crosses `/`; a glob with a `[...]` set is tested against every file.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from fnmatch import translate
from functools import cached_property, lru_cache
from operator import methodcaller
from typing import NamedTuple

__all__ = ["FileIndex"]

_WILDCARD = re.compile(r"[*?\[]")
_STAR_OR_ANY = re.compile(r"[*?]")


class FileIndex:
    """Lookups over a sorted list of repository paths; every answer is a sorted list of paths."""

    def __init__(self, files: list[str]) -> None:
        self.files = files
        self.file_set = frozenset(files)
        folders: defaultdict[str, list[str]] = defaultdict(list)
        names: defaultdict[str, list[str]] = defaultdict(list)
        for path in files:
            folder, _, name = path.rpartition("/")
            folders[folder].append(path)
            names[name].append(path)
        self.folders = dict(folders)  # folder (`""` at the top) -> the paths of the files directly in it
        self.names = dict(names)  # base name -> the paths of the files with that name

    @cached_property
    def tops(self) -> dict[str, list[str]]:
        """First folder of a path -> every folder under it (itself included); the top (`""`) has none."""
        tops: defaultdict[str, list[str]] = defaultdict(list)
        for folder in self.folders:
            if folder:
                tops[folder.partition("/")[0]].append(folder)
        return dict(tops)

    @cached_property
    def slashed(self) -> list[tuple[str, list[str]]]:
        """(folder with a `/` after it, its files): what a glob's inner `/migrations/` is looked for in."""
        return [(f"{folder}/", paths) for folder, paths in self.folders.items()]

    @cached_property
    def initials(self) -> dict[str, list[str]]:
        """First character -> the base names that start with it (a name's plain start is looked up there)."""
        initials: defaultdict[str, list[str]] = defaultdict(list)
        for name in self.names:
            initials[name[:1]].append(name)
        return dict(initials)

    @cached_property
    def endings(self) -> dict[str, list[str]]:
        """`.py` (a name from its last dot), or the whole name when it has no dot -> the base names with it."""
        endings: defaultdict[str, list[str]] = defaultdict(list)
        for name in self.names:
            dot = name.rfind(".")
            endings[name[dot:] if dot >= 0 else name].append(name)
        return dict(endings)

    def named(self, *names: str) -> list[str]:
        """Files with one of these base names, anywhere."""
        return sorted({path for name in names for path in self.names.get(name, ())})

    def under(self, folder: str) -> list[str]:
        """Files anywhere below `folder` (a path without a trailing `/`)."""
        prefix = folder + "/"
        candidates = self.tops.get(folder.partition("/")[0], ()) if folder else self.folders  # same first part
        return sorted(path for name in candidates if name == folder or name.startswith(prefix)
                      for path in self.folders[name])

    def find(self, patterns: Iterable[str]) -> list[str]:
        """Files whose path matches any of the globs."""
        found: set[str] = set()
        for pattern in patterns:
            found.update(filter(_matcher(pattern), self._path_candidates(pattern)))
        return sorted(found)

    def find_names(self, patterns: Iterable[str]) -> list[str]:
        """Files whose base name matches any of the globs (a glob with a `/` outside a `[...]` set matches none)."""
        found: set[str] = set()
        for pattern in patterns:
            if "/" not in pattern or "[" in pattern:
                for name in filter(_matcher(pattern), self._name_candidates(pattern)):
                    found.update(self.names[name])
        return sorted(found)

    def matches(self, patterns: Iterable[str]) -> Iterator[str]:
        """Files whose path or base name matches one of the globs, in no particular order, possibly repeated:
        for a question that the first answer settles."""
        for pattern in patterns:
            if not _name_decides(pattern):
                yield from filter(_matcher(pattern), self._path_candidates(pattern))
            if "/" not in pattern or "[" in pattern:
                for name in filter(_matcher(pattern), self._name_candidates(pattern)):
                    yield from self.names[name]

    def _path_candidates(self, pattern: str) -> Iterable[str]:
        """Every file the glob could match (more, never fewer)."""
        shape = _shape(pattern)
        if shape.plain:
            return (pattern,) if pattern in self.file_set else ()
        if shape.has_set:
            return self.files
        head, tail, inner = shape.head, shape.tail, shape.inner
        if "/" in tail:  # `*/Dockerfile`: a file named Dockerfile
            return self.names.get(tail.rpartition("/")[2], ())
        if "/" not in head and any(i != "/" for i in inner):
            # `*/migrations/0*.py`, `*/environments/*`: a file whose folder (with a `/` after it) holds `/migrations/`
            first, *rest = inner  # most folders fail the first test: `all` runs for the few that pass it
            return (path for folder, paths in self.slashed if first in folder and all(i in folder for i in rest)
                    for path in paths)
        if "/" in head or not tail:  # `k8s/*.yml`, `Dockerfile.*`: a path that starts with `head`
            return (path for folder in self._folders_starting(head) for path in self.folders.get(folder, ()))
        return (path for name in self._name_candidates(pattern) for path in self.names[name])

    def _folders_starting(self, head: str) -> list[str]:
        """The folders where a file's path can start with `head`."""
        top, slash, _ = head.partition("/")
        tops = [top] if slash else [t for t in self.tops if t.startswith(head)]
        candidates = [folder for t in tops for folder in self.tops.get(t, ())]
        return [f for f in candidates if _may_start(f, head)] + ([] if slash else [""])

    def _name_candidates(self, pattern: str) -> Iterable[str]:
        """Every base name the glob could match, from its plain ending (`*Test.java`: a name ending in `.java`,
        `*.y*ml`: one whose ending ends in `ml`) or else its plain start."""
        shape = _shape(pattern)
        if shape.plain:
            return (pattern,) if pattern in self.names else ()
        if shape.has_set:
            return self.names
        head, tail = shape.head, shape.tail
        if "." in tail:
            return self.endings.get(tail[tail.rfind("."):], ())
        if tail:
            return [name for ending, names in self.endings.items() if ending.endswith(tail) for name in names]
        return [name for name in self.initials.get(head[:1], ()) if name.startswith(head)] if head else self.names


class _Shape(NamedTuple):
    """A glob's fixed parts, which say where the files it can match are."""

    plain: bool  # no wildcard: a path or a name
    has_set: bool  # a `[...]` set: any file may match
    head: str  # before the first `*` or `?`
    tail: str  # after the last
    inner: tuple[str, ...]  # the runs between, each up to its last `/` (`/migrations/` of `*/migrations/0*.py`)


@lru_cache(maxsize=1024)  # a scan asks the same table globs many times; bounded as `_matcher`
def _shape(pattern: str) -> _Shape:
    plain = _STAR_OR_ANY.split(pattern)
    inner = tuple(part[:part.rfind("/") + 1] for part in plain[1:-1] if "/" in part)
    return _Shape(not _WILDCARD.search(pattern), "[" in pattern, plain[0], plain[-1], inner)


def _name_decides(pattern: str) -> bool:
    """Whether a path matches the glob only when its base name does: a plain name or `*plain`, without `/`."""
    return "/" not in pattern and not _WILDCARD.search(pattern.removeprefix("*"))


def _may_start(folder: str, head: str) -> bool:
    """Whether a path in `folder` can start with `head`."""
    prefix = folder + "/" if folder else ""
    return prefix.startswith(head) or head.startswith(prefix)


@lru_cache(maxsize=1024)  # bounded: GitLab include globs come from the scanned repositories
def _matcher(pattern: str) -> Callable[[str], object]:
    """The glob as a test run in C: a plain name, `*plain` and `plain*` as string methods (most of the tables'
    globs, so a cold scan compiles few expressions), else the compiled glob, a leading `*` as a search."""
    bare = pattern.lstrip("*")
    if not _WILDCARD.search(pattern):
        return pattern.__eq__
    if pattern.startswith("*") and not _WILDCARD.search(bare):
        return methodcaller("endswith", bare)
    if pattern.endswith("*") and not _WILDCARD.search(pattern[:-1]):
        return methodcaller("startswith", pattern[:-1])
    regex = re.compile(translate(bare))
    return regex.search if bare != pattern else regex.match
