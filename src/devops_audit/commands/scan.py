"""Scan one repository and print or write its report. Exit 0 when the gate passes, 1 when it fails."""

from __future__ import annotations

import argparse

from devops_audit.commands.options import add_scan_options, comma_list, fail_on_value, lower, scan_options_from_args
from devops_audit.commands.output import check_stdout, format_request, write_output

__all__ = ["add_arguments", "run", "add_scan_options", "scan_options_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository to scan")
    add_scan_options(parser)
    parser.add_argument("--config-ref", metavar="REF",
                        help="read .devops-audit.yml (and its policies) from this git ref, e.g. the pull request's "
                             "base branch, and report when the working tree's config differs")
    parser.add_argument("--format", "-f", dest="formats", action="extend", type=comma_list(format_request), default=[],
                        metavar="FMT[=FILE][,...]",
                        help="output format, repeatable: terminal, json, sarif, junit, gitlab-codequality, "
                             "gitlab-sast, markdown (default: terminal); at most one without =FILE")
    parser.add_argument("--fail-on", action="extend", type=comma_list(fail_on_value), default=[],
                        metavar="SEVERITY|ID[,...]",
                        help="also fail the gate on a failing indicator of this severity or above (info, low, "
                             "medium, high, critical), or with this id; case-insensitive, repeatable")
    parser.add_argument("--baseline", metavar="FILE", help="gate only on violations not in this baseline")
    parser.add_argument("--sarif-include-pass", action="store_true", help="SARIF: also emit `pass` results")
    parser.add_argument("--sarif-category", metavar="NAME", help="SARIF: run category (automationDetails.id)")
    parser.add_argument("--color", type=lower, choices=("auto", "always", "never"), default="auto")


def run(args: argparse.Namespace) -> int:
    from devops_audit.reporters import RenderOptions, parse_format, render
    from devops_audit.scan import run_scan

    requests = args.formats or [parse_format("terminal")]
    check_stdout(requests)
    result = run_scan(args.path, scan_options_from_args(args))
    render_options = RenderOptions(
        sarif_include_pass=args.sarif_include_pass, sarif_category=args.sarif_category,
        color={"always": True, "never": False}.get(args.color),
    )
    for request in requests:
        write_output(request.path, render(result, request, render_options))
    return result.gate.exit_code
