"""Baselines: accept today's violations, gate only on new ones.

`devops-audit baseline create -o .devops-audit-baseline.json` writes one entry per non-passing finding:
every violation of a failing verdict, and every `unknown` or `error` verdict as a whole (see
`reporters.fingerprints`: indicator id + path + structural locator, never a line number), with its status:

```json
{"version": 1, "tool": {"name": "devops-audit", "version": "0.1.0"}, "created_at": "...",
 "entries": [{"indicator": "CD.CI.04", "status": "fail", "fingerprint": "…", "path": ".gitlab-ci.yml",
              "locator": "deploy"}]}
```

`scan --baseline FILE` then compares like with like (same fingerprint *and* status: an `unknown` that
becomes a `fail` is new): an indicator whose non-passing findings are all in the baseline is *baselined*:
its verdict keeps its status in every report and the reported levels are not inflated, but the gate judges
it as met. `result.extras["baseline"]` = `{file, new: [entries], fixed: [entries], unchanged: n,
baselined: [indicator ids]}`; `fixed` lists baseline entries no longer present. An entry without a status
(older baselines) is a `fail`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devops_audit.engine import Verdict
from devops_audit.errors import ConfigError
from devops_audit.reporters.fingerprints import keyed_violations

__all__ = [
    "BASELINE_VERSION",
    "accepted_by_baseline",
    "apply_baseline",
    "build_baseline",
    "entries_for",
    "load_baseline",
]

BASELINE_VERSION = 1
NON_PASSING = ("fail", "unknown", "error")


def entries_for(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    """One entry per non-passing finding (each violation of a `fail`, each `unknown`/`error`), sorted."""
    entries = []
    for verdict in verdicts:
        if verdict.status not in NON_PASSING:
            continue
        for violation, fp in keyed_violations(verdict):
            path = violation.path if violation else (verdict.locations[0].path if verdict.locations else "")
            entries.append({"indicator": verdict.indicator.id, "status": verdict.status, "fingerprint": fp,
                            "path": path, "locator": violation.locator if violation else "",
                            "message": violation.message if violation else verdict.message})
    return sorted(entries, key=lambda e: (e["indicator"], e["path"], e["locator"], e["fingerprint"]))


def _key(entry: dict[str, Any]) -> tuple[str, str]:
    return entry["fingerprint"], entry.get("status") or "fail"


def build_baseline(verdicts: list[Verdict], created_at: str) -> dict[str, Any]:
    from devops_audit import __version__
    from devops_audit.result import TOOL_NAME

    return {"version": BASELINE_VERSION, "tool": {"name": TOOL_NAME, "version": __version__},
            "created_at": created_at, "entries": entries_for(verdicts)}


def load_baseline(path: str) -> dict[str, Any]:
    """Read and check a baseline file; a missing or malformed one is a configuration error (exit 2)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read baseline: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not a JSON baseline: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise ConfigError(f"{path}: not a devops-audit baseline (version {BASELINE_VERSION} expected)")
    entries = data.get("entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str)
                                                for e in entries):
        raise ConfigError(f"{path}: baseline `entries` must be a list of objects with a `fingerprint`")
    return data


def apply_baseline(verdicts: list[Verdict], baseline: dict[str, Any], source: str) -> dict[str, Any]:
    """Compare current violations with the baseline; returns the `baseline` report section."""
    known = {_key(entry) for entry in baseline["entries"]}
    current = entries_for(verdicts)
    present = {_key(entry) for entry in current}
    new = [e for e in current if _key(e) not in known]
    new_ids = {e["indicator"] for e in new}
    baselined = sorted({e["indicator"] for e in current} - new_ids)
    fixed = [_public(e) for e in baseline["entries"] if _key(e) not in present]
    return {"file": source, "created_at": baseline.get("created_at"), "new": new, "fixed": fixed,
            "unchanged": len(current) - len(new), "baselined": baselined}


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry.get(k) or ("fail" if k == "status" else "")
            for k in ("indicator", "status", "fingerprint", "path", "locator", "message")}


def accepted_by_baseline(verdicts: list[Verdict], report: dict[str, Any]) -> list[Verdict]:
    """Copies of the verdicts in which baselined ones (any non-passing status) count as met: what the gate judges."""
    from dataclasses import replace

    baselined = set(report.get("baselined", []))
    return [replace(v, waiver={"baseline": report.get("file")}) if v.indicator.id in baselined and not v.waiver
            else v for v in verdicts]
