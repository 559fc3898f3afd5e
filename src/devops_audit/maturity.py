"""Verdicts -> the maturity level reached per domain and per area.

A domain reaches level L when every indicator of level <= L in it passes or is not applicable (a waived
failure counts as passing and is reported as waived). Level 1 ("initial") needs nothing. An area's level
is the lowest of its domains. What blocks the next level is listed, with `unknown` and `error` told apart
from real failures: "Level 2; Level 3 unverified: 2 unknown".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from devops_audit.engine import Verdict
from devops_audit.policy import Area

__all__ = ["DomainLevel", "AreaLevel", "compute_levels", "is_satisfied"]


def is_satisfied(verdict: Verdict) -> bool:
    """Passed, not applicable, or accepted: a waived failure, or (for the gate only) a baselined finding."""
    return verdict.status in ("pass", "not_applicable") or verdict.waiver is not None


@dataclass
class DomainLevel:
    """The level one domain of an area reaches, and what blocks the next."""

    id: str
    name: str
    level: int
    blocking: list[str] = field(default_factory=list)  # indicator ids blocking the next level

    @property
    def next_level(self) -> int | None:
        return self.level + 1 if self.blocking else None


@dataclass
class AreaLevel:
    """The level an area reaches (its lowest domain's), against its target."""

    id: str
    name: str
    level: int
    max_level: int
    target: int
    domains: list[DomainLevel]
    blocking: list[Verdict] = field(default_factory=list)  # what stands between `level` and `level + 1`

    @property
    def met(self) -> bool:
        return self.level >= self.target

    def describe(self) -> str:
        """"Level 2; Level 3 unverified: 2 unknown" / "Level 2; Level 3 blocked: 1 fail, 1 unknown"."""
        if self.level >= self.max_level or not self.blocking:
            return f"Level {self.level}"
        counts: dict[str, int] = {}
        for verdict in self.blocking:
            counts[verdict.status] = counts.get(verdict.status, 0) + 1
        detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        word = "unverified" if set(counts) <= {"unknown"} else "blocked"
        return f"Level {self.level}; Level {self.level + 1} {word}: {detail}"


def compute_levels(areas: dict[str, Area], verdicts: list[Verdict], targets: dict[str, int]) -> list[AreaLevel]:
    result = []
    for area in areas.values():
        in_area = [v for v in verdicts if v.indicator.area == area.id]
        domains = [_domain_level(area, domain_id, name, [v for v in in_area if v.indicator.domain == domain_id])
                   for domain_id, name in area.domains.items()]
        level = min((d.level for d in domains), default=area.max_level)
        blocking = [v for v in in_area if v.indicator.level <= level + 1 and not is_satisfied(v)]
        result.append(AreaLevel(area.id, area.name, level, area.max_level, targets.get(area.id, area.default_target),
                                domains, sorted(blocking, key=lambda v: (v.indicator.level, v.indicator.id))))
    return result


def _domain_level(area: Area, domain_id: str, name: str, verdicts: list[Verdict]) -> DomainLevel:
    level = 1
    for candidate in range(2, area.max_level + 1):
        if all(is_satisfied(v) for v in verdicts if v.indicator.level <= candidate):
            level = candidate
        else:
            break
    blocking = [v.indicator.id for v in verdicts if v.indicator.level == level + 1 and not is_satisfied(v)]
    return DomainLevel(domain_id, name, level, blocking)
