"""Runner labels are facts: `job.runs_on` from GitHub `runs-on`, GitLab `tags`, Azure `pool.vmImage`."""

from __future__ import annotations

from helpers import write

from devops_audit.classify import default_classifier
from devops_audit.collectors.ci import azure_pipelines, github_actions, gitlab_ci
from devops_audit.workspace import Workspace


def jobs(module, root, path):
    (pipeline,) = module.parse(Workspace(root), path, default_classifier()).pipelines
    return {job.id: job.runs_on for job in pipeline.jobs}


def test_github_runs_on_as_a_label_a_list_a_group_or_an_expression(tmp_path):
    write(tmp_path, {".github/workflows/ci.yml": """on: push
jobs:
  one: {runs-on: ubuntu-latest, steps: [{run: make}]}
  many: {runs-on: [self-hosted, linux, x64], steps: [{run: make}]}
  group: {runs-on: {group: large, labels: [ubuntu-24.04-16core]}, steps: [{run: make}]}
  matrix:
    strategy: {matrix: {os: [ubuntu-24.04, windows-2022]}}
    runs-on: ${{ matrix.os }}
    steps: [{run: make}]
"""})
    assert jobs(github_actions, tmp_path, ".github/workflows/ci.yml") == {
        "one": ["ubuntu-latest"], "many": ["self-hosted", "linux", "x64"],
        "group": ["large", "ubuntu-24.04-16core"], "matrix": ["${{ matrix.os }}"]}


def test_gitlab_tags_and_azure_vm_image(tmp_path):
    write(tmp_path, {
        ".gitlab-ci.yml": "build:\n  tags: [docker, arm64]\n  script: [make]\ntest:\n  script: [make test]\n",
        "azure-pipelines.yml": "pool: {vmImage: ubuntu-22.04}\nsteps:\n  - script: make\n",
    })
    assert jobs(gitlab_ci, tmp_path, ".gitlab-ci.yml") == {"build": ["docker", "arm64"], "test": []}
    assert list(jobs(azure_pipelines, tmp_path, "azure-pipelines.yml").values()) == [["ubuntu-22.04"]]
