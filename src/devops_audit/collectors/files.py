"""The `files` namespace: what the repository's own files say about how it is built and governed.

Build files and ecosystems, lockfiles, linter configs, tests, dependency-update configs,
pre-commit hooks, ignore rules, committed build outputs and binaries, Dockerfiles, IaC and deploy
descriptors, database migrations and environment configs. Mostly recognised by path; a few files are read
(pyproject.toml, requirements files, dependabot, pre-commit) to tell what they configure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from devops_audit.collectors import unexpected_content
from devops_audit.collectors.ci.pipelines import is_test_data
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence, InventoryEntry, Location, to_data
from devops_audit.fileindex import FileIndex
from devops_audit.globs import globs
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
BUILD_LINTERS = ("checkstyle", "spotbugs", "pmd", "errorprone", "error_prone", "spotless", "ktlint", "detekt")
_BUILD_LINTERS = rf"(?i)\b({'|'.join(BUILD_LINTERS)})\b"  # compiled by `re` for the rare non-ASCII build file
PYPROJECT_LINTERS = ("ruff", "pylint", "mypy", "flake8", "black", "isort", "pyright")
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py", "*_test.go", "*.test.js", "*.test.ts", "*.test.tsx",
                      "*.spec.js", "*.spec.ts", "*Test.java", "*Tests.java", "*Test.kt", "*_spec.rb", "*Tests.cs",
                      "*.Tests.ps1", "*.tests.ps1")
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
DEPLOYMENT_FILES = ("Procfile", "app.yaml", "fly.toml", "vercel.json", "netlify.toml", "appspec.yml",
                    "*playbook*.y*ml", "ansible/*", "Dockerfile", "*/Dockerfile", "Dockerfile.*")
DEPLOY_DESCRIPTORS = (*IAC, *DEPLOYMENT_FILES)
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
    """A package ecosystem the repository uses: its manifests, lock files and where it was seen."""

    name: str
    manifests: list[str]
    lockfiles: list[str]
    dependabot: list[str]  # the `package-ecosystem` names in dependabot.yml that cover it
    location: Location


@dataclass
class DependencyUpdates:
    """A Dependabot or Renovate config, with the ecosystems it keeps up to date."""

    tool: str  # dependabot | renovate
    path: str
    ecosystems: list[str] = field(default_factory=list)  # dependabot package-ecosystem values; ["*"] for renovate


# fact -> globs matched against a file's path or its name, anywhere in the tree (test data left out)
ANYWHERE: dict[str, tuple[str, ...]] = {
    "dotnet": ECOSYSTEMS["dotnet"][0],
    "linter_configs": LINTER_CONFIGS,
    "dockerfiles": ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile"),
    "iac": IAC,
    "deploy_descriptors": DEPLOY_DESCRIPTORS,
    "env_configs": ENV_CONFIG,
}
_REQUIREMENTS = re.compile(r"(^|/)requirements[^/]*\.txt$")


@dataclass
class Listing:
    """The file list sorted in one pass: the files each fact is made of."""

    root: set[str] = field(default_factory=set)  # files at the top of the repository
    anywhere: dict[str, list[str]] = field(default_factory=lambda: {group: [] for group in ANYWHERE})
    tests: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    migrations: set[str] = field(default_factory=set)  # tools
    alembic_versions: list[str] = field(default_factory=list)  # `*versions/*.py`, checked against alembic later
    python_files: int = 0


def sort_files(index: FileIndex) -> Listing:
    """The facts' files found through the index: each glob visits only the files that can match it, and the
    folder tests (test folders, test data) run once per folder, not once per file."""
    listing = Listing(root=set(index.folders.get("", ())))
    listing.python_files = sum(map(len, map(index.names.__getitem__, index.endings.get(".py", ()))))  # paths per name
    listing.alembic_versions = index.find(("*versions/*.py",))
    test_folders = [paths for folder, paths in index.folders.items()
                    if not TEST_DIRS.isdisjoint(folder.lower().split("/"))]
    listing.tests = sorted({*index.find_names(TEST_FILE_PATTERNS), *(p for paths in test_folders for p in paths)})
    artifacts = {*index.find_names(ARTIFACTS), *index.under("dist")}
    listing.artifacts = sorted(p for p in artifacts if not _artifact_allowed(p, p.split("/")[:-1]))
    listing.migrations = {tool for tool, pattern in MIGRATIONS if index.find((pattern,))}
    listing.requirements = [p for p in index.find_names(("requirements*",))
                            if _REQUIREMENTS.search(p) and not is_test_data(p)]
    for group, patterns in ANYWHERE.items():
        if group != "deploy_descriptors":
            listing.anywhere[group] = sorted(p for p in set(index.matches(patterns)) if not is_test_data(p))
    deployment = (p for p in set(index.matches(DEPLOYMENT_FILES)) if not is_test_data(p))
    listing.anywhere["deploy_descriptors"] = sorted({*listing.anywhere["iac"], *deployment})  # IaC found once
    return listing


def collect(workspace: Workspace, options: Any) -> Evidence:
    files = workspace.files  # already without the config's `exclude` globs
    inventory: list[InventoryEntry] = []
    listing = sort_files(workspace.index)
    root_files = listing.root
    anywhere = listing.anywhere

    def at_root(*patterns: str) -> list[str]:
        match = globs(patterns)
        return [p for p in root_files if match(p)]

    pyproject = _read_toml(workspace, "pyproject.toml", inventory) if "pyproject.toml" in root_files else {}
    requirements_hashed = _hashed_requirements(workspace, listing.requirements, inventory)
    ecosystems = []
    for name, (manifests, locks, dependabot) in ECOSYSTEMS.items():
        found = sorted(anywhere["dotnet"]) if name == "dotnet" else sorted(at_root(*manifests))
        if not found:
            continue
        lockfiles = sorted(at_root(*locks))
        if name == "python":
            lockfiles += requirements_hashed
        ecosystems.append(Ecosystem(name, found, sorted(lockfiles), list(dependabot), Location(found[0], 1)))

    linter_configs = sorted(anywhere["linter_configs"])
    linter_configs += [f"pyproject.toml[tool.{tool}]" for tool in PYPROJECT_LINTERS if tool in pyproject.get("tool", {})]
    for ini in ("setup.cfg", "tox.ini"):
        if ini in root_files and re.search(r"^\[(flake8|pylint|mypy|pycodestyle)", _text(workspace, ini, inventory), re.M):
            linter_configs.append(ini)
    for build in ("pom.xml", "build.gradle", "build.gradle.kts"):  # linter plugins configured in the build
        if build in root_files:
            plugins = sorted(_linter_plugins(_text(workspace, build, inventory)))
            linter_configs += [f"{build}[{plugin}]" for plugin in plugins]
    precommit = _precommit(workspace, inventory) if ".pre-commit-config.yaml" in root_files else None
    if precommit and precommit["hooks"]:
        linter_configs.append(".pre-commit-config.yaml")

    artifacts = [_artifact(p) for p in listing.artifacts]
    dependency_updates = _dependency_updates(workspace, files, inventory)
    migrations = sorted(listing.migrations)
    alembic_versions = _alembic_versions(listing.alembic_versions, root_files)
    if alembic_versions and "alembic" not in migrations:
        migrations = sorted([*migrations, "alembic"])
    readme = next((p for p in ("README.md", "README.rst", "README", "README.txt") if p in root_files), "")
    build_files = sorted(set(at_root(*BUILD_FILES) + [p for p in anywhere["dotnet"] if not p.endswith(".fsproj")]))
    facts = {
        "anchor": readme or (build_files[0] if build_files else "."),
        "count": len(files),
        "build_files": build_files,
        "ecosystems": [to_data(e) for e in ecosystems],
        "linter_configs": sorted(set(linter_configs)),
        "test_files": len(listing.tests),
        "test_sample": listing.tests[:5],
        "dependency_updates": [to_data(d) for d in dependency_updates],
        "gitignore": ".gitignore" in root_files,
        "committed_artifacts": artifacts[:100],
        "committed_artifact_count": len(artifacts),
        "dockerfiles": sorted(anywhere["dockerfiles"]),
        "iac": sorted(anywhere["iac"]),
        "deploy_descriptors": sorted(set(anywhere["deploy_descriptors"])),
        "migrations": migrations,
        "alembic_downgrades": _alembic_downgrades(workspace, alembic_versions, inventory),
        "env_configs": sorted(anywhere["env_configs"])[:50],
        "precommit": precommit,
        "python_files": listing.python_files,
        "readme": readme,
    }
    return Evidence(NAME, True, facts, inventory)


def _text(workspace: Workspace, path: str, inventory: list[InventoryEntry]) -> str:
    try:
        return workspace.read_text(path)
    except EvidenceError as exc:
        inventory.append(InventoryEntry(exc.path, "repository-file", "error", exc.reason, exc.line, NAME))
        return ""


def _linter_plugins(text: str) -> set[str]:
    """The `BUILD_LINTERS` a build file names as whole words, in any case (what `_BUILD_LINTERS` finds)."""
    if not text.isascii():  # Unicode case folding (`ſ` is an `s`) has no cheap equivalent: the regex decides
        return {m.group(1).lower() for m in re.finditer(_BUILD_LINTERS, text)}
    # one regex per word starting with it (searched for fast) instead of `\b(a|b|...)` tried at every position:
    # 0.2 ms instead of 6 ms on a 100 KB pom.xml
    lowered = text.lower()
    return {word for word in BUILD_LINTERS
            if word in lowered and any(_word_starts(lowered, m.start()) for m in re.finditer(rf"{word}\b", lowered))}


def _word_starts(text: str, position: int) -> bool:
    """Whether a word starts at `position` of an ASCII text (`\b` before a word character)."""
    return position == 0 or not (text[position - 1].isalnum() or text[position - 1] == "_")


def _read_toml(workspace: Workspace, path: str, inventory: list[InventoryEntry]) -> dict[str, Any]:
    import tomllib

    try:
        return workspace.load_toml(path)
    except EvidenceError as exc:
        inventory.append(InventoryEntry(exc.path, "repository-file", "error", exc.reason, exc.line, NAME))
        return {}
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


def _artifact_allowed(path: str, folders: list[str]) -> bool:
    """A binary that belongs where it is: a build-tool wrapper, test data, docs, examples, resources."""
    return (is_test_data(path) or globs(ARTIFACT_ALLOWED)(path)
            or any(part in ("test", "tests", "testdata", "fixtures", "examples", "docs", "resources") for part in folders))


def _artifact(path: str) -> dict[str, Any]:
    return {"path": path, "line": 1, "reason": "build output committed" if path.startswith("dist/")
            else f"binary or archive ({path.rsplit('.', 1)[-1]}) committed"}


def _alembic_versions(candidates: list[str], root_files: set[str]) -> list[str]:
    """Alembic revision files: `*/versions/*.py` under an `alembic/` folder or next to an alembic.ini."""
    has_ini = "alembic.ini" in root_files
    return sorted(p for p in candidates if has_ini or "alembic/" in p)


def _alembic_downgrades(workspace: Workspace, versions: list[str], inventory: list[InventoryEntry]) -> bool:
    """Whether alembic migrations implement `downgrade()` with a body (the newest few are read)."""
    for path in versions[-5:]:
        text = _text(workspace, path, inventory)
        match = re.search(r"def downgrade\(\)[^:]*:\s*\n((?:\s+.*\n?)+)", text)
        if match and match.group(1).strip() not in ("pass", '"""Downgrade."""\n    pass'):
            return True
    return False
