"""The results store on a real PostgreSQL server (a throwaway cluster on a unix socket), through SQLAlchemy."""

from __future__ import annotations

import glob
import os
import pwd
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import FIXTURES, make_git_repo

from devops_audit.fleet.clone import CloneSettings
from devops_audit.fleet.report import build_report
from devops_audit.fleet.run import FleetOptions, run_fleet
from devops_audit.fleet.sources import read_repo_list
from devops_audit.fleet.store import open_store
from devops_audit.scan import ScanOptions

pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")


def _as_user(user: str | None, *cmd: str) -> None:
    full = ["runuser", "-u", user, "--", *cmd] if user else list(cmd)
    subprocess.run(full, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def postgres_url():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("PostgreSQL server binaries are absent (apt-get install postgresql)")
    bindir = Path(binaries[-1]).parent
    user = None
    folder = Path(tempfile.mkdtemp(prefix="fleet-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the `postgres` (or `nobody`) user
        user = "postgres" if _has_user("postgres") else "nobody"
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = str(random.randint(20000, 40000))
    data = folder / "data"
    try:
        _as_user(user, str(bindir / "initdb"), "-D", str(data), "-U", "fleet", "-A", "trust", "--no-sync")
        _as_user(user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"),
                 "-o", f"-k {folder} -p {port} -c listen_addresses=''", "start")
    except (subprocess.CalledProcessError, FileNotFoundError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start a throwaway PostgreSQL cluster: {exc}")
    yield f"postgresql+psycopg://fleet@/postgres?host={folder}&port={port}"
    _as_user(user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    shutil.rmtree(folder, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def test_postgres_store_keeps_runs_and_serves_the_cache_and_the_report(postgres_url, tmp_path):
    repo = make_git_repo(FIXTURES / "pipelines" / "gitlab-full", tmp_path / "origin")
    listing = tmp_path / "repos.txt"
    listing.write_text(f"file://{repo}\n{FIXTURES / 'coverage' / 'python-pass'}\n", encoding="utf-8")
    options = FleetOptions(jobs=2, clone=CloneSettings(cache_dir=str(tmp_path / "cache")), store=postgres_url,
                           output=str(tmp_path / "out.jsonl"), progress=False)
    first = run_fleet(read_repo_list(listing), ScanOptions(), options)
    second = run_fleet(read_repo_list(listing), ScanOptions(), options)
    assert (first.scanned, first.cached) == (2, 0)
    assert (second.scanned, second.cached) == (1, 1)  # the git clone is cached; the plain folder is not
    store = open_store(postgres_url)
    try:
        report = build_report(store)
        assert [(h["scanned"], h["cached"]) for h in report["history"][-2:]] == [(2, 0), (1, 1)]
        assert {r["repository"] for r in report["repositories"]} == {f"file://{repo}",
                                                                   str(FIXTURES / "coverage" / "python-pass")}
        assert report["trend"]["unchanged"] == 2
    finally:
        store.close()
