"""CODEOWNERS: where it is found, GitHub's matching rules, GitLab sections, invalid lines, coverage."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import FIXTURES

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.protection.codeowners import Ownership, collect, parse
from devops_audit.workspace import Workspace

PROTECTION = FIXTURES / "protection"


def _repo(tmp_path: Path, files: dict[str, str]) -> Workspace:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Workspace(tmp_path)


def _owned(codeowners: str, path: str) -> bool:
    return bool(Ownership(parse(codeowners)).owners(path))


# -- matching: GitHub's documented semantics -----------------------------------------------------
@pytest.mark.parametrize("pattern, path, owned", [
    ("*", "deep/down/file.py", True),
    ("*.js", "web/app/index.js", True),
    ("*.js", "web/app/index.jsx", False),
    ("docs", "docs/guide/intro.md", True),              # no slash: a name at any depth, directory or file
    ("docs", "site/docs/intro.md", True),
    ("/docs", "site/docs/intro.md", False),             # leading slash: anchored at the root
    ("apps/", "services/apps/api/main.go", True),       # trailing slash alone does not anchor
    ("apps/", "apps", False),                            # ... and matches only what is below a directory
    ("/build/logs/", "build/logs/today.log", True),
    ("/build/logs/", "src/build/logs/today.log", False),
    ("docs/*", "docs/getting-started.md", True),
    ("docs/*", "docs/build-app/troubleshooting.md", False),  # `*` does not cross `/`
    ("src/api", "lib/src/api/x.py", False),             # a slash inside anchors at the root
    ("src/api", "src/api/x.py", True),
    ("**/logs", "deep/er/logs/a.log", True),
    ("/scripts/**", "scripts/release/tag.sh", True),
    ("a/**/b", "a/b/file", True),
    ("a/**/b", "a/x/y/b/file", True),
    ("a/**/b", "z/a/x/b/file", False),
    ("/*", "README.md", True),
    ("/*", "src/main.py", False),
    ("\\#notes.md", "#notes.md", True),                   # escaped leading `#` is a pattern, not a comment
    ("my\\ file.txt", "docs/my file.txt", True),          # escaped space inside a pattern
    ("Docs/", "docs/a.md", False),                        # case-sensitive
])
def test_patterns_follow_github_semantics(pattern: str, path: str, owned: bool) -> None:
    assert _owned(f"{pattern} @owner", path) is owned


def test_last_matching_line_wins_and_empty_owners_unown() -> None:
    text = "*  @everyone\n/apps/ @octocat\n/apps/github\n"
    ownership = Ownership(parse(text))
    assert ownership.owners("apps/web/x.js") == ["@octocat"]
    assert ownership.owners("apps/github/x.js") == []  # documented by GitHub: valid, and means "no owner"
    assert ownership.owners("lib/x.js") == ["@everyone"]
    assert parse(text).invalid == []


def test_owners_accept_users_teams_emails_and_drop_inline_comments() -> None:
    parsed = parse("*.py @alice @acme/backend dev@example.com # reviewed quarterly\n")
    assert parsed.rules[0].owners == ["@alice", "@acme/backend", "dev@example.com"]


# -- invalid lines ------------------------------------------------------------------------------
def test_invalid_lines_are_reported_with_line_numbers_and_valid_lines_still_count() -> None:
    text = "\n".join([
        "# owners",
        "*.md @docs",
        "src/ alice",             # 3: malformed owner (no @)
        "!vendor/ @core",         # 4: negation is not supported
        "lib/ @core @-bad",       # 5: malformed owner
        "tests/ @qa",
    ])
    parsed = parse(text)
    assert [(bad.line, bad.reason.split(" ")[0]) for bad in parsed.invalid] == [
        (3, "malformed"), (4, "negation"), (5, "malformed")]
    assert [rule.pattern for rule in parsed.rules] == ["*.md", "tests/"]
    ownership = Ownership(parsed)
    assert ownership.owners("lib/x.py") == []  # the bad line is ignored entirely, as GitHub does
    assert ownership.owners("tests/t.py") == ["@qa"]


# -- GitLab sections ----------------------------------------------------------------------------
def test_gitlab_sections_default_owners_optional_and_approvals() -> None:
    text = "\n".join([
        "* @devs",
        "[CI][2] @platform",
        ".gitlab-ci.yml",
        "^[Docs] @writers",
        "/docs/",
        "[Deps]",
        "go.mod @platform",
        "go.sum",                 # 8: no owners and the section has no default owners
        "[Broken",                # 9: malformed header
    ])
    parsed = parse(text, ".gitlab/CODEOWNERS")
    assert parsed.flavor == "gitlab"
    ci = next(r for r in parsed.rules if r.pattern == ".gitlab-ci.yml")
    assert (ci.owners, ci.section, ci.approvals, ci.optional) == (["@platform"], "CI", 2, False)
    docs = next(r for r in parsed.rules if r.pattern == "/docs/")
    assert (docs.owners, docs.optional) == (["@writers"], True)
    assert [bad.line for bad in parsed.invalid] == [8, 9]
    # sections apply independently: a CI file is owned by both the default and the CI section
    assert Ownership(parsed).owners(".gitlab-ci.yml") == ["@devs", "@platform"]


def test_gitlab_unanchored_patterns_match_at_any_depth() -> None:
    parsed = parse("[Core] @core\nsrc/api\n", "CODEOWNERS")
    assert Ownership(parsed).owners("services/src/api/x.go") == ["@core"]


# -- the collector on fixture repositories -------------------------------------------------------
def test_fixture_with_full_ownership() -> None:
    facts = collect(Workspace(PROTECTION / "ruleset-strong"), CollectOptions()).facts
    assert facts["exists"] and facts["path"] == ".github/CODEOWNERS"
    assert facts["coverage"] == 1.0 and facts["invalid"] == []
    sensitive = {s["path"]: s for s in facts["sensitive"]}
    assert set(sensitive) == {".github/", ".github/workflows/ci.yml", "pyproject.toml", "requirements.txt"}
    assert sensitive["pyproject.toml"]["owners"] == ["@acme/platform", "@acme/maintainers"]
    assert sensitive[".github/workflows/ci.yml"]["owners"] == ["@acme/platform"]
    assert facts["sensitive_unowned_count"] == 0


def test_fixture_with_partial_ownership_and_bad_lines() -> None:
    evidence = collect(Workspace(PROTECTION / "settings-weak"), CollectOptions())
    facts = evidence.facts
    assert facts["path"] == "CODEOWNERS"
    assert facts["files_owned"] == 2 and facts["files_total"] == 8  # docs/index.md and README.md
    assert facts["coverage"] == pytest.approx(0.25)
    assert ".github/workflows/ci.yml" in facts["uncovered_sample"]
    assert sorted(facts["sensitive_unowned"]) == [".github/", ".github/workflows/ci.yml", "package.json"]
    errors = [(e.path, e.line) for e in evidence.inventory if e.status == "error"]
    assert errors == [("CODEOWNERS", 3), ("CODEOWNERS", 4)]


def test_no_codeowners_is_a_known_absence() -> None:
    evidence = collect(Workspace(PROTECTION / "none"), CollectOptions())
    assert evidence.present  # the file list was read: CODEOWNERS is known to be missing
    assert evidence.facts["exists"] is False and evidence.facts["coverage"] == 0.0
    assert [s["path"] for s in evidence.facts["sensitive"]] == [".github/", ".github/workflows/ci.yml", "go.mod"]


def test_first_location_wins_in_githubs_order(tmp_path: Path) -> None:
    workspace = _repo(tmp_path, {"CODEOWNERS": "* @root\n", ".github/CODEOWNERS": "* @dotgithub\n",
                                 "docs/CODEOWNERS": "* @docs\n"})
    facts = collect(workspace, CollectOptions()).facts
    assert facts["path"] == ".github/CODEOWNERS" and facts["owners"] == ["@dotgithub"]


def test_manifests_in_test_data_are_not_sensitive(tmp_path: Path) -> None:
    workspace = _repo(tmp_path, {"CODEOWNERS": "* @x\n", "package.json": "{}",
                                 "tests/fixtures/app/package.json": "{}", "web/yarn.lock": "",
                                 "requirements-dev.txt": ""})
    paths = [s["path"] for s in collect(workspace, CollectOptions()).facts["sensitive"]]
    assert paths == ["package.json", "requirements-dev.txt", "web/yarn.lock"]


def test_oversized_codeowners_is_an_inventory_error(tmp_path: Path) -> None:
    workspace = _repo(tmp_path, {"CODEOWNERS": "* @x\n" + "#" * (3 * 1024 * 1024), "a.py": ""})
    evidence = collect(workspace, CollectOptions())
    assert evidence.facts["exists"] and evidence.facts["coverage"] == 0.0
    assert evidence.inventory[0].status == "error" and "limit" in evidence.inventory[0].reason


def test_coverage_of_ten_thousand_files_is_fast(tmp_path: Path) -> None:
    files = [f"pkg{i % 40}/sub{i % 13}/mod{i}/file{i}.py" for i in range(10_000)]
    lines = ["*.md @docs"] + [f"/pkg{i}/ @team{i}" for i in range(40)] + \
        [f"pkg{i}/sub{i % 13}/**/*.py @dev{i}" for i in range(40)] + \
        [f"/pkg{i}/sub{j}/mod{i * 13 + j}/ @x" for i in range(40) for j in range(13)]
    ownership = Ownership(parse("\n".join(lines)))
    start = time.perf_counter()
    owned = sum(1 for f in files if ownership.owners(f))
    assert owned == 10_000
    assert time.perf_counter() - start < 0.5


def test_corpus_codeowners_parse_cleanly(corpus_dir: Path) -> None:
    requests = collect(Workspace(corpus_dir / "requests" / "repo"), CollectOptions()).facts
    assert requests["invalid"] == []
    owned = {s["path"]: s["owned"] for s in requests["sensitive"]}
    assert owned[".github/workflows/publish.yml"] and owned["pyproject.toml"]
    assert owned[".github/"] is False  # .github/CODEOWNERS and workflows are owned; the rest of .github/ is not
    git_plugin = collect(Workspace(corpus_dir / "git-plugin" / "repo"), CollectOptions()).facts
    assert git_plugin["coverage"] == 1.0 and git_plugin["owners"] == ["@jenkinsci/git-plugin-developers"]
