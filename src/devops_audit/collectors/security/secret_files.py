"""Committed files that hold secrets, judged by what they contain, not by their names. Values are never kept.

Candidates come from one precompiled pattern over the distinct file names; each is then read:
- `.env`, `.env.<name>` (not `.example`, `.sample`, `.template`, ...): a line whose value is a secret
  (`secret_values.secret_lines`: a well-known token format, or a high-entropy literal under a secret-like name);
  `FOO=env` or `DEBUG=1` is not a finding;
- `*.pem`, `*.key`, `id_rsa`, `id_dsa`, `id_ecdsa`, `id_ed25519`: a `PRIVATE KEY` block (a certificate or a
  public key is not a secret);
- keystores `*.jks`, `*.jceks`, `*.keystore`, `*.p12`, `*.pfx`: a private or secret key entry (a truststore
  holding only certificates is not a secret);
- `credentials.json` with a `private_key`, `client_secret`, `password` or token key; `.npmrc` with a literal
  `_authToken` (not `${NPM_TOKEN}`); `.pypirc` with a non-empty `password`.
Each hit says where (path, line) and what kind of secret, and whether it sits in test data (`tests/`,
`fixtures/`, ...): SR.DS.02 reports those separately, at a lower severity.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from devops_audit.collectors.security.secret_values import PRIVATE_KEY, describe, secret_lines
from devops_audit.errors import EvidenceError
from devops_audit.workspace import MiB, Workspace

__all__ = ["SecretFile", "committed_secret_files", "is_test_path", "keystore_holds_private_key"]

_TEST_PARTS = {"test", "tests", "testing", "testdata", "test-data", "test_data", "fixtures", "__fixtures__",
               "testfixtures", "spec", "examples", "example", "docs_src"}
_ENV_TEMPLATES = {"example", "sample", "template", "dist", "defaults", "tpl", "schema", "in"}
_CANDIDATE = re.compile(
    r"(?i)^(?:(?P<env>\.env(?:\.[^/]+)?)"
    r"|(?P<key>.+\.(?:pem|key)|id_(?:rsa|dsa|ecdsa|ed25519))"
    r"|(?P<keystore>.+\.(?:jks|jceks|keystore|p12|pfx))"
    r"|(?P<credentials>credentials\.json)|(?P<npmrc>\.npmrc)|(?P<pypirc>\.pypirc))$")
# kind -> (the pattern of a line that holds the secret, the reason). Patterns, not compiled ones: `re.search`
# compiles one when such a file is met (few repositories have one), not at every scan's start
_LINE_RULES = {
    "key": (PRIVATE_KEY.pattern, "private key committed"),
    "credentials": (r'"(private_key|client_secret|password|secret|access_token|refresh_token)"\s*:\s*"[^"]',
                    "credentials file committed"),
    "npmrc": (r"_authToken\s*=\s*(?!\$\{)\S", "npm auth token committed in .npmrc"),
    "pypirc": (r"(?i)^\s*password\s*[=:]\s*(?!\$\{|%\()\S", "PyPI password committed in .pypirc"),
}
# DER encodings of the PKCS#12 bag types that carry a private key: keyBag and pkcs8ShroudedKeyBag
_PKCS12_KEY_BAGS = (bytes.fromhex("060b2a864886f70d010c0a0101"), bytes.fromhex("060b2a864886f70d010c0a0102"))
_READ_LIMIT = 1 * MiB


@dataclass(frozen=True)
class SecretFile:
    """A committed secret; `line` is where it shows, `reason` says what kind (never the value)."""

    path: str
    line: int
    reason: str
    test_data: bool


def committed_secret_files(workspace: Workspace) -> list[SecretFile]:
    found = []
    names = workspace.index.names
    candidates = sorted((path, match.lastgroup or "") for name in names if (match := _CANDIDATE.match(name))
                        for path in names[name])
    for path, kind in candidates:
        if kind == "env" and path.rsplit(".", 1)[-1].lower() in _ENV_TEMPLATES:
            continue  # a template documents the variables; its values are placeholders
        data = _read(workspace, path)
        if data is None:
            continue
        hit = _keystore(data) if kind == "keystore" else _first_secret_line(kind, data)
        if hit:
            line, reason = hit
            found.append(SecretFile(path, line, reason, is_test_path(path)))
    return found


def is_test_path(path: str) -> bool:
    """Under a test-data folder (`tests/`, `fixtures/`, ...): planted secrets there are test inputs."""
    return any(part.lower() in _TEST_PARTS for part in path.split("/")[:-1])


def keystore_holds_private_key(data: bytes) -> bool:
    """A Java keystore (JKS/JCEKS) with a private or secret key entry, or a PKCS#12 file with a key bag."""
    if data[:4] in (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce"):
        return _jks_has_key(data)
    return any(bag in data for bag in _PKCS12_KEY_BAGS)


def _keystore(data: bytes) -> tuple[int, str] | None:
    return (1, "keystore with a private key committed") if keystore_holds_private_key(data) else None


def _jks_has_key(data: bytes) -> bool:
    """Walk the entries of a JKS/JCEKS keystore: tag 1 is a private key, 3 a secret key, 2 a certificate."""
    try:
        version, count = struct.unpack_from(">II", data, 4)
        offset = 12
        for _ in range(min(count, 10_000)):
            (tag,) = struct.unpack_from(">I", data, offset)
            if tag in (1, 3):
                return True
            if tag != 2:
                return False
            (alias_length,) = struct.unpack_from(">H", data, offset + 4)
            offset += 4 + 2 + alias_length + 8  # tag, alias, timestamp
            if version == 2:
                (type_length,) = struct.unpack_from(">H", data, offset)
                offset += 2 + type_length  # certificate type, e.g. "X.509"
            (cert_length,) = struct.unpack_from(">I", data, offset)
            offset += 4 + cert_length
    except struct.error:
        return False  # truncated or not a keystore: nothing we can say it holds
    return False


def _first_secret_line(kind: str, data: bytes) -> tuple[int, str] | None:
    text = data.decode("utf-8", errors="replace")
    if kind == "env":
        for number, hit in secret_lines(text):
            return number, describe(hit, "an environment file")
        return None
    pattern, reason = _LINE_RULES[kind]
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(pattern, line):
            return number, reason
    return None


def _read(workspace: Workspace, path: str) -> bytes | None:
    try:
        return workspace.read_bytes(path, max_bytes=_READ_LIMIT)
    except EvidenceError:
        return None  # unreadable, a symlink out of the repository or too large to be a credential file
