"""List every indicator of the loaded policy packs: id, level, severity, title."""

from __future__ import annotations

import argparse

__all__ = ["HELP", "add_arguments", "run"]

HELP = "list every indicator (id, level, title)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", action="append", default=[], metavar="PATH", help="extra policy file or folder")
    parser.add_argument("--area", help="only this area (CD, SR)")


def run(args: argparse.Namespace) -> int:
    from devops_audit.policy import load_policies

    policies = load_policies(args.policy, compile_all=False)
    for indicator in policies.indicators:
        if args.area and indicator.area != args.area.upper():
            continue
        print(f"{indicator.id:<10} L{indicator.level}  {indicator.severity:<8}  {indicator.title}")
    return 0
