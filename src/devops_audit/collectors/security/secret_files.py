"""Committed files that usually hold secrets, found in the repository's file list. Values are never kept.

Understood: `.env` and `.env.<name>` with at least one `KEY=value` line (not `.env.example`, `.sample`,
`.template`, `.dist`, `.defaults`); `*.pem`, `*.key`, `id_rsa`, `id_dsa`, `id_ecdsa`, `id_ed25519` containing a
`PRIVATE KEY` block; `credentials.json` with a `private_key`, `client_secret`, `password` or token key;
`.npmrc` with a literal `_authToken` (not `${NPM_TOKEN}`); `.pypirc` with a non-empty `password`.
Each hit says where (path, line) and why, and whether it sits in test data (`tests/`, `fixtures/`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from devops_audit.errors import EvidenceError
from devops_audit.workspace import MiB, Workspace

__all__ = ["SecretFile", "committed_secret_files", "is_test_path"]

_ENV_TEMPLATES = {"example", "sample", "template", "dist", "defaults", "tpl", "schema", "in"}
_KEY_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"}
_TEST_PARTS = {"test", "tests", "testing", "testdata", "test-data", "test_data", "fixtures", "__fixtures__",
               "testfixtures", "spec", "examples", "example", "docs_src"}
_ENV_LINE = re.compile(r"^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=\s*\S")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----")
_CREDENTIAL_KEY = re.compile(r'"(private_key|client_secret|password|secret|access_token|refresh_token)"\s*:\s*"[^"]')
_NPM_TOKEN = re.compile(r"_authToken\s*=\s*(?!\$\{)\S")
_PYPI_PASSWORD = re.compile(r"^\s*password\s*[=:]\s*(?!\$\{|%\()\S", re.IGNORECASE)
_READ_LIMIT = 1 * MiB


@dataclass(frozen=True)
class SecretFile:
    """A committed file that holds (or very likely holds) a secret; `line` is where it shows."""

    path: str
    line: int
    reason: str
    test_data: bool


def committed_secret_files(workspace: Workspace) -> list[SecretFile]:
    found = []
    for path in workspace.files:
        check = _check_for(path.rsplit("/", 1)[-1])
        if check is None:
            continue
        pattern, reason = check
        line = _first_line(workspace, path, pattern)
        if line:
            found.append(SecretFile(path, line, reason, is_test_path(path)))
    return found


def is_test_path(path: str) -> bool:
    """Under a test-data folder (`tests/`, `fixtures/`, ...): planted secrets there are test inputs."""
    return any(part.lower() in _TEST_PARTS for part in path.split("/")[:-1])


def _check_for(name: str) -> tuple[re.Pattern[str], str] | None:
    lower = name.lower()
    if lower == ".env" or lower.startswith(".env.") and lower.rsplit(".", 1)[-1] not in _ENV_TEMPLATES:
        return _ENV_LINE, "environment file with values committed"
    if lower.endswith((".pem", ".key")) or lower in _KEY_NAMES:
        return _PRIVATE_KEY, "private key committed"
    if lower == "credentials.json":
        return _CREDENTIAL_KEY, "credentials file committed"
    if lower == ".npmrc":
        return _NPM_TOKEN, "npm auth token committed in .npmrc"
    if lower == ".pypirc":
        return _PYPI_PASSWORD, "PyPI password committed in .pypirc"
    return None


def _first_line(workspace: Workspace, path: str, pattern: re.Pattern[str]) -> int | None:
    try:
        data = workspace.read_bytes(path, max_bytes=_READ_LIMIT)
    except EvidenceError:
        return None  # unreadable, a symlink out of the repository or too large to be a credential file
    text = data.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line):
            return number
    return None
