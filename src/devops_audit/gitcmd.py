"""The only way devops-audit runs git: hardened against the repository's own configuration.

A scanned repository may come with its own `.git/config` (a folder handed over as an artifact, a fleet entry
that is a local path, a CI cache). git honours that file, and several of its keys name programs git runs:
`core.fsmonitor` (on `ls-files`/`status`), `gpg.program` with `log.showSignature` (on `log`), `core.pager`,
`diff.external`, textconv and filter drivers, hooks, credential helpers, `core.sshCommand`, `core.askPass`.
Every git command here therefore runs

- with an environment built from scratch for git: no inherited `GIT_*` variable (no `GIT_DIR`,
  `GIT_CONFIG_PARAMETERS`, `GIT_EXTERNAL_DIFF`), no system or global config, `HOME` and `XDG_CONFIG_HOME` an
  empty folder, no prompt, no pager, no optional locks, no replace refs, no lazy fetch;
- with every program-naming key overridden on the command line (`-c` beats the repository's config), and the
  driver sections the repository defines (`filter.*`, `diff.*`, `merge.*`) neutralised when a command could
  reach them (`neutralize_drivers=True`);
- with an explicit `--git-dir` and `--work-tree` when the caller knows them, so no discovery and no
  `core.worktree` redirection happen;
- bounded in time and in output size; a failure is a `GitError` whose message never holds a URL credential.

`safe.directory` is set to the scanned folder only: it protects a user from a foreign repository's config,
which the overrides above already neutralise.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

__all__ = ["GitError", "OVERRIDES", "hardened_env", "git_argv", "run_git", "BlobReader"]

NEUTRAL_PROGRAM = "false"  # what a program-naming key points at: runs nothing, fails
OVERRIDES: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.askPass=",
    "core.editor=false",
    "sequence.editor=false",
    "core.sshCommand=ssh -o BatchMode=yes",
    "core.untrackedCache=false",
    "core.alternateRefsCommand=",
    "diff.external=",
    "log.showSignature=false",
    "gpg.program=false",
    "gpg.openpgp.program=false",
    "gpg.x509.program=false",
    "gpg.ssh.program=false",
    "credential.helper=",
    "protocol.ext.allow=never",
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
    "color.ui=false",
)
DRIVER_KEYS = {"filter": ("clean", "smudge", "process"), "diff": ("textconv", "command"), "merge": ("driver",)}
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024
_CREDENTIAL = re.compile(r"([a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_KEPT_VARIABLES = ("PATH", "LANG", "TMPDIR", "SYSTEMROOT", "http_proxy", "https_proxy", "no_proxy",
                   "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")


class GitError(Exception):
    """git failed, timed out or could not start; the message is one line without credentials."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(scrub(f"git {command}: {reason}"))
        self.command = command
        self.reason = scrub(reason)


def scrub(text: str) -> str:
    """Remove credentials from any URL in a text (`https://user:token@host` -> `https://***@host`)."""
    return _CREDENTIAL.sub(r"\1***@", text)


def _empty_home() -> str:
    from devops_audit import tempdirs  # only when git runs

    return tempdirs.shared("devops-audit-git-home-")


def hardened_env() -> dict[str, str]:
    """The whole environment a git process gets: nothing git-specific is inherited."""
    env = {key: os.environ[key] for key in _KEPT_VARIABLES if key in os.environ}
    home = _empty_home()
    env.update({
        "HOME": home, "XDG_CONFIG_HOME": home, "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_SYSTEM": os.devnull, "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0",
        "GIT_ASKPASS": NEUTRAL_PROGRAM, "SSH_ASKPASS": NEUTRAL_PROGRAM, "GCM_INTERACTIVE": "never",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes", "GIT_LFS_SKIP_SMUDGE": "1", "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_NO_LAZY_FETCH": "1", "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_ALLOW_PROTOCOL": "https:http:ssh:git:file",
    })
    return env


def git_argv(args: Sequence[str], *, git_dir: str | os.PathLike[str] | None = None,
             work_tree: str | os.PathLike[str] | None = None, safe_directory: str | os.PathLike[str] | None = None,
             extra_config: Sequence[str] = ()) -> list[str]:
    """`git --no-pager -c … [--git-dir …] [--work-tree …] <args>`; `log` also gets `--no-show-signature`."""
    argv = ["git", "--no-pager", "--no-replace-objects"]
    for setting in (*OVERRIDES, *extra_config):
        argv += ["-c", setting]
    if safe_directory is not None:
        argv += ["-c", f"safe.directory={Path(safe_directory).as_posix()}"]
    if git_dir is not None:
        argv.append(f"--git-dir={os.fspath(git_dir)}")
    if work_tree is not None:
        argv.append(f"--work-tree={os.fspath(work_tree)}")
    args = list(args)
    if args and args[0] in ("log", "show"):
        args[1:1] = ["--no-show-signature", "--no-textconv", "--no-ext-diff", "--no-color"]
    return argv + args


