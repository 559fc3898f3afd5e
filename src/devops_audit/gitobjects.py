"""Git objects read in pure Python (GitPython's object model over gitdb): no git process, nothing to hijack.

`scan --config-ref` reads a few objects of a possibly hostile repository: REF's commit, its trees, the config
and policy blobs. Through GitPython's pure-Python object database no program starts at all, so nothing the
repository configures (fsmonitor, hooks, pager, filter/textconv drivers, gpg) can run, and no inherited `GIT_*`
variable reaches a git. What git's own process bounds (time, output) gave is kept by reading less:

- GitPython is imported with process start refused: its import-time `git version` probe fails quietly, so its
  command wrapper cannot run git in this process (`git.GIT_OK` is false);
- the repository's `.git/config` is never read (not even `include.path`), `GIT_DIR`/`GIT_COMMON_DIR`/
  `GIT_OBJECT_DIRECTORY`/`GIT_WORK_TREE` are ignored, `objects/info/alternates` is not followed;
- refs are plain names with `~N`, `^N`, `^{commit}` suffixes (no reflog, index or message-search forms; GitPython
  hands the last to git); every ref file and pack file opened must be a regular file of bounded size (a FIFO
  or a device would block or never end);
- an object's size is read from its header before its content is decompressed, and refused over a limit; a
  packed object's delta chain is walked from its headers first (no loop, bounded depth, every link bounded).

GitPython marks this backend (`GitDB`) deprecated "due to security and performance issues" in favour of one that
runs `git cat-file`; it is the only backend that starts no process, and the bounds above are what it lacks.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

from devops_audit.errors import TargetError

__all__ = ["GitObjects", "TreeEntry", "MAX_OBJECT_BYTES"]

MiB = 1024 * 1024
MAX_OBJECT_BYTES = 16 * MiB  # a commit or a tree (a monorepo's root tree is a few hundred KiB)
MAX_REF_FILE_BYTES = 64 * 1024
MAX_PACKED_REFS_BYTES = 256 * MiB
MAX_DELTA_DEPTH = 4095  # git's own limit (pack.depth)
_REF = re.compile(r"(?!-)[\w./+@-]+(?:~\d*|\^\d*|\^\{(?:commit)?\})*")
_GIT_LOCATION_VARIABLES = ("GIT_DIR", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_WORK_TREE")


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a tree listing: git file mode (octal text, as `ls-tree` prints it), object id, path."""

    mode: str
    hexsha: str
    path: str


class GitObjects:
    """Read-only access to the object database of one repository, in-process and bounded."""

    def __init__(self, git_dir: Path, common_dir: Path) -> None:
        self.git_dir = git_dir
        self.common_dir = common_dir
        _require_regular_files(common_dir / "objects" / "pack", None, "pack file")
        self._repo = _open_repo(git_dir)

    def commit(self, ref: str) -> Any | None:
        """REF's commit (annotated tags peeled), or None when REF names no commit in this clone."""
        if not _REF.fullmatch(ref) or ".." in ref or "@{" in ref:
            return None
        self._check_ref_files(re.split(r"[~^]", ref, maxsplit=1)[0])
        from gitdb.exc import ODBError

        try:
            found = self._repo.rev_parse(ref)
            while found.type == "tag":
                found = found.object
        except (ODBError, ValueError, LookupError):  # BadName, BadObject; a malformed or missing ref
            return None
        return found if found.type == "commit" else None

    def entries(self, commit: Any, path: str, limit: int) -> list[TreeEntry]:
        """Up to `limit` entries at or under `path` in `commit` (a blob, symlink or submodule is one; a tree is walked)."""
        try:
            item = commit.tree / path
        except KeyError:
            return []
        found = item.traverse() if item.type == "tree" else iter([item])
        files = (e for e in found if e.type != "tree")
        return [TreeEntry(f"{e.mode:o}", e.hexsha, e.path) for e in islice(files, limit)]

    def read_blob(self, hexsha: str, limit: int) -> bytes:
        """A blob's content; refused (TargetError) when its header says it is over `limit` bytes."""
        info = self._repo.odb.info(bytes.fromhex(hexsha))
        if info.size > limit:
            raise TargetError(f"over {limit // 1024} KiB; refused")
        return self._repo.odb.stream(bytes.fromhex(hexsha)).read(limit + 1)

    def _check_ref_files(self, name: str) -> None:
        """Every file GitPython may open to resolve `name` is a regular file of bounded size."""
        for folder in {self.git_dir, self.common_dir}:
            _require_regular_files(folder / "refs", MAX_REF_FILE_BYTES, "ref")
            for candidate in ("HEAD", name):
                _require_regular(folder / candidate, MAX_REF_FILE_BYTES, "ref")
            _require_regular(folder / "packed-refs", MAX_PACKED_REFS_BYTES, "packed-refs")


def _require_regular_files(folder: Path, limit: int | None, what: str) -> None:
    for top, folders, files in os.walk(folder):
        for name in folders + files:
            _require_regular(Path(top) / name, limit, what, folder_ok=True)


