"""The `repo` namespace: is the target under version control, at which commit, and what the file list could
not cover (the workspace's own inventory: refused `.git`, submodules, missing or unlistable paths)."""

from __future__ import annotations

from typing import Any

from devops_audit.facts import Evidence
from devops_audit.workspace import Workspace

__all__ = ["NAME", "collect"]

NAME = "repo"


def collect(workspace: Workspace, options: Any) -> Evidence:
    git = workspace.git
    facts = {
        "is_git": git is not None,
        "commit": git.commit if git else None,
        "branch": git.branch if git else None,
        "has_commits": bool(git and git.commit),
        "file_count": len(workspace.files),
        "file_source": workspace.source,
    }
    return Evidence(NAME, True, facts, [e for e in workspace.problems if e.evidence == NAME])
