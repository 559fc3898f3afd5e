"""The context-capability table: generated from GitHub's webhook schemas by scripts/gen_contexts.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from devops_audit.collectors.ci.injection import tables

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen_contexts.py"

# a miniature of @octokit/webhooks-schemas: events refer to shared definitions
SCHEMA = {
    "definitions": {
        "user": {"type": "object", "properties": {
            "login": {"type": "string"}, "id": {"type": "integer"}, "html_url": {"type": "string", "format": "uri"},
            "email": {"type": ["string", "null"], "format": "email"}}},
        "label": {"type": "object", "properties": {"name": {"type": "string"}, "color": {"type": "string"}}},
        "issues$opened": {"type": "object", "properties": {
            "action": {"type": "string", "enum": ["opened"]},
            "issue": {"type": "object", "properties": {
                "title": {"type": "string"}, "number": {"type": "integer"}, "locked": {"type": "boolean"},
                "created_at": {"type": "string", "format": "date-time"}, "user": {"$ref": "#/definitions/user"},
                "labels": {"type": "array", "items": {"$ref": "#/definitions/label"}}}}}},
        "issues_event": {"oneOf": [{"$ref": "#/definitions/issues$opened"}]},
        "repository_dispatch$event": {"type": "object", "properties": {
            "client_payload": {"type": "object", "additionalProperties": True},
            "after": {"type": "string"}}},
    }
}


def test_generator_rates_every_payload_path(tmp_path):
    source, output = tmp_path / "schema.json", tmp_path / "contexts.json"
    source.write_text(json.dumps(SCHEMA))
    subprocess.run([sys.executable, str(SCRIPT), str(source), "--version", "9.9.9", "-o", str(output)],
                   check=True, capture_output=True, timeout=60)
    table = json.loads(output.read_text())
    assert table["source"] == "@octokit/webhooks-schemas@9.9.9"
    event = table["event"]
    assert {path: event[path] for path in (
        "issue.title", "issue.user.login", "issue.labels.*.name", "client_payload.*",  # free strings
        "issue.user.html_url", "issue.user.email", "issue.user", "issue.labels",  # partly chosen
        "issue.number", "issue.locked", "issue.created_at", "action", "issue.labels.*.color", "after",
        "issue.user.id")} == {
        "issue.title": "arbitrary", "issue.user.login": "arbitrary", "issue.labels.*.name": "arbitrary",
        "client_payload.*": "arbitrary",
        "issue.user.html_url": "structured", "issue.user.email": "structured", "issue.user": "structured",
        "issue.labels": "structured",
        "issue.number": "fixed", "issue.locked": "fixed", "issue.created_at": "fixed", "action": "fixed",
        "issue.labels.*.color": "fixed", "after": "fixed", "issue.user.id": "fixed"}


def test_shipped_table_rates_what_the_issue_names():
    contexts, _ = tables()
    assert contexts["source"].startswith("@octokit/webhooks-schemas@")
    for name in ("github.head_ref", "github.ref", "github.ref_name", "github.base_ref", "github.actor"):
        assert contexts["contexts"][name] == "arbitrary"
    event = contexts["event"]
    for path in ("issue.title", "issue.body", "pull_request.title", "pull_request.body", "pull_request.head.ref",
                 "comment.body", "label.name", "head_commit.message", "commits.*.message", "workflow_run.head_branch",
                 "discussion.title", "review.body", "pages.*.page_name"):
        assert event[path] == "arbitrary", path
    for path in ("pull_request.number", "pull_request.head.sha", "pull_request.merged", "workflow_run.head_sha",
                 "issue.number", "after"):
        assert event[path] == "fixed", path

