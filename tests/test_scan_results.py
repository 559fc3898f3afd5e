"""The `security` namespace: scanner reports of every format, secrets kept out, committed secret files,
the security policy, and the SR.TC.04 / SR.DS.01 / SR.GV.01 / SR.OP.01 verdicts built on them."""

from __future__ import annotations

import gzip
import json
import shutil
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from helpers import scan_dict, verdicts, write

from devops_audit.collectors import CollectOptions
from devops_audit.collectors.security import scan_results
from devops_audit.facts import Evidence, to_data
from devops_audit.workspace import Workspace

SCANS = Path(__file__).resolve().parent.parent / "fixtures" / "scans" / "repo"
SECRET = "FIXTURE-SECRET-VALUE-7c1e"


def repo_with(tmp_path: Path, *reports: str) -> Path:
    """The fixture application with only the named reports in `reports/`."""
    root = tmp_path / "app"
    shutil.copytree(SCANS, root, ignore=shutil.ignore_patterns("reports"))
    (root / "reports").mkdir()
    for name in reports:
        shutil.copy(SCANS / "reports" / name, root / "reports" / name)
    return root


def collect(root: Path, **options: Any) -> Evidence:
    return scan_results.collect(Workspace(root), CollectOptions(**options))


def findings(evidence: Evidence) -> list[tuple[Any, ...]]:
    return [(f["tool"], f["rule"], f["severity"], f["category"],
             f["location"] and (f["location"]["path"], f["location"]["line"]), f["suppressed"])
            for f in evidence.facts["top_findings"]]


def sarif(results: list[Any], **run: Any) -> str:
    return json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "CodeQL"}}, "results": results, **run}]})


# -- SARIF ------------------------------------------------------------------------------------------
def test_sarif_severity_suppression_baseline_and_locations(tmp_path):
    evidence = collect(repo_with(tmp_path, "codeql.sarif"))

    assert findings(evidence) == [
        ("codeql", "py/command-line-injection", "critical", "sast", ("src/app/views.py", 5), False),  # via uriBaseId
        ("checkov", "CKV_DOCKER_3", "high", "iac", ("deploy/Dockerfile", 1), False),  # rule's default level
        ("codeql", "py/clear-text-logging-sensitive-data", "high", "sast", ("src/app/views.py", 9), False),  # rejected
        ("checkov", "CKV_DOCKER_2", "medium", "iac", None, False),  # file:///etc/... leaves the repository
        ("codeql", "py/unused-import", "low", "sast", None, False),  # ../../etc/passwd
        ("codeql", "py/clear-text-logging-sensitive-data", "high", "sast", ("src/app/views.py", 8), True),
    ]
    [report] = evidence.facts["reports"]
    assert report["tools"] == ["codeql", "checkov"] and report["runs"] == 2
    assert report["absent"] == 1 and report["suppressed"] == 1 and report["out_of_repo"] == 2
    assert report["commit"] == "0123456789abcdef0123456789abcdef01234567" and report["automation"] == "codeql/python/"
    assert evidence.facts["top_findings"][0]["fingerprint"] == "primaryLocationLineHash:7b2a1c0d9e8f:1"


def test_a_malformed_result_is_reported_by_index_and_the_rest_counts(tmp_path):
    evidence = collect(repo_with(tmp_path, "codeql.sarif"))

    [error] = evidence.errors
    assert error.path == "reports/codeql.sarif" and "result 4 skipped: result is not an object" in error.reason
    [parsed] = [e for e in evidence.inventory if e.status == "parsed"]
    assert "2 result(s) name files outside the repository" in parsed.reason and "run 0: results 5" in parsed.reason
    assert evidence.facts["total"] == 6


def test_file_uris_inside_the_root_and_foreign_ci_checkouts_map_to_repository_paths(tmp_path):
    root = repo_with(tmp_path)
    results = [
        {"ruleId": "r1", "message": {"text": "a"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": (root / "src/app/views.py").as_uri()},
                                             "region": {"startLine": 3}}}]},
        {"ruleId": "r2", "message": {"text": "b"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///home/runner/work/app/app/src/app/views.py"},
                                             "region": {"startLine": 4}}}]},
        {"ruleId": "r3", "message": {"text": "c"},  # a root-level file once the runner's root is known
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "/home/runner/work/app/app/requirements.txt"}}}]},
        {"ruleId": "r4", "message": {"text": "d"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "views.py", "uriBaseId": "APP"}}}]},
        {"ruleId": "r5", "message": {"text": "e"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "https://example.com/x.py"}}}]},
    ]
    bases = {"APP": {"uri": "app/", "uriBaseId": "SRC"}, "SRC": {"uri": "src/"}}
    write(root, {"reports/x.sarif": sarif(results, originalUriBaseIds=bases)})

    located = {f["rule"]: f["location"] for f in collect(root).facts["top_findings"]}

    assert located == {"r1": {"path": "src/app/views.py", "line": 3}, "r2": {"path": "src/app/views.py", "line": 4},
                       "r3": {"path": "requirements.txt", "line": 1}, "r4": {"path": "src/app/views.py", "line": 1},
                       "r5": None}


