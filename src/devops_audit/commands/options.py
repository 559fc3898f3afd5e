"""The command line's one validated model: value types every command shares, and the scan options.

Each flag value is checked where it is parsed (an `argparse` type), so a bad value is one line on stderr
naming the flag and the valid values, exit 2, before anything is scanned. Severities, areas and indicator
ids are case-insensitive; a flag that repeats also takes a comma list (`--fail-on high,SR.BD.04`).
What needs the policy packs (do the indicator ids and areas exist, is the level within the area?) is
checked once they are loaded, by `gate.check_settings`.

`add_scan_options(parser)` / `scan_options_from_args(args)` are the scan options shared by `scan`,
`baseline create`, `fleet scan` and `assess`: add a scan option there, once.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "EVIDENCE_KINDS",
    "add_scan_options",
    "api_url",
    "area_id",
    "comma_list",
    "evidence_pair",
    "fail_on_value",
    "indicator_id",
    "lower",
    "positive_float",
    "positive_int",
    "scan_options_from_args",
    "target_pair",
]

EVIDENCE_KINDS = ("coverage", "junit", "tests", "sarif", "security", "protection")
MAX_HISTORY_DAYS = 36500
# patterns, compiled by `re.match` when a flag needs one: most command lines name no indicator or area
_ID = r"^[A-Za-z][A-Za-z0-9]{0,9}\.[A-Za-z0-9]{1,10}\.\d{1,3}$"
_AREA = r"^[A-Za-z][A-Za-z0-9]{0,9}$"


def _severities() -> tuple[str, ...]:
    from devops_audit.policy import SEVERITIES  # imported late: `--version` loads no YAML library

    return SEVERITIES


def _invalid(value: str, valid: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"invalid value {value!r} (valid: {valid})")


def comma_list(parse_one: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    """An argparse type for a repeatable flag that also takes `a,b,c`; use with `action="extend"`."""

    def parse(text: str) -> list[Any]:
        items = [part.strip() for part in text.split(",")]
        if not any(items):
            raise argparse.ArgumentTypeError("expected a value, got nothing")
        return [parse_one(item) for item in items if item]

    parse.__name__ = getattr(parse_one, "__name__", "value")  # argparse names the type in its messages
    return parse


def fail_on_value(text: str) -> str:
    """A severity (returned in lower case) or an indicator id (upper case)."""
    lowered = text.lower()
    if lowered in _severities():
        return lowered
    if re.match(_ID, text):
        return text.upper()
    raise _invalid(text, f"a severity ({', '.join(_severities())}) or an indicator id such as CD.TM.02")


def indicator_id(text: str) -> str:
    if not re.match(_ID, text):
        raise _invalid(text, "an indicator id such as CD.TM.02; `devops-audit list` shows them")
    return text.upper()


def area_id(text: str) -> str:
    if not re.match(_AREA, text):
        raise _invalid(text, "an area id such as CD or SR")
    return text.upper()


def target_pair(text: str) -> tuple[str, int]:
    area, sep, level = text.partition("=")
    if not sep or not re.match(_AREA, area.strip()) or not level.strip().isdigit() or int(level) < 1:
        raise _invalid(text, "AREA=LEVEL with a level of at least 1, e.g. cd=3,sr=2")
    return area.strip().upper(), int(level)


def evidence_pair(text: str) -> tuple[str, str]:
    kind, sep, path = text.partition("=")
    kind = kind.strip().lower()
    if not sep or not path.strip() or kind not in EVIDENCE_KINDS:
        raise _invalid(text, f"KIND=PATH with KIND one of {', '.join(EVIDENCE_KINDS)}")
    return kind, path.strip()


def positive_int(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_HISTORY_DAYS:
        raise _invalid(text, f"a whole number from 1 to {MAX_HISTORY_DAYS}")
    return int(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise _invalid(text, "a number of seconds above 0")
    return value


def api_url(text: str) -> str:
    if not re.match(r"^https?://[^/\s]+", text.strip()):
        raise _invalid(text, "an http(s) URL such as https://github.example.com/api/v3")
    return text.strip()


def lower(text: str) -> str:
    return text.strip().lower()


def add_scan_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that scans (`scan`, `baseline create`, `fleet scan`, `assess`)."""
    group = parser.add_argument_group("scan options")
    group.add_argument("--config", metavar="FILE", help="config file (default: .devops-audit.yml in the target)")
    group.add_argument("--target", dest="targets", action="extend", type=comma_list(target_pair), default=[],
                       metavar="AREA=LEVEL[,...]",
                       help="levels the gate requires, e.g. cd=3,sr=2 (default: CD 3, SR 2; at most the area's top "
                            "level: CD 4, SR 3)")
    group.add_argument("--policy", action="extend", type=comma_list(str), default=[], metavar="PATH[,...]",
                       help="extra policy file or folder (repeatable)")
    group.add_argument("--evidence", action="extend", type=comma_list(evidence_pair), default=[],
                       metavar="KIND=PATH[,...]",
                       help=f"a report to use, KIND one of {', '.join(EVIDENCE_KINDS)} (repeatable; globs allowed)")
    group.add_argument("--api-url", type=api_url, metavar="URL",
                       help="GitHub Enterprise / self-managed GitLab API base URL")
    group.add_argument("--offline", action="store_true", help="never call a forge API, even with a token")
    group.add_argument("--history-window", type=positive_int, metavar="DAYS",
                       help="git history window in days (default 90)")
    group.add_argument("--run-scanners", action="store_true",
                       help="run bandit and semgrep (needs the devops-audit[scanners] extra)")
    group.add_argument("--scanner-timeout", type=positive_float, metavar="SECONDS", help="time limit per scanner")
    group.add_argument("--cache-dir", metavar="DIR",
                       help="cache folder (scanner results under DIR/scanners; fleet clones under DIR/repos)")


def scan_options_from_args(args: argparse.Namespace):  # -> ScanOptions
    """The `ScanOptions` of the parsed scan options (plus `--fail-on` and `--baseline` where the command has them)."""
    from devops_audit.errors import UsageError
    from devops_audit.scan import ScanOptions

    evidence: dict[str, list[str]] = {}
    for kind, path in args.evidence:
        evidence.setdefault(kind, []).append(path)
    targets: dict[str, int] = {}
    for area, level in args.targets:  # `cd=5 --target cd=1` is ambiguous, and must not hide the 5
        if targets.setdefault(area, level) != level:
            raise UsageError(f"--target: {area} given twice ({targets[area]} and {level}); give it once")
    return ScanOptions(
        config_path=args.config,
        config_ref=getattr(args, "config_ref", None),
        targets=targets,
        policy_paths=list(args.policy),
        evidence=evidence,
        api_url=args.api_url,
        offline=args.offline,
        history_window_days=args.history_window,
        run_scanners=args.run_scanners,
        scanner_timeout=args.scanner_timeout,
        cache_dir=args.cache_dir,
        fail_on=list(getattr(args, "fail_on", []) or []),
        baseline=getattr(args, "baseline", None),
    )
