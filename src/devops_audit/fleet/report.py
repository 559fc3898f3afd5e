"""The fleet report, from the results store: one run's table, what fails most, and the trend over runs.

`build_report` gathers (the newest finished run unless a run id is given):

- `repositories`: repository x status x commit x area levels x gate x failing-indicator count, plus the
  level change per area since the previous finished run (`null` for a repository new in this run);
- `distribution`: per area, how many repositories sit at each level;
- `top_failing`: the indicators failing (or in error) in the most repositories;
- `history`: per run (the last `HISTORY_RUNS`), the counts and the gate pass count and mean level per area;
- `trend`: repositories improved / regressed / unchanged / new since the previous run, and every change.

`render(report, "csv" | "json" | "html")`: CSV is the repository table; JSON the whole report; HTML a single
self-contained page (inline CSS and JS, charts drawn as inline SVG by the page's own script, no network).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from devops_audit.errors import UsageError
from devops_audit.fleet.store import Store

__all__ = ["build_report", "render", "HISTORY_RUNS", "TOP_FAILING"]

HISTORY_RUNS = 20
TOP_FAILING = 15


def build_report(store: Store, run_id: str | None = None) -> dict[str, Any]:
    """The report's data for one run (default: the newest finished run)."""
    runs = [r for r in store.runs() if r["state"] == "finished" or r["run_id"] == run_id]
    if run_id and not any(r["run_id"] == run_id for r in runs):
        raise UsageError(f"--run: no run {run_id} in the store")
    if not runs:
        raise UsageError("the results store holds no finished fleet run; run `devops-audit fleet scan` first")
    index = next(i for i, r in enumerate(runs) if r["run_id"] == run_id) if run_id else len(runs) - 1
    run, previous = runs[index], (runs[index - 1] if index else None)
    before = _levels_by_repo(store, previous["run_id"]) if previous else {}
    areas: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    failing: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for result in store.results(run["run_id"]):
        summary = result["summary"] or {}
        for area in summary.get("areas", []):
            areas.setdefault(area["id"], area["name"])
        for indicator, status in summary.get("indicators", {}).items():
            if status in ("fail", "error"):
                failing[indicator] += 1
        titles.update(summary.get("titles", {}))
        rows.append(_row(result, summary, before))
    area_ids = list(areas)
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": run,
        "previous_run": previous,
        "areas": [{"id": a, "name": n} for a, n in areas.items()],
        "repositories": rows,
        "distribution": _distribution(rows, area_ids),
        "top_failing": [{"id": i, "title": titles.get(i, ""), "count": c}
                        for i, c in sorted(failing.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_FAILING]],
        "history": [_history(store, r, area_ids) for r in runs[max(0, index + 1 - HISTORY_RUNS): index + 1]],
        "trend": _trend(rows, area_ids, previous is not None),
    }


def _levels_by_repo(store: Store, run_id: str) -> dict[str, dict[str, int]]:
    return {r["repository"]: {a["id"]: a["level"] for a in r["summary"]["areas"]}
            for r in store.results(run_id) if r["summary"]}


def _row(result: dict[str, Any], summary: dict[str, Any], before: dict[str, dict[str, int]]) -> dict[str, Any]:
    levels = {a["id"]: a["level"] for a in summary.get("areas", [])}
    old = before.get(result["repository"])
    change = None if old is None else {a: levels[a] - old[a] for a in levels if a in old}
    return {
        "repository": result["repository"], "status": result["status"], "commit": result["commit"],
        "gate": summary.get("gate"), "levels": levels,
        "targets": {a["id"]: a["target"] for a in summary.get("areas", [])},
        "failing": sum(1 for s in summary["indicators"].values() if s in ("fail", "error")) if summary else None,
        "change": change, "error": result["error"],
    }


def _distribution(rows: list[dict[str, Any]], areas: list[str]) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for area in areas:
        counts = Counter(row["levels"][area] for row in rows if area in row["levels"])
        result[area] = {str(level): counts.get(level, 0) for level in range(0, max(counts, default=0) + 1)}
    return result


def _history(store: Store, run: dict[str, Any], areas: list[str]) -> dict[str, Any]:
    totals = {a: 0 for a in areas}
    scored = gate_passed = 0
    for result in store.results(run["run_id"]):
        if not result["summary"]:
            continue
        scored += 1
        gate_passed += bool(result["summary"]["gate"])
        for area in result["summary"]["areas"]:
            if area["id"] in totals:
                totals[area["id"]] += area["level"]
    return {
        "run_id": run["run_id"], "started_at": run["started_at"], "total": run["total"],
        "scanned": run["scanned"], "cached": run["cached"], "failed": run["failed"], "gate_passed": gate_passed,
        "mean_levels": {a: round(totals[a] / scored, 2) if scored else None for a in areas},
    }


def _trend(rows: list[dict[str, Any]], areas: list[str], has_previous: bool) -> dict[str, Any]:
    counts = {"improved": 0, "regressed": 0, "unchanged": 0, "new": 0}
    changes = []
    for row in rows:
        if not row["levels"]:
            continue
        if row["change"] is None:
            counts["new"] += has_previous
            continue
        deltas = [d for d in row["change"].values() if d]
        counts["improved" if deltas and min(deltas) >= 0 else "regressed" if deltas else "unchanged"] += 1
        for area in areas:
            delta = row["change"].get(area, 0)
            if delta:
                changes.append({"repository": row["repository"], "area": area,
                                "from": row["levels"][area] - delta, "to": row["levels"][area]})
    return {**counts, "changes": changes}


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(report)
    if fmt == "html":
        return _html(report)
    raise UsageError(f"unknown fleet report format {fmt!r}")


def _csv(report: dict[str, Any]) -> str:
    areas = [a["id"] for a in report["areas"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["repository", "status", "commit", "gate", *[f"{a}_level" for a in areas],
                     *[f"{a}_change" for a in areas], "failing_indicators", "error"])
    for row in report["repositories"]:
        gate = "" if row["gate"] is None else ("pass" if row["gate"] else "fail")
        change = row["change"] or {}
        writer.writerow([_cell(row["repository"]), row["status"], row["commit"] or "", gate,
                         *[row["levels"].get(a, "") for a in areas], *[change.get(a, "") for a in areas],
                         row["failing"], _cell(row["error"] or "")])
    return out.getvalue()


def _cell(text: str) -> str:
    """No spreadsheet formulas from hostile repository names or error messages."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _html(report: dict[str, Any]) -> str:
    from importlib.resources import files

    template = files("devops_audit.fleet").joinpath("templates/report.html").read_text(encoding="utf-8")
    data = json.dumps(report, sort_keys=True, ensure_ascii=True)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return template.replace("/*__FLEET_DATA__*/null", data, 1)
