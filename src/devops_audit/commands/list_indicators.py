"""List every indicator of the loaded policy packs: id, level, severity, title."""

from __future__ import annotations

import argparse

from devops_audit.commands.options import area_id, comma_list

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", action="extend", type=comma_list(str), default=[], metavar="PATH[,...]",
                        help="extra policy file or folder (repeatable)")
    parser.add_argument("--area", action="extend", type=comma_list(area_id), default=[], metavar="AREA[,...]",
                        help="only these areas (CD, SR; case-insensitive)")


def run(args: argparse.Namespace) -> int:
    from devops_audit.commands.output import write_output
    from devops_audit.errors import UsageError
    from devops_audit.policy import load_policies

    policies = load_policies(args.policy, compile_all=False)
    unknown = [a for a in args.area if a not in policies.areas]
    if unknown:
        raise UsageError(f"--area: no area {unknown[0]!r} (valid: {', '.join(policies.areas)})")
    lines = [f"{i.id:<10} L{i.level}  {i.severity:<8}  {i.title}\n" for i in policies.indicators
             if not args.area or i.area in args.area]
    write_output(None, "".join(lines))
    return 0
