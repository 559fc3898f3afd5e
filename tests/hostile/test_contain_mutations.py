"""One bad file loses only itself: every realistic evidence file, one value at a time given a wrong type.

For each file a collector reads in the fixtures (and the shared corpus when present), values spread over the
document are replaced by an integer, a boolean, a list, a mapping, null and a 100 kB string. The
collectors must complete and hand CEL facts it accepts; the mutated file must have an inventory entry
naming it (unless the document or one of its top-level keys was replaced: a file recognised by its content,
`steps:` in an Azure pipeline, is then no longer one); every other file must keep its status.
`MUTATION_SLOTS=0` tries every position (slow: ~13 000 runs); the default tries 3 per file.
"""

from __future__ import annotations

import os

import pytest
from mutation_support import WRONG_TYPES, Target, check_contained, copy_with, mutated_bytes, structured_slots, targets

SLOTS_PER_FILE = int(os.environ.get("MUTATION_SLOTS", "3"))


def _spread(positions: list[tuple], count: int) -> list[tuple]:
    """`count` positions spread over the document (the root and the deepest included), all when count is 0."""
    if not count or len(positions) <= count:
        return positions
    step = (len(positions) - 1) / (count - 1)
    return list(dict.fromkeys(positions[round(i * step)] for i in range(count)))


def _cases() -> list[tuple[Target, tuple]]:
    return [(target, slot) for target in targets() for slot in _spread(structured_slots(target), SLOTS_PER_FILE)]


CASES = _cases()


@pytest.mark.parametrize(("target", "slot"), CASES, ids=[f"{t.name}@{'/'.join(map(str, s))}" for t, s in CASES])
def test_a_wrong_type_in_one_file_loses_only_that_file(tmp_path, target, slot):
    problems = {}
    for kind, value in WRONG_TYPES.items():
        root = copy_with(target, mutated_bytes(target, slot, value), tmp_path / kind)
        found = check_contained(target, root, full=False, expect_entry=len(slot) > 1)
        if found:
            problems[kind] = found
    assert not problems, problems


def test_the_mutations_reach_every_kind_of_evidence():
    kinds = {t.path.rsplit(".", 1)[-1] for t, _ in CASES}
    assert {"yml", "json", "xml", "sarif"} <= kinds, kinds
