"""Read the code snippets of the README (each follows a `<!-- snippet: NAME -->` marker)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "README.md"


def snippet(name: str) -> str:
    match = re.search(rf"<!-- snippet: {re.escape(name)} -->\n```\w*\n(.*?)```", DOC.read_text(), re.S)
    assert match, f"README.md has no snippet {name!r}"
    return match.group(1)