def run_git(args: Sequence[str], *, cwd: str | os.PathLike[str], git_dir: str | os.PathLike[str] | None = None,
            work_tree: str | os.PathLike[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
            max_output: int = DEFAULT_MAX_OUTPUT, neutralize_drivers: bool = False, ok_codes: Sequence[int] = (0,),
            input_bytes: bytes | None = None) -> bytes:
    """Run one hardened git command and return its standard output (bytes); raises GitError.

    git writes to unlinked temporary files, not pipes: a pipe wakes this process for each 4 KiB git writes
    (`ls-files -d` stats a file between two writes), a file is read once, when git has exited."""
    import tempfile

    safe = work_tree if work_tree is not None else git_dir if git_dir is not None else cwd
    extra = driver_overrides(cwd, git_dir) if neutralize_drivers else ()
    argv = git_argv(args, git_dir=git_dir, work_tree=work_tree, safe_directory=Path(safe).resolve(),
                    extra_config=extra)
    name = str(args[0]) if args else "git"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            process = subprocess.Popen(argv, cwd=cwd, env=hardened_env(), stdin=subprocess.PIPE if input_bytes else
                                       subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        except OSError as exc:
            raise GitError(name, f"cannot start git: {exc.strerror or exc}") from None
        _bounded_wait(process, name, input_bytes, timeout, max_output, (out.fileno(), err.fileno()))
        if process.returncode not in ok_codes:
            err.seek(max(0, os.fstat(err.fileno()).st_size - 65536))  # the end of the message is enough
            raise GitError(name, _reason(err.read(), process.returncode))
        out.seek(0)
        data = out.read(max_output + 1)  # bounded even if something still wrote after the last check
    if len(data) > max_output:
        raise GitError(name, f"output over {max_output:,} bytes; refused")
    return data


_POLL_SECONDS = 0.05  # at most this long between two checks of the output size


def _bounded_wait(process: subprocess.Popen[bytes], name: str, input_bytes: bytes | None, timeout: float,
                  max_output: int, outputs: tuple[int, int]) -> None:
    """Wait for git to exit: killed past `timeout` seconds, or once its output files hold over `max_output`
    bytes (checked at least every `_POLL_SECONDS`), so a hostile repository cannot make git fill the disk or
    memory, or run forever."""
    import time

    deadline = time.monotonic() + timeout
    if process.stdin is not None:
        with process.stdin:
            process.stdin.write(input_bytes or b"")
    while True:
        exited = _exited_within(process, max(0.0, min(_POLL_SECONDS, deadline - time.monotonic())))
        if sum(os.fstat(fd).st_size for fd in outputs) > max_output:
            _kill(process)
            raise GitError(name, f"output over {max_output:,} bytes; refused")
        if exited:
            return
        if time.monotonic() >= deadline:
            _kill(process)
            raise GitError(name, f"timed out after {timeout:g} s")


def _exited_within(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait up to `seconds` for the process to exit; True once it has (and is reaped).

    On Linux a pidfd wakes this process the moment git exits; elsewhere `Popen.wait` polls, with sleeps
    growing to 50 ms, which reaps a short git command up to tens of milliseconds late."""
    if process.returncode is not None:
        return True
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux (>= 5.3), or refused by a sandbox
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        watch = select.poll()
        watch.register(pidfd, select.POLLIN)  # readable once the process has exited
        watch.poll(seconds * 1000)
    finally:
        os.close(pidfd)
    return process.poll() is not None


def driver_overrides(cwd: str | os.PathLike[str], git_dir: str | os.PathLike[str] | None) -> tuple[str, ...]:
    """`-c` settings emptying every filter/diff/merge driver the repository's config defines (reading config
    runs nothing). No `--local`: that reads `.git/config` alone, and git also takes drivers from the files it
    includes and from `config.worktree` (system and global config are off in `hardened_env`)."""
    try:
        out = run_git(["config", "--null", "--name-only", "--get-regexp", r"^(filter|diff|merge)\."],
                      cwd=cwd, git_dir=git_dir, ok_codes=(0, 1), timeout=30)
    except GitError:
        return ()
    settings = []
    for key in out.decode("utf-8", "replace").split("\0"):
        section, _, rest = key.partition(".")
        driver, _, _ = rest.rpartition(".")
        if driver and section in DRIVER_KEYS:
            settings += [f"{section}.{driver}.{name}=" for name in DRIVER_KEYS[section]]
    return tuple(dict.fromkeys(settings))


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        pass
    process.communicate()


def _reason(err: bytes, code: int) -> str:
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    chosen = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else "")
    return chosen[:300] or f"exit {code}"


class BlobReader:
    """One `git cat-file --batch` process reading objects by name, each bounded by a size limit.

    No filters, no textconv: the bytes stored in the repository. Objects over the limit are read past, not kept.
    """

    def __init__(self, cwd: str | os.PathLike[str], git_dir: str | os.PathLike[str],
                 work_tree: str | os.PathLike[str] | None = None) -> None:
        argv = git_argv(["cat-file", "--batch"], git_dir=git_dir, work_tree=work_tree,
                        safe_directory=Path(work_tree or git_dir).resolve())
        self._process = subprocess.Popen(argv, cwd=cwd, env=hardened_env(), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)

    def read(self, name: str, limit: int) -> tuple[str, int, bytes | None]:
        """(object type, size, content); content is None when the object is over `limit`. Raises GitError
        for a missing object."""
        if "\n" in name:
            raise GitError("cat-file", "object name with a newline refused")
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
            stdin.flush()
            header = stdout.readline().decode("utf-8", "replace").split()
        except OSError as exc:
            raise GitError("cat-file", f"reader stopped: {exc}") from None
        if len(header) != 3 or not header[2].isdigit():
            raise GitError("cat-file", "object not found")
        kind, size = header[1], int(header[2])
        content = stdout.read(size) if size <= limit else self._skip(size)
        stdout.read(1)  # the newline after each object
        return kind, size, content

    def _skip(self, size: int) -> None:
        assert self._process.stdout is not None
        while size > 0:
            size -= len(self._process.stdout.read(min(size, 1 << 20)) or b"\0" * size)

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            if not _exited_within(self._process, 5):
                _kill(self._process)
