"""Which language toolchains the setup steps install, and whether each version is pinned (CD.BP.04).

An explicit version (`1.22.3`, `3.12`, `20`) or a version file (`go-version-file`, `.nvmrc` through
`node-version-file`, a `.python-version` the action reads by default, `.tool-versions`) is a pin. A moving
value (`stable`, `latest`, `lts/*`, `3.x`), no version at all, or `check-latest: true` is not. A version
given by an expression (`${{ matrix.python }}`) is not judged (`pinned_by: expression`).
The table of setup steps is data: `toolchains.yaml`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from devops_audit.facts import Pipeline, Step, Toolchain
from devops_audit.workspace import Workspace

__all__ = ["toolchains"]

# moving: `x`, `3.x`, `20.*`, ranges; `1.26.x` fixes major and minor (patch releases only): a pin
_WILDCARD = re.compile(r"^v?(\d+\.)?[x*](\.|$)|[\^~>=<]")


@cache
def _table() -> dict[str, dict[str, Any]]:
    """Each setup step's row, by its lower-case `uses` name (the first row naming it wins)."""
    import yaml  # our own data: the C loader, without the line tracking repository files need

    rows = yaml.load(Path(__file__).with_name("toolchains.yaml").read_text(encoding="utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    by_uses: dict[str, dict[str, Any]] = {}
    for row in rows:
        for uses in row["uses"]:
            by_uses.setdefault(uses.lower(), row)
    return by_uses


def toolchains(workspace: Workspace, pipeline: Pipeline) -> list[Toolchain]:
    found = []
    for job in pipeline.jobs:
        for step in job.steps:
            row = _row(step.uses)
            if row is not None:
                found.append(_judge(workspace, row, step))
    return found


def _row(uses: str) -> dict[str, Any] | None:
    name = uses.split("@", 1)[0].lower().rstrip("/")
    return _table().get(name) if name else None


def _judge(workspace: Workspace, row: dict[str, Any], step: Step) -> Toolchain:
    inputs = {k: v.strip() for k, v in step.inputs.items()}
    version = next((inputs[k] for k in row.get("version", ()) if inputs.get(k)), "")
    if not version and row.get("version_in_ref") and "@" in step.uses:
        version = step.uses.split("@", 1)[1]  # dtolnay/rust-toolchain@stable
    version_file = next((inputs[k] for k in row.get("version_file", ()) if inputs.get(k)), "")
    if not version and not version_file and row.get("missing"):
        version = str(row["missing"])  # the task's own default, e.g. Azure UsePythonVersion: 3.x
    # a default version file counts only when nothing else gives the version: looked for only then
    default_file = ""
    if not version and not version_file:
        default_file = next((f for f in row.get("defaults", ()) if workspace.exists(f)), "")
    if inputs.get("check-latest", "").lower() == "true" and (version or version_file):
        pinned_by, reason = "none", "`check-latest: true` installs the newest release matching the version"
    elif "${{" in version or "$(" in version:
        pinned_by, reason = "expression", f"version from an expression ({version}); not judged"
    elif version:
        moving = version.lower() in {str(f).lower() for f in row.get("floating", ())} or _WILDCARD.search(version)
        pinned_by = "none" if moving else "version"
        reason = f"{version!r} moves to newer releases" if moving else f"version {version}"
    elif version_file:
        pinned_by, reason = "file", f"version from {version_file}"
    elif default_file:
        pinned_by, reason = "file", f"version from {default_file} (read by default)"
    else:
        pinned_by, reason = "none", "no version given: whatever is newest or preinstalled"
    return Toolchain(row["tool"], version or version_file or default_file, pinned_by, pinned_by != "none", reason,
                     step.location, step.locator, list(step.via))
