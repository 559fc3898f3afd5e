"""The file index answers globs exactly as `fnmatch.fnmatchcase` over every file would."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from devops_audit.collectors.files import ANYWHERE, ARTIFACTS, MIGRATIONS, TEST_FILE_PATTERNS
from devops_audit.fileindex import FileIndex

FILES = sorted([
    "Dockerfile", "Dockerfile.dev", "docker/Dockerfile", "a.yb/c.xml", "x.y/z", "ml", "py", ".py", "k8s",
    "k8sx/a.yml", "k8s/base/deploy.yaml", "dir.py/f", "src/app/migrations/0001_init.py", "db/versions/abc.py",
    "src/test/java/FooTest.java", "tests/test_x.py", "lib/a.tar.gz", "requirements-dev.txt",
    "sub/requirements.txt", ".eslintrc.json", "web/.eslintrc.js", "helm/chart/values.yaml", "values-prod.yml",
    "a/b/c/settings/x.py", "settings/base.py", "weird\nname.py", "x[1].txt", "a/migrations/0x/y.py",
    "migrations/0002.py", "versions/a/b.py", "old_versions/c.py", "helm/values-prod/config.yaml",
    "a/environments/prod.yml", "a/environments/x/y.yml", "environments/z", "abc/x/f", "ab/x/g/h", "x/ab/x",
])
PATTERNS = sorted({
    *(p for patterns in ANYWHERE.values() for p in patterns), *TEST_FILE_PATTERNS, *ARTIFACTS,
    *(p for _, p in MIGRATIONS), "*versions/*.py", "*", "?x*", "a[bc]*", "x[[]1]*", "*.y*ml", "src/*", "*/",
    "s*/t*", "requirements*", "*ml", "k8s", "py", "*.py", "*/values*.yaml", "*/a/*.py",
    "ab*/x/*", "*/x/*", "*b/x/g*",
})


@pytest.mark.parametrize("files", [FILES, [f for f in FILES if "/" in f]], ids=["with-root", "no-root-files"])
def test_every_lookup_is_fnmatch_over_every_file(files):
    index = FileIndex(files)
    for pattern in PATTERNS:
        by_path = [f for f in files if fnmatchcase(f, pattern)]
        by_name = [f for f in files if fnmatchcase(f.rsplit("/", 1)[-1], pattern)]
        assert index.find([pattern]) == by_path, pattern
        assert index.find_names([pattern]) == by_name, pattern
        assert sorted(set(index.matches([pattern]))) == sorted({*by_path, *by_name}), pattern


def test_named_and_under():
    index = FileIndex(FILES)
    assert index.named("Dockerfile", "nothing") == ["Dockerfile", "docker/Dockerfile"]
    assert index.under("k8s") == ["k8s/base/deploy.yaml"]
    assert index.folders[""][:2] == [".eslintrc.json", ".py"]
