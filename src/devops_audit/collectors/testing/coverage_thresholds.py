"""Coverage thresholds a build enforces: where a minimum coverage is configured, read as data.

Understood:
- coverage.py `fail_under` (`.coveragerc`, `setup.cfg`, `tox.ini`, `pyproject.toml`), via `coverage_config`;
- command lines in CI files, build scripts and tool configs: `--cov-fail-under` (pytest-cov),
  `coverage report --fail-under`, `gcovr --fail-under-line|branch`, `nyc|c8 --check-coverage --lines`;
  commented-out lines are ignored;
- Jest `coverageThreshold` (package.json, jest.config.*) and Vitest `coverage.thresholds`;
- JaCoCo `<rule>` limits with a `<minimum>` in pom.xml (`<haltOnFailure>false` = not enforced), and
  Gradle `jacocoTestCoverageVerification` limits;
- Codecov `coverage.status.project|patch.<name>.target` (`informational: true` = not enforced).

`value` is a percentage (0-100) when the threshold is one, else None (`auto`, counts); `raw` is as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from devops_audit.collectors.ci.pipelines import is_test_data
from devops_audit.collectors.testing.coverage_config import CoverageConfig
from devops_audit.errors import EvidenceError
from devops_audit.facts import InventoryEntry, Location
from devops_audit.workspace import MiB, Workspace
from devops_audit.yamlsafe import line_of

__all__ = ["Threshold", "find_thresholds", "CODECOV_FILES"]

CODECOV_FILES = tuple(f"{d}{n}" for d in ("", ".github/", "dev/") for n in ("codecov.yml", ".codecov.yml"))
_SCRIPT_NAMES = frozenset({
    "pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini", "noxfile.py", "tasks.py", "Makefile", "makefile",
    "GNUmakefile", "justfile", "Justfile", "Jenkinsfile", "package.json", "Taskfile.yml", "Taskfile.yaml",
})
_SCRIPT_SUFFIXES = (".yml", ".yaml", ".sh", ".bash", ".mk", ".cfg", ".ini", ".toml", ".groovy", ".jenkinsfile")
_NUMBER = r"[\"']?(\d+(?:\.\d+)?)%?"
_JS_CONFIG = re.compile(r"(^|/)(jest|vitest|vite)\.config\.(js|cjs|mjs|ts|cts|mts|json)$")
_JS_METRICS = {"lines": "line", "branches": "branch", "statements": "statement", "functions": "function"}
_MAX_SCRIPT_BYTES = MiB


@dataclass
class Threshold:
    """One configured minimum coverage. `metric`: total, line, branch, statement, function, instruction,
    patch, ...; `enforced` is False only when the tool's own config makes it advisory."""

    source: str
    metric: str
    value: float | None
    raw: str
    enforced: bool
    location: Location


@cache  # compiled when a file first mentions a threshold: most repositories have none
def _command_patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """(tool, metric, pattern) of the command-line options that set a minimum coverage."""
    return (
        ("pytest-cov", "total", re.compile(rf"--cov-fail-under(?:=|\s+){_NUMBER}")),
        ("coverage.py", "total", re.compile(rf"\bcoverage\s+report\b[^\n]*?--fail-under(?:=|\s+){_NUMBER}")),
        ("gcovr", "line", re.compile(rf"\bgcovr\b[^\n]*?--fail-under-line(?:=|\s+){_NUMBER}")),
        ("gcovr", "branch", re.compile(rf"\bgcovr\b[^\n]*?--fail-under-branch(?:=|\s+){_NUMBER}")),
        ("nyc", "line", re.compile(rf"\b(?:nyc|c8)\b[^\n]*?--check-coverage[^\n]*?--lines(?:=|\s+){_NUMBER}")),
    )


def find_thresholds(workspace: Workspace, config: CoverageConfig) -> tuple[list[Threshold], list[InventoryEntry]]:
    found = [Threshold("coverage.py", "total", _percent(f.raw), f.raw, True, Location(f.path, f.line))
             for f in config.fail_under]
    inventory: list[InventoryEntry] = []
    for path in _candidates(workspace):
        name = path.rsplit("/", 1)[-1]
        if not _may_hold_threshold(name, path) or path.count("/") > 4 or is_test_data(path):
            continue
        if name in _SCRIPT_NAMES or name.endswith(_SCRIPT_SUFFIXES):
            found.extend(_commands(workspace, path))
        if name == "package.json" or _JS_CONFIG.search(path):
            found.extend(_js_thresholds(workspace, path))
        if name == "pom.xml":
            found.extend(_pom_thresholds(workspace, path))
        elif name in ("build.gradle", "build.gradle.kts"):
            found.extend(_gradle_thresholds(workspace, path))
    for path in CODECOV_FILES:
        if path in workspace.file_set:
            try:
                found.extend(_codecov_thresholds(workspace, path))
            except EvidenceError as exc:
                inventory.append(InventoryEntry(exc.path, "codecov", "error", exc.reason, exc.line))
    return found, inventory


def _candidates(workspace: Workspace) -> list[str]:
    """The files `_may_hold_threshold` can accept, from the file index (by name, ending, or name start)."""
    index = workspace.index
    return sorted({*index.named(*_SCRIPT_NAMES, "package.json", "pom.xml", "build.gradle", "build.gradle.kts"),
                   *index.find_names(tuple(f"*{suffix}" for suffix in _SCRIPT_SUFFIXES)),
                   *index.find_names(("jest.config.*", "vitest.config.*", "vite.config.*"))})


def _may_hold_threshold(name: str, path: str) -> bool:
    """Scripts, CI and tool configs, package.json, jest/vitest configs, Maven and Gradle builds."""
    return (name in _SCRIPT_NAMES or name.endswith(_SCRIPT_SUFFIXES) or name == "package.json"
            or name in ("pom.xml", "build.gradle", "build.gradle.kts") or _JS_CONFIG.search(path) is not None)


