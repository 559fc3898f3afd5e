"""The tool table: every row compiles, and a script is searched only by the rows it can match."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from devops_audit.classify import Classifier, ToolRule, _leading_words, default_classifier


def test_every_row_of_the_table_compiles():
    rows = [rule for rule in default_classifier().rules if rule.commands is not None]
    assert rows and all(rule.commands.regex.pattern for rule in rows)  # compiled at first use: compile them all


@pytest.mark.parametrize(("pattern", "words"), [
    (r"\bpytest\b", ("pytest",)),
    (r"--cov\b", ("--cov",)),
    (r"\bpy\.test\b", ("py",)),
    (r"\bgradlew?\b.*\bpublish\b", ("gradle",)),  # `?` makes the last letter optional
    (r"\b(npm|pnpm|yarn)\s+audit\b", ("npm", "pnpm", "yarn")),
    (r"\b(?:mvn|mvnw)\b", ("mvn", "mvnw")),
    (r"\bspotless(Check|:check)\b", ("spotless",)),
    (r"\b(npm|pnpm)?\s+x", ()),  # the group is optional
    (r"\bfoo|bar", ()),  # the word is one side of an alternation
    (r"\bfoo(a)|bar", ()),
    (r"(?i:\bInvoke-Pester\b)", ()),  # case-insensitive: the word may be written otherwise
    (r"^\s*make(\s|$)", ()),
    (r"\b(make|hatch\s+run)\b", ()),
])
def test_the_words_a_pattern_needs(pattern, words):
    assert _leading_words(pattern) == words


def test_a_row_is_compiled_only_when_a_script_holds_one_of_its_words():
    rows = [ToolRule.from_data({"tool": "pytest", "kinds": ["test"], "commands": [r"\bpytest\b"]}),
            ToolRule.from_data({"tool": "make", "kinds": ["build"], "commands": [r"^\s*make(\s|$)"]})]
    classifier = Classifier(rows)
    assert classifier.classify(run="make all") == (["build"], ["make"])
    assert "regex" not in vars(rows[0].commands)  # no script named pytest yet
    assert classifier.classify(run="python -m pytest") == (["test"], ["pytest"])


def test_a_config_row_is_compiled_at_once_with_re2():
    with pytest.raises(ValueError, match="RE2"):
        ToolRule.from_data({"tool": "x", "kinds": ["lint"], "commands": [r"\bx\b(?!y)"]}, trusted=False)
    classifier = default_classifier().extended([{"tool": "acme", "kinds": ["lint"], "commands": [r"acme-lint\b"]}])
    assert classifier.classify(run="run acme-lint now") == (["lint"], ["acme"])
    assert classifier.classify(run="python -m pytest") == (["test"], ["pytest"])


def test_the_words_never_hide_a_match():
    """Every script line of the fixtures: the rows searched find what searching every row finds."""
    classifier = default_classifier()
    texts = {line for path in FIXTURES.rglob("*") if path.is_file() and path.suffix in (".yml", ".yaml", ".sh", "")
             for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()}
    assert len(texts) > 500
    for text in texts:
        everywhere = {rule.tool for rule in classifier.rules if rule.commands and rule.commands.regex.search(text)}
        assert {rule.tool for rule in classifier._script_rules(text)} == everywhere, text


def test_uses_match_a_row_naming_them_or_one_of_their_folders_and_images_by_prefix():
    classifier = Classifier([ToolRule.from_data(row) for row in (
        {"tool": "scan", "kinds": ["sast"], "uses": ["Acme/Scan"]},
        {"tool": "new-scan", "kinds": ["sast"], "uses": ["acme/scan@>=1.2"]},
        {"tool": "kaniko", "kinds": ["build"], "images": ["gcr.io/kaniko"]},
    )])
    assert classifier.classify(uses="acme/scan@v1") == (["sast"], ["new-scan", "scan"])  # a moving major tag
    assert classifier.classify(uses="ACME/scan/init@v1.1") == (["sast"], ["scan"])  # a folder of the action
    assert classifier.classify(uses="acme/scan@v1.1") == (["sast"], ["scan"])  # older than 1.2
    assert classifier.classify(uses="acme/scanner@v1") == ([], [])  # a prefix that is not a folder
    assert classifier.classify(run="echo", image="GCR.io/kaniko-project/executor:v1") == (["build"], ["kaniko"])
    assert classifier.classify(uses="acme/scan/@v2", image="gcr.io/kaniko") == (["build", "sast"], ["kaniko", "new-scan", "scan"])


def test_a_workflow_auditor_is_a_linter_of_ci_files_not_sast_of_the_code():
    """zizmor reads only `.github/workflows`: flask runs it and nothing that analyses its Python (SR.TC.01 fails)."""
    classifier = default_classifier()
    assert classifier.classify(run="uvx zizmor --format=sarif .") == (["lint"], ["zizmor"])
    assert classifier.classify(uses="zizmorcore/zizmor-action@v0.1.1") == (["lint"], ["zizmor"])
    assert classifier.classify(run="bandit -r src")[0] == ["sast"]
