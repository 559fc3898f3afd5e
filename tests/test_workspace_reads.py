"""A scan reads each file once (`Workspace.read_bytes` remembers contents), within its bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops_audit.errors import EvidenceError
from devops_audit.workspace import Workspace


def test_a_file_read_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.x]\n")
    workspace = Workspace(tmp_path)
    first = workspace.read_text("pyproject.toml")
    (tmp_path / "pyproject.toml").write_text("changed after the first read\n")
    assert workspace.read_text("pyproject.toml") == first == "[tool.x]\n"


def test_a_smaller_limit_still_refuses_a_remembered_file(tmp_path: Path) -> None:
    (tmp_path / "big.yml").write_text("x" * 100)
    workspace = Workspace(tmp_path)
    assert len(workspace.read_bytes("big.yml")) == 100
    with pytest.raises(EvidenceError, match="over the .* limit"):
        workspace.read_bytes("big.yml", max_bytes=10)


def test_close_forgets_the_contents(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one")
    workspace = Workspace(tmp_path)
    workspace.read_text("a.txt")
    workspace.close()
    (tmp_path / "a.txt").write_text("two")
    assert workspace.read_text("a.txt") == "two"


def test_a_toml_file_is_parsed_once_and_bad_toml_still_raises(tmp_path: Path) -> None:
    import tomllib

    (tmp_path / "pyproject.toml").write_text("[tool.coverage.report]\nfail_under = 90\n")
    (tmp_path / "bad.toml").write_text("[tool\n")
    workspace = Workspace(tmp_path)
    assert workspace.load_toml("pyproject.toml") is workspace.load_toml("pyproject.toml")
    assert workspace.load_toml("pyproject.toml")["tool"]["coverage"]["report"]["fail_under"] == 90
    with pytest.raises(tomllib.TOMLDecodeError):
        workspace.load_toml("bad.toml")
    with pytest.raises(EvidenceError, match="not found"):
        workspace.load_toml("missing.toml")
