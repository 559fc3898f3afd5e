"""The results store: every run, every repository's outcome, every scan, kept so runs form a history.

Backends, one set of SQL statements (named `:parameters`, `INSERT ... ON CONFLICT`, no dialect tricks):

- SQLite (default): `sqlite:///path/fleet.db` or a plain path, through the standard library's `sqlite3`
  (4 ms to import; SQLAlchemy costs 140 ms and an extra dependency, for nothing SQLite needs). WAL journal,
  one commit per repository, so an interrupted run loses at most the repositories still in flight.
- PostgreSQL: `postgresql+psycopg://user@host/db` through SQLAlchemy Core (the `postgres` extra).

Tables (created on first use):

- `fleet_runs(run_id, started_at, finished_at, state, policy_digest, config_hash, source, total, scanned,
  cached, failed)`; state is `running`, `interrupted` or `finished`;
- `fleet_scans(scan_id, repository, commit_sha, policy_digest, config_hash, cacheable, scanned_at, summary,
  report)`: one row per scan actually made; `report` is the zlib-compressed scan JSON, `summary` a small
  JSON (gate, area levels, counts, indicator statuses). The cache key is (repository, commit_sha,
  policy_digest, config_hash) among `cacheable` rows;
- `fleet_results(run_id, repository, status, scan_id, commit_sha, error, attempts, duration, finished_at)`:
  one row per repository per run; `cached` rows point at the earlier scan, `failed` rows carry the error.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devops_audit.errors import UsageError
from devops_audit.fleet.executors import Outcome

__all__ = ["Store", "open_store", "DEFAULT_STORE", "SCHEMA_VERSION"]

DEFAULT_STORE = "devops-audit-fleet.db"
SCHEMA_VERSION = "1"
_DONE = ("scanned", "cached")


def _schema(binary: str) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS fleet_meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS fleet_runs (run_id VARCHAR(64) PRIMARY KEY, started_at VARCHAR(40) NOT NULL, "
        "finished_at VARCHAR(40), state VARCHAR(16) NOT NULL, policy_digest VARCHAR(64) NOT NULL, "
        "config_hash VARCHAR(64) NOT NULL, source TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0, "
        "scanned INTEGER NOT NULL DEFAULT 0, cached INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS fleet_scans (scan_id VARCHAR(64) PRIMARY KEY, repository TEXT NOT NULL, "
        "commit_sha VARCHAR(64), policy_digest VARCHAR(64) NOT NULL, config_hash VARCHAR(64) NOT NULL, "
        "cacheable INTEGER NOT NULL, scanned_at VARCHAR(40) NOT NULL, gate_passed INTEGER NOT NULL, summary TEXT NOT NULL, "
        f"report {binary})",
        "CREATE INDEX IF NOT EXISTS fleet_scans_key ON fleet_scans (repository, commit_sha, policy_digest, config_hash)",
        "CREATE TABLE IF NOT EXISTS fleet_results (run_id VARCHAR(64) NOT NULL, repository TEXT NOT NULL, "
        "status VARCHAR(16) NOT NULL, scan_id VARCHAR(64), commit_sha VARCHAR(64), error TEXT, "
        "attempts INTEGER NOT NULL DEFAULT 0, duration REAL NOT NULL DEFAULT 0, finished_at VARCHAR(40) NOT NULL, "
        "PRIMARY KEY (run_id, repository))",
    ]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _Sqlite:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        import sqlite3

        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30.0)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.db.execute(sql, params or {}).fetchall()

    def stream(self, sql: str, params: dict[str, Any] | None = None) -> Iterator[tuple[Any, ...]]:
        yield from self.db.execute(sql, params or {})

    def write(self, statements: list[tuple[str, dict[str, Any]]]) -> None:
        with self.db:  # one transaction
            for sql, params in statements:
                self.db.execute(sql, params)

    def close(self) -> None:
        self.db.close()


class _Sqlalchemy:
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            from sqlalchemy import create_engine, text
        except ImportError:
            raise UsageError("a PostgreSQL store needs the devops-audit[postgres] extra") from None
        self.text = text
        self.engine = create_engine(url, pool_pre_ping=True)

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(self.text(sql), params or {})]

    def stream(self, sql: str, params: dict[str, Any] | None = None) -> Iterator[tuple[Any, ...]]:
        with self.engine.connect() as connection:
            result = connection.execution_options(yield_per=1000).execute(self.text(sql), params or {})
            yield from (tuple(r) for r in result)

    def write(self, statements: list[tuple[str, dict[str, Any]]]) -> None:
        with self.engine.begin() as connection:
            for sql, params in statements:
                connection.execute(self.text(sql), params)

    def close(self) -> None:
        self.engine.dispose()


def open_store(location: str | None = None) -> Store:
    """`sqlite:///PATH`, a path, or a SQLAlchemy PostgreSQL URL; default `./devops-audit-fleet.db`."""
    location = location or DEFAULT_STORE
    if location.startswith(("postgresql:", "postgresql+", "postgres:")):
        backend: Any = _Sqlalchemy(location.replace("postgres://", "postgresql://", 1))
    elif location.startswith("sqlite:///"):
        backend = _Sqlite(Path(location.removeprefix("sqlite:///")).expanduser())
    elif "://" in location:
        raise UsageError(f"--store: expected a path, sqlite:///PATH or postgresql+psycopg://..., got {location.split('://')[0]}://...")
    else:
        backend = _Sqlite(Path(location).expanduser())
    return Store(backend)


class Store:
    """Runs, results and scans; every write is committed before the call returns."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        binary = "BYTEA" if backend.dialect == "postgresql" else "BLOB"
        try:
            backend.write([(sql, {}) for sql in _schema(binary)])
        except Exception as exc:  # noqa: BLE001 - an unreachable server or unwritable file
            raise UsageError(f"--store: cannot open the results store: {_first_line(exc)}") from None
        found = backend.rows("SELECT value FROM fleet_meta WHERE key = 'schema'")
        if not found:
            backend.write([("INSERT INTO fleet_meta (key, value) VALUES ('schema', :v)", {"v": SCHEMA_VERSION})])
        elif found[0][0] != SCHEMA_VERSION:
            raise UsageError(f"--store: schema version {found[0][0]}, this devops-audit reads {SCHEMA_VERSION}")

    def close(self) -> None:
        self.backend.close()

    # -- runs ------------------------------------------------------------------------------------
    def start_run(self, policy_digest: str, config_hash: str, source: str, total: int) -> str:
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
        self.backend.write([(
            "INSERT INTO fleet_runs (run_id, started_at, state, policy_digest, config_hash, source, total) "
            "VALUES (:run_id, :started, 'running', :policy, :config, :source, :total)",
            {"run_id": run_id, "started": _now(), "policy": policy_digest, "config": config_hash,
             "source": source, "total": total})])
        return run_id

    def run(self, run_id: str) -> dict[str, Any] | None:
        rows = self.backend.rows(f"SELECT {_RUN_COLUMNS} FROM fleet_runs WHERE run_id = :r", {"r": run_id})
        return _run_dict(rows[0]) if rows else None

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first."""
        return [_run_dict(r) for r in self.backend.rows(f"SELECT {_RUN_COLUMNS} FROM fleet_runs ORDER BY started_at, run_id")]

    def latest_open_run(self) -> dict[str, Any] | None:
        rows = self.backend.rows(f"SELECT {_RUN_COLUMNS} FROM fleet_runs WHERE state <> 'finished' "
                                 "ORDER BY started_at DESC, run_id DESC")
        return _run_dict(rows[0]) if rows else None

    def reopen_run(self, run_id: str, total: int) -> None:
        self.backend.write([("UPDATE fleet_runs SET state = 'running', finished_at = NULL, total = :t "
                             "WHERE run_id = :r", {"r": run_id, "t": total})])

    def finish_run(self, run_id: str, state: str) -> dict[str, int]:
        """Close a run (`finished` or `interrupted`) and store its counts, computed from its results."""
        counts = {status: 0 for status in ("scanned", "cached", "failed")}
        for status, count in self.backend.rows("SELECT status, COUNT(*) FROM fleet_results WHERE run_id = :r "
                                               "GROUP BY status", {"r": run_id}):
            counts[status] = int(count)
        self.backend.write([(
            "UPDATE fleet_runs SET state = :state, finished_at = :finished, scanned = :scanned, cached = :cached, "
            "failed = :failed WHERE run_id = :r",
            {"state": state, "finished": _now(), "r": run_id, **counts})])
        return counts

    # -- results ----------------------------------------------------------------------------------
    def done_in_run(self, run_id: str) -> set[str]:
        """Repositories this run already scanned or found cached (failed ones are tried again on resume)."""
        rows = self.backend.rows("SELECT repository FROM fleet_results WHERE run_id = :r AND status IN "
                                 "('scanned', 'cached')", {"r": run_id})
        return {r[0] for r in rows}

    def known_commits(self, repository: str, policy_digest: str, config_hash: str) -> tuple[str, ...]:
        """Commits of `repository` already scanned with this policy and config (the cache)."""
        rows = self.backend.rows(
            "SELECT DISTINCT commit_sha FROM fleet_scans WHERE repository = :repo AND policy_digest = :p "
            "AND config_hash = :c AND cacheable = 1 AND commit_sha IS NOT NULL",
            {"repo": repository, "p": policy_digest, "c": config_hash})
        return tuple(sorted(r[0] for r in rows))

    def record(self, run_id: str, outcome: Outcome, policy_digest: str, config_hash: str) -> str | None:
        """Store one outcome; returns the scan id its result points at (None for a failure)."""
        scan_id: str | None = None
        statements: list[tuple[str, dict[str, Any]]] = []
        if outcome.status == "scanned":
            scan_id = secrets.token_hex(16)
            statements.append((
                "INSERT INTO fleet_scans (scan_id, repository, commit_sha, policy_digest, config_hash, cacheable, "
                "scanned_at, gate_passed, summary, report) "
                "VALUES (:id, :repo, :commit, :p, :c, :cacheable, :at, :gate, :summary, :report)",
                {"id": scan_id, "repo": outcome.repository, "commit": outcome.commit, "p": policy_digest,
                 "c": config_hash, "cacheable": int(outcome.cacheable), "at": _now(),
                 "gate": int(bool(outcome.summary.get("gate"))),
                 "summary": json.dumps(outcome.summary, sort_keys=True), "report": outcome.report}))
        elif outcome.status == "cached":
            scan_id = self.cached_scan(outcome.repository, outcome.commit, policy_digest, config_hash)
        statements.append((
            "INSERT INTO fleet_results (run_id, repository, status, scan_id, commit_sha, error, attempts, duration, "
            "finished_at) VALUES (:run, :repo, :status, :scan, :commit, :error, :attempts, :duration, :at) "
            "ON CONFLICT (run_id, repository) DO UPDATE SET status = excluded.status, scan_id = excluded.scan_id, "
            "commit_sha = excluded.commit_sha, error = excluded.error, attempts = excluded.attempts, "
            "duration = excluded.duration, finished_at = excluded.finished_at",
            {"run": run_id, "repo": outcome.repository, "status": outcome.status, "scan": scan_id,
             "commit": outcome.commit, "error": outcome.error, "attempts": outcome.attempts,
             "duration": round(outcome.duration, 4), "at": _now()}))
        self.backend.write(statements)
        return scan_id

    def cached_scan(self, repository: str, commit: str | None, policy_digest: str, config_hash: str) -> str | None:
        rows = self.backend.rows(
            "SELECT scan_id FROM fleet_scans WHERE repository = :repo AND commit_sha = :commit AND policy_digest = :p "
            "AND config_hash = :c AND cacheable = 1 ORDER BY scanned_at DESC",
            {"repo": repository, "commit": commit, "p": policy_digest, "c": config_hash})
        return rows[0][0] if rows else None

    def report(self, scan_id: str) -> bytes | None:
        """The compressed scan JSON of one scan."""
        rows = self.backend.rows("SELECT report FROM fleet_scans WHERE scan_id = :id", {"id": scan_id})
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else None

    def failures(self, run_id: str) -> list[tuple[str, str]]:
        """(repository, error) of every failed repository of a run."""
        rows = self.backend.rows("SELECT repository, error FROM fleet_results WHERE run_id = :r AND status = 'failed' "
                                 "ORDER BY repository", {"r": run_id})
        return [(r[0], r[1] or "unknown error") for r in rows]

    def gate_failures(self, run_id: str) -> int:
        rows = self.backend.rows("SELECT COUNT(*) FROM fleet_results r JOIN fleet_scans s ON s.scan_id = r.scan_id "
                                 "WHERE r.run_id = :r AND s.gate_passed = 0", {"r": run_id})
        return int(rows[0][0])

    def results(self, run_id: str) -> Iterator[dict[str, Any]]:
        """One row per repository of a run, by repository name, with the scan's summary; streamed."""
        rows = self.backend.stream(
            "SELECT r.repository, r.status, r.commit_sha, r.error, r.attempts, r.duration, s.summary "
            "FROM fleet_results r LEFT JOIN fleet_scans s ON s.scan_id = r.scan_id "
            "WHERE r.run_id = :r ORDER BY r.repository", {"r": run_id})
        for repository, status, commit, error, attempts, duration, summary in rows:
            yield {"repository": repository, "status": status, "commit": commit, "error": error,
                   "attempts": int(attempts), "duration": float(duration),
                   "summary": json.loads(summary) if summary else None}


_RUN_COLUMNS = "run_id, started_at, finished_at, state, policy_digest, config_hash, source, total, scanned, cached, failed"


def _run_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = [k.strip() for k in _RUN_COLUMNS.split(",")]
    return dict(zip(keys, row))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
