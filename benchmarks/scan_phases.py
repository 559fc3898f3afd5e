"""Where a cold scan's CPU goes: one fresh process walks the steps of `run_scan` one by one and times each.

Steps: interpreter start-up, imports, policies (load + compile), the git listing (`Workspace.files` and
`.git`: git through `gitcmd`), every collector in turn (its own imports included, as a cold scan pays
them), the policy evaluation and the JSON report. Each figure is CPU milliseconds of this process plus its
finished children (the git commands). Prints one JSON object; `bench_scan.py --phases` runs it per repository.

    PYTHONPATH=src python benchmarks/scan_phases.py REPO
"""

from __future__ import annotations

import time

_STARTED = time.process_time()  # before any import of ours: the interpreter's start-up is measured up to here

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


def cpu_ms() -> float:
    """CPU of this process and its finished children (`os.times` counts in 10 ms ticks: too coarse)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (time.process_time() + children.ru_utime + children.ru_stime) * 1000


def main() -> None:
    phases: dict[str, float] = {"interpreter": round(_STARTED * 1000, 1)}
    last = cpu_ms()

    def done(name: str) -> None:
        nonlocal last
        now = cpu_ms()
        phases[name] = round(now - last, 1)
        last = now

    from devops_audit.collectors import COLLECTORS, CollectOptions, collect_all
    from devops_audit.engine import evaluate
    from devops_audit.reporters import RenderOptions, parse_format, render
    from devops_audit.scan import ScanOptions, compiled_policies, run_scan
    from devops_audit.workspace import Workspace

    done("imports")
    policies = compiled_policies(())
    done("policies")
    workspace = Workspace(sys.argv[1])
    workspace.files, workspace.git  # noqa: B018 - the properties do the work
    done("git listing")
    evidence = {}
    for name in COLLECTORS:
        evidence.update(collect_all(workspace, CollectOptions(offline=True), [name]))
        done(f"collector {name}")
    evaluate(policies, evidence)
    done("evaluate")
    result = run_scan(sys.argv[1], ScanOptions(offline=True))  # the rest of run_scan, warm
    last = cpu_ms()
    render(result, parse_format("json"), RenderOptions())
    done("json report")
    print(json.dumps(phases))


if __name__ == "__main__":
    main()