def _text(workspace: Workspace, path: str, *needles: str) -> str | None:
    """The file's text when it mentions one of `needles`; None when it does not or cannot be read."""
    try:
        text = workspace.read_text(path, _MAX_SCRIPT_BYTES)
    except EvidenceError:
        return None  # an unrelated large or unreadable file is not coverage evidence
    return text if any(needle in text for needle in needles) else None


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _commented(text: str, position: int) -> bool:
    start = text.rfind("\n", 0, position) + 1
    return text[start:position].lstrip().startswith(("#", "//"))


def _percent(raw: str) -> float | None:
    try:
        value = float(str(raw).strip().rstrip("%"))
    except ValueError:
        return None
    return value if 0 <= value <= 100 else None


def _commands(workspace: Workspace, path: str) -> list[Threshold]:
    text = _text(workspace, path, "fail-under", "check-coverage")
    if text is None:
        return []
    found = []
    for source, metric, pattern in _command_patterns():
        for match in pattern.finditer(text):
            if not _commented(text, match.start()):
                found.append(Threshold(source, metric, _percent(match.group(1)), match.group(1), True,
                                       Location(path, _line(text, match.start()))))
    return found


def _js_thresholds(workspace: Workspace, path: str) -> list[Threshold]:
    vitest = re.search(r"(^|/)vite(st)?\.config\.", path) is not None
    key, source = ("thresholds", "vitest") if vitest else ("coverageThreshold", "jest")
    text = _text(workspace, path, key)
    if text is None:
        return []
    found = []
    for match in re.finditer(rf"[\"']?{key}[\"']?\s*:\s*\{{", text):
        if _commented(text, match.start()):
            continue
        block_start = match.end()
        block = text[block_start:_block_end(text, block_start)]
        for metric in re.finditer(r"[\"']?(lines|branches|statements|functions)[\"']?\s*:\s*(-?\d+(?:\.\d+)?)", block):
            raw = metric.group(2)
            found.append(Threshold(source, _JS_METRICS[metric.group(1)], _percent(raw), raw, True,
                                   Location(path, _line(text, block_start + metric.start()))))
    return found


def _block_end(text: str, start: int) -> int:
    """Index of the `}` closing the block that opens just before `start`."""
    depth = 1
    for index in range(start, min(len(text), start + 20_000)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return start


def _pom_thresholds(workspace: Workspace, path: str) -> list[Threshold]:
    text = _text(workspace, path, "jacoco-maven-plugin")
    if text is None:
        return []
    start = text.find("jacoco-maven-plugin")
    end = text.find("</plugin>", start)
    plugin = text[start:end if end > 0 else len(text)]
    enforced = not re.search(r"<haltOnFailure>\s*false\s*</haltOnFailure>", plugin)
    found = []
    for limit in re.finditer(r"<limit\b[^>]*>(.*?)</limit>", plugin, re.S):
        body = limit.group(1)
        minimum = re.search(r"<minimum>\s*([^<\s]+)\s*</minimum>", body)
        if minimum is None:
            continue
        counter = re.search(r"<counter>\s*(\w+)\s*</counter>", body)
        value = re.search(r"<value>\s*(\w+)\s*</value>", body)
        found.append(_jacoco(minimum.group(1), counter.group(1) if counter else "INSTRUCTION",
                             value.group(1) if value else "COVEREDRATIO", enforced,
                             Location(path, _line(text, start + limit.start() + minimum.start()))))
    return found


def _gradle_thresholds(workspace: Workspace, path: str) -> list[Threshold]:
    text = _text(workspace, path, "jacocoTestCoverageVerification")
    if text is None:
        return []
    start = text.find("jacocoTestCoverageVerification")
    found = []
    for limit in re.compile(r"\blimit\s*\{([^{}]*)\}").finditer(text, start):  # compiled once, by `re`'s cache
        body = limit.group(1)
        minimum = re.search(r"\bminimum\s*=\s*[^\d\n]*?(\d+(?:\.\d+)?)", body)
        if minimum is None:
            continue
        counter = re.search(r"\bcounter\s*=\s*[\"'](\w+)[\"']", body)
        value = re.search(r"\bvalue\s*=\s*[\"'](\w+)[\"']", body)
        found.append(_jacoco(minimum.group(1), counter.group(1) if counter else "INSTRUCTION",
                             value.group(1) if value else "COVEREDRATIO", True,
                             Location(path, _line(text, limit.start() + minimum.start()))))
    return found


def _jacoco(raw: str, counter: str, value: str, enforced: bool, location: Location) -> Threshold:
    percent: float | None = None
    if value.upper() == "COVEREDRATIO":
        if raw.endswith("%"):
            percent = _percent(raw)
        else:
            ratio = _percent(raw)
            percent = round(ratio * 100, 4) if ratio is not None and ratio <= 1 else None
    return Threshold("jacoco", counter.lower(), percent, raw, enforced, location)


def _codecov_thresholds(workspace: Workspace, path: str) -> list[Threshold]:
    documents = workspace.load_yaml(path)
    root = documents[0] if documents else None
    coverage = root.get("coverage") if isinstance(root, dict) else None
    status = coverage.get("status") if isinstance(coverage, dict) else None
    if not isinstance(status, dict):
        return []
    found = []
    for kind in ("project", "patch"):
        entries = status.get(kind)
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if isinstance(entry, dict) and entry.get("target") is not None:
                raw = str(entry["target"])
                found.append(Threshold("codecov", kind, _percent(raw), raw, entry.get("informational") is not True,
                                       Location(path, line_of(entry, "target", line_of(entries, name)))))
    return found
