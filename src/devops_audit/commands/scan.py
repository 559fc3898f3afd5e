"""Scan one repository and print or write its report. Exit 0 when the gate passes, 1 when it fails."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["HELP", "add_arguments", "run", "add_scan_options", "scan_options_from_args"]

HELP = "scan a repository (default: the current folder)"


def add_scan_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by `scan`, `baseline create` and `fleet scan`."""
    parser.add_argument("--config", metavar="FILE", help="config file (default: .devops-audit.yml in the target)")
    parser.add_argument("--target", dest="targets", metavar="AREA=LEVEL,...",
                        help="levels the gate requires, e.g. cd=3,sr=2 (default: CD 3, SR 2)")
    parser.add_argument("--policy", action="append", default=[], metavar="PATH",
                        help="extra policy file or folder (repeatable)")
    parser.add_argument("--evidence", action="append", default=[], metavar="KIND=PATH",
                        help="a report to use: coverage=, junit=, sarif=, protection= (repeatable; globs allowed)")
    parser.add_argument("--api-url", metavar="URL", help="GitHub Enterprise / self-managed GitLab API base URL")
    parser.add_argument("--offline", action="store_true", help="never call a forge API, even with a token")
    parser.add_argument("--history-window", type=int, metavar="DAYS", help="git history window (default 90)")
    parser.add_argument("--run-scanners", action="store_true",
                        help="run bandit and semgrep (needs the devops-audit[scanners] extra)")
    parser.add_argument("--scanner-timeout", type=float, metavar="SECONDS", help="time limit per scanner")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="cache folder (scanner results under DIR/scanners; fleet clones under DIR/repos)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository to scan")
    add_scan_options(parser)
    parser.add_argument("--config-ref", metavar="REF",
                        help="read .devops-audit.yml (and its policies) from this git ref, e.g. the pull request's "
                             "base branch, and report when the working tree's config differs")
    parser.add_argument("--format", "-f", dest="formats", action="append", default=[], metavar="FMT[=FILE]",
                        help="output format, repeatable: terminal, json, sarif, junit, gitlab-codequality, "
                             "gitlab-sast, markdown (default: terminal)")
    parser.add_argument("--fail-on", action="append", default=[], metavar="SEVERITY|ID",
                        help="also fail the gate on a failing indicator of this severity or above, or with this id")
    parser.add_argument("--baseline", metavar="FILE", help="gate only on violations not in this baseline")
    parser.add_argument("--sarif-include-pass", action="store_true", help="SARIF: also emit `pass` results")
    parser.add_argument("--sarif-category", metavar="NAME", help="SARIF: run category (automationDetails.id)")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def parse_evidence(values: list[str]) -> dict[str, list[str]]:
    from devops_audit.errors import UsageError

    evidence: dict[str, list[str]] = {}
    for value in values:
        kind, sep, path = value.partition("=")
        if not sep or not kind or not path:
            raise UsageError(f"--evidence: expected KIND=PATH, got {value!r}")
        evidence.setdefault(kind.strip().lower(), []).append(path)
    return evidence


def scan_options_from_args(args: argparse.Namespace):  # -> ScanOptions
    from devops_audit.config import parse_targets
    from devops_audit.scan import ScanOptions

    return ScanOptions(
        config_path=args.config,
        config_ref=getattr(args, "config_ref", None),
        targets=parse_targets(args.targets) if args.targets else {},
        policy_paths=list(args.policy),
        evidence=parse_evidence(args.evidence),
        api_url=args.api_url,
        offline=args.offline,
        history_window_days=args.history_window,
        run_scanners=args.run_scanners,
        scanner_timeout=args.scanner_timeout,
        cache_dir=args.cache_dir,
        fail_on=list(getattr(args, "fail_on", []) or []),
        baseline=getattr(args, "baseline", None),
    )


def run(args: argparse.Namespace) -> int:
    from devops_audit.reporters import RenderOptions, parse_format, render
    from devops_audit.scan import run_scan

    requests = [parse_format(f) for f in args.formats] or [parse_format("terminal")]
    options = scan_options_from_args(args)
    result = run_scan(args.path, options)
    render_options = RenderOptions(
        sarif_include_pass=args.sarif_include_pass, sarif_category=args.sarif_category,
        color={"always": True, "never": False}.get(args.color),
    )
    for request in requests:
        text = render(result, request, render_options)
        if request.path:
            out = Path(request.path)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    return result.gate.exit_code
