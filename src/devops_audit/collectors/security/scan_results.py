"""The `security` namespace: every scanner's results, committed secret files and the security policy.

Reports are found under their usual names (`*.sarif`, `*.sarif.json`, `bandit*.json`, `semgrep*.json`,
`gitleaks*.json`, `trivy*.json`, `pip-audit*.json`, `npm-audit*.json`, `osv*.json`, each also gzipped) in the
root, `reports/`, `scans/`, `security/`, `build/` and `target/`, tracked or not, plus the globs the user gives
as `evidence: {sarif: [...]}` / `--evidence sarif=PATH` (or `security=`; like all evidence, inside the
repository). Formats are recognised by content (see `scan_formats`). With `--run-scanners`, bandit and
semgrep (our shipped rules) run on the repository (see `scanners`) and feed the same counts.

Memory stays bounded whatever the report size: results are counted (tool x severity x suppressed) as they
are read and only the most severe `TOP_FINDINGS` are kept. A malformed result is an inventory error naming
its index; the rest of the file still counts. Results whose location leaves the repository keep no location
and are counted (`out_of_repo`). Secret values never reach a fact (see `scan_formats.common.redact`).

The namespace is always present: committed secret files and the security policy are facts of every
repository. `has_results` says whether any scan result exists; indicators about findings must answer
`unknown` without it. `tools_with_results` lists, per category (sast, sca, secret, iac, other), the tools
whose reports the repository's own pipeline left; our own `--run-scanners` runs are not counted there.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devops_audit.collectors import unexpected_content
from devops_audit.collectors.security.hardcoded_secrets import hardcoded_secrets
from devops_audit.collectors.security.scan_formats import CATEGORIES, SEVERITIES, detect_format
from devops_audit.collectors.security.scan_formats.paths import PathMapper
from devops_audit.collectors.security.secret_files import committed_secret_files
from devops_audit.collectors.security.security_policy import (
    find_security_insights,
    find_security_policy,
    inspect_security_policy,
)
from devops_audit.collectors.testing.coverage_paths import evidence_globs
from devops_audit.errors import EvidenceError
from devops_audit.facts import Evidence, InventoryEntry, to_data
from devops_audit.globs import globs
from devops_audit.untrusted import NonFiniteNumber, TooManyValues, load_json
from devops_audit.workspace import MiB, Workspace

if TYPE_CHECKING:
    from devops_audit.collectors.security.scan_formats.common import Finding, Run

__all__ = ["NAME", "TOP_FINDINGS", "SECRET_FINDINGS", "MAX_REPORT_BYTES", "MAX_DECOMPRESSED_BYTES", "collect",
           "discover", "load_report", "Tally"]

NAME = "security"
TOP_FINDINGS = 200
SECRET_FINDINGS = 100
MAX_REPORT_BYTES = 256 * MiB
MAX_DECOMPRESSED_BYTES = 256 * MiB
MAX_GZIP_MEMBERS = 100  # a real report is one member; thousands of empty ones only cost time
MAX_ERRORS_PER_FILE = 20
FOLDERS = ("", "reports/", "scans/", "security/", "build/", "target/")
NAMES = ("*.sarif", "*.sarif.json", "bandit*.json", "semgrep*.json", "gitleaks*.json", "trivy*.json",
         "pip-audit*.json", "npm-audit*.json", "osv*.json")
EVIDENCE_KINDS = ("sarif", "security")
HINT = ("no security scan results: put SARIF or scanner JSON (bandit, semgrep, gitleaks, trivy, pip-audit, "
        "npm audit, osv-scanner) in the root, reports/, scans/ or security/, pass `--evidence sarif=PATH`, or "
        "use `--run-scanners` (pip install 'devops-audit[scanners]')")
_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass
class ReportSummary:
    """One report (or one of our scanner runs) as a whole."""

    path: str
    format: str
    origin: str  # "report" (found in the repository / given by the user) or "devops-audit" (--run-scanners)
    tools: list[str] = field(default_factory=list)
    tool_categories: dict[str, list[str]] = field(default_factory=dict)  # tool -> sast / sca / secret / iac / other
    runs: int = 0
    results: int = 0
    by_severity: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))
    suppressed: int = 0
    absent: int = 0  # SARIF baselineState "absent": fixed since the baseline, not counted
    malformed: int = 0
    out_of_repo: int = 0
    outside: list[str] = field(default_factory=list)  # which results point outside the repository, per run
    commit: str = ""
    automation: str = ""
    matches_head: bool | None = None


class Tally:
    """Counts findings as they stream by and keeps only the most severe few."""

    def __init__(self, limit: int = TOP_FINDINGS) -> None:
        self.limit = limit
        self.counts: Counter[tuple[str, str, bool]] = Counter()
        self.open_by_category: Counter[str] = Counter()
        self.top: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.secrets: list[dict[str, Any]] = []  # open secret findings, kept apart so none hides behind others
        self.cutoff: tuple[Any, ...] | None = None  # the least severe finding kept at the last trim
        self.seen = 0

    def add(self, finding: Finding, report: str) -> None:
        self.counts[(finding.tool, finding.severity, finding.suppressed)] += 1
        if not finding.suppressed:
            self.open_by_category[finding.category] += 1
            if finding.category == "secret" and len(self.secrets) < SECRET_FINDINGS:
                self.secrets.append({**to_data(finding), "report": report})
        location = finding.location
        key = (finding.suppressed, _RANK.get(finding.severity, 9), finding.tool,
               location.path if location else "\uffff", location.line if location else 0, finding.rule, self.seen)
        self.seen += 1
        if self.cutoff is not None and key >= self.cutoff:
            return
        self.top.append((key, {**to_data(finding), "report": report}))
        if len(self.top) >= 2 * self.limit:
            self._trim()

    def _trim(self) -> None:
        self.top.sort(key=lambda item: item[0])
        del self.top[self.limit:]
        if len(self.top) == self.limit:
            self.cutoff = self.top[-1][0]

    def top_findings(self) -> list[dict[str, Any]]:
        self._trim()
        return [item for _, item in self.top]


def collect(workspace: Workspace, options: Any) -> Evidence:
    inventory: list[InventoryEntry] = []
    reports: list[ReportSummary] = []
    tally = Tally()
    mapper = PathMapper(workspace.root.as_posix(), workspace.file_set)
    head = workspace.git.commit if workspace.git else None
    scans: list[dict[str, Any]] = []
    refused: list[str] = []
    for path in discover(workspace, options, refused):
        summary = _ingest(workspace, path, mapper, tally, inventory, origin="report")
        if summary:
            summary.matches_head = summary.commit == head if summary.commit and head else None
            reports.append(summary)
    inventory.extend(InventoryEntry(p, "scan-report", "error", "outside the repository; refused", evidence=NAME)
                     for p in refused)
    if getattr(options, "run_scanners", False):
        from devops_audit.scanners import run_scanners

        for scan in run_scanners(workspace, options):
            scans.append({"tool": scan.tool, "status": scan.status, "message": scan.message,
                          "seconds": round(scan.seconds, 2)})
            inventory.append(InventoryEntry(scan.label, f"scanner:{scan.tool}", scan.status_for_inventory,
                                            scan.message, evidence=NAME))
            if scan.document is not None:
                summary = _read_document(scan.document, scan.label, mapper, tally, inventory, "devops-audit",
                                         scan.tool)
                if summary:
                    summary.commit, summary.matches_head = head or "", True if head else None
                    reports.append(summary)
    facts = _facts(workspace, reports, tally, scans)
    return Evidence(NAME, present=True, facts=facts, inventory=inventory, hint=HINT)


def discover(workspace: Workspace, options: Any, refused: list[str] | None = None) -> list[str]:
    """Report files: usual names in the usual folders, plus the user's `sarif` / `security` globs.

    Like every other evidence, a report must be inside the repository: a glob that leaves it is refused
    (and listed in `refused`), so a hostile config cannot point the scan at the runner's files.
    """
    found: list[str] = []
    report_name = globs(NAMES)  # a base name is one part: what `PurePosixPath(name).match` does, in C
    for folder in FOLDERS:
        for path in workspace.on_disk(f"{folder}*"):
            name = path.rsplit("/", 1)[-1].lower()
            plain = name[:-3] if name.endswith(".gz") else name
            if report_name(plain):
                found.append(path)
    evidence = getattr(options, "evidence_paths", None) or {}
    patterns = [str(p) for kind in EVIDENCE_KINDS for p in evidence.get(kind) or []]
    usable, outside = evidence_globs(workspace, patterns)
    if refused is not None:
        refused.extend(outside)
    for pattern in usable:
        found.extend(workspace.on_disk(pattern))
    return list(dict.fromkeys(found))


def load_report(workspace: Workspace, path: str) -> Any:
    """A report's JSON (gunzipped when compressed, within the size bounds); EvidenceError when unreadable."""
    try:
        size = workspace.resolve(path).stat().st_size
    except OSError:
        size = MAX_REPORT_BYTES  # let read_bytes name the problem
    data = workspace.read_bytes(path, max_bytes=size if size < MAX_REPORT_BYTES else MAX_REPORT_BYTES)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    try:
        return load_json(data)
    except json.JSONDecodeError as exc:
        raise EvidenceError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except UnicodeDecodeError:
        raise EvidenceError(path, "not UTF-8 text") from None
    except (NonFiniteNumber, TooManyValues) as exc:
        raise EvidenceError(path, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise EvidenceError(path, "JSON nested too deeply") from None
    except MemoryError:
        raise EvidenceError(path, "JSON too large to hold in memory; refused") from None


def _gunzip(data: bytes, path: str) -> bytes:
    out = bytearray()
    members = 0
    while data:
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise EvidenceError(path, f"more than {MAX_GZIP_MEMBERS} gzip members; refused")
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            while data:
                out += decompressor.decompress(data, MAX_DECOMPRESSED_BYTES + 1 - len(out))
                if len(out) > MAX_DECOMPRESSED_BYTES:
                    limit = MAX_DECOMPRESSED_BYTES // MiB
                    raise EvidenceError(path, f"decompresses to more than {limit} MiB; refused")
                data = decompressor.unconsumed_tail
                if decompressor.eof:
                    break
        except zlib.error as exc:
            raise EvidenceError(path, f"corrupt gzip data: {exc}") from None
        if not decompressor.eof:
            raise EvidenceError(path, "truncated gzip data")
        data = decompressor.unused_data  # another gzip member follows
    return bytes(out)


def _ingest(workspace: Workspace, path: str, mapper: PathMapper, tally: Tally,
            inventory: list[InventoryEntry], origin: str) -> ReportSummary | None:
    try:
        document = load_report(workspace, path)
    except EvidenceError as exc:
        inventory.append(InventoryEntry(path, "scan-report", "error", exc.reason, exc.line, NAME))
        return None
    try:
        return _read_document(document, path, mapper, tally, inventory, origin, None)
    except Exception as exc:  # an unexpected shape in one report loses only that report
        inventory.append(unexpected_content(path, "scan-report", exc, NAME))
        return None


def _read_document(document: Any, path: str, mapper: PathMapper, tally: Tally, inventory: list[InventoryEntry],
                   origin: str, expected: str | None) -> ReportSummary | None:
    module = detect_format(document, path.rsplit("/", 1)[-1])
    if module is None or expected and module.FORMAT != expected:
        inventory.append(InventoryEntry(path, "scan-report", "error",
                                        "not a scanner report this tool understands (SARIF 2.1.0, bandit, semgrep, "
                                        "gitleaks, trivy, pip-audit, npm audit, osv-scanner JSON)", 1, NAME))
        return None
    summary = ReportSummary(path, module.FORMAT, origin)
    errors: list[InventoryEntry] = []
    for run in module.runs(document, mapper):
        _read_run(run, summary, tally, errors)
    del document
    inventory.append(InventoryEntry(path, module.FORMAT, "parsed", _describe(summary), None, NAME))
    inventory.extend(errors[:MAX_ERRORS_PER_FILE])
    if len(errors) > MAX_ERRORS_PER_FILE:
        inventory.append(InventoryEntry(path, module.FORMAT, "error",
                                        f"{len(errors) - MAX_ERRORS_PER_FILE} more malformed results skipped",
                                        None, NAME))
    return summary


def _read_run(run: Run, summary: ReportSummary, tally: Tally, errors: list[InventoryEntry]) -> None:
    from devops_audit.collectors.security.scan_formats.common import Malformed  # loaded with the report's format

    summary.runs += 1
    if run.tool not in summary.tools:
        summary.tools.append(run.tool)
    summary.commit = summary.commit or run.commit
    summary.automation = summary.automation or run.automation
    categories = set(summary.tool_categories.get(run.tool, ())) | run.categories
    for item in run.results:
        if isinstance(item, Malformed):
            summary.malformed += 1
            errors.append(InventoryEntry(summary.path, summary.format, "error",
                                         f"run {summary.runs - 1}, result {item.index} skipped: {item.reason}",
                                         None, NAME))
            continue
        if item.baseline == "absent":
            summary.absent += 1
            continue
        categories.add(item.category)
        summary.results += 1
        summary.by_severity[item.severity] += 1
        summary.suppressed += item.suppressed
        tally.add(item, summary.path)
    summary.tool_categories[run.tool] = sorted(categories)
    summary.out_of_repo += len(run.out_of_repo)
    if run.out_of_repo:
        shown = ", ".join(str(i) for i in run.out_of_repo[:10])
        more = f" and {len(run.out_of_repo) - 10} more" if len(run.out_of_repo) > 10 else ""
        summary.outside.append(f"run {summary.runs - 1}: results {shown}{more}")


def _describe(summary: ReportSummary) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in summary.by_severity.items() if n)
    text = (f"{', '.join(summary.tools) or 'no tool'}: {summary.runs} run(s), {summary.results} result(s)"
            f"{' (' + counts + ')' if counts else ''}, {summary.suppressed} suppressed")
    if summary.out_of_repo:
        text += (f"; {summary.out_of_repo} result(s) name files outside the repository (or not in this checkout)"
                 f" and keep no location ({'; '.join(summary.outside)})")
    if summary.absent:
        text += f"; {summary.absent} absent since the baseline (not counted)"
    return text


