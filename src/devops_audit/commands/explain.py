"""Print the documentation of one indicator: what it checks, why, how to fix, its logic and parameters."""

from __future__ import annotations

import argparse

from devops_audit.commands.options import comma_list, indicator_id
from devops_audit.errors import UsageError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=indicator_id, help="indicator id, e.g. CD.TM.02 (case-insensitive)")
    parser.add_argument("--policy", action="extend", type=comma_list(str), default=[], metavar="PATH[,...]",
                        help="extra policy file or folder (repeatable)")


def run(args: argparse.Namespace) -> int:
    from devops_audit.docs import indicator_markdown
    from devops_audit.policy import load_policies

    policies = load_policies(args.policy, compile_all=False)
    indicator = policies.get(args.id)
    if indicator is None:
        raise UsageError(f"no indicator {args.id!r} (valid: {', '.join(i.id for i in policies.indicators)})")
    print(indicator_markdown(indicator, policies.areas[indicator.area]))
    if indicator.id == "SR.BD.04":
        from devops_audit.collectors.ci.injection import describe

        print(describe())
    return 0
