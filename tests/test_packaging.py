"""The installed wheel, not the checkout: policies, schemas and the tool table must ship inside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project built as a wheel and installed (without dependencies) into a folder of its own."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = (work / "dist").glob("devops_audit-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(work / "site"), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return work / "site"


def run_installed(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "devops_audit", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_wheel_carries_its_data(installed):
    data = installed / "devops_audit" / "_data"
    assert (data / "policies" / "continuous-delivery.yaml").is_file()
    assert (data / "schemas" / "verdict.schema.json").is_file()
    assert (installed / "devops_audit" / "tools.yaml").is_file()
    assert (data / "assessment" / "assessment-map.yaml").is_file()  # the assess command's checklist map
    assert (data / "schemas" / "assessment-map.schema.json").is_file()


def test_installed_wheel_scans_the_example_from_elsewhere(installed, tmp_path):
    where = subprocess.run([sys.executable, "-c", "import devops_audit; print(devops_audit.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(installed)}, cwd=tmp_path, capture_output=True, text=True)
    assert where.stdout.startswith(str(installed))
    proc = run_installed(installed, "scan", str(ROOT / "fixtures" / "example"), "-f", "json", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["indicators"]) >= 45
    assert run_installed(installed, "policy", "check", str(installed / "devops_audit" / "_data" / "policies"),
                         cwd=tmp_path).returncode == 0
