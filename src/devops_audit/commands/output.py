"""Where a command's text goes: at most one machine format on stdout, files written or a one-line error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devops_audit.errors import UsageError

__all__ = ["check_stdout", "format_request", "write_output"]


def format_request(text: str):  # -> reporters.OutputRequest
    """argparse type for `--format FMT[=FILE]`: the format name is case-insensitive."""
    from devops_audit.reporters import parse_format

    try:
        return parse_format(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--format: ")) from None


def check_stdout(requests: list, flag: str = "--format") -> None:
    """Standard output carries one document at most: two formats without `=FILE` would interleave."""
    to_stdout = [r.format for r in requests if r.path is None]
    if len(to_stdout) > 1:
        raise UsageError(f"{flag}: {' and '.join(to_stdout)} would both go to standard output; "
                         f"give all but one a file, e.g. {flag} {to_stdout[-1]}=report.{to_stdout[-1]}")


def write_output(path: str | None, text: str) -> None:
    """Write to `path` (parents created) or to stdout when `path` is None or '-'."""
    if path in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()  # a closed pipe shows here, where the CLI handles it, not at interpreter exit
        return
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the output: {exc.strerror or exc}") from None
