"""Audit many repositories: `fleet scan` clones and scans them in parallel into a results store, `fleet report`
turns the store into a CSV, JSON or HTML fleet report.

`fleet scan` exits 0 when every repository was processed (clone or scan failures are recorded, listed and
counted, not fatal), 1 with `--fail-on-gate` when a repository's gate failed, 2 on a usage error, 3 when the
repository list cannot be obtained, 130 when interrupted (the run can be resumed with `--resume`).
"""

from __future__ import annotations

import argparse
import os
import sys

from devops_audit.commands.options import add_scan_options, lower, positive_int, scan_options_from_args

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="fleet_command", metavar="SUBCOMMAND", parser_class=type(parser))
    scan = sub.add_parser("scan", help="clone/update and scan a list of repositories", description=_SCAN_DOC)
    source = scan.add_mutually_exclusive_group(required=True)
    source.add_argument("--repos", metavar="FILE", help="list file: local paths and git URLs, one a line")
    source.add_argument("--org", metavar="github:NAME", help="every repository of a GitHub organisation or user")
    source.add_argument("--group", metavar="gitlab:NAME", help="every project of a GitLab group (and subgroups)")
    add_scan_options(scan)
    scan.add_argument("--jobs", "-j", type=positive_int, default=os.cpu_count() or 1, metavar="N",
                      help="repositories scanned at once (default: the number of CPUs)")
    scan.add_argument("--executor", type=lower, choices=("local", "ray"), default="local",
                      help="local process pool, or Ray tasks (needs devops-audit[ray])")
    scan.add_argument("--ray-address", metavar="ADDRESS", help="Ray cluster to join (default: a local instance)")
    scan.add_argument("--full-clone", action="store_true", help="clone the whole history, not just the window")
    scan.add_argument("--store", metavar="URL", help="results store: a path, sqlite:///PATH or "
                      "postgresql+psycopg://... (default: ./devops-audit-fleet.db)")
    scan.add_argument("--output", "-o", metavar="FILE.jsonl", help="stream one JSON line per repository here")
    scan.add_argument("--force", action="store_true", help="scan again even when commit, policies and options "
                      "are unchanged")
    scan.add_argument("--resume", nargs="?", const="latest", metavar="RUN_ID",
                      help="continue an interrupted run (default: the newest unfinished one)")
    scan.add_argument("--attempts", type=positive_int, default=3, metavar="N", help="tries per repository (default 3)")
    scan.add_argument("--fail-on-gate", action="store_true", help="exit 1 when any repository's gate failed")
    scan.add_argument("--progress", type=lower, choices=("auto", "bar", "lines"), default="auto",
                      help="progress bar (default on a terminal) or one line per repository")

    report = sub.add_parser("report", help="write the fleet report from the results store")
    report.add_argument("--store", metavar="URL", help="results store (default: ./devops-audit-fleet.db)")
    report.add_argument("--format", "-f", type=lower, choices=("csv", "json", "html"), default="html")
    report.add_argument("--output", "-o", metavar="FILE", help="write here (default: standard output)")
    report.add_argument("--run", metavar="RUN_ID", help="report on this run (default: the newest finished run)")


_SCAN_DOC = """Clone or update each repository into the cache (`--cache-dir`/repos, default
~/.cache/devops-audit/repos), scan it, store the result and stream it as JSONL. Unchanged repositories (same
commit, policies and options) are not scanned again ("cached")."""


def run(args: argparse.Namespace) -> int:
    if args.fleet_command == "scan":
        return _scan(args)
    if args.fleet_command == "report":
        return _report(args)
    print("devops-audit: fleet: choose a subcommand: scan or report", file=sys.stderr)
    return 2


def _scan(args: argparse.Namespace) -> int:
    from pathlib import Path

    from devops_audit.errors import UsageError
    from devops_audit.fleet.clone import DEFAULT_CACHE_DIR, CloneSettings
    from devops_audit.fleet.run import FleetOptions, run_fleet
    from devops_audit.fleet.sources import list_forge, read_repo_list

    if args.offline and not args.repos:
        raise UsageError(f"{'--org' if args.org else '--group'} lists repositories through the forge API, which "
                         "--offline forbids; list them in a file and pass --repos FILE")
    scan_options = scan_options_from_args(args)
    if args.repos:
        specs, source = read_repo_list(args.repos), f"repos:{args.repos}"
    else:
        selector = args.org or args.group
        forge = "github" if args.org else "gitlab"
        if not selector.lower().startswith(f"{forge}:"):
            selector = f"{forge}:{selector}"
        specs, source = list_forge(selector, api_url=args.api_url), selector
    repos_cache = str(Path(args.cache_dir).expanduser() / "repos") if args.cache_dir else DEFAULT_CACHE_DIR
    clone = CloneSettings(cache_dir=repos_cache,
                          window_days=args.history_window or 90, full=args.full_clone)
    options = FleetOptions(jobs=args.jobs, executor=args.executor, ray_address=args.ray_address, clone=clone,
                           store=args.store, output=args.output, force=args.force, resume=args.resume,
                           attempts=args.attempts, progress={"bar": True, "lines": False}.get(args.progress),
                           source=source)
    summary = run_fleet(specs, scan_options, options)
    print(f"fleet run {summary.run_id}: {summary.total} repositories: {summary.scanned} scanned, "
          f"{summary.cached} cached, {summary.failed} failed; {summary.gate_failed} gate(s) failed")
    for repository, error in summary.failures:
        print(f"  failed {repository}: {error}")
    return 1 if args.fail_on_gate and summary.gate_failed else 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from devops_audit.commands.output import write_output
    from devops_audit.errors import TargetError
    from devops_audit.fleet.report import build_report, render
    from devops_audit.fleet.store import DEFAULT_STORE, open_store

    location = args.store or DEFAULT_STORE
    file = location.removeprefix("sqlite:///") if "://" not in location.removeprefix("sqlite:///") else None
    if file is not None and not Path(file).expanduser().is_file():
        raise TargetError(f"{location}: no results store there; `devops-audit fleet scan --store {location}` "
                          "creates it")
    store = open_store(location)
    try:
        text = render(build_report(store, args.run), args.format)
    finally:
        store.close()
    write_output(args.output, text)
    return 0
