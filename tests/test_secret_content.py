"""SR.DS.01 judges secrets by their content, not by file names (issue 11, item 4); test data goes to SR.DS.02 at a
lower severity; values never reach a report."""

from __future__ import annotations

import datetime
import fnmatch
import json
import struct

import pytest
from helpers import scan_dict, verdicts, write

from devops_audit.collectors.security import secret_values
from devops_audit.collectors.security.hardcoded_secrets import hardcoded_secrets
from devops_audit.collectors.security.secret_files import committed_secret_files, keystore_holds_private_key
from devops_audit.workspace import Workspace

API_KEY = "9f3Kq7ZpX2mW8vLr4TyB"  # a high-entropy literal, as a real API key looks
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
               "-----END OPENSSH PRIVATE KEY-----\n")
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ\n-----END CERTIFICATE-----\n"


def ds(root, **options):
    report = scan_dict(root, offline=True, **options)
    return verdicts(report)["SR.DS.01"], verdicts(report)["SR.DS.02"], json.dumps(report)


def test_a_dotenv_of_harmless_values_is_not_a_finding(tmp_path):
    write(tmp_path, {"tests/test_apps/.env": "FOO=env\n", ".env": "DEBUG=1\nSECRET_KEY=dev\nLOG_LEVEL=info\n"})
    ds01, ds02, _ = ds(tmp_path)
    assert (ds01["status"], ds02["status"]) == ("pass", "pass")


def test_a_dotenv_with_a_real_looking_key_fails_without_printing_it(tmp_path):
    write(tmp_path, {".env": f"DEBUG=1\nPAYMENT_API_KEY={API_KEY}\n"})
    ds01, _, text = ds(tmp_path)
    assert ds01["status"] == "fail"
    assert [(v["path"], v["line"], v["message"]) for v in ds01["violations"]] == [
        (".env", 2, "hard-coded secret in an environment file (PAYMENT_API_KEY)")]
    assert API_KEY not in text


def test_low_entropy_values_under_secret_names_are_not_secrets(tmp_path):
    write(tmp_path, {".env": "DB_PASSWORD=aaaaaaaa1\nAPI_TOKEN=11111111a\n"})
    assert ds(tmp_path)[0]["status"] == "pass"


def test_a_pem_file_is_a_finding_only_when_it_holds_a_private_key(tmp_path):
    write(tmp_path, {"certs/ca.pem": CERTIFICATE, "deploy/server.key": PRIVATE_KEY})
    ds01, _, text = ds(tmp_path)
    assert [(v["path"], v["message"]) for v in ds01["violations"]] == [("deploy/server.key", "private key committed")]
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in text


def jks(entries: list[tuple[int, bytes]]) -> bytes:
    """A Java keystore (version 2) with entries of (tag, payload): 1 private key, 2 trusted certificate."""
    out = b"\xfe\xed\xfe\xed" + struct.pack(">II", 2, len(entries))
    for tag, payload in entries:
        out += struct.pack(">I", tag) + struct.pack(">H", 5) + b"alias" + struct.pack(">Q", 0)
        if tag == 1:
            out += struct.pack(">I", len(payload)) + payload + struct.pack(">I", 0)
        else:
            out += struct.pack(">H", 5) + b"X.509" + struct.pack(">I", len(payload)) + payload
    return out + b"\x00" * 20  # the keyed digest


def test_a_java_keystore_is_a_finding_when_it_holds_a_private_key_not_when_it_is_a_truststore(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "server.jks").write_bytes(jks([(2, b"cert-one"), (1, b"encrypted-key")]))
    (tmp_path / "config" / "truststore.jks").write_bytes(jks([(2, b"cert-one"), (2, b"cert-two")]))
    ds01, _, _ = ds(tmp_path)
    assert [(v["path"], v["message"]) for v in ds01["violations"]] == [
        ("config/server.jks", "keystore with a private key committed")]


def test_pkcs12_files_with_and_without_a_private_key():
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    with_key = pkcs12.serialize_key_and_certificates(b"server", key, cert, None, BestAvailableEncryption(b"pw"))
    certs_only = pkcs12.serialize_key_and_certificates(b"ca", None, None, [cert], BestAvailableEncryption(b"pw"))
    assert keystore_holds_private_key(with_key)
    assert not keystore_holds_private_key(certs_only)


def test_secrets_in_test_data_are_reported_separately_at_lower_severity(tmp_path):
    write(tmp_path, {"tests/fixtures/id_rsa": PRIVATE_KEY, "src/app.py": "print(1)\n"})
    ds01, ds02, _ = ds(tmp_path)
    assert ds01["status"] == "pass"
    assert "secrets in test data are reported by SR.DS.02" in ds01["message"]
    assert (ds02["status"], ds02["severity"]) == ("fail", "low")
    assert [(v["path"], v["message"]) for v in ds02["violations"]] == [
        ("tests/fixtures/id_rsa", "private key committed (test data)")]


def test_the_test_data_split_is_a_parameter(tmp_path):
    write(tmp_path, {"tests/fixtures/id_rsa": PRIVATE_KEY,
                     ".devops-audit.yml": "params:\n  SR.DS.01: {ignore_test_data: false}\n"})
    ds01, _, _ = ds(tmp_path)
    assert ds01["status"] == "fail" and ds01["severity"] == "critical"


def test_the_secret_checks_match_file_names_in_one_compiled_pass(tmp_path, monkeypatch):
    files = {f"src/pkg{n}/module{m}.py": "x = 1\n" for n in range(40) for m in range(50)}
    files[".gitlab-ci.yml"] = f"variables:\n  DEPLOY_TOKEN: {API_KEY}\n"
    write(tmp_path, files)
    calls = []
    original = fnmatch.fnmatch
    monkeypatch.setattr(fnmatch, "fnmatch", lambda *a: calls.append(a) or original(*a))
    workspace = Workspace(tmp_path)
    assert [f.path for f in hardcoded_secrets(workspace)] == [".gitlab-ci.yml"]
    assert committed_secret_files(workspace) == []
    assert calls == []  # no per-file × per-pattern fnmatch loop over the 2,001 files


def test_the_substring_filter_of_secret_lines_keeps_every_line_secret_in_flags():
    lines = [
        "API_KEY: 9f8e7d6c5b4a3f2e1d0c",  # a name word, upper case
        "ſECRET_VALUE=9f8e7d6c5b4a3f2e1d0c",  # `re.IGNORECASE` takes the long s for an s
        "GITHUB_TO\u212aEN=9f8e7d6c5b4a3f2e1d0c",  # and the Kelvin sign for a k
        "url: https://deploy:Zq8xW3vR7pL2@example.com/x",
        "aws: AKIAABCDEFGHIJKLMNOP",
        "token ghp_" + "a1" * 18,
        "slack xoxb-1234567890-abcdef",
        "-----BEGIN RSA PRIVATE KEY-----",
        "DEBUG=1",
        "name: build",
    ]
    text = "\r\n".join(lines) + "\u2028tail: 1\n"
    expected = [(number, hit) for number, line in enumerate(text.splitlines(), start=1)
                if (hit := secret_values.secret_in(line))]
    assert len(expected) == 8
    assert list(secret_values.secret_lines(text)) == expected
    assert list(secret_values.secret_lines("name: build\nrun: make\n")) == []
