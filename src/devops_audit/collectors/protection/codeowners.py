"""The `codeowners` namespace: who owns which files, per the repository's CODEOWNERS file.

Understood:
- Location: `.github/CODEOWNERS`, `CODEOWNERS`, `docs/CODEOWNERS`, `.gitlab/CODEOWNERS`; the first found wins
  (GitHub reads the first three in that order, GitLab reads root, `docs/`, `.gitlab/` in that order).
  GitHub ignores files over 3 MB; so do we.
- Patterns, GitHub semantics: a leading `/` or a `/` inside the pattern anchors it to the root, a pattern
  without one matches at any depth; a trailing `/` matches only what is below a directory; `*` and `?` do
  not cross `/`, a lone `*` segment matches one level only (`docs/*` does not own `docs/a/b.md`), `**`
  crosses any number of levels; a backslash escapes the next character (`\\#`, `\\ `); `[...]` ranges and
  `!` negation are not supported; the last matching line wins. In a GitLab file (one with `[Section]`
  headers, or under `.gitlab/`) an unanchored pattern matches at any depth even when it contains a `/`.
- Owners: `@user`, `@org/team` (GitLab: `@group/subgroup`), `@@role` (GitLab), e-mail addresses. An inline
  `# comment` ends the owners. A line with a malformed owner is skipped entirely, as GitHub does.
- GitLab sections: `[Section]`, `^[Optional]`, `[Section][2]` (approvals), default owners after the header;
  each section is matched on its own and a file is owned when any section gives it owners.
- Invalid lines (negation, malformed owner or section header, a pattern without owners in a GitLab file
  whose section has no default owners) become inventory errors with their line; the valid lines count.
  In a GitHub file a pattern without owners is valid and means "these files have no owner".

Facts: `exists`, `path`, `location`, `flavor`, `rules`, `invalid`, `owners`, `coverage` (share of tracked
files owned), `files_total`, `files_owned`, `uncovered_sample`, `sensitive` (CI configs and dependency
manifests present, each `{path, kind, owned, owners}`), `sensitive_unowned` and its count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from devops_audit.collectors import unexpected_content
from devops_audit.collectors.ci.pipelines import is_test_data
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence, InventoryEntry, Location, to_data
from devops_audit.workspace import MiB, Workspace

__all__ = ["NAME", "KIND", "CANDIDATES", "Rule", "InvalidLine", "Parsed", "Ownership", "parse", "pattern_regex",
           "collect", "sensitive_paths"]

NAME = "codeowners"
KIND = "codeowners"
CANDIDATES = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
MAX_BYTES = 3 * MiB
UNCOVERED_SAMPLE = 10
SENSITIVE_LIMIT = 200
CI_FILES = (".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml", "azure-pipelines.yaml",
            ".circleci/config.yml", ".circleci/config.yaml", "bitbucket-pipelines.yml")
MANIFESTS = frozenset({
    "pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock", "pdm.lock",
    "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "go.mod", "go.sum", "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts",
    "gradle.lockfile", "Cargo.toml", "Cargo.lock", "Gemfile", "Gemfile.lock", "composer.json", "composer.lock",
    "packages.lock.json", "Directory.Packages.props", "mix.exs", "mix.lock", "Package.swift", "Package.resolved",
})
_REQUIREMENTS = re.compile(r"^requirements[^/]*\.(txt|in)$")
# the parser's expressions: `re` compiles (and caches) them when a CODEOWNERS file is first read, most
# repositories have none
_SECTION = r"^(\^)?\[([^\[\]]*)\](?:\[(\d+)\])?(?:\s+(.*))?$"
_OWNER = (
    r"^(?:@@(?:developer|maintainer|owner)s?"
    r"|@[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*"
    r"|[^@\s/]+@[^@\s/]+\.[^@\s/]+)$"
)
_TOKEN = r"(?:\\.|\S)+"
_WILDCARD = re.compile(r"[*?\\]")


@dataclass
class Rule:
    """One ownership line: `owners` empty means "no owner" for the files it matches (GitHub)."""

    pattern: str
    owners: list[str]
    line: int
    section: str = ""
    optional: bool = False
    approvals: int | None = None


@dataclass
class InvalidLine:
    """A CODEOWNERS line the forge would ignore, and why."""

    line: int
    reason: str


@dataclass
class _Section:
    """A GitLab CODEOWNERS `[section]` header: optional, approvals, default owners."""

    name: str
    optional: bool
    approvals: int | None
    default_owners: list[str]


@dataclass
class Parsed:
    """A CODEOWNERS file's rules (in file order) and its invalid lines."""

    flavor: str
    rules: list[Rule] = field(default_factory=list)
    invalid: list[InvalidLine] = field(default_factory=list)


