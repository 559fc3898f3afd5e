"""The only door to the repository: its file list and safe, bounded reads.

Nothing here executes repository content, and git runs only through `gitcmd` (hardened). Paths are
repository-relative POSIX strings; a path (or a symlink) that resolves outside the root is refused, files over
the size limit are refused, text is decoded tolerantly, YAML goes through `yamlsafe`, XML through `defusedxml`.

The file list of a git repository is one `git ls-files -z -s -t` (tracked files, with their blob ids):

- a checkout without an index (or an empty one) while HEAD has a tree, and a bare repository, are read from
  HEAD's tree (`git ls-tree -r -z HEAD`, contents through `git cat-file --batch`, never a checkout);
- sparse-checkout entries absent from the folder are read from their blobs;
- what cannot be read as it should never disappears silently: a tracked path that is a FIFO, a device or a
  folder stays listed (reading it is an error its collector records), and the workspace's own `problems`
  (inventory entries) name submodules, tracked files missing from the folder, symlinked folders, folders that
  cannot be listed, and a `.git` that points at another repository (refused: its metadata is not read).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from devops_audit.errors import EvidenceError, TargetError
from devops_audit.facts import InventoryEntry
from devops_audit.fileindex import FileIndex
from devops_audit.gitcmd import BlobReader, GitError, run_git

__all__ = ["Workspace", "GitInfo", "MiB", "SKIPPED_DIRS"]

MiB = 1024 * 1024
MAX_XML_ELEMENTS = 4_000_000
SKIPPED_DIRS = frozenset(
    {".git", "node_modules", "vendor", "third_party", ".venv", "venv", ".tox", "__pycache__",
     ".mypy_cache", ".pytest_cache", "site-packages", "bower_components"}
)
# folders whose loss a collector must hear about (their problems join that collector's inventory)
EVIDENCE_FOLDERS = {".github/workflows": "ci", ".github": "ci", ".circleci": "ci", ".gitlab": "ci",
                    ".azure-pipelines": "ci"}
READ_CACHE_BYTES = 4 * MiB  # what one scan keeps of the files it read: several collectors read the same ones
_SUBMODULE_MODE = "160000"
_SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class GitInfo:
    """What the target's git metadata says, when it is a git repository."""

    commit: str | None
    branch: str | None