def _require_regular(path: Path, limit: int | None, what: str, *, folder_ok: bool = False) -> None:
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    if folder_ok and stat.S_ISDIR(info.st_mode):
        return
    if not stat.S_ISREG(info.st_mode):
        raise TargetError(f"{path.name}: a {what} that is not a regular file (a symlink, FIFO or device); refused")
    if limit is not None and info.st_size > limit:
        raise TargetError(f"{path.name}: a {what} over {limit // 1024} KiB; refused")


def _open_repo(git_dir: Path) -> Any:
    """A GitPython `Repo` on `git_dir` whose objects are read in pure Python through the bounded database."""
    git, repo_class = _gitpython()
    with _without_location_variables(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # GitDB "deprecated": the only backend without git
        try:
            return repo_class(str(git_dir), odbt=_bounded_db(), expand_vars=False)
        except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError, OSError) as exc:
            raise TargetError(f"{git_dir}: not a readable git repository ({exc})") from None


@contextmanager
def _without_location_variables() -> Iterator[None]:
    """GitPython's `Repo()` honours inherited `GIT_DIR`-like variables: they are out of the environment meanwhile."""
    saved = {name: os.environ.pop(name) for name in _GIT_LOCATION_VARIABLES if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


class _ProcessRefused(subprocess.Popen):  # type: ignore[type-arg]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise PermissionError("devops-audit reads git objects in-process; GitPython may not start git")


@cache
def _gitpython() -> tuple[Any, type]:
    """GitPython, imported so that it cannot start a process, and a `Repo` that never reads the repository's config."""
    saved_popen, saved_mode = subprocess.Popen, os.environ.get("GIT_PYTHON_REFRESH")
    subprocess.Popen = _ProcessRefused  # type: ignore[misc]  # what `git.cmd` binds as its Popen at import
    os.environ["GIT_PYTHON_REFRESH"] = "quiet"  # the refused `git version` probe is not an import error
    try:
        import git
    finally:
        subprocess.Popen = saved_popen  # type: ignore[misc]
        if saved_mode is None:
            os.environ.pop("GIT_PYTHON_REFRESH", None)
        else:
            os.environ["GIT_PYTHON_REFRESH"] = saved_mode

    class ObjectsOnlyRepo(git.Repo):
        """A `Repo` whose configuration is empty: `.git/config` (and what it includes) is never opened."""

        def _config_reader(self, config_level: Any = None, git_dir: Any = None) -> Any:
            return git.GitConfigParser([], read_only=True)

    return git, ObjectsOnlyRepo


@cache
def _bounded_db() -> type:
    """gitdb's database with alternates not followed and object sizes checked before decompression."""
    from gitdb.db.pack import PackedDB
    from gitdb.db.ref import ReferenceDB

    git, _ = _gitpython()

    class NoAlternates(ReferenceDB):  # type: ignore[misc]
        def _update_dbs_from_ref_file(self) -> None:
            """`objects/info/alternates` may name object stores outside the repository: not followed."""

    class BoundedDB(git.GitDB):  # type: ignore[misc]
        ReferenceDBCls = NoAlternates

        def info(self, binsha: bytes) -> Any:
            self._check_loose(binsha)
            for packs in self._dbs:
                if isinstance(packs, PackedDB):
                    for entity in packs.entities():
                        _check_delta_chain(entity, binsha)
            return super().info(binsha)

        def stream(self, binsha: bytes) -> Any:
            found = self.info(binsha)
            if found.size > MAX_OBJECT_BYTES:
                raise TargetError(f"{binsha.hex()[:12]}: a git {found.type.decode()} over "
                                  f"{MAX_OBJECT_BYTES // MiB} MiB; refused")
            return super().stream(binsha)

        def _check_loose(self, binsha: bytes) -> None:
            hexsha = binsha.hex()
            _require_regular(Path(self.root_path(), hexsha[:2], hexsha[2:]), None, "git object")

    return BoundedDB


def _check_delta_chain(entity: Any, binsha: bytes) -> None:
    """A packed object's delta chain, walked from the headers before gitdb resolves it: bounded in depth, no cycle
    (gitdb would loop forever), every link (a delta, the base object) within MAX_OBJECT_BYTES."""
    from gitdb.pack import OFS_DELTA, REF_DELTA

    index = entity.index()
    found = index.sha_to_index(binsha)
    offset = None if found is None else index.offset(found)
    seen: set[int] = set()
    while offset is not None:
        if offset in seen or len(seen) > MAX_DELTA_DEPTH:
            raise TargetError(f"{binsha.hex()[:12]}: a git object whose delta chain loops or is too deep; refused")
        seen.add(offset)
        link = entity.pack().info(offset)
        if link.size > MAX_OBJECT_BYTES:
            raise TargetError(f"{binsha.hex()[:12]}: a git object built from a delta chain link over "
                              f"{MAX_OBJECT_BYTES // MiB} MiB; refused")
        if link.type_id == OFS_DELTA:
            offset = link.pack_offset - link.delta_info
        elif link.type_id == REF_DELTA:
            base = index.sha_to_index(bytes(link.delta_info))
            offset = None if base is None else index.offset(base)
        else:
            offset = None
