"""Build the CAICT assessment pack of a repository: manifest.json, index.html, self-assessment.xlsx and the
generated artefacts (branch graph, merge requests, integration frequency, releases, pipelines, tests, security)
that stand in for screenshots. Exit 0 when the pack is written, whatever the levels."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from devops_audit.commands.scan import add_scan_options, scan_options_from_args

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository to assess")
    add_scan_options(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write the pack into")
    parser.add_argument("--level", type=int, default=3, choices=range(1, 6), metavar="N",
                        help="target level for Continuous Delivery, 1-5 (default 3); SR keeps the scan's target")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="first language of index.html")
    parser.add_argument("--zip", action="store_true", help="also pack the folder into DIR.zip")


def run(args: argparse.Namespace) -> int:
    from devops_audit.errors import UsageError
    from devops_audit.scan import run_scan

    try:
        import matplotlib  # noqa: F401
        import openpyxl  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"assess needs {exc.name}: pip install 'devops-audit[assess]'") from None
    from devops_audit.assess.pack import build_pack

    started = time.perf_counter()
    options = scan_options_from_args(args)
    options.settings["history_timeline"] = True
    result = run_scan(args.path, options)
    pack = build_pack(result, Path(args.out), args.level, args.lang, args.zip)
    summary = pack.manifest["summary"]
    counts = ", ".join(f"{n} {status}" for status, n in summary["by_status"].items())
    print(f"{summary['items']} evidence items: {counts}; {summary['decided_up_to_target']} decided from the repository "
          f"up to level {args.level}; {time.perf_counter() - started:.1f}s", file=sys.stderr)
    print(Path(args.out) / "index.html")
    if pack.zip_path:
        print(pack.zip_path)
    return 0
