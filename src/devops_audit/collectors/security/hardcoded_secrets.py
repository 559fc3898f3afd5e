"""Secrets written as literal values into CI and deployment configuration. Values are never kept.

Read: the CI files of every system (workflows, `.gitlab-ci.yml` and `.gitlab/`, Jenkinsfiles, Azure, CircleCI,
Bitbucket), docker-compose files and Helm values. Two kinds of hit:
- a variable whose name says it holds a secret (`*SECRET*`, `*PASSWORD*`, `*TOKEN*`, `*API_KEY*`, ...) set to
  a literal (`KEYCLOAK_CLIENT_SECRET: 158a2075-...`), not to a reference (`$VAR`, `${{ secrets.X }}`,
  `$(var)`, a vault path, a credentials id) and not to a placeholder (`changeme`, `xxx`, `<token>`);
- a token in a well-known format anywhere in those files (AWS access key ids, GitHub, GitLab, Slack, Google,
  Stripe tokens, private key blocks).
Only the variable name or the token kind is reported, with the line.
"""

from __future__ import annotations

import re

from devops_audit.collectors.security.secret_files import SecretFile, is_test_path
from devops_audit.errors import EvidenceError
from devops_audit.workspace import MiB, Workspace

__all__ = ["CONFIG_GLOBS", "hardcoded_secrets"]

CONFIG_GLOBS = (
    ".github/workflows/*.yml", ".github/workflows/*.yaml", ".gitlab-ci.yml", ".gitlab/*.yml", ".gitlab/*.yaml",
    "Jenkinsfile", "*/Jenkinsfile", "Jenkinsfile*", "*.jenkinsfile", "azure-pipelines*.yml", "*/azure-pipelines*.yml",
    ".circleci/config.yml", "bitbucket-pipelines.yml", "docker-compose*.yml", "docker-compose*.yaml",
    "compose.yml", "compose.yaml", "values*.yaml", "*/values*.yaml",
)
_ASSIGNMENT = re.compile(
    r"""^\s*(?:-\s+)?(?:export\s+)?["']?(?P<name>[A-Za-z0-9_.-]*?(?:secret|password|passwd|pwd|token|api[_-]?key"""
    r"""|apikey|private[_-]?key|access[_-]?key)[A-Za-z0-9_.-]*)["']?\s*[:=]\s*(?P<value>.*)$""",
    re.IGNORECASE,
)
_REFERENCE_NAME = re.compile(r"(?i)(_?id|credentialsid|_file|_path|_url|_name|_user|_username|_var|_env|_ref|_key_name)$")
_PLACEHOLDER = re.compile(r"(?i)^(change[-_]?me|changeit|password|secret|token|x+|\*+|dummy|example|test|none|null|"
                          r"redacted|placeholder|your[-_].*|<.*>|true|false|write|read|none)$")
_FORMATS = (
    ("AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe live key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}\b")),
    ("private key block", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----")),
)
_READ_LIMIT = 2 * MiB


def hardcoded_secrets(workspace: Workspace) -> list[SecretFile]:
    """Every literal secret in the repository's CI and deployment configuration, by path and line."""
    found: list[SecretFile] = []
    for path in workspace.matching(*CONFIG_GLOBS):
        try:
            text = workspace.read_bytes(path, max_bytes=_READ_LIMIT).decode("utf-8", errors="replace")
        except EvidenceError:
            continue  # the CI collectors report unreadable CI files
        for number, line in enumerate(text.splitlines(), start=1):
            reason = _secret_in(line)
            if reason:
                found.append(SecretFile(path, number, reason, is_test_path(path)))
    return found


def _secret_in(line: str) -> str | None:
    for kind, pattern in _FORMATS:
        if pattern.search(line):
            return f"{kind} committed in CI/deployment configuration"
    stripped = line.strip()
    if stripped.startswith(("#", "//", "*")):
        return None
    match = _ASSIGNMENT.match(line)
    if not match or _REFERENCE_NAME.search(match.group("name")):
        return None
    if _is_literal_secret(match.group("value")):
        return f"hard-coded secret in CI/deployment configuration ({match.group('name')})"
    return None


def _is_literal_secret(raw: str) -> bool:
    value = re.split(r"\s+#", raw, maxsplit=1)[0].strip().rstrip(",;")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    if len(value) < 8 or _PLACEHOLDER.match(value) or value[0] in "|>&*!{[(":
        return False
    if any(marker in value for marker in ("$", "{{", "%(", "/", " ", "@", "\\")):
        return False  # a reference, an expression, a path, a sentence or a script: not a literal secret
    return bool(re.search(r"\d", value)) and bool(re.search(r"[A-Za-z]", value))
