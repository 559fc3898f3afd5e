"""Audit a fleet: list repositories, clone or update them, scan them in parallel, store and report the results.

- `sources`: repository lists (`--repos FILE`) and forge listings (`--org github:NAME`, `--group gitlab:NAME`);
- `clone`: the clone/update cache (git through `gitcmd`, blob-less, shallow by history window);
- `executors`: one repository's work (`process`) and where it runs (local process pool or Ray);
- `store`: the results store (SQLite by default, PostgreSQL through SQLAlchemy);
- `run`: the orchestration (cache, resume, retries, JSONL stream, progress);
- `report`: the fleet report (CSV, JSON, self-contained HTML).
"""

__all__: list[str] = []
