"""Command line: parse arguments, dispatch to a command module, map errors to exit codes. No logic here.

Exit codes (the same whatever the output formats):
  0  the gate passed
  1  the gate failed (a required level not reached, or a --fail-on rule hit)
  2  usage or configuration error (bad flag, invalid config or policy)
  3  the target could not be scanned (missing, unreadable, not a directory)
"""

from __future__ import annotations

import argparse
import importlib
import sys

from devops_audit import __version__

__all__ = ["main", "COMMANDS", "EXIT_OK", "EXIT_GATE_FAILED", "EXIT_USAGE", "EXIT_TARGET"]

EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE, EXIT_TARGET = 0, 1, 2, 3

# command -> module with `add_arguments(parser)` and `run(args) -> int`; modules import heavy things in `run`
COMMANDS: dict[str, str] = {
    "scan": "devops_audit.commands.scan",
    "list": "devops_audit.commands.list_indicators",
    "explain": "devops_audit.commands.explain",
    "policy": "devops_audit.commands.policy",
    "docs": "devops_audit.commands.docs",
    "baseline": "devops_audit.commands.baseline",
    "fleet": "devops_audit.commands.fleet",
    "assess": "devops_audit.commands.assess",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its message, our prefix
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"devops-audit: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="devops-audit", description="Check a repository against the CAICT DevOps maturity model.",
        epilog="exit codes: 0 gate passed, 1 gate failed, 2 usage/config/policy error, 3 target cannot be scanned",
    )
    parser.add_argument("--version", action="version", version=f"devops-audit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        sub = commands.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from devops_audit.errors import AuditError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except AuditError as exc:
        print(f"devops-audit: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("devops-audit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
