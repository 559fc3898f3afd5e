"""`devops_audit.globs`: the compiled glob groups answer exactly what `fnmatch.fnmatchcase` answers."""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from devops_audit.collectors.files import ANYWHERE, ARTIFACTS, MIGRATIONS
from devops_audit.globs import Globs

PATHS = ["pom.xml", "lib/app.jar", "gradle/wrapper/gradle-wrapper.jar", "docker-compose.ci.yml",
         "deploy/docker-compose.yml", "k8s/app.yaml", "k8s/sub/app.yml", "db/migrate/001_init.rb",
         "app/migrations/0001_initial.py", "src/main/resources/db/migration/V1__init.sql", ".eslintrc.json",
         "Dockerfile", "Dockerfile.dev", "docker/Dockerfile", "config/checkstyle/checkstyle.xml", "a.tar.gz",
         "environments/prod/main.tf", "values-prod.yaml", "x", ""]


def test_every_shipped_group_agrees_with_fnmatch_on_paths_and_names():
    groups = [*ANYWHERE.values(), ARTIFACTS, tuple(p for _, p in MIGRATIONS)]
    for patterns in groups:
        match = Globs(patterns)
        for path in PATHS:
            for text in (path, path.rsplit("/", 1)[-1]):
                assert match(text) == any(fnmatchcase(text, p) for p in patterns), (patterns, text)


_CHARS = "ab/.*?[]!-"


@given(st.lists(st.text(_CHARS, max_size=6), min_size=1, max_size=4), st.text("ab/.-[]!", max_size=10))
def test_any_glob_group_agrees_with_fnmatch(patterns, text):
    assert Globs(patterns)(text) == any(fnmatchcase(text, p) for p in patterns)
