"""Issue 13 class 1: a repository's own git configuration cannot make devops-audit run a program.

Each test plants a payload where git would run it, shows with plain git (no hardening) that the planted
configuration is live, then scans and asserts the marker file is absent, the exit code is a gate verdict
(0/1), the verdicts equal those of the same repository without the planted configuration, and nothing of
the payload reaches the output.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import git
from hostile_repos import commit, example_repo, payload, scan_cli, set_config, sign_head, statuses

from devops_audit.fleet.clone import CloneSettings, prepare
from devops_audit.fleet.sources import RepoSpec
from devops_audit.gitcmd import GitError, _bounded_wait, _exited_within, git_argv, run_git


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The verdicts of the repository without any planted configuration."""
    repo = example_repo(tmp_path_factory.mktemp("clean") / "repo")
    code, _, _, report = scan_cli(repo)
    return code, statuses(report)


def plain_git(repo: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """git as a user would run it: the repository's config honoured (global config kept out of the test)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_PAGER", "PAGER")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(["git", *args], cwd=repo, env=env, text=True, **kwargs)


def assert_contained(repo: Path, planted, clean) -> None:
    code, out, err, report = scan_cli(repo)
    assert not planted.ran, planted.marker.read_text()
    assert (code, statuses(report)) == clean
    assert str(planted.script) not in out + err


def test_core_fsmonitor_is_not_run_by_the_file_list(tmp_path, clean):
    repo = example_repo(tmp_path / "repo")
    planted = payload(tmp_path / "outside")
    set_config(repo, ("core.fsmonitor", str(planted.script)))
    plain_git(repo, "status")
    assert planted.ran  # control: git itself runs it on status / ls-files
    planted.reset()

    assert_contained(repo, planted, clean)


def test_gpg_program_is_not_run_on_a_signed_commit(tmp_path, clean):
    repo = example_repo(tmp_path / "repo")
    sign_head(repo)
    planted = payload(tmp_path / "outside")
    set_config(repo, ("log.showSignature", "true"), ("gpg.program", str(planted.script)))
    plain_git(repo, "log", "-1")
    assert planted.ran  # control: `git log` verifies the signature with gpg.program
    planted.reset()

    code, out, err, report = scan_cli(repo)

    assert not planted.ran
    history = next(e for e in report["inventory"] if e["path"] == ".git" and e["evidence"] == "history")
    assert history["status"] == "parsed"
    assert code in (0, 1) and str(planted.script) not in out + err


def test_hooks_are_never_run(tmp_path, clean):
    repo = example_repo(tmp_path / "repo")
    planted = payload(tmp_path / "outside")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc", "post-rewrite"):
        (hooks / name).symlink_to(planted.script)
        (repo / ".git" / "hooks" / name).symlink_to(planted.script)
    set_config(repo, ("core.hooksPath", str(hooks)))
    plain_git(repo, "checkout", "-q", "-b", "probe")
    plain_git(repo, "checkout", "-q", "main")
    plain_git(repo, "branch", "-q", "-D", "probe")
    assert planted.ran  # control: checking out a branch runs post-checkout
    planted.reset()

    assert_contained(repo, planted, clean)


def test_core_pager_is_not_run_even_on_a_terminal(tmp_path, clean):
    repo = example_repo(tmp_path / "repo")
    planted = payload(tmp_path / "outside")
    set_config(repo, ("core.pager", str(planted.script)), ("pager.log", "true"))
    master, slave = os.openpty()
    try:
        plain_git(repo, "log", "-1", stdout=slave, stderr=slave, timeout=60)
        assert planted.ran  # control: on a terminal git pages through core.pager
        planted.reset()
        subprocess.run(git_argv(["log", "-1"]), cwd=repo, stdout=slave, stderr=slave, timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert not planted.ran  # our argv never pages, terminal or not

    assert_contained(repo, planted, clean)


def test_diff_external_and_textconv_are_not_run(tmp_path, clean):
    repo = example_repo(tmp_path / "repo")
    planted = payload(tmp_path / "outside")
    commit(repo, {".gitattributes": "* diff=evil\n", "README.md": "# changed\n"}, "Add attributes (#2)")
    set_config(repo, ("diff.external", str(planted.script)), ("diff.evil.textconv", str(planted.script)))
    plain_git(repo, "log", "-p", "-2")
    assert planted.ran  # control: log -p runs the external diff / textconv
    planted.reset()

    code, out, err, report = scan_cli(repo)

    assert not planted.ran and code in (0, 1) and str(planted.script) not in out + err
    assert statuses(report).keys() == clean[1].keys()


def test_credential_helper_and_askpass_are_neutral(tmp_path):
    repo = example_repo(tmp_path / "repo")
    planted = payload(tmp_path / "outside")
    set_config(repo, ("credential.helper", f"!{planted.script}"), ("core.askPass", str(planted.script)))
    request = "protocol=https\nhost=git.example.com\n\n"
    plain_git(repo, "credential", "fill", input=request, timeout=60)
    assert planted.ran  # control: git asks the helper
    planted.reset()

    with pytest.raises(GitError):  # no helper, no prompt: git gives up
        run_git(["credential", "fill"], cwd=repo, input_bytes=request.encode(), timeout=60)

    assert not planted.ran


def test_filter_drivers_are_emptied_where_status_could_run_them(tmp_path):
    repo = example_repo(tmp_path / "repo")
    planted = payload(tmp_path / "outside")
    commit(repo, {".gitattributes": "*.toml filter=evil\n"}, "Add a filter (#2)")
    set_config(repo, ("filter.evil.clean", str(planted.script)), ("filter.evil.smudge", str(planted.script)),
               ("core.fsmonitor", str(planted.script)))
    readme = repo / "pyproject.toml"
    os.utime(readme, (1, 1))  # stat-dirty: status must look at the content again
    plain_git(repo, "status", "--porcelain")
    assert planted.ran  # control: status runs the clean filter (and the fsmonitor)
    planted.reset()
    os.utime(readme, (2, 2))

    checkout = prepare(RepoSpec(repository=str(repo), path=str(repo)), CloneSettings(cache_dir=str(tmp_path / "c")))

    assert not planted.ran
    assert checkout.commit == git(repo, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize("where", ["included file", "worktree config"])
def test_filter_drivers_defined_outside_the_config_file_are_emptied_too(tmp_path, where):
    repo = example_repo(tmp_path / "repo")
    planted = payload(tmp_path / "outside")
    commit(repo, {".gitattributes": "*.toml filter=evil\n"}, "Add a filter (#2)")
    driver = f'[filter "evil"]\n\tclean = {planted.script}\n'
    if where == "included file":
        (repo / ".git" / "evil.cfg").write_text(driver)
        set_config(repo, ("include.path", "evil.cfg"))
    else:
        set_config(repo, ("extensions.worktreeConfig", "true"))
        (repo / ".git" / "config.worktree").write_text(driver)
    readme = repo / "pyproject.toml"
    os.utime(readme, (1, 1))  # stat-dirty: status must look at the content again
    plain_git(repo, "status", "--porcelain")
    assert planted.ran  # control: git reads the driver there
    planted.reset()
    os.utime(readme, (2, 2))

    checkout = prepare(RepoSpec(repository=str(repo), path=str(repo)), CloneSettings(cache_dir=str(tmp_path / "c")))

    assert not planted.ran
    assert checkout.commit == git(repo, "rev-parse", "HEAD").strip()


def test_fleet_clone_and_update_run_nothing_of_the_source(tmp_path):
    source = example_repo(tmp_path / "source")
    planted = payload(tmp_path / "outside")
    for name in ("post-checkout", "reference-transaction"):
        (source / ".git" / "hooks" / name).symlink_to(planted.script)
    set_config(source, ("core.fsmonitor", str(planted.script)), ("uploadpack.packObjectsHook", str(planted.script)))
    settings = CloneSettings(cache_dir=str(tmp_path / "cache"), full=True)
    spec = RepoSpec(repository="source", url=f"file://{source}")

    first = prepare(spec, settings)
    commit(source, {"NEWS.md": "news\n"}, "News (#3)")
    planted.reset()  # committing in the source ran its own hooks; the fleet must not
    second = prepare(spec, settings)

    assert not planted.ran
    assert first.path == second.path and second.commit == git(source, "rev-parse", "HEAD").strip()


def test_inherited_git_variables_do_not_reach_git(tmp_path, monkeypatch):
    repo = example_repo(tmp_path / "repo")
    head = git(repo, "rev-parse", "HEAD").strip()
    planted = payload(tmp_path / "outside")
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", str(planted.script))
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='{planted.script}'")

    out = run_git(["log", "-p", "-1", "--format=%H"], cwd=repo)

    assert not planted.ran and out.decode().split()[0] == head


def test_plain_scan_never_imports_gitpython(tmp_path):
    repo = example_repo(tmp_path / "repo")
    code = ("import sys; from devops_audit.scan import run_scan; run_scan(sys.argv[1]); "
            "print('git' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr


def test_git_output_and_time_are_bounded(tmp_path):
    repo = example_repo(tmp_path / "repo")
    message = tmp_path / "message.txt"
    message.write_text("A long message\n\n" + "lorem ipsum " * 50_000)
    git(repo, "commit", "-q", "--allow-empty", "-F", str(message))

    with pytest.raises(GitError, match="output over 100,000 bytes; refused"):
        run_git(["log", "--pretty=raw"], cwd=repo, max_output=100_000)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # git blocks opening it, for ever (a fast command may finish before a tiny timeout is seen)
    with pytest.raises(GitError, match="timed out after 0.2 s"):
        run_git(["hash-object", "--no-filters", str(fifo)], cwd=repo, timeout=0.2)
    assert len(run_git(["log", "--pretty=raw"], cwd=repo)) > 600_000  # the same command within its bounds


@pytest.fixture(params=["pidfd", "polling"])
def exit_watch(request, monkeypatch):
    """Each wait test runs with Linux's pidfd (where the platform has it) and with the portable polling."""
    if request.param == "pidfd" and not hasattr(os, "pidfd_open"):
        pytest.skip("no os.pidfd_open here")
    if request.param == "polling":
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    return request.param


def test_a_process_that_exits_is_reaped_at_once(exit_watch):
    process = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert process.stdin is not None
    closed: list[float] = []

    def close_stdin() -> None:  # cat exits on end of input, 70 ms into the wait
        closed.append(time.monotonic())
        process.stdin.close()

    timer = threading.Timer(0.07, close_stdin)
    timer.start()
    assert _exited_within(process, 10) and process.returncode == 0
    late = time.monotonic() - closed[0]
    timer.join()
    if exit_watch == "pidfd":  # polling sleeps up to 50 ms at a time: here it wakes ~43 ms after the exit
        assert late < 0.025


def test_a_process_writing_too_much_or_too_long_is_killed(tmp_path, exit_watch):
    for argv, bound in ((["yes"], "output over 1,000,000 bytes; refused"), (["sleep", "30"], "timed out after 0.2 s")):
        with open(tmp_path / "out", "w+b") as out, open(tmp_path / "err", "w+b") as err:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
            started = time.monotonic()
            with pytest.raises(GitError, match=bound):
                _bounded_wait(process, argv[0], None, 0.2, 1_000_000, (out.fileno(), err.fileno()))
            assert process.returncode == -signal.SIGKILL and time.monotonic() - started < 5


def test_git_output_and_time_are_bounded_either_way(tmp_path, exit_watch):
    test_git_output_and_time_are_bounded(tmp_path)
