"""Command line: parse arguments, dispatch to a command module, map errors to exit codes. No logic here.

Exit codes (the same whatever the output formats):
  0  the gate passed
  1  the gate failed (a required level not reached, or a --fail-on rule hit)
  2  usage or configuration error (bad flag or value, invalid config, policy or baseline, unwritable output)
  3  the target could not be scanned (missing, unreadable, not a directory; a missing fleet list or store)
  4  internal error (a bug in devops-audit: one line on stderr, the traceback with --debug)
Also 130 when interrupted, and 141 when standard output was closed early (`| head`).
Every error is one line on stderr naming the flag or file and what is valid; never a traceback.
"""

from __future__ import annotations

import gc
import os
import sys

from devops_audit import __version__

__all__ = ["main", "run", "COMMANDS", "EXIT_OK", "EXIT_GATE_FAILED", "EXIT_USAGE", "EXIT_TARGET", "EXIT_INTERNAL"]

EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE, EXIT_TARGET, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141

VERSION = f"devops-audit {__version__}"

# command -> (module with `add_arguments(parser)` and `run(args) -> int`, one-line help). Only the module of the
# command named on the command line is imported (`--version` and `--help` import none); modules import heavy
# things in `run`. The parser is built in `commands.parser`: `--version` imports no argparse (~7 ms)
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("devops_audit.commands.scan", "scan a repository (default: the current folder)"),
    "list": ("devops_audit.commands.list_indicators", "list every indicator (id, level, title)"),
    "explain": ("devops_audit.commands.explain", "print an indicator's documentation"),
    "policy": ("devops_audit.commands.policy", "validate policy files"),
    "docs": ("devops_audit.commands.docs", "generate the indicator reference (Markdown) from the policy packs"),
    "baseline": ("devops_audit.commands.baseline",
                 "create a baseline of current violations (scan --baseline then gates only on new ones)"),
    "fleet": ("devops_audit.commands.fleet", "scan many repositories in parallel and report on the fleet"),
    "assess": ("devops_audit.commands.assess",
               "write the CAICT assessment pack of a repository (needs devops-audit[assess])"),
}


def build_parser(argv: list[str] | None = None):  # -> argparse.ArgumentParser
    """Every command; given `argv`, only the command it names (its parser, arguments and module)."""
    from devops_audit.commands.parser import build_parser as build

    return build(argv)


def main(argv: list[str] | None = None) -> int:
    from devops_audit.errors import AuditError

    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv == ["--version"]:  # the usual probe: answered without building the parser
            print(VERSION)
            return EXIT_OK
        parser = build_parser(argv)
        args = parser.parse_args(argv)  # a usage error exits 2 here (SystemExit passes through)
        if not getattr(args, "handler", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(args.handler(args))
    except AuditError as exc:
        print(f"devops-audit: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("devops-audit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - any bug: a distinct exit code, never 0 (passed) or 1 (failed)
        if "--debug" in argv:
            import traceback

            traceback.print_exc()
        where = _origin(exc)
        print(f"devops-audit: internal error: {type(exc).__name__}: {_one_line(str(exc))}{where} "
              "(a bug; run again with --debug for the traceback and report it)", file=sys.stderr)
        return EXIT_INTERNAL


def run() -> None:
    """The `devops-audit` command: `main`, then exit (never returns) without the interpreter's teardown.

    Freeing a scan's objects one by one at exit costs ~30 ms of a ~0.3 s cold scan, and nothing needs it once
    the output is flushed and the temporary folders are removed. A command that started other threads or
    worker processes (the fleet) exits the normal way, so their own exit handlers stop them.

    The cyclic garbage collector runs after every 10,000 net allocations instead of 700: a scan makes millions
    of short-lived objects (imports, YAML nodes, facts), and the default has it run thousands of times for few
    cycles (~5 % of a cold scan); cycles are still collected, memory stays within ~1 MiB of the default."""
    gc.set_threshold(10_000, 10, 10)
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = EXIT_BROKEN_PIPE
    except (OSError, ValueError):
        raise SystemExit(code) from None
    if "multiprocessing" in sys.modules or "ray" in sys.modules or "threading" in sys.modules and _other_threads():
        raise SystemExit(code)
    from devops_audit import tempdirs

    tempdirs.remove_all()
    os._exit(code)


def _other_threads() -> bool:
    import threading

    return threading.active_count() > 1


def _one_line(text: str) -> str:
    """AuditError messages may list several problems; stderr gets the first and a count of the rest."""
    lines = [line for line in text.splitlines() if line.strip()] or [""]
    return lines[0] + (f" (and {len(lines) - 1} more problem(s))" if len(lines) > 1 else "")


def _origin(exc: BaseException) -> str:
    """` at module.py:LINE`: the innermost frame of devops-audit's own code."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "devops_audit" in f.filename]
    return f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""


def _silence_stdout() -> None:
    """Stdout was closed by the reader: send what Python flushes at exit to /dev/null, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    run()