# -- parsing -----------------------------------------------------------------------------------
def parse(text: str, path: str = "CODEOWNERS") -> Parsed:
    """Rules and invalid lines of a CODEOWNERS text; never raises."""
    lines = text.splitlines()
    gitlab = path.startswith(".gitlab/") or any(_is_section_line(line.strip()) for line in lines)
    parsed = Parsed("gitlab" if gitlab else "github")
    section: _Section | None = None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _is_section_line(line):
            section = _section(line, number, parsed) or section
            continue
        rule = _entry(line, number, section, parsed)
        if rule:
            parsed.rules.append(rule)
    return parsed


def _is_section_line(line: str) -> bool:
    return line.startswith("[") or line.startswith("^[")


def _section(line: str, number: int, parsed: Parsed) -> _Section | None:
    match = re.match(_SECTION, line)
    if not match or not match.group(2).strip():
        parsed.invalid.append(InvalidLine(number, f"malformed section header {line!r} "
                                                  "(expected [Name], ^[Name], [Name][2], optionally with owners)"))
        return None
    owners = _owners(_tokens(match.group(4) or ""), number, parsed)
    if owners is None:
        return None
    approvals = int(match.group(3)) if match.group(3) else None
    return _Section(match.group(2).strip(), bool(match.group(1)), approvals, owners)


