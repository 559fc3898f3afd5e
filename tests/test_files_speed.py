"""The faster paths of the files and codeowners collectors answer exactly what the plain ones did."""

from __future__ import annotations

import random
import re

from devops_audit.collectors import files
from devops_audit.collectors.protection import codeowners


def test_linter_plugins_equal_the_case_insensitive_regex() -> None:
    pieces = ["checkstyle", "CheckStyle", "PMD", "spmd", "pmd_", "_pmd", "error_prone", "errorprone", "ktlint",
              "deteKt", "spotless", "spotbugs", " ", "-", "_", "a", "1", "<", "\n", "ſ", "é", "\u212a", "İ", "."]
    rng = random.Random(3)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        expected = {m.group(1).lower() for m in re.finditer(files._BUILD_LINTERS, text)}
        assert files._linter_plugins(text) == expected, text


def _plain_match(matcher: codeowners._Matcher, path: str) -> int:
    """The per-path walk the folder memo replaces."""
    best = -1
    parts = path.split("/")
    prefix = ""
    for depth, part in enumerate(parts):
        prefix = f"{prefix}/{part}" if prefix else part
        best = max(best, matcher.anchored.get(prefix, -1), matcher.named.get(part, -1))
        if depth < len(parts) - 1:
            best = max(best, matcher.anchored_dir.get(prefix, -1), matcher.named_dir.get(part, -1))
    for index, hint, regex in matcher.regexes:
        if index <= best:
            break
        if hint in path and regex.fullmatch(path):
            return index
    return best


def test_codeowners_folder_memo_equals_the_per_path_walk() -> None:
    segments = ["a", "b", "docs", "src", "x.py", "", "*", "**", "*.md", "b*", "?"]
    names = ["a", "b", "docs", "src", "x.py", "", "c.md"]
    rng = random.Random(1)
    for _ in range(1_000):
        lines = []
        for _ in range(rng.randint(1, 8)):
            pattern = "/".join(rng.choice(segments) for _ in range(rng.randint(1, 3)))
            pattern = ("/" if rng.random() < 0.3 else "") + pattern + ("/" if rng.random() < 0.3 else "")
            lines.append(f"{pattern} @o{rng.randint(1, 5)}")
        path = rng.choice([".gitlab/CODEOWNERS", ".github/CODEOWNERS"])
        parsed = codeowners.parse("\n".join(lines), path)
        for matcher in codeowners.Ownership(parsed)._matchers:
            for _ in range(20):
                target = "/".join(rng.choice(names) for _ in range(rng.randint(1, 4)))
                assert matcher.match(target) == _plain_match(matcher, target), (lines, target)


def test_deploy_descriptors_are_the_iac_files_and_the_deployment_files() -> None:
    assert files.DEPLOY_DESCRIPTORS == (*files.IAC, *files.DEPLOYMENT_FILES)
    assert re.fullmatch(r"\w+", "".join(files.BUILD_LINTERS))
