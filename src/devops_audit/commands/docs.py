"""Generate `docs/indicators.md` from the policy packs (so the documentation cannot drift)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--check", action="store_true", help="exit 1 if FILE differs from what would be generated")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from devops_audit.docs import indicators_reference
    from devops_audit.policy import load_policies

    text = indicators_reference(load_policies(compile_all=False))
    if args.check:
        if not args.output or not Path(args.output).is_file() or Path(args.output).read_text(encoding="utf-8") != text:
            print(f"{args.output}: stale; run `devops-audit docs -o {args.output}`", file=sys.stderr)
            return 1
        return 0
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
