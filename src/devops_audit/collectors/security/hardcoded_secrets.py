"""Secrets written as literal values into CI and deployment configuration. Values are never kept.

Read: the CI files of every system (workflows, `.gitlab-ci.yml` and `.gitlab/`, Jenkinsfiles, Azure, CircleCI,
Bitbucket), docker-compose files and Helm values, found through the workspace's file index. Two
kinds of hit, judged by the value (`secret_values.secret_lines`, shared with the committed-file check):
- a variable whose name says it holds a secret (`*SECRET*`, `*PASSWORD*`, `*TOKEN*`, `*API_KEY*`, ...) set to
  a literal with the entropy of a secret (`KEYCLOAK_CLIENT_SECRET: 158a2075-...`), not to a reference (`$VAR`,
  `${{ secrets.X }}`, `$(var)`, a vault path, a credentials id) nor to a placeholder (`changeme`, `xxx`, `<token>`);
- a token in a well-known format anywhere in those files (AWS access key ids, GitHub, GitLab, Slack, Google,
  Stripe tokens, private key blocks).
Only the variable name or the token kind is reported, with the line.
"""

from __future__ import annotations

from devops_audit.collectors.security.secret_files import SecretFile, is_test_path
from devops_audit.collectors.security.secret_values import describe, secret_lines
from devops_audit.errors import EvidenceError
from devops_audit.workspace import MiB, Workspace

__all__ = ["CONFIG_GLOBS", "hardcoded_secrets"]

CONFIG_GLOBS = (
    ".github/workflows/*.yml", ".github/workflows/*.yaml", ".gitlab-ci.yml", ".gitlab/*.yml", ".gitlab/*.yaml",
    "Jenkinsfile", "*/Jenkinsfile", "Jenkinsfile*", "*.jenkinsfile", "azure-pipelines*.yml", "*/azure-pipelines*.yml",
    ".circleci/config.yml", "bitbucket-pipelines.yml", "docker-compose*.yml", "docker-compose*.yaml",
    "compose.yml", "compose.yaml", "values*.yaml", "*/values*.yaml",
)
_READ_LIMIT = 2 * MiB


def hardcoded_secrets(workspace: Workspace) -> list[SecretFile]:
    """Every literal secret in the repository's CI and deployment configuration, by path and line."""
    found: list[SecretFile] = []
    for path in workspace.index.find(CONFIG_GLOBS):
        try:
            text = workspace.read_bytes(path, max_bytes=_READ_LIMIT).decode("utf-8", errors="replace")
        except EvidenceError:
            continue  # the CI collectors report unreadable CI files
        for number, hit in secret_lines(text):
            found.append(SecretFile(path, number, describe(hit, "CI/deployment configuration"), is_test_path(path)))
    return found