@pytest.mark.parametrize(("properties", "level", "expected"), [
    ({"security-severity": "9.0"}, "note", "critical"),
    ({"security-severity": "7.0"}, None, "high"),
    ({"security-severity": "4.0"}, None, "medium"),
    ({"security-severity": "0.1"}, None, "low"),
    ({"issue_severity": "HIGH"}, "note", "high"),
    ({"zizmor/severity": "Informational"}, None, "info"),
    ({}, "error", "high"), ({}, "warning", "medium"), ({}, "note", "low"), ({}, "none", "info"), ({}, None, "medium"),
])
def test_sarif_severity_mapping(tmp_path, properties, level, expected):
    result = {"ruleId": "r", "message": {"text": "m"}, "properties": properties, **({"level": level} if level else {})}
    root = write(repo_with(tmp_path), {"reports/x.sarif": sarif([result])})

    assert collect(root).facts["top_findings"][0]["severity"] == expected


def test_semgrep_login_placeholder_is_no_fingerprint(tmp_path):
    results = [{"ruleId": "r", "message": {"text": f"m{i}"}, "fingerprints": {"matchBasedId/v1": "requires login"}}
               for i in range(2)]
    root = write(repo_with(tmp_path), {"reports/semgrep.sarif": sarif(results)})

    prints = [f["fingerprint"] for f in collect(root).facts["top_findings"]]

    assert len(set(prints)) == 2 and all(p.startswith("sha256:") for p in prints)


# -- native formats -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("report", "expected"), [
    ("bandit-results.json", [("bandit", "B602", "high", "sast", ("src/app/views.py", 5), False),
                             ("bandit", "B105", "low", "sast", ("src/app/views.py", 8), False)]),
    ("semgrep.json", [("semgrep", "python.lang.security.audit.subprocess-shell-true", "high", "sast",
                       ("src/app/views.py", 5), False),
                      ("semgrep", "python.lang.security.audit.subprocess-shell-true", "medium", "sast",
                       ("src/app/views.py", 5), True)]),
    ("gitleaks-report.json", [("gitleaks", "generic-api-key", "high", "secret", ("src/app/views.py", 8), False)]),
    ("pip-audit.json", [("pip-audit", "PYSEC-2019-217", "high", "sca", ("requirements.txt", 1), False)]),
    ("npm-audit.json", [("npm-audit", "GHSA-xvch-5gv4-984h", "critical", "sca", ("package-lock.json", 1), False),
                        ("npm-audit", "GHSA-rp65-9cf3-cjxr", "medium", "sca", ("package-lock.json", 1), False)]),
    ("npm-audit-v1.json", [("npm-audit", "CVE-2020-7598", "low", "sca", ("package-lock.json", 1), False)]),
    ("trivy-fs.json", [("trivy", "CVE-2024-0001", "critical", "sca", ("requirements.txt", 1), False),
                       ("trivy", "generic-password", "critical", "secret", ("src/app/views.py", 8), False),
                       ("trivy", "AVD-DS-0002", "high", "iac", ("deploy/Dockerfile", 1), False),
                       ("trivy", "CVE-2019-10906", "high", "sca", ("requirements.txt", 1), False)]),
    ("osv-scanner.json", [("osv-scanner", "GHSA-462w-v97r-4m45", "high", "sca", None, False),
                          ("osv-scanner", "GHSA-v845-jxx5-vc9f", "medium", "sca", None, False)]),
])
def test_native_reports(tmp_path, report, expected):
    evidence = collect(repo_with(tmp_path, report))

    assert findings(evidence) == expected


