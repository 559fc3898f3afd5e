"""untrusted.clean: text in containers, kept as it is or made valid."""

from __future__ import annotations

from devops_audit.untrusted import clean


def test_text_in_mappings_and_lists_is_kept_or_made_valid():
    value = {"k": "ascii", "é": "é\ud800", "l": ["x", "ü", "\udfff", {"n": "ñ"}]}
    cleaned = clean(value)
    assert cleaned == {"k": "ascii", "é": "é\ufffd", "l": ["x", "ü", "\ufffd", {"n": "ñ"}]}
    assert cleaned is not value and cleaned["l"] is not value["l"]  # a copy, as before
