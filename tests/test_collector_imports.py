"""A scan imports the parsers a repository needs and no others: no Azure Pipelines parser without an Azure
pipeline, no coverage report formats without a report, no configparser without an INI file to read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import make_git_repo

WORKFLOW = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
LAZY = ("devops_audit.collectors.ci.azure_pipelines", "devops_audit.collectors.testing.coverage_formats",
        "configparser")


def _modules_after_scan(repo: Path) -> set[str]:
    code = ("import json, sys\nfrom devops_audit.scan import ScanOptions, run_scan\n"
            "run_scan(sys.argv[1], ScanOptions(offline=True))\nprint(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_plain_repository_loads_no_parser_it_does_not_need(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / ".github" / "workflows").mkdir(parents=True)
    (source / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    (source / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.coverage.report]\nfail_under = 90\n")
    loaded = _modules_after_scan(make_git_repo(source, tmp_path / "repo"))
    assert "devops_audit.collectors.ci.azure_discovery" in loaded  # the YAML was looked at
    assert not [name for name in LAZY if name in loaded]


def test_each_parser_is_loaded_when_its_file_is_there(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "azure-pipelines.yml").write_text("steps:\n  - script: pytest\n")
    (source / "setup.cfg").write_text("[coverage:report]\nfail_under = 80\n")
    (source / "coverage.xml").write_text('<coverage line-rate="0.5" lines-covered="1" lines-valid="2"></coverage>\n')
    loaded = _modules_after_scan(make_git_repo(source, tmp_path / "repo"))
    assert [name for name in LAZY if name in loaded] == list(LAZY)
