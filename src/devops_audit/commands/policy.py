"""Policy tools: `policy check FILE...` validates policy files (schema and CEL), reporting file:line."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate policy files or folders")
    check.add_argument("files", nargs="+", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from devops_audit.policy import check_policy_files

    problems = check_policy_files(args.files)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 2
    print(f"{len(args.files)} policy file(s) OK")
    return 0
