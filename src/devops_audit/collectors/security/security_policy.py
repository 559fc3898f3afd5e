"""What a security policy (SECURITY.md) says: a contact, a disclosure process, a response time.

Understood: `SECURITY.md` / `.rst` / `.txt` / `SECURITY` in the root, `.github/` or `docs/` (any case), and
`SECURITY-INSIGHTS.yml` / `security-insights.yml` (root or `.github/`). A contact is an e-mail address, a link
to the forge's private vulnerability reporting ("security advisories", `/security/advisories`), or a URL on a
line about reporting. A disclosure process is a line about reporting or disclosing vulnerabilities or
security issues. A response time is a duration ("48 hours", "within 5 business days", "two weeks") on a line
about responding, acknowledging or fixing. Each answer carries the line that shows it.
"""

from __future__ import annotations

import re
from typing import Any

from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace

__all__ = ["find_security_policy", "find_security_insights", "inspect_security_policy"]

_NAMES = {"security.md", "security.rst", "security.txt", "security", "security.markdown"}
_FOLDERS = ("", ".github/", "docs/")
_INSIGHTS = {"security-insights.yml", "security-insights.yaml"}
# patterns, not compiled ones: `re.search` compiles each on first use (and caches it); most repositories
# have no security policy, and compiling them all at import costs ~1.5 ms of every cold scan
_EMAIL = r"[\w.+-]+@[\w-]+(\.[\w-]+)+"
_ADVISORIES = (r"(?i)security/advisories|security advisor|private vulnerability report|report a vulnerability"
               r"|hackerone\.com|bugcrowd\.com|huntr\.(dev|com)|tidelift\.com/security")
_URL = r"https?://\S+"
_REPORTING = r"(?i)report|contact|submit|send|disclos|email|e-mail|reach"
_DISCLOSURE = r"(?i)(report|disclos|submit|notify)\w*"
_SECURITY_TOPIC = r"(?i)vulnerab|security (issue|bug|problem|flaw|concern)|privately|confidential|advisor"
_DURATION = (r"(?i)\b(\d+|one|two|three|four|five|six|seven|ten|fourteen|thirty|ninety)[\s-]*"
             r"(business[\s-]+|working[\s-]+)?(hours?|days?|weeks?|months?)\b")
_RESPONSE = r"(?i)respon|acknowledg|reply|replies|get back|triage|within|expect|fix|patch|release"


def find_security_policy(workspace: Workspace) -> str | None:
    """The repository's security policy file, by the forges' lookup order (root, .github, docs)."""
    near_top = _files_in(workspace, "", ".github", "docs")
    for folder in _FOLDERS:
        for path in near_top:
            if path.lower().startswith(folder) and path[len(folder):].lower() in _NAMES:
                return path
    return None


def find_security_insights(workspace: Workspace) -> str | None:
    for path in _files_in(workspace, "", ".github"):
        if path.lower() in _INSIGHTS or path.lower().startswith(".github/") and path[8:].lower() in _INSIGHTS:
            return path
    return None


def _files_in(workspace: Workspace, *folders: str) -> list[str]:
    """The files directly in these folders (any case: `.GitHub/`, `Docs/`), in file order."""
    return sorted(p for folder, paths in workspace.index.folders.items() if folder.lower() in folders for p in paths)


def inspect_security_policy(workspace: Workspace, path: str) -> dict[str, Any]:
    """`contact`, `disclosure`, `response_time` booleans with the line of each (None when absent)."""
    result: dict[str, Any] = {"path": path, "contact": False, "contact_line": None, "disclosure": False,
                              "disclosure_line": None, "response_time": False, "response_time_line": None,
                              "error": ""}
    try:
        text = workspace.read_text(path)
    except EvidenceError as exc:
        result["error"] = exc.reason
        return result
    for number, line in enumerate(text.splitlines(), start=1):
        for key, found in (("contact", _is_contact(line)), ("disclosure", _is_disclosure(line)),
                           ("response_time", _is_response_time(line))):
            if found and not result[key]:
                result[key], result[f"{key}_line"] = True, number
    return result


def _is_contact(line: str) -> bool:
    return bool(re.search(_EMAIL, line) or re.search(_ADVISORIES, line)
                or re.search(_URL, line) and re.search(_REPORTING, line))


def _is_disclosure(line: str) -> bool:
    return bool(re.search(_DISCLOSURE, line) and re.search(_SECURITY_TOPIC, line))


def _is_response_time(line: str) -> bool:
    return bool(re.search(_DURATION, line) and re.search(_RESPONSE, line))
