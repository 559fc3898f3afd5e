"""The normalised finding every scanner format is turned into, and the helpers the formats share.

Severity is one of `critical`, `high`, `medium`, `low`, `info`. Scores (SARIF `security-severity`, CVSS) map
as: >= 9 critical, >= 7 high, >= 4 medium, > 0 low, else info. SARIF levels map as: error -> high,
warning -> medium, note -> low, none -> info. Category is one of `sast`, `sca`, `secret`, `iac` (infrastructure
and CI configuration), `other`.

Secrets never reach a finding: formats do not read secret fields (gitleaks `Secret`/`Match`, trivy `Match`
and code lines, SARIF snippets), and every message goes through `redact`, which masks token shapes
(AWS key ids, GitHub/GitLab/Slack tokens, private-key blocks, long high-entropy strings) and, for secret
findings, every quoted literal.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from devops_audit.collectors.security.scan_formats import CATEGORIES, SEVERITIES
from devops_audit.collectors.security.scan_formats.paths import OUTSIDE, PathMapper
from devops_audit.facts import Location

__all__ = [
    "SEVERITIES", "CATEGORIES", "Finding", "Malformed", "Run",
    "severity_from_score", "severity_from_level", "severity_from_word", "redact", "is_credential_rule", "fingerprint",
    "text_of", "int_or_none", "locate",
]

MAX_MESSAGE = 300

_LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
_WORDS = {
    "critical": "critical", "blocker": "critical",
    "high": "high", "error": "high", "major": "high",
    "medium": "medium", "moderate": "medium", "warning": "medium",
    "low": "low", "minor": "low", "note": "low",
    "info": "info", "informational": "info", "information": "info", "none": "info",
}
_TOKEN_SHAPES = re.compile(
    r"-----BEGIN[A-Z ]*PRIVATE KEY( BLOCK)?-----.*?(-----END[A-Z ]*PRIVATE KEY( BLOCK)?-----|$)"
    r"|\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"
    r"|\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{30,})",
    re.DOTALL,
)
_LONG_WORD = re.compile(r"[A-Za-z0-9+/=_\-]{24,}")
_QUOTED = re.compile(r"""(['"`])(?:(?!\1).){1,200}\1""")
_CREDENTIAL_RULE = re.compile(r"(?i)^B10[567]$|passw|secret|credential|token|private.?key|api.?key")
_BAD_FINGERPRINTS = {"", "requires login"}  # semgrep OSS writes "requires login" for every result


@dataclass
class Finding:
    """One scanner result, normalised. `location` is None when it is unknown or points outside the repo."""

    tool: str
    rule: str
    severity: str
    category: str
    message: str
    location: Location | None
    confidence: str = ""  # high | medium | low | "" when the tool does not say
    suppressed: bool = False
    fingerprint: str = ""
    baseline: str = ""  # SARIF baselineState: new | unchanged | updated | absent


@dataclass(frozen=True)
class Malformed:
    """A result that could not be understood: its index in the report and why."""

    index: int
    reason: str


@dataclass
class Run:
    """One tool invocation inside a report (a SARIF run, or the whole of a native report)."""

    tool: str
    categories: set[str]
    results: Iterable[Finding | Malformed]
    commit: str = ""
    automation: str = ""
    out_of_repo: list[int] = field(default_factory=list)  # filled while results are read


def severity_from_score(score: Any) -> str | None:
    """A 0-10 score (SARIF security-severity, CVSS base score) as a severity; None when not a number."""
    try:
        value = float(score)
    except (TypeError, ValueError):
        return None
    if math.isnan(value):
        return None
    if value >= 9:
        return "critical"
    if value >= 7:
        return "high"
    if value >= 4:
        return "medium"
    return "low" if value > 0 else "info"


def severity_from_level(level: Any) -> str | None:
    """A SARIF level (error / warning / note / none) as a severity."""
    return _LEVELS.get(str(level).lower()) if level is not None else None


def severity_from_word(word: Any) -> str | None:
    """A tool's own severity word (HIGH, ERROR, moderate, blocker, ...) as a severity."""
    return _WORDS.get(str(word).strip().lower()) if word is not None else None


def redact(text: str, *, secret: bool = False) -> str:
    """`text` with secret-looking values masked, shortened to a few hundred characters."""
    return _redact(text, secret)


@lru_cache(maxsize=4096)
def _redact(text: str, secret: bool) -> str:
    text = _TOKEN_SHAPES.sub("[redacted]", text)
    if secret:
        text = _QUOTED.sub(lambda m: f"{m.group(1)}[redacted]{m.group(1)}", text)
        text = _LONG_WORD.sub("[redacted]", text)
    else:
        text = _LONG_WORD.sub(lambda m: "[redacted]" if _looks_random(m.group(0)) else m.group(0), text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _looks_random(word: str) -> bool:
    """Long words mixing upper case, lower case and digits (keys, tokens; over-masking is harmless)."""
    return all(re.search(p, word) for p in ("[a-z]", "[A-Z]", "[0-9]"))


def is_credential_rule(*names: str) -> bool:
    """Rules about hard-coded credentials, whose messages tend to quote the value (bandit B105-B107)."""
    return any(_CREDENTIAL_RULE.search(name or "") for name in names)


def fingerprint(tool: str, rule: str, path: str | None, message: str, given: Any = None) -> str:
    """The tool's own fingerprint when it gave a usable one, else a hash of tool, rule, path and message."""
    if isinstance(given, dict):
        for key in sorted(given):
            value = str(given[key])
            if value.strip().lower() not in _BAD_FINGERPRINTS:
                return f"{key}:{value}"[:200]
    elif isinstance(given, str) and given.strip().lower() not in _BAD_FINGERPRINTS:
        return given[:200]
    digest = hashlib.sha256("\0".join((tool, rule, path or "", message)).encode("utf-8", "replace"))
    return "sha256:" + digest.hexdigest()[:32]


def text_of(value: Any) -> str:
    """A SARIF message object or a plain value as text."""
    if isinstance(value, dict):
        value = value.get("text") or value.get("markdown") or ""
    return value if isinstance(value, str) else ("" if value is None else str(value))


def int_or_none(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 1 else None


def locate(mapper: PathMapper, record: Run, index: int, path: Any, line: Any, base_id: Any = None,
           bases: dict[str, Any] | None = None) -> Location | None:
    """The repository location of a result; one that leaves the repository is counted on `record`."""
    mapped = mapper.map(path, base_id, bases)
    if mapped == OUTSIDE:
        record.out_of_repo.append(index)
        return None
    return Location(mapped, int_or_none(line) or 1) if mapped else None