class Workspace:
    """Read-only, bounded access to one repository checkout."""

    def __init__(self, root: str | os.PathLike[str], *, max_file_bytes: int = 5 * MiB,
                 exclude: Iterable[str] = ()) -> None:
        path = Path(root)
        if not path.exists():
            raise TargetError(f"{root}: no such directory")
        if not path.is_dir():
            raise TargetError(f"{root}: not a directory")
        if not os.access(path, os.R_OK | os.X_OK):
            raise TargetError(f"{root}: directory is not readable")
        self.root = path.resolve()
        self.max_file_bytes = max_file_bytes
        self.exclude = tuple(exclude)
        self.problems: list[InventoryEntry] = []  # what the file list could not cover, with the reason
        self._blobs: dict[str, str] = {}  # path -> blob id, for files read from git objects
        self._reader: BlobReader | None = None
        self._read_cache: dict[str, bytes] = {}  # path -> content already read (at most READ_CACHE_BYTES in all)
        self._read_cache_bytes = 0
        self._tomls: dict[str, dict[str, Any]] = {}  # path -> parsed TOML, shared by its readers
        self._real_folders: dict[str, str] = {}  # folder -> its real path, for `resolve`
        self.source = "folder"  # folder | index | HEAD tree
        # absolute globs of reports named on the command line (`--evidence KIND=PATH`): the person running the
        # tool chose them, so they are read where they are (CI writes to $RUNNER_TEMP); nothing else leaves the root
        self.named_outside: tuple[str, ...] = ()

    # -- git -----------------------------------------------------------------------------------
    @cached_property
    def git_dir(self) -> Path | None:
        """The git directory git may run on: `located_git_dir`, unless its configuration would block git."""
        located = self.located_git_dir
        return None if located is None else self._usable_git_dir(located)

    @cached_property
    def located_git_dir(self) -> Path | None:
        """The repository's git directory, or None (not git, or a `.git` refused as leading elsewhere); read in
        pure Python by `--config-ref` even where its configuration would block a git process."""
        dot_git = self.root / ".git"
        if not os.path.lexists(dot_git):
            return self.root if _is_bare(self.root) else None
        real = Path(os.path.realpath(dot_git))
        if dot_git.is_file() and not dot_git.is_symlink():
            real = _gitfile_target(dot_git)
            if real is None or not (self._inside(real) or _links_back(real, self.root)):
                self._problem(".git", "error", "a `.git` file pointing at a git directory outside the repository "
                              "that is not a worktree or submodule of it; refused, its history is not read")
                return None
        elif not self._inside(real):
            self._problem(".git", "error", "`.git` is a symlink leading outside the repository; refused, "
                          "its history is not read")
            return None
        elif (real / "commondir").is_file() and not self._inside(_common_dir(real)):
            self._problem(".git", "error", "`.git/commondir` names a git directory outside the repository; "
                          "refused, its history is not read")
            return None
        return real if real.is_dir() else None

    def _usable_git_dir(self, git_dir: Path) -> Path | None:
        """`git_dir`, unless its configuration would make every git command block (then refused, named)."""
        blocking = _blocking_config(git_dir)
        if blocking:
            self._problem(".git", "error", f"{blocking}: git would wait on it; refused, its history is not read")
            return None
        return git_dir

    @property
    def is_git(self) -> bool:
        return self.git_dir is not None

    @cached_property
    def common_dir(self) -> Path | None:
        """Where a linked worktree's shared metadata (objects, refs, `shallow`) lives."""
        return None if self.located_git_dir is None else _common_dir(self.located_git_dir)

    def git_run(self, *args: str, ok_codes: tuple[int, ...] = (0,), timeout: float = 120.0) -> bytes:
        """One hardened git command on this repository (`gitcmd.run_git`); raises GitError."""
        if self.git_dir is None:
            raise GitError(args[0] if args else "git", "not a git repository")
        work_tree = None if self.git_dir == self.root else self.root
        return run_git(args, cwd=self.root, git_dir=self.git_dir, work_tree=work_tree, ok_codes=ok_codes,
                       timeout=timeout)

    def git_text(self, *args: str) -> str | None:
        """A git command's output as text, or None when git fails (a missing ref, a broken repository)."""
        try:
            return self.git_run(*args).decode("utf-8", "replace").strip()
        except GitError:
            return None

    @cached_property
    def git(self) -> GitInfo | None:
        """Commit and branch of HEAD, or None when this is not a usable git repository."""
        if not self.is_git:
            return None
        out = self.git_text("rev-parse", "HEAD", "--symbolic-full-name", "HEAD")
        if out:
            commit, _, ref = out.partition("\n")
            return GitInfo(commit.strip(), ref.strip().removeprefix("refs/heads/") if ref.startswith("refs/heads/")
                           else None)
        unborn = self.git_text("symbolic-ref", "-q", "HEAD")
        return GitInfo(None, unborn.removeprefix("refs/heads/") if unborn else None)

    # -- the file list -------------------------------------------------------------------------
    @cached_property
    def listed(self) -> list[str]:
        """Every file of the repository before `exclude`; raises TargetError for a broken git checkout."""
        listed = self._git_files() if self.is_git else None
        return listed if listed is not None else list(self._walk())

    @cached_property
    def files(self) -> list[str]:
        """Tracked files of a git repository, else every file outside skipped folders; sorted."""
        return sorted(p for p in self.listed if not (self.exclude and self.is_excluded(p)))

    @cached_property
    def file_set(self) -> frozenset[str]:
        return self.index.file_set

    @cached_property
    def index(self) -> FileIndex:
        """`files` grouped by folder, name and ending: glob look-ups that visit only the files that can match."""
        return FileIndex(self.files)

    def is_excluded(self, path: str) -> bool:
        return any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("/") + "/")
                   for pattern in self.exclude)

    def _git_files(self) -> list[str] | None:
        bare = self.git_dir == self.root
        try:  # `-d` adds an `R` record after each tracked path missing from the folder (git lstats them, in C)
            out = b"" if bare else self.git_run("ls-files", "-z", "-s", "-t", "-d")
        except GitError as exc:
            self._problem(".git", "error", f"{exc}; files were listed from the folder instead")
            return None
        if not out.strip(b"\0"):
            return self._head_tree(bare)
        self.source = "index"
        records = [record.partition("\t") for record in out.decode("utf-8", "surrogateescape").split("\0")]
        missing = {rel for meta, _, rel in records if meta.startswith("R ")} if b"R " in out else set()  # R: git found it missing
        result = []
        for meta, _, rel in records:
            if meta.startswith("H 100") and rel and rel not in missing:
                result.append(rel)  # a regular file at stage 0, present: most records, nothing to look at
                continue
            fields = meta.split()
            if not rel or len(fields) != 4 or fields[0] == "R" or fields[3] not in ("0", "2"):
                continue  # conflict stages 1 and 3 repeat a path already listed
            tag, mode, blob = fields[0], fields[1], fields[2]
            if mode == _SUBMODULE_MODE:
                self._problem(rel, "skipped", "a git submodule: its files are not part of this scan (scan it on its own)")
                continue
            plain = tag != "S" and mode != _SYMLINK_MODE and rel not in missing  # nothing to look at
            if plain or self._tracked(rel, blob, mode, sparse=tag == "S", missing=rel in missing):
                result.append(rel)
        return result

    def _tracked(self, rel: str, blob: str, mode: str, *, sparse: bool, missing: bool) -> bool:
        """Whether a tracked path stays listed; records why when it does not. Git said which paths are missing
        (`missing`); only sparse entries (git does not look for those) and symlinks are looked at here, not every
        file: whatever the folder holds, each read checks its path again (`resolve`, then no FIFO or folder)."""
        full = os.path.join(self.root, rel)
        if sparse and not os.path.lexists(full):  # outside the sparse checkout: read the committed content
            self._blobs[rel] = blob
            return True
        if missing:
            self._problem(rel, "skipped", "tracked but missing from the working folder (deleted, or a broken "
                          "checkout): not read")
            return False
        if mode == _SYMLINK_MODE and os.path.islink(full) and os.path.isdir(full):
            self._symlinked_folder(rel)
            return False
        return True  # a FIFO, a device or a folder stays listed: reading it is a located error

    def _head_tree(self, bare: bool) -> list[str]:
        """A checkout whose index is missing or empty (or a bare repository): HEAD's tree, read from objects."""
        try:
            out = self.git_run("ls-tree", "-r", "-z", "--full-tree", "HEAD")
        except GitError:
            if bare or (self.git and self.git.commit):
                raise TargetError(f"{self.root}: broken git checkout: no index and HEAD's tree cannot be read "
                                  "(restore it with `git reset` or clone again)") from None
            self._problem(".git", "skipped", "the git repository has no commit and nothing staged: "
                          "untracked files are not scanned")
            return []
        self.source = "HEAD tree"
        files = []
        for record in out.decode("utf-8", "surrogateescape").split("\0"):
            meta, _, rel = record.partition("\t")
            fields = meta.split()
            if rel and len(fields) == 3 and fields[1] == "blob":
                self._blobs[rel] = fields[2]
                files.append(rel)
            elif rel and fields[:1] == [_SUBMODULE_MODE]:
                self._problem(rel, "skipped", "a git submodule: its files are not part of this scan")
        what = "a bare repository" if bare else "the checkout has no index (or an empty one)"
        self._problem(".git", "parsed", f"{what}: {len(files)} files read from HEAD's tree "
                      f"({(self.git.commit or '')[:12] if self.git else ''}), not from the folder")
        return files

    def _walk(self) -> Iterator[str]:
        def unreadable(error: OSError) -> None:
            rel = Path(error.filename or self.root).resolve().relative_to(self.root).as_posix()
            self._problem(rel, "error", f"folder cannot be listed ({error.strerror or error}): its files are "
                          "not scanned", evidence=_namespace_of(rel, "files"))

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=unreadable):
            base = Path(dirpath).relative_to(self.root).as_posix()
            prefix = "" if base == "." else f"{base}/"
            for name in [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
                self._symlinked_folder(prefix + name)
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
            for name in filenames:
                yield prefix + name

    def _symlinked_folder(self, rel: str) -> None:
        where = "outside the repository" if not self._inside(Path(os.path.realpath(self.root / rel))) else \
            "elsewhere in the repository"
        self._problem(rel, "error" if rel in EVIDENCE_FOLDERS else "skipped",
                      f"a symlink to a folder {where}: not followed, the files under it are not read here")

    def _problem(self, path: str, status: Any, reason: str, evidence: str | None = None) -> None:
        """Record what the file list cannot cover, for the namespace whose evidence it would have been."""
        evidence = evidence or _namespace_of(path, "repo")
        self.problems.append(InventoryEntry(path, "workspace", status, reason, evidence=evidence))

    def _inside(self, real: Path) -> bool:
        return real == self.root or self.root in real.parents

    # -- finding evidence ----------------------------------------------------------------------
    def matching(self, *patterns: str) -> list[str]:
        """Listed files matching any glob (`fnmatch`: `*` also crosses `/`)."""
        from devops_audit.globs import globs

        match = globs(patterns)
        return [p for p in self.files if match(p)]

    def on_disk(self, *patterns: str) -> list[str]:
        """Files on disk (tracked or not, e.g. reports a CI step just wrote) matching repo-relative globs; in a
        checkout read from git objects, the committed files matching them too."""
        found: set[str] = set()
        for pattern in patterns:
            if pattern in self.named_outside:
                found.update(Path(hit).as_posix() for hit in glob.glob(pattern) if Path(hit).is_file())
                continue
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                continue
            found.update(p for p in self._blobs if fnmatch.fnmatch(p, pattern))
            for hit in self.root.glob(pattern):
                rel = hit.relative_to(self.root).as_posix()
                if hit.is_file() and not any(part in SKIPPED_DIRS for part in Path(rel).parts[:-1]):
                    found.add(rel)
        return sorted(found)

    def exists(self, path: str) -> bool:
        if path in self._blobs:
            return True
        try:
            return (self.root / path).is_file()
        except (OSError, ValueError):  # a name too long for the file system, or with a NUL: no such file
            return False

    # -- reading -------------------------------------------------------------------------------
    def resolve(self, path: str) -> Path:
        """The real path of a repository file; refuses anything that leaves the repository."""
        root = str(self.root)
        candidate = os.path.join(root, path)
        try:
            real = self._realpath(candidate)
        except (OSError, ValueError) as exc:  # a name too long for the file system, or with a NUL
            raise EvidenceError(path, f"not a usable file name: {exc.strerror if isinstance(exc, OSError) else exc}") from None
        if self.named_outside and any(fnmatch.fnmatch(Path(candidate).as_posix(), pattern)
                                      for pattern in self.named_outside):
            return Path(real)  # a report the person running the tool named on the command line
        # both are real, absolute and normalised: inside means the root itself or below it (strings, not
        # pathlib's `parents`, which cost more than the read on a small file)
        if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
            raise EvidenceError(path, f"resolves outside the repository (to {real}); refused")
        return Path(real)

    def _realpath(self, candidate: str) -> str:
        """`os.path.realpath(candidate)`, with its folder's real path remembered: the reads of a scan share a few
        folders, and `realpath` looks at every component of the path (an `lstat` each), here only at the name."""
        folder, name = os.path.split(candidate)
        if name in ("", ".", "..") or "\0" in candidate:
            return os.path.realpath(candidate)
        real_folder = self._real_folders.get(folder)
        if real_folder is None:
            real_folder = self._real_folders[folder] = os.path.realpath(folder)
        joined = os.path.join(real_folder, name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        """A file's content, read once per scan: workflows, `pyproject.toml` and the like have several readers."""
        limit = self.max_file_bytes if max_bytes is None else max_bytes
        known = self._read_cache.get(path)
        if known is not None and len(known) <= limit:
            return known
        data = self._read_blob(path, limit) if path in self._blobs else self._read_file(path, limit)
        if self._read_cache_bytes + len(data) <= READ_CACHE_BYTES:
            self._read_cache[path] = data
            self._read_cache_bytes += len(data)
        return data

    def _read_file(self, path: str, limit: int) -> bytes:
        real = self.resolve(path)
        try:  # non-blocking open: a FIFO swapped in after listing cannot hang the scan
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise EvidenceError(path, "file not found") from None
        except OSError as exc:
            raise EvidenceError(path, f"cannot read: {exc.strerror or exc}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise EvidenceError(path, f"not a regular file ({_kind_of(info.st_mode)}); not read")
            _check_size(path, info.st_size, limit)
        except EvidenceError:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as handle:
            try:
                return handle.read(limit + 1)
            except OSError as exc:
                raise EvidenceError(path, f"cannot read: {exc.strerror or exc}") from None

    def _read_blob(self, path: str, limit: int) -> bytes:
        """A file's committed content (HEAD tree or sparse entry), through one `cat-file --batch` process."""
        if self._reader is None:
            assert self.git_dir is not None
            self._reader = BlobReader(self.root, self.git_dir, None if self.git_dir == self.root else self.root)
        try:
            _, size, content = self._reader.read(self._blobs[path], limit)
        except GitError as exc:
            raise EvidenceError(path, f"cannot read from git objects: {exc.reason}") from None
        _check_size(path, size, limit)
        return content or b""

    def close(self) -> None:
        """Stop the git object reader, if one was started, and forget the contents read."""
        self._read_cache.clear()
        self._read_cache_bytes = 0
        self._tomls.clear()
        self._real_folders.clear()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def read_text(self, path: str, max_bytes: int | None = None) -> str:
        """Text with a BOM removed; invalid UTF-8 becomes U+FFFD rather than an error."""
        return self.read_bytes(path, max_bytes).decode("utf-8-sig", errors="replace")

    def read_strict_text(self, path: str, max_bytes: int | None = None) -> str:
        """Text that must be valid UTF-8 (configuration files a CI system would reject otherwise)."""
        data = self.read_bytes(path, max_bytes)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise EvidenceError(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", line) from None

    def load_yaml(self, path: str) -> list[Any]:
        """Every YAML document of a file (see `yamlsafe`); errors name the file and line."""
        from devops_audit.yamlsafe import YamlError, load_documents

        text = self.read_strict_text(path)
        if "\0" in text:
            raise EvidenceError(path, "binary content, not YAML")
        try:
            return load_documents(text)
        except YamlError as exc:
            raise EvidenceError(path, exc.reason, exc.line) from None

    def load_toml(self, path: str) -> dict[str, Any]:
        """A TOML file's tables, parsed once per scan and shared by its readers: read-only. EvidenceError when
        it cannot be read, `tomllib.TOMLDecodeError` when it is not TOML."""
        import tomllib

        if path not in self._tomls:
            self._tomls[path] = tomllib.loads(self.read_text(path))
        return self._tomls[path]

    def parse_xml(self, path: str, max_bytes: int | None = None) -> Any:
        """An ElementTree root parsed with defusedxml: no entities, no external DTDs, at most MAX_XML_ELEMENTS
        elements (a tree costs ~20 times its text in memory)."""
        from xml.etree.ElementTree import ParseError

        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import fromstring

        data = self.read_bytes(path, max_bytes)
        if data.count(b"<") > MAX_XML_ELEMENTS:
            raise EvidenceError(path, f"more than {MAX_XML_ELEMENTS:,} XML elements; refused (memory bound)")
        try:
            return fromstring(data)
        except DefusedXmlException as exc:
            raise EvidenceError(path, f"unsafe XML refused: {type(exc).__name__}") from None
        except ParseError as exc:
            raise EvidenceError(path, f"invalid XML: {exc}", exc.position[0] if exc.position else None) from None
        except (LookupError, ValueError) as exc:  # an encoding expat does not know, or a multi-byte one
            raise EvidenceError(path, f"unsupported XML encoding: {exc}") from None


def _namespace_of(path: str, default: str) -> str:
    """The collector whose evidence lives under `path` (a CI folder), else `default`."""
    return next((name for folder, name in EVIDENCE_FOLDERS.items()
                 if path == folder or path.startswith(folder + "/")), default)


def _check_size(path: str, size: int, limit: int) -> None:
    if size > limit:
        raise EvidenceError(path, f"file is {size / MiB:.1f} MiB, over the {limit / MiB:g} MiB limit (limits.max_file_mib)")


def _kind_of(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a file")


def _is_bare(path: Path) -> bool:
    """A bare repository, recognised as git does: objects/, refs/ and a HEAD naming a ref or a commit."""
    if not ((path / "objects").is_dir() and (path / "refs").is_dir()):
        return False
    try:
        head = (path / "HEAD").read_bytes()[:256].strip()
    except OSError:
        return False
    return head.startswith(b"ref: refs/") or (len(head) in (40, 64) and all(c in b"0123456789abcdef" for c in head))


_INCLUDE_SECTION = re.compile(r"^\s*\[\s*include(?:if\b[^\]]*)?\s*\]", re.IGNORECASE)
_ANY_SECTION = re.compile(r"^\s*\[")
_INCLUDE_PATH = re.compile(r"^\s*path\s*=\s*(.*?)\s*$", re.IGNORECASE)
MAX_INCLUDE_DEPTH = 10  # git's own limit


def _blocking_config(git_dir: Path) -> str | None:
    """Why git would block reading this repository's configuration: a config file, or a file it includes
    (`[include] path`, `[includeIf ...] path`, followed as git does), that is a FIFO, a device or a folder.
    A missing include is fine (git skips it); only the type is checked, nothing is followed outside reads."""
    configs = [git_dir / "config", git_dir / "config.worktree", _common_dir(git_dir) / "config"]
    return next((reason for config in dict.fromkeys(configs) if (reason := _config_blocks(config, 0))), None)


def _config_blocks(config: Path, depth: int) -> str | None:
    try:
        mode = os.stat(config).st_mode
    except (OSError, ValueError):
        return None  # absent: git reads nothing there
    if not stat.S_ISREG(mode):
        return f"git configuration {config.name} is {_kind_of(mode)}"
    if depth >= MAX_INCLUDE_DEPTH:
        return None
    try:
        with open(config, "rb") as handle:
            text = handle.read(MiB).decode("utf-8", "replace")
    except OSError:
        return None
    in_include = False
    for line in text.splitlines():
        if _ANY_SECTION.match(line):
            in_include = bool(_INCLUDE_SECTION.match(line))
            continue
        found = _INCLUDE_PATH.match(line) if in_include else None
        if not found:
            continue
        value = found.group(1).strip().strip('"')
        if not value or value.startswith("~"):
            continue  # git expands `~` with HOME, an empty folder under gitcmd
        target = Path(value) if os.path.isabs(value) else config.parent / value
        reason = _config_blocks(target, depth + 1)
        if reason:
            return f"{config.name} includes {value!r}, and {reason.removeprefix('git configuration ')}"
    return None


def _common_dir(git_dir: Path) -> Path:
    try:
        pointer = (git_dir / "commondir").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return git_dir
    return Path(os.path.realpath(git_dir / pointer)) if pointer else git_dir


def _gitfile_target(dot_git: Path) -> Path | None:
    """The git directory a `.git` file names (`gitdir: PATH`, relative to the file's folder)."""
    try:
        text = dot_git.read_bytes()[:4096].decode("utf-8", "replace")
    except OSError:
        return None
    line = text.strip().splitlines()[0] if text.strip() else ""
    if not line.startswith("gitdir:"):
        return None
    return Path(os.path.realpath(dot_git.parent / line.removeprefix("gitdir:").strip()))


def _links_back(git_dir: Path, root: Path) -> bool:
    """Whether an outside git directory belongs to this checkout: a linked worktree (its `gitdir` file names
    our `.git`) or a submodule (its `core.worktree` is our folder)."""
    try:
        back = (git_dir / "gitdir").read_text(encoding="utf-8", errors="replace").strip()
        if back and Path(os.path.realpath(git_dir / back)) == root / ".git":
            return True
    except OSError:
        pass
    try:
        worktree = run_git(["config", "--file", str(git_dir / "config"), "--get", "core.worktree"], cwd=root,
                           ok_codes=(0, 1), timeout=30).decode("utf-8", "replace").strip()
    except GitError:
        return False
    return bool(worktree) and Path(os.path.realpath(git_dir / worktree)) == root
