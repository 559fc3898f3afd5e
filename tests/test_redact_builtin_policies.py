"""`redact` hands the tool's own indicators to the reporters as they are: they must hold nothing to mask."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from devops_audit import redact
from devops_audit.policy import load_policies


def test_builtin_indicators_hold_nothing_to_redact():
    indicators = load_policies([]).indicators
    assert indicators and {str(Path(i.source).parent) for i in indicators} == {redact._builtin_policy_folder()}
    for indicator in indicators:
        assert redact._redacted_indicator(indicator) is indicator
        assert redact.redact_value(indicator) == indicator, indicator.id


def test_other_policy_files_are_redacted(tmp_path):
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2
    builtin = load_policies([]).indicators[0]
    for source in (tmp_path / Path(builtin.source).name, Path(builtin.source).parent.parent / "x.yaml"):
        indicator = replace(builtin, source=str(source), description=f"see https://{token}@example.com")
        safe = redact._redacted_indicator(indicator)
        assert safe is not indicator and token not in safe.description
