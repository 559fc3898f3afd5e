"""`scan --config-ref REF`: the gate's own configuration read from a git ref, not from the change under test.

A pull request can edit `.devops-audit.yml` to add waivers, disable indicators or lower targets. With
`--config-ref` (the Action and the GitLab component pass the base branch on pull/merge requests) the config and
the policy files it names are read from REF's tree in-process, by GitPython's pure-Python object database
(`gitobjects`: no git process, so nothing the repository configures can run; never a checkout), bounded in
size and confined to the repository like a working-tree config. When the working tree's config differs, the
report says so with what changed (waivers added, indicators disabled, targets lowered, …) in an inventory
entry; the working tree's config is not used.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from devops_audit import tempdirs
from devops_audit.config import DEFAULT_CONFIG_NAME, MAX_CONFIG_BYTES, Config, load_config, parse_config
from devops_audit.errors import AuditError, TargetError, UsageError
from devops_audit.facts import InventoryEntry
from devops_audit.gitobjects import GitObjects, TreeEntry
from devops_audit.workspace import Workspace

__all__ = ["load_config_at_ref", "describe_changes"]

_BLOB_MODES = ("100644", "100755")
MAX_POLICY_FILES = 200
MAX_TREE_ENTRIES = 10_000  # listed under a policy folder before keeping its YAML files
_IGNORED_FIELDS = ("path", "lines", "inventory", "policies")


def load_config_at_ref(workspace: Workspace, ref: str) -> Config:
    """REF's `.devops-audit.yml` (an empty config when REF has none), with a note when the working tree's differs."""
    objects, commit = _commit_of(workspace, ref)
    folder = Path(tempdirs.make("devops-audit-config-ref-"))
    entries = objects.entries(commit, DEFAULT_CONFIG_NAME, MAX_POLICY_FILES)
    if not entries:
        config = Config()
    else:
        config_path = folder / DEFAULT_CONFIG_NAME
        _materialize(objects, commit, entries, folder)
        config = parse_config(config_path.read_bytes(), config_path, repository=None)
        config.path = f"{ref}:{DEFAULT_CONFIG_NAME}"
        config.policies = _policies_at(objects, commit, config, folder)
    config.inventory.append(_comparison(workspace, ref, config))
    return config


def _commit_of(workspace: Workspace, ref: str) -> tuple[GitObjects, Any]:
    if workspace.located_git_dir is None or workspace.common_dir is None:
        raise UsageError(f"--config-ref {ref}: {workspace.root} is not a git repository")
    if not ref or ref.startswith("-") or any(c in ref for c in "\n\0"):
        raise UsageError(f"--config-ref {ref!r}: not a git ref")
    objects = GitObjects(workspace.located_git_dir, workspace.common_dir)
    commit = objects.commit(ref)
    if commit is None:
        raise UsageError(f"--config-ref {ref}: no such commit in this clone (fetch it first, e.g. "
                         f"`git fetch origin {ref}`)")
    return objects, commit


def _materialize(objects: GitObjects, commit: Any, entries: list[TreeEntry], folder: Path) -> None:
    """Write blobs under `folder` (their repository paths); a symlink or a submodule is refused."""
    where = commit.hexsha[:12]
    for entry in entries:
        if entry.mode not in _BLOB_MODES:
            raise TargetError(f"{entry.path} at {where}: not a regular file (mode {entry.mode}); refused")
        if ".." in Path(entry.path).parts or Path(entry.path).is_absolute():
            raise TargetError(f"{entry.path} at {where}: path leaves the repository; refused")
        try:
            data = objects.read_blob(entry.hexsha, MAX_CONFIG_BYTES)
        except TargetError as exc:
            raise TargetError(f"{entry.path} at {where}: {exc}") from None
        target = folder / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _policies_at(objects: GitObjects, commit: Any, config: Config, folder: Path) -> list[str]:
    """The policy files REF's config names, read from REF's tree (paths confined to the repository)."""
    root = folder.resolve()
    for index, policy in enumerate(config.policies):
        relative = os.path.relpath(policy, root)
        if relative == ".." or relative.startswith(("../", "/")):
            raise TargetError(f"{config.path}: policies[{index}] resolves outside the repository; refused")
        wanted = [e for e in objects.entries(commit, relative, MAX_TREE_ENTRIES) if e.path == relative or (
            Path(e.path).parent.as_posix() == relative and Path(e.path).suffix in (".yaml", ".yml"))]
        _materialize(objects, commit, wanted[:MAX_POLICY_FILES], folder)
    return config.policies


def _comparison(workspace: Workspace, ref: str, used: Config) -> InventoryEntry:
    """The inventory note: does the working tree's config differ from REF's, and how."""
    try:
        current = load_config(workspace.root / DEFAULT_CONFIG_NAME, required=False, repository=workspace.root)
    except AuditError as exc:
        changes = [f"the working tree's config is refused or invalid ({exc})"]
    else:
        changes = describe_changes(used, current)
    if not changes:
        return InventoryEntry(DEFAULT_CONFIG_NAME, "config", "parsed",
                              f"gate configuration read from {ref}; the working tree's is the same", evidence="repo")
    return InventoryEntry(DEFAULT_CONFIG_NAME, "config", "skipped",
                          f"this change modifies the gate's own configuration: {'; '.join(changes)}. "
                          f"The configuration of {ref} was used.", evidence="repo")


def describe_changes(base: Config, head: Config) -> list[str]:
    """What `head` changes in `base`, worded for a reviewer (waivers, disabled indicators, targets, …)."""
    changes = []
    added = [w for w in head.waivers if w not in base.waivers]
    if added:
        changes.append(f"waivers added: {_ids(w.get('indicator') for w in added)}")
    if [w for w in base.waivers if w not in head.waivers]:
        changes.append("waivers removed or edited")
    disabled = sorted(set(head.disable) - set(base.disable))
    if disabled:
        changes.append(f"indicators disabled: {_ids(disabled)}")
    for area in sorted(set(base.targets) | set(head.targets)):
        before, after = base.targets.get(area), head.targets.get(area)
        if before != after:
            verb = "lowered" if before is not None and after is not None and after < before else "changed"
            changes.append(f"target {area} {verb} from {before if before is not None else 'default'} to "
                           f"{after if after is not None else 'default'}")
    if _policy_contents(base) != _policy_contents(head):
        changes.append("policy files changed")
    others = [f.name for f in fields(Config) if f.name not in (*_IGNORED_FIELDS, "waivers", "disable", "targets")
              and getattr(base, f.name) != getattr(head, f.name)]
    if others:
        changes.append(f"settings changed: {', '.join(others)}")
    return changes


def _ids(values: Any) -> str:
    return ", ".join(sorted({str(v) for v in values if v})) or "?"


def _policy_contents(config: Config) -> list[tuple[str, bytes]] | None:
    """(file name, content) of every policy file the config names; None when one cannot be read."""
    from devops_audit.policy import policy_files

    try:
        return sorted((path.name, path.read_bytes()[:MAX_CONFIG_BYTES]) for path in policy_files(config.policies))
    except (AuditError, OSError):
        return None
