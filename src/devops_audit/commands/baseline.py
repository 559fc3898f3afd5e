"""Record today's violations so that `scan --baseline FILE` gates only on new ones.

`devops-audit baseline create [PATH] -o .devops-audit-baseline.json` scans PATH with the usual scan
options and writes one entry per violation of every failing indicator (indicator, fingerprint, path,
locator). Commit the file; regenerate it when you have fixed things (`scan --baseline` lists them as fixed).
"""

from __future__ import annotations

import argparse
import json
import sys

from devops_audit.commands.options import add_scan_options, scan_options_from_args

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="scan and write the baseline file", description=__doc__)
    create.add_argument("path", nargs="?", default=".", help="repository to scan")
    create.add_argument("--output", "-o", required=True, metavar="FILE", help="baseline file to write ('-': stdout)")
    add_scan_options(create)


def run(args: argparse.Namespace) -> int:
    from devops_audit.baseline import build_baseline
    from devops_audit.commands.output import write_output
    from devops_audit.scan import run_scan

    result = run_scan(args.path, scan_options_from_args(args))
    baseline = build_baseline(result.verdicts, result.generated_at)
    text = json.dumps(baseline, indent=2, ensure_ascii=False) + "\n"
    write_output(args.output, text)
    if args.output != "-":
        print(f"devops-audit: baseline of {len(baseline['entries'])} non-passing finding(s) written to {args.output}",
              file=sys.stderr)
    return 0
