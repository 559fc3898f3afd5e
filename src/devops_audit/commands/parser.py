"""The argument parser of every command (`cli.build_parser`), kept out of `cli` so `--version` needs no argparse."""

from __future__ import annotations

import argparse
import importlib

from devops_audit.cli import COMMANDS, EXIT_USAGE, VERSION

__all__ = ["build_parser"]

EXIT_CODES_HELP = ("exit codes: 0 gate passed, 1 gate failed, 2 usage/config/policy error, 3 target cannot be "
                   "scanned, 4 internal error (--debug shows the traceback)")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage and a second line)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _add_debug(parser: argparse.ArgumentParser, default: object) -> None:  # read from argv by `cli.main`
    parser.add_argument("--debug", action="store_true", default=default,
                        help="on an internal error, print the traceback")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """Every command; given `argv`, only the command it names (its parser, arguments and module)."""
    parser = _Parser(prog="devops-audit", description="Check a repository against the CAICT DevOps maturity model.",
                     epilog=EXIT_CODES_HELP)
    parser.add_argument("--version", action="version", version=VERSION)
    _add_debug(parser, False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # the top-level options take no value, so the first word that is not an option is the command
    named = None if argv is None else next((arg for arg in argv if not arg.startswith("-")), None)
    names = [named] if named in COMMANDS else list(COMMANDS)  # the others' parsers would go unread (~2 ms)
    for name in names:
        module_name, help_text = COMMANDS[name]
        sub = commands.add_parser(name, help=help_text, epilog=EXIT_CODES_HELP,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_debug(sub, argparse.SUPPRESS)  # `--debug` before or after the command
        if argv is None or name == named:
            module = importlib.import_module(module_name)
            sub.description = module.__doc__
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    return parser
