"""One repository, end to end: workspace -> collectors -> engine -> maturity -> gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devops_audit.config import DEFAULT_CONFIG_NAME, Config, check_params, load_config
from devops_audit.result import Gate, ScanResult

__all__ = ["ScanOptions", "run_scan", "load_scan_config", "compiled_policies", "needed_collectors"]


@dataclass
class ScanOptions:
    """Everything the command line can say about one scan (config file values fill the gaps)."""

    config_path: str | None = None
    config_ref: str | None = None  # read the gate's config from this git ref (a pull request's base branch)
    targets: dict[str, int] = field(default_factory=dict)
    policy_paths: list[str] = field(default_factory=list)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    api_url: str | None = None
    offline: bool = False
    history_window_days: int | None = None
    run_scanners: bool = False
    scanner_timeout: float | None = None
    cache_dir: str | None = None
    fail_on: list[str] = field(default_factory=list)
    baseline: str | None = None
    now: str | None = None  # fixed clock for tests and reproducible reports (ISO date)
    settings: dict[str, Any] = field(default_factory=dict)


def load_scan_config(root: Path, options: ScanOptions, workspace: Any = None) -> Config:
    """`--config FILE` (the user's, read where it is), `--config-ref REF`, or the repository's own (confined)."""
    if options.config_ref:
        from devops_audit.config_ref import load_config_at_ref
        from devops_audit.errors import UsageError
        from devops_audit.workspace import Workspace

        if options.config_path:
            raise UsageError("--config and --config-ref exclude each other")
        return load_config_at_ref(workspace or Workspace(root), options.config_ref)
    if options.config_path:
        return load_config(Path(options.config_path), required=True)
    return load_config(root / DEFAULT_CONFIG_NAME, required=False, repository=root)


def compiled_policies(paths: tuple[str, ...]):  # -> PolicySet
    """Loaded and compiled once per process for the same files (a fleet scans many repositories)."""
    from devops_audit.policy import builtin_policy_files, load_policies, policy_files

    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in [*builtin_policy_files(), *policy_files(list(paths))])
    key = (paths, stamp)
    if key not in _POLICY_CACHE:
        _POLICY_CACHE.clear()
        _POLICY_CACHE[key] = load_policies(list(paths))
    return _POLICY_CACHE[key]


_POLICY_CACHE: dict[tuple, Any] = {}


def run_scan(target: str | Path, options: ScanOptions | None = None) -> ScanResult:
    """Scan one repository. Raises TargetError (exit 3) or ConfigError/PolicyError (exit 2)."""
    from devops_audit.collectors import CollectOptions, collect_all
    from devops_audit.collectors.testing.coverage_paths import command_line_evidence
    from devops_audit.engine import evaluate
    from devops_audit.gate import check_settings, decide
    from devops_audit.locations import check_locations
    from devops_audit.maturity import compute_levels
    from devops_audit.workspace import MiB, Workspace

    options = options or ScanOptions()
    workspace = Workspace(target)  # raises TargetError first: a missing target beats a bad config
    workspace.listed  # noqa: B018 - a broken git checkout is exit 3 before anything runs
    config = load_scan_config(workspace.root, options, workspace)
    policies = compiled_policies(tuple(config.policies) + tuple(options.policy_paths))
    check_params(config, {i.id: i.params for i in policies.indicators})
    check_settings(policies, config, options)
    workspace.max_file_bytes = int(config.max_file_mib * MiB)
    workspace.exclude = tuple(config.exclude)
    evidence_paths = {k: list(v) for k, v in config.evidence.items()}  # confined to the repository
    named, workspace.named_outside = command_line_evidence(workspace.root, options.evidence, Path.cwd())
    for kind, paths in named.items():
        evidence_paths.setdefault(kind, []).extend(paths)
    collect_options = CollectOptions(
        evidence_paths=evidence_paths,
        classification=config.classification,
        history_window_days=options.history_window_days or config.history_window_days,
        api_url=options.api_url or config.api_url,
        offline=options.offline or config.offline,
        run_scanners=options.run_scanners or bool(config.scanners.get("run", False)),
        scanner_timeout=float(options.scanner_timeout or config.scanners.get("timeout", 300)),
        cache_dir=options.cache_dir,
        settings={**config.collectors, **({"project": config.project} if config.project else {}), **options.settings},
    )
    evidence = collect_all(workspace, collect_options, needed_collectors(policies.indicators, set(config.disable)))
    workspace.close()
    verdicts = evaluate(policies, evidence, config.params, set(config.disable))
    check_locations(verdicts, workspace.root)
    extras = _accept(verdicts, config, options)
    targets = {**{a.id: a.default_target for a in policies.areas.values()}, **config.targets, **options.targets}
    areas = compute_levels(policies.areas, verdicts, targets)
    gate_areas = areas
    if extras.get("baseline", {}).get("baselined"):
        from devops_audit.baseline import accepted_by_baseline

        gate_areas = compute_levels(policies.areas, accepted_by_baseline(verdicts, extras["baseline"]), targets)
    inventory = sorted([*config.inventory, *(e for ev in evidence.values() for e in ev.inventory)],
                       key=lambda e: (e.path, e.kind))
    now = options.now or datetime.now(UTC).isoformat(timespec="seconds")
    result = ScanResult(
        target=str(workspace.root), git=workspace.git, verdicts=verdicts, areas=areas, inventory=inventory,
        gate=Gate(True), policy_digest=policies.digest, generated_at=now,
        facts={name: ev.facts for name, ev in evidence.items() if ev.present}, extras=extras,
    )
    result.gate = decide(result, config, options, gate_areas)
    return result


def needed_collectors(indicators: list[Any], disabled: set[str]) -> list[str]:
    """The collectors whose facts an enabled indicator reads: the evidence it declares, or any namespace its
    expressions name as a word (so `ci.files` also keeps `files`: when in doubt, collect)."""
    from devops_audit.collectors import COLLECTORS

    needed: set[str] = set()
    for indicator in indicators:
        if indicator.id in disabled:
            continue
        needed.update(indicator.required_namespaces)
        needed.update(name for name in COLLECTORS if name in indicator.words)
    if "project" in needed:
        needed.add("ci")  # the project profile reads the deploy and publish jobs
    return [name for name in COLLECTORS if name in needed]


def _accept(verdicts: list[Any], config: Config, options: ScanOptions) -> dict[str, Any]:
    """Apply waivers (on the scan's clock) and the baseline, before levels and gate are computed."""
    extras: dict[str, Any] = {}
    if config.waivers:
        from devops_audit.waivers import apply_waivers, today_from

        extras["waivers"] = apply_waivers(verdicts, config.waivers, today_from(options.now))
    if options.baseline:
        from devops_audit.baseline import apply_baseline, load_baseline

        extras["baseline"] = apply_baseline(verdicts, load_baseline(options.baseline), options.baseline)
    return extras
