"""The CI collector imports a system's module only when the file index may hold that system's files
(`pipelines.SYSTEMS`): a gate narrower than the system's own `discover` would leave its pipelines unread."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, corpus_repos

from devops_audit.collectors.ci.pipelines import SYSTEMS
from devops_audit.workspace import Workspace

REALWORLD = sorted((ROOT / "tests" / "realworld").glob("*/files"))
TRICKY = [  # names each system's discover accepts, in the spellings a gate could miss
    ".github/workflows/ci.yml", "tools/action.yaml", "JENKINSFILE", "ci/deploy.Groovy", "jenkins/release.jenkinsfile",
    "Jenkinsfile.nightly", ".gitlab-ci.yml", "azure-pipelines.yml", "build/templates/steps.yaml",
    ".circleci/config.yml", "bitbucket-pipelines.yml", ".pre-commit-config.yaml", ".github/secret_scanning.yml",
]


def _gates_cover_discovery(root: Path) -> list[str]:
    workspace = Workspace(root)
    missed = []
    for module_name, may_hold in SYSTEMS.items():
        found = importlib.import_module(module_name).discover(workspace)
        if found and not may_hold(workspace.index):
            missed.append(f"{module_name}: {found[:3]}")
    return missed


@pytest.mark.parametrize("root", [*sorted(p for p in FIXTURES.glob("*/") if p.is_dir()), *REALWORLD, *corpus_repos()],
                         ids=lambda p: str(p.relative_to(p.parents[1])))
def test_every_system_a_repository_uses_passes_its_gate(root):
    assert _gates_cover_discovery(root) == []


def test_tricky_spellings_pass_the_gates(tmp_path):
    for path in TRICKY:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("steps: []\n", encoding="utf-8")
    assert _gates_cover_discovery(tmp_path) == []
