"""Regenerate `src/devops_audit/collectors/ci/contexts.json`: what an attacker can put in each expression context.

Source: GitHub's webhook payload schemas as published in the npm package `@octokit/webhooks-schemas`:

    cd /tmp && npm pack @octokit/webhooks-schemas
    python scripts/gen_contexts.py /tmp/octokit-webhooks-schemas-*.tgz

Every `github.event.<path>` of every event payload is rated, the ratings of the same path in different events
combined (the most capable wins):
- `arbitrary`: a free string (titles, bodies, branch and label names, logins, messages);
- `structured`: a string with a format an attacker fills only in part (URLs, e-mail addresses), or an object /
  list holding arbitrary strings (`toJSON(github.event.pull_request)`);
- `fixed`: numbers, booleans, enums, dates, SHAs, ids, node ids and objects with only such values.
Array items are written `*` (`commits.*.message`). Contexts outside the payload (`github.head_ref`, ...) are
rated by the table `GITHUB_CONTEXTS` below, which this script writes into the same file.
"""

from __future__ import annotations

import argparse
import json
import re
import tarfile
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[1] / "src/devops_audit/collectors/ci/contexts.json"
RANK = {"fixed": 0, "structured": 1, "arbitrary": 2}
# strings whose values GitHub computes: hashes and ids are fixed whatever the schema says
_FIXED_NAMES = re.compile(r"^(before|after)$|(^|_)(sha|node_id|id|ref_type|type|state|action|status|conclusion|event|"
                          r"visibility|path|hash|checksum|color|mode|sha256|key_id)$")
_MAX_DEPTH = 9

# `github.*` contexts that are not part of the event payload (docs.github.com: "github context")
GITHUB_CONTEXTS = {
    "github.head_ref": "arbitrary", "github.ref": "arbitrary", "github.ref_name": "arbitrary",
    "github.base_ref": "arbitrary", "github.actor": "arbitrary", "github.triggering_actor": "arbitrary",
    "github.event": "structured", "github.event_name": "fixed", "github.sha": "fixed",
    "github.repository": "fixed", "github.repository_owner": "fixed", "github.repository_id": "fixed",
    "github.repository_owner_id": "fixed", "github.repositoryUrl": "fixed", "github.run_id": "fixed",
    "github.run_number": "fixed", "github.run_attempt": "fixed", "github.workflow": "fixed",
    "github.workflow_ref": "fixed", "github.workflow_sha": "fixed", "github.job": "fixed",
    "github.action": "fixed", "github.action_path": "fixed", "github.action_ref": "fixed",
    "github.action_repository": "fixed", "github.action_status": "fixed", "github.actor_id": "fixed",
    "github.api_url": "fixed", "github.server_url": "fixed", "github.graphql_url": "fixed",
    "github.env": "fixed", "github.path": "fixed", "github.event_path": "fixed", "github.workspace": "fixed",
    "github.token": "fixed", "github.ref_protected": "fixed", "github.ref_type": "fixed",
    "github.retention_days": "fixed", "github.secret_source": "fixed",
    # whole contexts whose values never come from an attacker
    "secrets": "fixed", "vars": "fixed", "runner": "fixed", "job": "fixed", "strategy": "fixed",
}


def load_schema(source: Path) -> dict[str, Any]:
    """`schema.json` from the npm tarball (or an unpacked package folder, or the file itself)."""
    if source.is_dir():
        return json.loads((source / "schema.json").read_text())
    if source.suffix == ".json":
        return json.loads(source.read_text())
    with tarfile.open(source) as archive:
        member = archive.extractfile("package/schema.json")
        if member is None:
            raise SystemExit(f"{source}: no package/schema.json")
        return json.loads(member.read())


class Rater:
    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.table: dict[str, str] = {}

    def record(self, path: str, rating: str) -> None:
        self.table[path] = max(rating, self.table.get(path, rating), key=RANK.__getitem__)

    def rate(self, schema: Any, path: str, depth: int = 0, refs: tuple[str, ...] = ()) -> str:
        """Record `path` and everything below it; return its own rating."""
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return "fixed"
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in refs:  # recursive definition: already being rated higher up
                return "structured"
            return self.rate(self.definitions.get(name, {}), path, depth, (*refs, name))
        ratings = [self.rate(part, path, depth, refs)
                   for key in ("allOf", "oneOf", "anyOf") for part in schema.get(key, [])]
        types = schema.get("type")
        types = types if isinstance(types, list) else [types] if types else []
        if "string" in types:
            ratings.append(self._string(schema, path))
        if "object" in types or "properties" in schema:
            ratings.append(self._object(schema, path, depth, refs))
        if "array" in types:
            item = self.rate(schema.get("items"), f"{path}.*" if path else "*", depth + 1, refs)
            ratings.append("fixed" if item == "fixed" else "structured")
        rating = max(ratings, key=RANK.__getitem__) if ratings else "fixed"
        self.record(path, rating)
        return rating

    def _string(self, schema: dict[str, Any], path: str) -> str:
        name = path.rsplit(".", 1)[-1]
        if "enum" in schema or schema.get("format") == "date-time" or _FIXED_NAMES.search(name):
            return "fixed"
        if schema.get("format") in ("uri", "uri-template", "email", "hostname") or name.endswith("_url") \
                or name in ("url", "email"):
            return "structured"
        return "arbitrary"

    def _object(self, schema: dict[str, Any], path: str, depth: int, refs: tuple[str, ...]) -> str:
        ratings = []
        for key, sub in (schema.get("properties") or {}).items():
            ratings.append(self.rate(sub, f"{path}.{key}" if path else key, depth + 1, refs))
        extra = schema.get("additionalProperties")
        if extra is True or isinstance(extra, dict) and not extra.get("properties") and not extra.get("$ref"):
            # free-form keys (`client_payload`, workflow_dispatch `inputs`): anyone triggering sets them
            self.record(f"{path}.*" if path else "*", "arbitrary")
            ratings.append("arbitrary")
        if not ratings:
            return "fixed"
        return "structured" if max(ratings, key=RANK.__getitem__) != "fixed" else "fixed"


def generate(schema: dict[str, Any], version: str) -> dict[str, Any]:
    definitions = schema["definitions"]
    rater = Rater(definitions)
    events = sorted(name for name in definitions if name.endswith("_event") and "oneOf" in definitions[name]
                    or name.endswith("$event"))
    for name in events:
        rater.rate(definitions[name], "")
    rater.table.pop("", None)
    return {
        "source": f"@octokit/webhooks-schemas@{version}",
        "generator": "scripts/gen_contexts.py",
        "ratings": ["fixed", "structured", "arbitrary"],
        "contexts": GITHUB_CONTEXTS,
        "event": dict(sorted(rater.table.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the npm tarball, unpacked package folder or schema.json")
    parser.add_argument("--version", default="", help="package version (read from the tarball name otherwise)")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    version = args.version or (re.search(r"(\d+\.\d+\.\d+)", args.source.name) or [None, "unknown"])[1]
    table = generate(load_schema(args.source), version)
    args.output.write_text(json.dumps(table, indent=0, sort_keys=False) + "\n")
    print(f"{args.output}: {len(table['event'])} event paths from {table['source']}")


if __name__ == "__main__":
    main()
