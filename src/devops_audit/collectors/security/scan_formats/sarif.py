"""SARIF 2.1.0 from any tool (CodeQL, semgrep, bandit, zizmor, trivy, checkov, gitleaks, ...).

Understood: several runs per file; the rule of a result through `ruleIndex`, `rule.index` +
`rule.toolComponent` (extensions, as CodeQL writes) or `ruleId`; `kind` (only `fail`, `open` and `review`
are findings); `suppressions[]` (any whose status is not `rejected` suppresses); `baselineState` (`absent`
results are gone and reported as such); the first location's `artifactLocation` (`uri`, `uriBaseId`, or
`index` into `run.artifacts`) and `region.startLine`; `partialFingerprints` then `fingerprints`;
`versionControlProvenance[].revisionId` and `automationDetails.id`.

Severity, first answer wins: `properties.security-severity` of the result then of its rule (a 0-10 score);
the tool's own word (bandit `issue_severity`, zizmor `zizmor/severity`, `problem.severity`); the result's
`level`, else the rule's `defaultConfiguration.level`, else `warning` (SARIF's default). Snippets are never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from devops_audit.collectors.security.scan_formats import tool_categories, tool_name
from devops_audit.collectors.security.scan_formats.common import (
    Finding,
    Malformed,
    Run,
    fingerprint,
    is_credential_rule,
    locate,
    redact,
    severity_from_level,
    severity_from_score,
    severity_from_word,
    text_of,
)
from devops_audit.collectors.security.scan_formats.paths import PathMapper
from devops_audit.facts import Location

__all__ = ["FORMAT", "detect", "runs"]

FORMAT = "sarif"
_NOT_FINDINGS = {"pass", "notapplicable", "informational"}
_NATIVE_SEVERITY = ("issue_severity", "zizmor/severity", "problem.severity", "severity")
_NATIVE_CONFIDENCE = ("issue_confidence", "zizmor/confidence", "confidence", "precision")
_CONFIDENCE = {"very-high": "high", "high": "high", "medium": "medium", "low": "low", "very-low": "low"}
_SECRET_TAGS = {"secret", "secrets", "secret-detection"}
_SCA_TAGS = {"vulnerability", "dependency", "sca", "supply-chain"}
_IAC_TAGS = {"misconfiguration", "iac", "infrastructure"}


def detect(document: Any, filename: str) -> bool:
    return isinstance(document, dict) and isinstance(document.get("runs"), list) and (
        "sarif" in str(document.get("$schema", "")).lower() or str(document.get("version", "")).startswith("2.")
        or "sarif" in filename
    )


def runs(document: dict[str, Any], mapper: PathMapper) -> Iterator[Run]:
    for index, run in enumerate(document["runs"]):
        if not isinstance(run, dict):
            yield Run("unknown", set(), [Malformed(index, f"run {index} is not an object")])
            continue
        tool = run.get("tool") if isinstance(run.get("tool"), dict) else {}
        driver = tool.get("driver") if isinstance(tool.get("driver"), dict) else {}
        name = tool_name(driver.get("name"))
        provenance = run.get("versionControlProvenance")
        commit = provenance[0].get("revisionId", "") if isinstance(provenance, list) and provenance and \
            isinstance(provenance[0], dict) else ""
        automation = run.get("automationDetails")
        record = Run(name, tool_categories(name), [], commit=str(commit or ""),
                     automation=str(automation.get("id", "")) if isinstance(automation, dict) else "")
        record.results = _results(run, driver, tool, name, record, mapper)
        yield record


def _results(run: dict[str, Any], driver: dict[str, Any], tool: dict[str, Any], name: str, record: Run,
             mapper: PathMapper) -> Iterator[Finding | Malformed]:
    results = run.get("results")
    if results is None:
        return
    if not isinstance(results, list):
        yield Malformed(0, "`results` is not a list")
        return
    rules = _Rules(driver, tool)
    bases = run.get("originalUriBaseIds") if isinstance(run.get("originalUriBaseIds"), dict) else {}
    artifacts = run.get("artifacts") if isinstance(run.get("artifacts"), list) else []
    for index, result in enumerate(results):
        if not isinstance(result, dict):
            yield Malformed(index, "result is not an object")
            continue
        if str(result.get("kind", "fail")).lower() in _NOT_FINDINGS:
            continue
        try:
            yield _finding(result, rules, name, record, mapper, bases, artifacts, index)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            yield Malformed(index, f"unreadable result: {type(exc).__name__}: {exc}")


def _finding(result: dict[str, Any], rules: _Rules, tool: str, record: Run, mapper: PathMapper,
             bases: dict[str, Any], artifacts: list[Any], index: int) -> Finding:
    rule = rules.of(result)
    rule_id = str(result.get("ruleId") or (result.get("rule") or {}).get("id") or rule.get("id") or "")
    if not rule_id:
        raise ValueError("result names no rule")
    props = _props(result)
    rule_props = _props(rule)
    category = rules.category(tool, rule_id, rule_props)
    message = text_of(result.get("message"))
    if not message and isinstance((result.get("message") or {}).get("id"), str):
        message = text_of((rule.get("messageStrings") or {}).get(result["message"]["id"]))
    message = redact(message or text_of(rule.get("shortDescription")) or rule_id,
                     secret=category == "secret" or is_credential_rule(rule_id, str(rule.get("name", ""))))
    location = _location(result, mapper, record, index, bases, artifacts)
    suppressions = result.get("suppressions") or []
    return Finding(
        tool=tool, rule=rule_id, severity=_severity(result, rule, props, rule_props), category=category,
        message=message, location=location,
        confidence=_confidence(props, rule_props),
        suppressed=any(isinstance(s, dict) and s.get("status") != "rejected" for s in suppressions),
        fingerprint=fingerprint(tool, rule_id, location.path if location else None, message,
                                result.get("partialFingerprints") or result.get("fingerprints")),
        baseline=str(result.get("baselineState") or ""),
    )


class _Rules:
    """Rule metadata of a run, found by index, by tool component or by id."""

    def __init__(self, driver: dict[str, Any], tool: dict[str, Any]) -> None:
        self.driver = [r if isinstance(r, dict) else {} for r in driver.get("rules") or []]
        extensions = tool.get("extensions") if isinstance(tool.get("extensions"), list) else []
        self.extensions = [[r if isinstance(r, dict) else {} for r in (e.get("rules") or [])]
                           for e in extensions if isinstance(e, dict)]
        self.by_id = {str(r.get("id")): r for group in (self.driver, *self.extensions) for r in group if r.get("id")}
        self.categories: dict[str, str] = {}

    def category(self, tool: str, rule_id: str, rule_props: dict[str, Any]) -> str:
        if rule_id not in self.categories:
            self.categories[rule_id] = _category(tool, rule_id, rule_props)
        return self.categories[rule_id]

    def of(self, result: dict[str, Any]) -> dict[str, Any]:
        ref = result.get("rule") if isinstance(result.get("rule"), dict) else {}
        component = (ref.get("toolComponent") or {}).get("index")
        position = ref.get("index", result.get("ruleIndex"))
        group = self.extensions[component] if isinstance(component, int) and 0 <= component < len(self.extensions) \
            else self.driver
        if isinstance(position, int) and 0 <= position < len(group):
            return group[position]
        return self.by_id.get(str(result.get("ruleId") or ref.get("id")), {})


def _props(node: dict[str, Any]) -> dict[str, Any]:
    props = node.get("properties")
    return props if isinstance(props, dict) else {}


def _severity(result: dict[str, Any], rule: dict[str, Any], props: dict[str, Any], rule_props: dict[str, Any]) -> str:
    for source in (props, rule_props):
        score = severity_from_score(source.get("security-severity"))
        if score:
            return score
    for source in (props, rule_props):
        for key in _NATIVE_SEVERITY:
            word = severity_from_word(source.get(key))
            if word:
                return word
    config = rule.get("defaultConfiguration") if isinstance(rule.get("defaultConfiguration"), dict) else {}
    return severity_from_level(result.get("level") or config.get("level") or "warning") or "medium"


def _confidence(props: dict[str, Any], rule_props: dict[str, Any]) -> str:
    for source in (props, rule_props):
        for key in _NATIVE_CONFIDENCE:
            value = _CONFIDENCE.get(str(source.get(key, "")).lower())
            if value:
                return value
    return ""


def _category(tool: str, rule_id: str, rule_props: dict[str, Any]) -> str:
    tags = {str(t).lower() for t in rule_props.get("tags") or [] if isinstance(t, str)}
    if tags & _SECRET_TAGS or tool_categories(tool) == {"secret"}:
        return "secret"
    known = tool_categories(tool)
    if known:
        return next(iter(known))
    upper = rule_id.upper()
    if tags & _SCA_TAGS or upper.startswith(("CVE-", "GHSA-", "PYSEC-", "OSV-", "RUSTSEC-", "GO-")):
        return "sca"
    if tags & _IAC_TAGS or upper.startswith(("AVD-", "CKV", "DS0", "KSV")):
        return "iac"
    return "other"


def _location(result: dict[str, Any], mapper: PathMapper, record: Run, index: int, bases: dict[str, Any],
              artifacts: list[Any]) -> Location | None:
    locations = result.get("locations")
    if not isinstance(locations, list) or not locations or not isinstance(locations[0], dict):
        return None
    physical = locations[0].get("physicalLocation")
    if not isinstance(physical, dict):
        return None
    artifact = physical.get("artifactLocation") if isinstance(physical.get("artifactLocation"), dict) else {}
    if "uri" not in artifact and isinstance(artifact.get("index"), int) and 0 <= artifact["index"] < len(artifacts):
        listed = artifacts[artifact["index"]]
        artifact = listed.get("location", {}) if isinstance(listed, dict) else {}
    region = physical.get("region") if isinstance(physical.get("region"), dict) else {}
    return locate(mapper, record, index, artifact.get("uri"), region.get("startLine"), artifact.get("uriBaseId"), bases)
