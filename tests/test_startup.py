"""Start-up stays lean: a scan without a config file, and `--version`, load none of the heavy libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import FIXTURES, make_git_repo

from devops_audit import yamlsafe

HEAVY = ("rich", "jsonschema", "typer", "prompt_toolkit", "cel", "sqlite3", "urllib.request", "http.client")


def _modules_after(argv: list[str], cwd: Path) -> set[str]:
    code = ("import json, sys\nfrom devops_audit.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True, check=True)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_a_json_scan_without_config_imports_no_heavy_library(tmp_path):
    repo = make_git_repo(FIXTURES / "coverage" / "python-pass", tmp_path / "repo")
    loaded = _modules_after(["scan", str(repo), "--offline", "-f", f"json={tmp_path / 'out.json'}"], tmp_path)
    assert (tmp_path / "out.json").stat().st_size > 0
    assert "cel.cel" in loaded  # the CEL core, loaded without its package (and CLI)
    assert not [name for name in HEAVY if name in loaded]
    assert "devops_audit.commands.fleet" not in loaded  # only the command named is imported


def test_version_loads_neither_the_scanner_nor_yaml(tmp_path):
    loaded = _modules_after(["--version"], tmp_path)
    assert not {"devops_audit.scan", "devops_audit.collectors", "yaml", "git", "argparse"} & loaded
    assert not [name for name in loaded if name.startswith("devops_audit.commands.")]  # nor any command


def test_help_lists_every_command_without_importing_them(tmp_path, capsys):
    from devops_audit.cli import COMMANDS, main

    try:
        main(["--help"])
    except SystemExit:
        pass
    shown = capsys.readouterr().out
    assert all(f"    {name}  " in shown for name in COMMANDS)
    loaded = _modules_after(["--help"], tmp_path)
    assert not {module for module, _ in COMMANDS.values()} & loaded


def test_yaml_is_parsed_by_libyaml_when_it_is_installed():
    if yaml.__with_libyaml__:
        assert yamlsafe._SAFE_LOADER is yaml.CSafeLoader


def _command(argv: list[str], tmp_path: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    """`python -m devops_audit ARGV` (the console script's path: `cli.run`), its temporary files in tmp_path/tmp."""
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}
    return subprocess.run([sys.executable, "-m", "devops_audit", *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, **kwargs)


def test_the_command_exits_fast_with_its_exit_code_its_output_whole_and_no_temporary_folder_left(tmp_path):
    repo = make_git_repo(FIXTURES / "example", tmp_path / "repo")
    report = tmp_path / "out.json"
    done = _command(["scan", str(repo), "--offline", "-f", f"json={report}", "-f", "markdown"], tmp_path)
    data = json.loads(report.read_text(encoding="utf-8"))
    assert done.returncode == data["gate"]["exit_code"] == 1  # the example misses its CD target
    assert done.stdout.rstrip().endswith(f"policies {data['policy_digest'][:16]}</sub>")  # stdout flushed whole
    assert not list((tmp_path / "tmp").iterdir())  # git's empty home was removed before the fast exit
    usage = _command(["scan", str(repo), "--fail-on", "bogus"], tmp_path)
    assert usage.returncode == 2 and "--fail-on" in usage.stderr


def test_a_fleet_with_worker_processes_leaves_no_temporary_folder(tmp_path):
    repos = [make_git_repo(FIXTURES / name, tmp_path / name) for name in ("example", "legacy-service")]
    listing = tmp_path / "repos.txt"
    listing.write_text("".join(f"{repo}\n" for repo in repos), encoding="utf-8")
    done = _command(["fleet", "scan", "--repos", str(listing), "--jobs", "2", "--offline", "--store",
                     str(tmp_path / "fleet.db"), "--progress", "lines"], tmp_path, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert done.stderr.count("] scanned ") == 2
    assert not list((tmp_path / "tmp").iterdir())  # each pool worker removed its own git home
