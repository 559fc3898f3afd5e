"""The CI collector's speed choices keep its facts: what is remembered or skipped changes no answer."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from helpers import write

from devops_audit.classify import default_classifier
from devops_audit.collectors.ci import injection
from devops_audit.collectors.ci.follow import Follower
from devops_audit.collectors.ci.pipelines import collect
from devops_audit.facts import Location, Step
from devops_audit.workspace import Workspace

MATRIX_ONLY = """\
name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.12", "3.13"]
    steps:
      - run: echo "${{ matrix.python }}"
      - run: make test
      - run: make test
"""


def facts(root: Path) -> dict[str, Any]:
    return collect(Workspace(root), None).facts


def test_the_contexts_table_never_names_a_context_followed_through_the_file() -> None:
    named = {name.split(".", 1)[0] for name in injection.contexts_table()["contexts"]}
    assert not named & injection._FOLLOWED_CONTEXTS


def test_matrix_values_alone_do_not_load_the_contexts_table(tmp_path: Path) -> None:
    write(tmp_path, {".github/workflows/ci.yml": MATRIX_ONLY, "Makefile": "test:\n\tpytest -q\n"})
    injection.contexts_table.cache_clear()
    try:
        facts(tmp_path)
        assert injection.contexts_table.cache_info().currsize == 0
    finally:
        injection.contexts_table.cache_clear()


def test_steps_leading_to_the_same_command_get_lists_of_their_own(tmp_path: Path) -> None:
    write(tmp_path, {"Makefile": "test:\n\tpytest -q\n"})
    follower = Follower(Workspace(tmp_path), default_classifier())
    first, second = (follower.steps_for(Step(name="t", locator=f"jobs.t.steps[{line}]",
                                             location=Location(".github/workflows/ci.yml", line), run="make test"))
                     for line in (10, 11))
    assert first[0].kinds == second[0].kinds == ["test"]  # classified once, for both
    assert first[0].kinds is not second[0].kinds and first[0].tools is not second[0].tools


def test_quoted_lines_are_split_as_shlex_splits_them() -> None:
    from devops_audit.collectors.ci.follow import shell

    cases = ["echo 'a b' \"c;d\"", "x=''; y=\"\" z", "a'b'c\"d\"|e", "unclosed 'quote", "pip install \"a>=1\"&&b",
             "a ;& b ) ('c')", "tab\t'x'\u00a0y", "'' \"\"", "é'ü'"]
    alphabet = [*"ab  \t;&|()'\"=-$~é\u00a0\x0b/.*", "&&", "''", "'a b'", '"c;d"']
    rng = random.Random(14)
    cases += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16))) for _ in range(20_000)]
    for line in cases:
        if shell._NEEDS_SHLEX.search(line) and not shell._ESCAPE_OR_COMMENT.search(line):
            quoted = shell._quoted_tokens(line)
            assert (shell._shlex_tokens(line) if quoted is None else quoted) == shell._shlex_tokens(line), line