def _count_order(item: tuple[tuple[str, str, bool], int]) -> tuple[str, int, bool]:
    (tool, severity, suppressed), _ = item
    return tool, _RANK[severity], suppressed


def _facts(workspace: Workspace, reports: list[ReportSummary], tally: Tally,
           scans: list[dict[str, Any]]) -> dict[str, Any]:
    open_by_severity = dict.fromkeys(SEVERITIES, 0)
    suppressed = 0
    for (_, severity, is_suppressed), count in tally.counts.items():
        if is_suppressed:
            suppressed += count
        else:
            open_by_severity[severity] += count
    at_or_above, running = {}, 0
    for severity in SEVERITIES:
        running += open_by_severity[severity]
        at_or_above[severity] = running
    tools: dict[str, set[str]] = {category: set() for category in CATEGORIES}
    for report in reports:
        if report.origin == "report":
            for tool, categories in report.tool_categories.items():
                for category in categories:
                    tools[category].add(tool)
    policy_path = find_security_policy(workspace)
    return {
        "has_results": bool(reports),
        "reports": [to_data(r) for r in reports],
        "tools_with_results": {category: sorted(names) for category, names in tools.items()},
        "counts": [{"tool": t, "severity": s, "suppressed": sup, "count": n}
                   for (t, s, sup), n in sorted(tally.counts.items(), key=_count_order)],
        "total": sum(tally.counts.values()),
        "open_by_severity": open_by_severity,
        "open_at_or_above": at_or_above,
        "suppressed": suppressed,
        "secret_findings": tally.open_by_category["secret"],
        "secrets": tally.secrets,
        "open_by_category": {category: tally.open_by_category[category] for category in CATEGORIES},
        "top_findings": tally.top_findings(),
        "top_truncated": tally.seen > tally.limit,
        "committed_secret_files": [to_data(f) for f in [*committed_secret_files(workspace),
                                                        *hardcoded_secrets(workspace)]],
        "policy": inspect_security_policy(workspace, policy_path) if policy_path else None,
        "security_insights": find_security_insights(workspace),
        "scanners": scans,
    }