def test_tools_with_results_by_category_even_for_an_empty_report(tmp_path):
    facts = collect(repo_with(tmp_path, "zizmor.sarif", "trivy-fs.json", "codeql.sarif")).facts

    assert facts["tools_with_results"] == {"sast": ["codeql"], "sca": ["trivy"], "secret": ["trivy"],
                                           "iac": ["checkov", "trivy", "zizmor"], "other": []}


def test_counts_by_tool_severity_and_suppression(tmp_path):
    facts = collect(repo_with(tmp_path, "semgrep.json", "bandit-results.json")).facts

    assert facts["counts"] == [
        {"tool": "bandit", "severity": "high", "suppressed": False, "count": 1},
        {"tool": "bandit", "severity": "low", "suppressed": False, "count": 1},
        {"tool": "semgrep", "severity": "high", "suppressed": False, "count": 1},
        {"tool": "semgrep", "severity": "medium", "suppressed": True, "count": 1},
    ]
    assert facts["open_at_or_above"] == {"critical": 0, "high": 2, "medium": 2, "low": 3, "info": 3}


# -- secrets never reach the facts ----------------------------------------------------------------------
def test_secret_values_appear_nowhere_in_facts_or_inventory(tmp_path):
    root = repo_with(tmp_path, "gitleaks-report.json", "trivy-fs.json", "bandit-results.json")
    snippet = {"ruleId": "generic-api-key", "message": {"text": f"found {SECRET} in 'views.py'"},
               "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/app/views.py"},
                                                   "region": {"startLine": 8, "snippet": {"text": SECRET}}}}]}
    write(root, {"reports/gitleaks.sarif": json.dumps(
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "gitleaks"}}, "results": [snippet]}]})})

    evidence = collect(root)

    assert evidence.facts["secret_findings"] == 3
    assert SECRET not in json.dumps(to_data(evidence.facts)) + json.dumps(to_data(evidence.inventory))


def test_secret_values_appear_nowhere_in_the_scan_report(tmp_path):
    root = repo_with(tmp_path, "gitleaks-report.json", "trivy-fs.json", "bandit-results.json")

    report = scan_dict(root)

    assert verdicts(report)["SR.DS.01"]["status"] == "fail"
    assert SECRET not in json.dumps(report)


# -- reading files ------------------------------------------------------------------------------------
def test_gzipped_reports_are_read(tmp_path):
    root = repo_with(tmp_path)
    (root / "reports" / "bandit.sarif.gz").write_bytes(gzip.compress(sarif([{"ruleId": "B1", "level": "error",
                                                                           "message": {"text": "x"}}]).encode()))
    (root / "reports" / "bandit-full.json.gz").write_bytes(
        gzip.compress((SCANS / "reports" / "bandit-results.json").read_bytes()))

    evidence = collect(root)

    assert [(r["path"], r["results"]) for r in evidence.facts["reports"]] == [
        ("reports/bandit-full.json.gz", 2), ("reports/bandit.sarif.gz", 1)]


def test_a_decompression_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(scan_results, "MAX_DECOMPRESSED_BYTES", 1024 * 1024)
    root = repo_with(tmp_path)
    (root / "reports" / "huge.sarif.gz").write_bytes(gzip.compress(b" " * (2 * 1024 * 1024)))

    [error] = collect(root).errors

    assert error.path == "reports/huge.sarif.gz" and "decompresses to more than 1 MiB; refused" in error.reason


