"""Whether a line holds a secret, judged by its value. The value itself never leaves this module.

A hit is a token in a well-known format (AWS, GitHub, GitLab, Slack, Google, Stripe, private key blocks), or a
variable whose name says it holds a secret set to a literal with the entropy of a secret: not a reference
(`$VAR`, `${{ secrets.X }}`, a path), not a placeholder (`changeme`, `xxx`, `<token>`), not a word (`env`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

__all__ = ["secret_in", "secret_lines", "describe", "PRIVATE_KEY"]

PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----")
_ASSIGNMENT = re.compile(
    r"""^\s*(?:-\s+)?(?:export\s+)?["']?(?P<name>[A-Za-z0-9_.-]*?(?:secret|password|passwd|pwd|token|api[_-]?key"""
    r"""|apikey|private[_-]?key|access[_-]?key)[A-Za-z0-9_.-]*)["']?\s*[:=]\s*(?P<value>.*)$""",
    re.IGNORECASE,
)
_REFERENCE_NAME = re.compile(r"(?i)(_?id|credentialsid|_file|_path|_url|_name|_user|_username|_var|_env|_ref|_key_name)$")
_PLACEHOLDER = re.compile(r"(?i)^(change[-_]?me|changeit|password|secret|token|x+|\*+|dummy|example|test|none|null|"
                          r"redacted|placeholder|your[-_].*|<.*>|true|false|write|read|none)$")
# (what, the marks one of which every match holds, pattern). A pattern is compiled by `re.search` when a line
# first holds one of its marks: most repositories hold none, and compiling them all costs ~0.7 ms of a cold scan
_FORMATS = (
    ("AWS access key id", ("AKIA", "ASIA"), r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})\b"),
    ("GitLab token", ("glpat-",), r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    ("Slack token", ("xox",), r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    ("Google API key", ("AIza",), r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("Stripe live key", ("k_live_",), r"\b[sr]k_live_[0-9A-Za-z]{20,}\b"),
    ("private key block", ("-----BEGIN ",), PRIVATE_KEY.pattern),
)
_URL_CREDENTIALS = r"\b[a-z][a-z0-9+.-]*://(?P<user>[^/\s:@]+):(?P<password>[^/\s:@]{6,})@"  # compiled likewise
# A line without one of these substrings matches none of the patterns above (a URL with credentials holds
# `://`), so most lines are cleared with substring tests, not regexes
_MARKS = (*(mark for _, marks, _ in _FORMATS for mark in marks), "://")
# every name `_ASSIGNMENT` accepts holds one of these; casefold() maps each character `re.IGNORECASE` takes
# for one of their letters (`S`, `ſ`, the Kelvin sign) to that letter
_NAME_WORDS = ("secret", "passw", "pwd", "token", "key")


def describe(hit: tuple[str, str], where: str) -> str:
    """`GitHub token committed in CI/deployment configuration`, `hard-coded secret in .env (API_KEY)`."""
    what, name = hit
    return f"{what} in {where}" + (f" ({name})" if name else "")


def secret_lines(text: str) -> Iterator[tuple[int, tuple[str, str]]]:
    """`secret_in` of each line of `text` that holds a secret, with its number (from 1). Only the lines that
    hold a mark or a name word present in the whole text are judged: most lines are cleared by substring tests."""
    marks = [mark for mark in _MARKS if mark in text]
    folded = text.casefold()
    words = [word for word in _NAME_WORDS if word in folded]
    if not marks and not words:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if any(mark in line for mark in marks) or any(word in line.casefold() for word in words):
            hit = secret_in(line)
            if hit:
                yield number, hit


def secret_in(line: str) -> tuple[str, str] | None:
    """What kind of secret one line holds and under which name (`hard-coded secret`, `API_KEY`), or None.
    The value itself is never returned."""
    for kind, marks, pattern in _FORMATS:
        if any(mark in line for mark in marks) and re.search(pattern, line):
            return f"{kind} committed", ""
    if "://" in line and _password_in_url(line):
        return "password in a URL committed", ""
    stripped = line.strip()
    if stripped.startswith(("#", "//", "*")):
        return None
    match = _ASSIGNMENT.match(line)
    if not match or _REFERENCE_NAME.search(match.group("name")):
        return None
    if _is_literal_secret(match.group("value")):
        return "hard-coded secret", match.group("name")
    return None


def _password_in_url(line: str) -> bool:
    """A URL of the line carries a password that is not the user's name, a placeholder or a reference."""
    for match in re.finditer(_URL_CREDENTIALS, line):
        user, password = match.group("user"), match.group("password")
        if password != user and not _PLACEHOLDER.match(password) and password[0] not in "$%{<" and _random_enough(password):
            return True
    return False


def _is_literal_secret(raw: str) -> bool:
    value = re.split(r"\s+#", raw, maxsplit=1)[0].strip().rstrip(",;")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    if len(value) < 8 or _PLACEHOLDER.match(value) or value[0] in "|>&*!{[(":
        return False
    if any(marker in value for marker in ("$", "{{", "%(", "/", " ", "@", "\\")):
        return False  # a reference, an expression, a path, a sentence or a script: not a literal secret
    return bool(re.search(r"\d", value)) and bool(re.search(r"[A-Za-z]", value)) and _random_enough(value)


def _random_enough(value: str) -> bool:
    """Shannon entropy per character near that of random text of its length (`aaaa1111` is not a secret)."""
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= min(3.0, 0.75 * math.log2(len(value)))
