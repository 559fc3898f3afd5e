"""The `files` namespace: what the repository's own files say about how it is built and governed.

Build files and ecosystems, lockfiles, linter configs, tests, dependency-update configs,
pre-commit hooks, ignore rules, committed build outputs and binaries, Dockerfiles, IaC and deploy
descriptors, database migrations and environment configs. Mostly recognised by path; a few files are read
(pyproject.toml, requirements files, dependabot, pre-commit) to tell what they configure.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from devops_audit.collectors import unexpected_content
from devops_audit.collectors.ci.pipelines import is_test_data
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence, InventoryEntry, Location, to_data
from devops_audit.workspace import Workspace
from devops_audit.yamlsafe import line_of

__all__ = ["NAME", "collect", "ECOSYSTEMS"]

NAME = "files"

# ecosystem -> (manifest globs, lockfile globs, dependabot `package-ecosystem` names that cover it)
ECOSYSTEMS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "python": (("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile"),
               ("poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock", "pylock.toml", "pylock.*.toml"), ("pip", "uv")),
    "node": (("package.json",), ("package-lock.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "bun.lock",
                                  "npm-shrinkwrap.json"), ("npm",)),
    "go": (("go.mod",), ("go.sum",), ("gomod",)),
    "rust": (("Cargo.toml",), ("Cargo.lock",), ("cargo",)),
    "maven": (("pom.xml",), ("maven.lock", "pom.lock"), ("maven",)),
    "gradle": (("build.gradle", "build.gradle.kts"), ("gradle.lockfile", "*.lockfile", "gradle/verification-metadata.xml"), ("gradle", "maven")),
    "ruby": (("Gemfile",), ("Gemfile.lock",), ("bundler",)),
    "php": (("composer.json",), ("composer.lock",), ("composer",)),
    "dotnet": (("*.csproj", "*.fsproj", "*.sln"), ("packages.lock.json",), ("nuget",)),
}
BUILD_FILES = ("pyproject.toml", "setup.py", "package.json", "pom.xml", "build.gradle", "build.gradle.kts",
               "go.mod", "Cargo.toml", "Makefile", "CMakeLists.txt", "*.csproj", "*.sln", "Gemfile",
               "composer.json", "build.sbt", "meson.build", "BUILD.bazel", "WORKSPACE", "justfile", "Taskfile.yml",
               "noxfile.py", "tox.ini")
LINTER_CONFIGS = ("ruff.toml", ".ruff.toml", ".flake8", ".pylintrc", "pylintrc", "mypy.ini", ".mypy.ini",
                  ".eslintrc", ".eslintrc.*", "eslint.config.*", ".golangci.yml", ".golangci.yaml", ".golangci.toml",
                  "checkstyle.xml", "**/checkstyle*.xml", "sonar-project.properties", ".rubocop.yml",
                  "clippy.toml", ".clippy.toml", "rustfmt.toml", ".stylelintrc*", ".prettierrc*", "biome.json",
                  ".hadolint.yaml", ".yamllint", ".yamllint.yml", ".markdownlint*", "pmd.xml", "spotbugs*.xml",
                  ".scalafmt.conf", ".swiftlint.yml", ".editorconfig-checker.json")
PYPROJECT_LINTERS = ("ruff", "pylint", "mypy", "flake8", "black", "isort", "pyright")
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py", "*_test.go", "*.test.js", "*.test.ts", "*.test.tsx",
                      "*.spec.js", "*.spec.ts", "*Test.java", "*Tests.java", "*Test.kt", "*_spec.rb", "*Tests.cs")
TEST_DIRS = frozenset({"tests", "test", "spec", "__tests__", "testing", "e2e"})
RENOVATE = ("renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json", ".github/renovate.json",
            ".github/renovate.json5", ".gitlab/renovate.json")
ARTIFACTS = ("*.jar", "*.war", "*.ear", "*.whl", "*.egg", "*.tar.gz", "*.tgz", "*.zip", "*.exe", "*.dll", "*.so",
             "*.dylib", "*.class", "*.pyc", "*.o", "*.a", "*.lib", "*.msi", "*.deb", "*.rpm", "*.apk", "*.nupkg")
ARTIFACT_ALLOWED = ("gradle/wrapper/gradle-wrapper.jar", ".mvn/wrapper/maven-wrapper.jar", "*/gradle-wrapper.jar")
IAC = ("*.tf", "*.tfvars", "Chart.yaml", "kustomization.yaml", "kustomization.yml", "docker-compose*.yml",
       "docker-compose*.yaml", "compose.yaml", "compose.yml", "*.bicep", "template.yaml", "serverless.yml",
       "*cloudformation*.y*ml", "k8s/*.y*ml", "kubernetes/*.y*ml", "deploy/*.y*ml", "manifests/*.y*ml",
       "helm/*", "charts/*")
DEPLOY_DESCRIPTORS = (*IAC, "Procfile", "app.yaml", "fly.toml", "vercel.json", "netlify.toml", "appspec.yml",
                      "*playbook*.y*ml", "ansible/*", "Dockerfile", "*/Dockerfile", "Dockerfile.*")
MIGRATIONS = (("django", "*/migrations/0*.py"), ("rails", "db/migrate/*.rb"), ("flyway", "*db/migration/V*.sql"),
              ("liquibase", "*changelog*.xml"), ("liquibase", "*changelog*.y*ml"), ("prisma", "prisma/migrations/*"),
              ("knex", "migrations/*.js"), ("golang-migrate", "*migrations/*.up.sql"), ("sql", "migrations/*.sql"))
ENV_CONFIG = ("config/*.y*ml", "config/*.json", "config/*.toml", "*.env.example", ".env.example", ".env.sample",
              "values-*.y*ml", "environments/*", "env/*", "*/environments/*", "settings/*.py", "*appsettings.*.json",
              "application-*.properties", "application-*.y*ml")
SECRET_SCANNING_HOOKS = ("gitleaks", "detect-secrets", "trufflehog", "ggshield", "talisman", "detect-private-key",
                         "secretlint")


@dataclass
class Ecosystem:
    name: str
    manifests: list[str]
    lockfiles: list[str]
    dependabot: list[str]  # the `package-ecosystem` names in dependabot.yml that cover it
    location: Location


@dataclass
class DependencyUpdates:
    tool: str  # dependabot | renovate
    path: str
    ecosystems: list[str] = field(default_factory=list)  # dependabot package-ecosystem values; ["*"] for renovate


def collect(workspace: Workspace, options: Any) -> Evidence:
    files = workspace.files  # already without the config's `exclude` globs
    inventory: list[InventoryEntry] = []
    root_files = {p for p in files if "/" not in p}

    def at_root(*patterns: str) -> list[str]:
        match = _globs(patterns)
        return [p for p in root_files if match(p)]

    def anywhere(*patterns: str) -> list[str]:
        match = _globs(patterns)
        return [p for p in files if (match(p) or match(p.rsplit("/", 1)[-1])) and not is_test_data(p)]

    pyproject = _read_toml(workspace, "pyproject.toml", inventory) if "pyproject.toml" in root_files else {}
    requirements_hashed = _hashed_requirements(workspace, [p for p in files if re.search(r"(^|/)requirements[^/]*\.txt$", p)
                                                           and not is_test_data(p)], inventory)
    ecosystems = []
    for name, (manifests, locks, dependabot) in ECOSYSTEMS.items():
        found = sorted(anywhere(*manifests)) if name == "dotnet" else sorted(at_root(*manifests))
        if not found:
            continue
        lockfiles = sorted(at_root(*locks))
        if name == "python":
            lockfiles += requirements_hashed
        ecosystems.append(Ecosystem(name, found, sorted(lockfiles), list(dependabot), Location(found[0], 1)))

    linter_configs = sorted(anywhere(*LINTER_CONFIGS))
    linter_configs += [f"pyproject.toml[tool.{tool}]" for tool in PYPROJECT_LINTERS if tool in pyproject.get("tool", {})]
    for ini in ("setup.cfg", "tox.ini"):
        if ini in root_files and re.search(r"^\[(flake8|pylint|mypy|pycodestyle)", _text(workspace, ini, inventory), re.M):
            linter_configs.append(ini)
    precommit = _precommit(workspace, inventory) if ".pre-commit-config.yaml" in root_files else None
    if precommit and precommit["hooks"]:
        linter_configs.append(".pre-commit-config.yaml")

    is_test_file = _globs(TEST_FILE_PATTERNS)
    test_files = [p for p in files if is_test_file(p.rsplit("/", 1)[-1])
                  or any(part in TEST_DIRS for part in p.split("/")[:-1]) or "/src/test/" in f"/{p}"]
    artifacts = [_artifact(p) for p in files if _is_artifact(p)]
    dependency_updates = _dependency_updates(workspace, files, inventory)
    migrations = sorted({tool for tool, pattern in MIGRATIONS if any(map(_globs((pattern,)), files))})
    alembic_versions = _alembic_versions(files, root_files)
    if alembic_versions and "alembic" not in migrations:
        migrations = sorted([*migrations, "alembic"])
    dockerfiles = sorted(p for p in anywhere("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile"))
    iac = sorted(anywhere(*IAC))
    readme = next((p for p in ("README.md", "README.rst", "README", "README.txt") if p in root_files), "")
    build_files = sorted(set(at_root(*BUILD_FILES) + anywhere("*.csproj", "*.sln")))
    facts = {
        "anchor": readme or (build_files[0] if build_files else "."),
        "count": len(files),
        "build_files": build_files,
        "ecosystems": [to_data(e) for e in ecosystems],
        "linter_configs": sorted(set(linter_configs)),
        "test_files": len(test_files),
        "test_sample": test_files[:5],
        "dependency_updates": [to_data(d) for d in dependency_updates],
        "gitignore": ".gitignore" in root_files,
        "committed_artifacts": artifacts[:100],
        "committed_artifact_count": len(artifacts),
        "dockerfiles": dockerfiles,
        "iac": iac,
        "deploy_descriptors": sorted(set(anywhere(*DEPLOY_DESCRIPTORS))),
        "migrations": migrations,
        "alembic_downgrades": _alembic_downgrades(workspace, alembic_versions, inventory),
        "env_configs": sorted(anywhere(*ENV_CONFIG))[:50],
        "precommit": precommit,
        "python_files": sum(1 for p in files if p.endswith(".py")),
        "readme": readme,
    }
    return Evidence(NAME, True, facts, inventory)


def _text(workspace: Workspace, path: str, inventory: list[InventoryEntry]) -> str:
    try:
        return workspace.read_text(path)
    except EvidenceError as exc:
        inventory.append(InventoryEntry(exc.path, "repository-file", "error", exc.reason, exc.line, NAME))
        return ""


def _read_toml(workspace: Workspace, path: str, inventory: list[InventoryEntry]) -> dict[str, Any]:
    import tomllib

    text = _text(workspace, path, inventory)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        inventory.append(InventoryEntry(path, "pyproject", "error", f"invalid TOML: {exc}", line, NAME))
        return {}


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _hashed_requirements(workspace: Workspace, paths: list[str], inventory: list[InventoryEntry]) -> list[str]:
    """Requirements files that pin every package with `--hash` (pip-compile --generate-hashes)."""
    return [p for p in paths if "--hash=" in _text(workspace, p, inventory)]


def _precommit(workspace: Workspace, inventory: list[InventoryEntry]) -> dict[str, Any] | None:
    path = ".pre-commit-config.yaml"
    try:
        documents = workspace.load_yaml(path)
    except EvidenceError as exc:
        inventory.append(InventoryEntry(path, "pre-commit", "error", exc.reason, exc.line, NAME))
        return None
    config = documents[0] if documents else None
    hooks: list[dict[str, Any]] = []
    try:
        for repo in (config or {}).get("repos") or [] if isinstance(config, dict) else []:
            if not isinstance(repo, dict):
                continue
            for hook in repo.get("hooks") or []:
                if isinstance(hook, dict) and hook.get("id"):
                    hooks.append({"id": str(hook["id"]), "repo": str(repo.get("repo", "")),
                                  "line": line_of(hook), "secret_scanning": any(
                                      s in f"{hook['id']} {repo.get('repo', '')}".lower() for s in SECRET_SCANNING_HOOKS)})
    except Exception as exc:  # an unexpected shape (`hooks: true`) loses only this file
        inventory.append(unexpected_content(path, "pre-commit", exc, NAME))
        return None
    inventory.append(InventoryEntry(path, "pre-commit", "parsed", evidence=NAME))
    return {"path": path, "hooks": hooks}


def _dependency_updates(workspace: Workspace, files: list[str], inventory: list[InventoryEntry]) -> list[DependencyUpdates]:
    found = []
    for path in (".github/dependabot.yml", ".github/dependabot.yaml"):
        if path not in workspace.file_set:
            continue
        try:
            documents = workspace.load_yaml(path)
        except EvidenceError as exc:
            inventory.append(InventoryEntry(path, "dependabot", "error", exc.reason, exc.line, NAME))
            continue
        config = documents[0] if documents and isinstance(documents[0], dict) else {}
        updates = config.get("updates") if isinstance(config.get("updates"), list) else []
        ecosystems = sorted({str(u.get("package-ecosystem")) for u in updates if isinstance(u, dict)
                             and u.get("package-ecosystem")})
        inventory.append(InventoryEntry(path, "dependabot", "parsed", evidence=NAME))
        found.append(DependencyUpdates("dependabot", path, ecosystems))
    for path in RENOVATE:
        if path in workspace.file_set:
            found.append(DependencyUpdates("renovate", path, ["*"]))
    if "package.json" in workspace.file_set and not any(d.tool == "renovate" for d in found):
        if '"renovate"' in _text(workspace, "package.json", inventory):
            found.append(DependencyUpdates("renovate", "package.json", ["*"]))
    return found


@cache
def _globs(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """One compiled matcher for a group of `fnmatch` globs (a few hundred calls instead of tens of thousands)."""
    regex = re.compile("|".join(fnmatch.translate(p) for p in patterns))
    return lambda text: regex.match(text) is not None


def _is_artifact(path: str) -> bool:
    if is_test_data(path) or _globs(ARTIFACT_ALLOWED)(path):
        return False
    parts = path.split("/")
    if any(part in ("test", "tests", "testdata", "fixtures", "examples", "docs", "resources") for part in parts[:-1]):
        return False
    return _globs(ARTIFACTS)(parts[-1]) or (len(parts) > 1 and parts[0] == "dist")


def _artifact(path: str) -> dict[str, Any]:
    return {"path": path, "line": 1, "reason": "build output committed" if path.startswith("dist/")
            else f"binary or archive ({path.rsplit('.', 1)[-1]}) committed"}


def _alembic_versions(files: list[str], root_files: set[str]) -> list[str]:
    """Alembic revision files: `*/versions/*.py` under an `alembic/` folder or next to an alembic.ini."""
    has_ini = "alembic.ini" in root_files
    return sorted(p for p in files if fnmatch.fnmatch(p, "*versions/*.py") and (has_ini or "alembic/" in p))


def _alembic_downgrades(workspace: Workspace, versions: list[str], inventory: list[InventoryEntry]) -> bool:
    """Whether alembic migrations implement `downgrade()` with a body (the newest few are read)."""
    for path in versions[-5:]:
        text = _text(workspace, path, inventory)
        match = re.search(r"def downgrade\(\)[^:]*:\s*\n((?:\s+.*\n?)+)", text)
        if match and match.group(1).strip() not in ("pass", '"""Downgrade."""\n    pass'):
            return True
    return False