def test_bad_files_are_inventory_errors_and_the_others_still_count(tmp_path):
    root = repo_with(tmp_path, "gitleaks-report.json")
    write(root, {"reports/broken.sarif": '{"version": "2.1.0",\n "runs": [\n',
                 "reports/semgrep-old.json": '{"hello": "world"}'})
    (root / "reports" / "corrupt.sarif.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 10)

    evidence = collect(root)

    errors = {e.path: (e.reason, e.line) for e in evidence.errors}
    assert errors["reports/broken.sarif"][0].startswith("invalid JSON") and errors["reports/broken.sarif"][1] == 3
    assert errors["reports/semgrep-old.json"][0].startswith("not a scanner report this tool understands")
    assert "gzip" in errors["reports/corrupt.sarif.gz"][0]
    assert evidence.facts["secret_findings"] == 1


def test_discovery_in_build_folders_and_user_paths_outside_the_repository_refused(tmp_path):
    root = repo_with(tmp_path)
    write(root, {"target/trivy-results.json": (SCANS / "reports" / "trivy-fs.json").read_text(),
                 "build/reports/ignored.sarif": sarif([]),  # only the top of build/ is searched
                 "ci/scan.json": (SCANS / "reports" / "semgrep.json").read_text()})
    outside = write(tmp_path / "ci-artifacts", {"pip-audit-report.json": (SCANS / "reports" / "pip-audit.json").read_text()})

    evidence = collect(root, evidence_paths={"sarif": [str(outside / "pip-audit-*.json")],
                                             "security": [str(root / "ci" / "scan.json")]})

    assert [r["path"] for r in evidence.facts["reports"]] == ["target/trivy-results.json", "ci/scan.json"]
    (refused,) = evidence.errors
    assert (refused.path, refused.reason) == (str(outside / "pip-audit-*.json"), "outside the repository; refused")


def test_memory_stays_bounded_on_a_large_report(tmp_path):
    root = repo_with(tmp_path)
    results = [{"ruleId": f"R{i % 50}", "level": ("note", "warning", "error")[i % 3], "message": {"text": f"issue {i}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/app/views.py"},
                                                    "region": {"startLine": i + 1}}}]} for i in range(20_000)]
    write(root, {"reports/big.sarif": sarif(results)})

    facts = collect(root).facts

    assert facts["total"] == 20_000 and facts["open_by_severity"]["high"] == 6_666
    assert len(facts["top_findings"]) == scan_results.TOP_FINDINGS and facts["top_truncated"]
    assert {f["severity"] for f in facts["top_findings"]} == {"high"}


# -- committed secret files -------------------------------------------------------------------------------
def test_committed_secret_files_are_found_without_their_values(tmp_path):
    root = write(tmp_path / "repo", {
        ".env": "# local settings\nDATABASE_URL=postgres://app:hunter2-value@db/app\n",
        ".env.example": "DATABASE_URL=postgres://user:password@localhost/app\n",
        "certs/server.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "tests/certs/client.key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEfixture\n-----END RSA PRIVATE KEY-----\n",
        "deploy/credentials.json": '{"type": "service_account",\n "private_key": "-----BEGIN PRIVATE KEY-----\\nabc"}',
        ".npmrc": "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_fixtureTokenValue\n",
        "web/.npmrc": "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
        ".pypirc": "[pypi]\nusername = __token__\npassword = pypi-fixtureTokenValue\n",
    })

    facts = collect(root).facts

    assert facts["committed_secret_files"] == [
        {"path": ".env", "line": 2, "reason": "password in a URL committed in an environment file", "test_data": False},
        {"path": ".npmrc", "line": 2, "reason": "npm auth token committed in .npmrc", "test_data": False},
        {"path": ".pypirc", "line": 3, "reason": "PyPI password committed in .pypirc", "test_data": False},
        {"path": "deploy/credentials.json", "line": 2, "reason": "credentials file committed", "test_data": False},
        {"path": "tests/certs/client.key", "line": 1, "reason": "private key committed", "test_data": True},
    ]
    assert "hunter2-value" not in json.dumps(facts) and "fixtureTokenValue" not in json.dumps(facts)


# -- security policy ------------------------------------------------------------------------------------------
def test_security_policy_contact_disclosure_and_response_time(tmp_path):
    root = write(tmp_path / "repo", {".github/SECURITY.md": (
        "# Security Policy\n\n## Reporting a Vulnerability\n\n"
        "Please report vulnerabilities privately through GitHub's security advisories:\n"
        "https://github.com/example/app/security/advisories/new\n\n"
        "We acknowledge reports within 3 business days.\n")})

    policy = collect(root).facts["policy"]

    assert policy == {"path": ".github/SECURITY.md", "contact": True, "contact_line": 5, "disclosure": True,
                      "disclosure_line": 3, "response_time": True, "response_time_line": 8, "error": ""}


def test_no_results_is_still_present_but_says_so(tmp_path):
    evidence = collect(write(tmp_path / "repo", {"README.md": "# app\n"}))

    assert evidence.present and not evidence.facts["has_results"] and evidence.facts["policy"] is None
    assert evidence.facts["tools_with_results"]["sast"] == [] and "--evidence sarif=PATH" in evidence.hint


# -- verdicts, end to end -------------------------------------------------------------------------------------
def verdict(root: Path, indicator: str) -> dict[str, Any]:
    return verdicts(scan_dict(root))[indicator]


