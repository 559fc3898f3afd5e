"""The merge gate: required levels per area (`--target`), plus `--fail-on` severities or indicator ids.

The same decision drives the exit code whatever the output formats. `check_settings` rejects, before
anything is collected, gate settings the loaded policies cannot honour (an unknown area or indicator id, a
level above the area's top), so a typo can never make the gate pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devops_audit.errors import ConfigError, UsageError
from devops_audit.policy import SEVERITIES
from devops_audit.result import Gate, ScanResult

if TYPE_CHECKING:
    from devops_audit.config import Config
    from devops_audit.maturity import AreaLevel
    from devops_audit.policy import PolicySet
    from devops_audit.scan import ScanOptions

__all__ = ["check_settings", "decide"]


def check_settings(policies: PolicySet, config: Config, options: ScanOptions) -> None:
    """Targets name a known area and a level it has; `--fail-on` / `fail_on:` ids name loaded indicators."""
    where = f"{config.path}:{config.lines.get('targets', 1)}: targets" if config.path else "targets"
    _check_targets(policies, config.targets, where, ConfigError)
    _check_targets(policies, options.targets, "--target", UsageError)
    ids = {i.id for i in policies.indicators}
    disabled = {d.upper() for d in config.disable}
    for value in options.fail_on:
        if value.lower() not in SEVERITIES and value.upper() not in ids:
            raise UsageError(f"--fail-on: no indicator {value!r} (valid: a severity {', '.join(SEVERITIES)}, "
                             f"or an indicator id: {', '.join(sorted(ids))})")
        if value.upper() in disabled:  # a selected indicator that is never evaluated could never fail the gate
            raise UsageError(f"--fail-on {value.upper()}: {config.path}:{config.lines.get('disable', 1)} disables it; "
                             "enable it or drop it from --fail-on")
    for value in config.fail_on.get("indicators", []):
        if value.upper() not in ids:
            raise ConfigError(f"{config.path}:{config.lines.get('fail_on', 1)}: fail_on.indicators: no indicator "
                              f"{value!r} (valid: {', '.join(sorted(ids))})")


def _check_targets(policies: PolicySet, targets: dict[str, int], where: str, error: type[Exception]) -> None:
    for area_id, level in targets.items():
        area = policies.areas.get(area_id.upper())
        if area is None:
            raise error(f"{where}: no area {area_id!r} (valid: {', '.join(policies.areas)})")
        if not 1 <= level <= area.max_level:
            raise error(f"{where}: {area.id} has levels 1 to {area.max_level}, got {level}")


def decide(result: ScanResult, config: Config, options: ScanOptions, areas: list | None = None) -> Gate:
    """`areas`: the levels to judge (default `result.areas`); with a baseline, baselined findings count as met."""
    judged = result.areas if areas is None else areas
    reported = {a.id: a.level for a in result.areas}
    reasons = [_level_reason(a, reported[a.id]) for a in judged if not a.met]
    baselined = set((result.extras.get("baseline") or {}).get("baselined", []))
    fail_on = [*options.fail_on, *([config.fail_on["severity"]] if "severity" in config.fail_on else []),
               *config.fail_on.get("indicators", [])]
    severities = [s.lower() for s in fail_on if s.lower() in SEVERITIES]
    ids = {s.upper() for s in fail_on if s.lower() not in SEVERITIES}
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


def _level_reason(area: AreaLevel, reported_level: int) -> str:
    """One level figure per area: the reported one; with a baseline, what is new blocks the target."""
    if area.level == reported_level:
        return f"{area.name} ({area.id}) is at level {reported_level}, target {area.target}"
    blocking = ", ".join(v.indicator.id for v in area.blocking) or "new findings"
    return (f"{area.name} ({area.id}) is at level {reported_level}, target {area.target}: findings not in the "
            f"baseline block it ({blocking})")
