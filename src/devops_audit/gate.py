"""The merge gate: required levels per area (`--target`), plus `--fail-on` severities or indicator ids.

The same decision drives the exit code whatever the output formats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devops_audit.policy import SEVERITIES
from devops_audit.result import Gate, ScanResult

if TYPE_CHECKING:
    from devops_audit.config import Config
    from devops_audit.scan import ScanOptions

__all__ = ["decide"]


def decide(result: ScanResult, config: Config, options: ScanOptions, areas: list | None = None) -> Gate:
    """`areas`: the levels to judge (default `result.areas`); with a baseline, baselined failures count as met."""
    reasons = [f"{a.name} ({a.id}) is at level {a.level}, target {a.target}"
               for a in (result.areas if areas is None else areas) if not a.met]
    baselined = set((result.extras.get("baseline") or {}).get("baselined", []))
    fail_on = [*options.fail_on, *([config.fail_on["severity"]] if "severity" in config.fail_on else []),
               *config.fail_on.get("indicators", [])]
    severities = [s for s in fail_on if s in SEVERITIES]
    ids = {s for s in fail_on if s not in SEVERITIES}
    threshold = min((SEVERITIES.index(s) for s in severities), default=None)
    for verdict in result.verdicts:
        if verdict.status != "fail" or verdict.waiver or verdict.indicator.id in baselined:
            continue
        indicator = verdict.indicator
        if indicator.id in ids:
            reasons.append(f"{indicator.id} failed (--fail-on {indicator.id})")
        elif threshold is not None and SEVERITIES.index(indicator.severity) >= threshold:
            reasons.append(f"{indicator.id} failed with severity {indicator.severity} (--fail-on {SEVERITIES[threshold]})")
    return Gate(not reasons, reasons)