def test_threshold_passes_with_only_low_and_suppressed_high_findings(tmp_path):
    root = repo_with(tmp_path)
    write(root, {"reports/semgrep.sarif": sarif([
        {"ruleId": "a", "level": "note", "message": {"text": "low"}},
        {"ruleId": "b", "level": "error", "message": {"text": "high"}, "suppressions": [{"kind": "inSource"}]}])})

    found = verdict(root, "SR.TC.04")

    assert found["status"] == "pass" and "0 unsuppressed finding(s) at or above high in 1 report(s)" in found["message"]


def test_threshold_fails_pointing_at_each_high_finding(tmp_path):
    found = verdict(repo_with(tmp_path, "bandit-results.json", "semgrep.json"), "SR.TC.04")

    assert found["status"] == "fail"
    assert [(v["path"], v["line"], v["locator"]) for v in found["violations"]] == [
        ("src/app/views.py", 5, "bandit:B602"),
        ("src/app/views.py", 5, "semgrep:python.lang.security.audit.subprocess-shell-true")]


def test_threshold_is_unknown_without_results(tmp_path):
    found = verdict(repo_with(tmp_path), "SR.TC.04")

    assert found["status"] == "unknown" and "--evidence sarif=PATH" in found["message"]


def test_no_secrets_passes_fails_on_findings_and_on_committed_files(tmp_path):
    clean = repo_with(tmp_path / "clean", "semgrep.json")
    leaked = repo_with(tmp_path / "leaked", "gitleaks-report.json")
    committed = write(repo_with(tmp_path / "committed"), {".env": "API_KEY=9f3Kq7ZpX2mW8vLr4TyB\n"})

    assert verdict(clean, "SR.DS.01")["status"] == "pass"
    assert [(v["path"], v["line"]) for v in verdict(leaked, "SR.DS.01")["violations"]] == [("src/app/views.py", 8)]
    assert [(v["path"], v["message"]) for v in verdict(committed, "SR.DS.01")["violations"]] == [
        (".env", "hard-coded secret in an environment file (API_KEY)")]


@pytest.mark.parametrize(("policy", "gv01", "op01"), [
    (None, "fail", "fail"),
    ("# Security\nWe take security seriously.\n", "fail", "fail"),
    ("# Security\nTo report a vulnerability, e-mail security@example.com.\n", "pass", "fail"),
    ("# Security\nTo report a vulnerability, e-mail security@example.com.\nWe reply within 48 hours.\n", "pass", "pass"),
])
def test_security_policy_verdicts(tmp_path, policy, gv01, op01):
    root = repo_with(tmp_path)
    if policy:
        write(root, {"SECURITY.md": policy})

    assert (verdict(root, "SR.GV.01")["status"], verdict(root, "SR.OP.01")["status"]) == (gv01, op01)


def test_security_insights_file_satisfies_disclosure_handling(tmp_path):
    root = write(repo_with(tmp_path), {"SECURITY-INSIGHTS.yml": "header:\n  schema-version: 1.0.0\n"})

    assert verdict(root, "SR.OP.01")["status"] == "pass"


# -- the corpus ---------------------------------------------------------------------------------------------------
def with_scans(corpus_project: Path, dest: Path) -> Path:
    """A corpus project's files with its scanner outputs under `scans/`, where CI would have left them."""
    repo = dest / corpus_project.name
    shutil.copytree(corpus_project / "repo", repo)
    shutil.copytree(corpus_project / "scans", repo / "scans")
    return repo


def test_every_corpus_report_ingests(corpus_dir, tmp_path):
    for scans in sorted(corpus_dir.glob("*/scans")):
        evidence = collect(with_scans(scans.parent, tmp_path), evidence_paths={"sarif": ["scans/*"]})
        assert not evidence.errors, (scans, evidence.errors)
        assert len(evidence.facts["reports"]) == len(list(scans.iterdir()))


def test_largest_corpus_report_is_fast_and_small(corpus_dir, tmp_path):
    if not (corpus_dir / "pip" / "scans").is_dir():
        pytest.skip("the pip scans are absent from the corpus")
    repo = with_scans(corpus_dir / "pip", tmp_path)
    tracemalloc.start()
    started = time.perf_counter()
    facts = collect(repo, evidence_paths={"sarif": ["scans/*"]}).facts
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert {r["path"].rsplit("/", 1)[-1]: r["results"] for r in facts["reports"]} == {
        "bandit.full.json.gz": 3696, "bandit.sarif.gz": 3528, "semgrep.sarif": 1, "zizmor.sarif": 0}
    assert elapsed < 5 and peak < 200 * 1024 * 1024
