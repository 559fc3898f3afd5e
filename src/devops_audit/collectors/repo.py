"""The `repo` namespace: is the target under version control, and at which commit."""

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
    }
    return Evidence(NAME, True, facts)
