"""Waivers from `.devops-audit.yml`: accepted failures, each with a reason, an owner and an end date.

```yaml
waivers:
  - indicator: SR.BD.03
    paths: [".gitlab-ci.yml"]        # optional globs (fnmatch: `*` also crosses folders)
    reason: templates are pinned by the platform team
    owner: platform@example.com
    expires: 2026-06-30              # last day the waiver applies
```

Rules:
- a waiver only touches a `fail` verdict of its indicator;
- without `paths`, or when every violation's path matches one of the globs, the verdict is waived:
  `verdict.waiver = {reason, owner, expires, paths}`; maturity counts it as satisfied and the gate ignores it;
- when only some violations match, only those are waived (reports mark them) and the verdict stays `fail`;
- from the day after `expires` the waiver no longer applies and is listed under `expired`;
- a valid waiver that matched nothing is listed under `unused`, so stale entries get cleaned up.

The bookkeeping goes to `result.extras["waivers"]` = `{applied: [...], expired: [...], unused: [...]}`;
`applied` entries carry the fingerprints they cover (see `reporters.fingerprints`).
"""

from __future__ import annotations

from datetime import UTC, date
from fnmatch import fnmatchcase
from typing import Any

from devops_audit.engine import Verdict
from devops_audit.reporters.fingerprints import keyed_violations

__all__ = ["apply_waivers", "today_from"]


def today_from(now: str | None) -> date:
    """The scan's date: `ScanOptions.now` (ISO date or datetime) when set, else today (UTC)."""
    if now:
        return date.fromisoformat(str(now)[:10])
    from datetime import datetime

    return datetime.now(UTC).date()


def apply_waivers(verdicts: list[Verdict], waivers: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """Mark waived verdicts in place; return the report of applied, expired and unused waivers."""
    report: dict[str, list[dict[str, Any]]] = {"applied": [], "expired": [], "unused": []}
    by_id = {v.indicator.id: v for v in verdicts}
    for raw in waivers:
        waiver = _normalise(raw)
        if date.fromisoformat(waiver["expires"]) < today:
            report["expired"].append(waiver)
            continue
        verdict = by_id.get(waiver["indicator"])
        covered = _covered(verdict, waiver["paths"]) if verdict and verdict.status == "fail" else []
        if not covered:
            report["unused"].append(waiver)
            continue
        report["applied"].append({**waiver, "fingerprints": covered})
    for verdict in verdicts:
        _settle(verdict, [w for w in report["applied"] if w["indicator"] == verdict.indicator.id])
    return report


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    expires = raw["expires"]
    return {"indicator": str(raw["indicator"]), "paths": [str(p) for p in raw.get("paths") or []],
            "reason": str(raw["reason"]), "owner": str(raw["owner"]),
            "expires": expires.isoformat() if isinstance(expires, date) else str(expires)[:10]}


def _covered(verdict: Verdict, globs: list[str]) -> list[str]:
    """Fingerprints of the violations this waiver covers."""
    covered = []
    for violation, fp in keyed_violations(verdict):
        paths = [violation.path] if violation else [loc.path for loc in verdict.locations]
        if not globs or any(fnmatchcase(path, glob) for path in paths for glob in globs):
            covered.append(fp)
    return covered


def _settle(verdict: Verdict, applied: list[dict[str, Any]]) -> None:
    """Waive the verdict as a whole when the applied waivers together cover all its violations."""
    if not applied:
        return
    covered = {fp for w in applied for fp in w["fingerprints"]}
    if all(fp in covered for _, fp in keyed_violations(verdict)):
        first = applied[0]
        verdict.waiver = {k: first[k] for k in ("reason", "owner", "expires", "paths")}
