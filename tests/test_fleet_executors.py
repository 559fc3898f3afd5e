"""The local process pool and Ray give the same JSONL as a serial run (modulo timestamps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, make_git_repo

from devops_audit.fleet.clone import CloneSettings
from devops_audit.fleet.run import FleetOptions, run_fleet
from devops_audit.fleet.sources import read_repo_list
from devops_audit.scan import ScanOptions


@pytest.fixture
def repo_list(tmp_path: Path) -> Path:
    sources = [FIXTURES / "pipelines" / "gitlab-full", FIXTURES / "coverage" / "python-pass",
               FIXTURES / "pipelines" / "azure-full", FIXTURES / "coverage" / "js-fail"]
    lines = []
    for index, source in enumerate(sources):
        repo = make_git_repo(source, tmp_path / "origins" / f"r{index}")
        lines.append(f"file://{repo}" if index % 2 else str(repo))
    lines.append(f"file://{tmp_path}/origins/missing")
    listing = tmp_path / "repos.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


def _run(listing: Path, tmp_path: Path, name: str, **options) -> list[dict]:
    fleet = FleetOptions(clone=CloneSettings(cache_dir=str(tmp_path / "cache")), store=str(tmp_path / f"{name}.db"),
                         output=str(tmp_path / f"{name}.jsonl"), attempts=1, progress=False, **options)
    summary = run_fleet(read_repo_list(listing), ScanOptions(now="2025-01-01T00:00:00+00:00"), fleet)
    assert (summary.scanned, summary.failed) == (4, 1)
    lines = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    return sorted(lines, key=lambda line: line["repository"])


def test_process_pool_gives_the_same_lines_as_a_serial_run(repo_list, tmp_path):
    serial = _run(repo_list, tmp_path, "serial", jobs=1)
    pooled = _run(repo_list, tmp_path, "pool", jobs=2)
    assert pooled == serial
    assert sorted(line["status"] for line in serial) == ["failed"] + ["scanned"] * 4


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_gives_the_same_lines_as_the_process_pool(repo_list, tmp_path, local_ray):
    pooled = _run(repo_list, tmp_path, "pool", jobs=2)
    on_ray = _run(repo_list, tmp_path, "ray", jobs=2, executor="ray")
    assert on_ray == pooled
