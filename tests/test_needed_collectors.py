"""A scan runs only the collectors that an enabled indicator reads; the verdicts it gives are unchanged."""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES, make_git_repo

from devops_audit.scan import ScanOptions, compiled_policies, needed_collectors, run_scan

NOW = "2025-06-01T00:00:00+00:00"


def _scan(repo: Path, disabled: list[str]):
    config = repo / "audit.yml"
    config.write_text(f"disable: [{', '.join(disabled)}]\n", encoding="utf-8")
    return run_scan(repo, ScanOptions(config_path=str(config), now=NOW))


def test_with_only_file_indicators_enabled_ci_and_history_are_not_collected_and_verdicts_stay(tmp_path):
    repo = make_git_repo(FIXTURES / "coverage" / "python-pass", tmp_path / "repo")
    indicators = compiled_policies(()).indicators
    kept = [i.id for i in indicators if i.required_namespaces == ["files"]]
    full = {v.indicator.id: (v.status, v.message) for v in _scan(repo, []).verdicts}
    narrow = _scan(repo, [i.id for i in indicators if i.id not in kept])
    assert "history" not in narrow.facts and "coverage" not in narrow.facts and "files" in narrow.facts
    assert not any(e.evidence == "history" for e in narrow.inventory)
    assert {v.indicator.id: (v.status, v.message) for v in narrow.verdicts} == {i: full[i] for i in kept}


def test_a_namespace_named_only_in_an_expression_is_still_collected():
    indicators = compiled_policies(()).indicators
    for indicator in indicators:
        others = {i.id for i in indicators} - {indicator.id}
        needed = needed_collectors(indicators, others)
        assert set(indicator.required_namespaces) <= set(needed)
        for expression in indicator.expressions.values():
            for name in ("coverage", "history", "security", "codeowners", "protection"):
                if f"{name}." in expression or f"{name} " in expression:
                    assert name in needed, (indicator.id, name)
    assert needed_collectors(indicators, {i.id for i in indicators}) == []