def _entry(line: str, number: int, section: _Section | None, parsed: Parsed) -> Rule | None:
    pattern, *rest = _tokens(line)
    if pattern.startswith("!"):
        parsed.invalid.append(InvalidLine(number, f"negation pattern {pattern!r} is not supported in CODEOWNERS"))
        return None
    if "***" in pattern:
        parsed.invalid.append(InvalidLine(number, f"pattern {pattern!r} has three consecutive asterisks"))
        return None
    owners = _owners(rest, number, parsed)
    if owners is None:
        return None
    if not owners and section and section.default_owners:
        owners = list(section.default_owners)
    if not owners and parsed.flavor == "gitlab":
        where = f"section [{section.name}]" if section else "the file"
        parsed.invalid.append(InvalidLine(number, f"pattern {pattern!r} has no owners and {where} "
                                                  "has no default owners"))
        return None
    return Rule(pattern, owners, number, section.name if section else "",
                section.optional if section else False, section.approvals if section else None)


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens (a backslash escapes a space) up to an inline `#` comment."""
    tokens = []
    for token in re.findall(_TOKEN, text):
        if token.startswith("#"):
            break
        tokens.append(token)
    return tokens


def _owners(tokens: list[str], number: int, parsed: Parsed) -> list[str] | None:
    bad = [t for t in tokens if not re.match(_OWNER, t)]
    if bad:
        parsed.invalid.append(InvalidLine(number, f"malformed owner {bad[0]!r} (expected @user, @org/team or an "
                                                  "e-mail address); the whole line is ignored"))
        return None
    return tokens


# -- matching ----------------------------------------------------------------------------------
def pattern_regex(pattern: str, flavor: str = "github") -> str:
    """A regular expression (for `re.fullmatch`) equivalent to one CODEOWNERS pattern."""
    if pattern == "/":
        return r"(?!)"
    anchored = pattern.startswith("/")
    body = pattern[1:] if anchored else pattern
    segments = body.split("/")
    if segments[-1] == "" and len(segments) > 1:
        segments[-1] = "**"  # a trailing slash: everything below the directory
    single = len(segments) == 1 or (len(segments) == 2 and segments[1] == "**")  # `name` or `name/`
    floating = not anchored and (flavor == "gitlab" or single)
    if floating and segments[0] != "**":
        segments.insert(0, "**")
    out: list[str] = []
    need_slash = False
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if segment == "**":
            if index == 0:
                out.append(".+" if index == last else "(?:.+/)?")
                need_slash = False
            elif index == last:
                out.append("/.*")
            else:
                out.append("(?:/.+)?")
                need_slash = True
            continue
        out.append("/" if need_slash else "")
        out.append("[^/]+" if segment == "*" else _segment(segment))
        if index == last and segment != "*":
            out.append("(?:/.*)?")  # a name also owns everything below it when it is a directory
        need_slash = True
    return "".join(out)


def _segment(segment: str) -> str:
    out = []
    escaped = False
    for char in segment:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _literal_hint(pattern: str) -> str:
    """The longest wildcard-free run of a pattern: a cheap `in` test before the regex."""
    pieces = re.split(r"\*+|\?|\\.|/", pattern)
    return max(pieces, key=len) if pieces else ""


class _Matcher:
    """Last-match-wins ownership for the rules of one section, compiled once.

    Literal patterns (most lines of large files) are dictionary lookups on a path's prefixes or names;
    the others are regexes, tried newest first, each behind a substring test.
    """

    def __init__(self, rules: list[Rule], flavor: str) -> None:
        self.rules = rules
        self.anchored: dict[str, int] = {}  # path or directory -> newest rule index
        self.anchored_dir: dict[str, int] = {}  # directory only (trailing slash)
        self.named: dict[str, int] = {}  # any path component with this name (file or directory)
        self.named_dir: dict[str, int] = {}
        self.regexes: list[tuple[int, str, re.Pattern[str]]] = []
        self._folders: dict[str, tuple[int, str]] = {}  # `a/b/` -> its literal best and prefix: once per folder
        for index, rule in enumerate(rules):
            self._add(index, rule.pattern, flavor)
        self.regexes.reverse()

    def _add(self, index: int, pattern: str, flavor: str) -> None:
        if not _WILDCARD.search(pattern) and pattern.strip("/"):
            body = pattern.strip("/")
            dir_only = pattern.endswith("/")
            anchored = pattern.startswith("/") or "/" in body
            if anchored and not (flavor == "gitlab" and not pattern.startswith("/")):
                (self.anchored_dir if dir_only else self.anchored)[body] = index
                return
            if "/" not in body:
                (self.named_dir if dir_only else self.named)[body] = index
                return
        self.regexes.append((index, _literal_hint(pattern), re.compile(pattern_regex(pattern, flavor))))

    def match(self, path: str) -> int:
        """Index of the last rule matching `path`, or -1."""
        name = path.rpartition("/")[2]
        best, prefix = self._folder(path[:len(path) - len(name)])
        prefix = f"{prefix}/{name}" if prefix else name
        best = max(best, self.anchored.get(prefix, -1), self.named.get(name, -1))
        for index, hint, regex in self.regexes:
            if index <= best:
                break
            if hint in path and regex.fullmatch(path):
                return index
        return best

    def _folder(self, folder: str) -> tuple[int, str]:
        """The newest literal rule owning what is below `folder` (`""` or ending in `/`), and the prefix a
        name in it extends (the folder without its last `/`)."""
        if folder not in self._folders:
            best, prefix = -1, ""
            for part in folder.split("/")[:-1]:
                prefix = f"{prefix}/{part}" if prefix else part
                best = max(best, self.anchored.get(prefix, -1), self.named.get(part, -1),
                           self.anchored_dir.get(prefix, -1), self.named_dir.get(part, -1))
            self._folders[folder] = best, prefix
        return self._folders[folder]


class Ownership:
    """Owners of any path under a parsed CODEOWNERS; GitLab sections are matched independently."""

    def __init__(self, parsed: Parsed) -> None:
        by_section: dict[str, list[Rule]] = {}
        for rule in parsed.rules:
            by_section.setdefault(rule.section.lower(), []).append(rule)
        self._matchers = [_Matcher(rules, parsed.flavor) for rules in by_section.values()]

    def owners(self, path: str) -> list[str]:
        """Every owner the last matching line of each section names; empty when unowned."""
        owners: list[str] = []
        for matcher in self._matchers:
            index = matcher.match(path)
            if index >= 0:
                owners.extend(o for o in matcher.rules[index].owners if o not in owners)
        return owners


# -- the collector -----------------------------------------------------------------------------
def sensitive_paths(workspace: Workspace) -> list[tuple[str, str]]:
    """(path, kind) of CI configs and dependency manifests present, CI first, shallow before deep."""
    found: list[tuple[str, str]] = []
    index = workspace.index
    if ".github" in index.tops:
        found.append((".github/", "ci"))
    for path in index.folders.get(".github/workflows", ()):
        if path.endswith((".yml", ".yaml")):
            found.append((path, "ci"))
    found.extend((path, "ci") for path in CI_FILES if path in workspace.file_set)
    candidates = [*index.named(*MANIFESTS), *index.find_names(("requirements*",))]
    manifests = [p for p in dict.fromkeys(candidates) if _is_manifest(p)]
    found.extend((path, "dependencies") for path in sorted(manifests, key=lambda p: (p.count("/"), p)))
    return found


def _is_manifest(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return (name in MANIFESTS or bool(_REQUIREMENTS.match(name))) and not is_test_data(path)


def collect(workspace: Workspace, options: Any) -> Evidence:
    path = next((p for p in CANDIDATES if p in workspace.file_set), None)
    inventory: list[InventoryEntry] = []
    parsed = Parsed("github")
    if path:
        try:
            parsed = parse(workspace.read_text(path, max_bytes=MAX_BYTES), path)
            inventory.append(InventoryEntry(path, KIND, "parsed", evidence=NAME))
        except EvidenceError as exc:
            inventory.append(InventoryEntry(path, KIND, "error", exc.reason, exc.line, NAME))
        except Exception as exc:  # an unexpected shape: the file is an error, the facts say "no rules read"
            inventory.append(unexpected_content(path, KIND, exc, NAME))
        inventory.extend(InventoryEntry(path, KIND, "error", bad.reason, bad.line, NAME) for bad in parsed.invalid)
    return Evidence(NAME, True, _facts(workspace, path, parsed), inventory,
                    hint="add a CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS, docs/ or .gitlab/)")


def _facts(workspace: Workspace, path: str | None, parsed: Parsed) -> dict[str, Any]:
    ownership = Ownership(parsed)
    owned = 0
    uncovered: list[str] = []
    for file in workspace.files:
        if ownership.owners(file):
            owned += 1
        elif len(uncovered) < UNCOVERED_SAMPLE:
            uncovered.append(file)
        elif not parsed.rules:  # nothing is owned: once the sample is full, the other files add nothing
            break
    total = len(workspace.files)
    sensitive = [_sensitive(workspace, ownership, p, kind) for p, kind in sensitive_paths(workspace)]
    unowned = [s["path"] for s in sensitive if not s["owned"]]
    return {
        "exists": path is not None,
        "path": path,
        "location": to_data(Location(path, 1)) if path else None,
        "flavor": parsed.flavor,
        "rules": [to_data(r) for r in parsed.rules],
        "invalid": [to_data(i) for i in parsed.invalid],
        "owners": sorted({o for r in parsed.rules for o in r.owners}),
        "coverage": owned / total if total else 0.0,
        "files_total": total,
        "files_owned": owned,
        "uncovered_sample": uncovered,
        "sensitive": sensitive[:SENSITIVE_LIMIT],
        "sensitive_unowned": unowned[:SENSITIVE_LIMIT],
        "sensitive_unowned_count": len(unowned),
    }


def _sensitive(workspace: Workspace, ownership: Ownership, path: str, kind: str) -> dict[str, Any]:
    if path.endswith("/"):  # a directory: owned when every file in it is
        members = [ownership.owners(p) for p in workspace.index.under(path.rstrip("/"))]
        owners = sorted({o for found in members for o in found})
        return {"path": path, "kind": kind, "owned": all(members), "owners": owners}
    owners = ownership.owners(path)
    return {"path": path, "kind": kind, "owned": bool(owners), "owners": owners}
