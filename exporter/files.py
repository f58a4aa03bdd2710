"""Every file job in one place: one bounded reader of regular files, one all-or-nothing
writer, and one temp-name scheme, swept by the code that made it.

``read_regular``: a file is opened without blocking (a FIFO cannot hang us), must be a
regular file, and may not exceed its cap, checked before a byte is read. ``write_files``:
each file is staged as a complete temp file beside its target (``.NAME.PID.….tmp``), then
all are moved into place with ``os.replace`` while SIGINT and SIGTERM wait, and rolled back
should a replace fail; ``sweep_staged`` removes what a killed writer left beside a target.
``scratch_folder`` is a private folder for one step's throwaway files, removed when the step
ends; nothing ever scans the shared system temp folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from exporter.errors import OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: staged files carry no lock there
    fcntl = None  # type: ignore[assignment]

MiB = 1 << 20
# Caps, per file (README "Errors"). A 100,000-question bank is ~130 MB over many files;
# one content file or page holding more is a mistake, not a bank.
CONTENT_CAP = 64 * MiB
PAGE_CAP = 64 * MiB
HISTORY_CAP = 64 * MiB  # about 400,000 questions' stamps
PACKAGE_CAP = 2048 * MiB  # an .apkg given to inspect (read as a zip, not into memory)
COLLECTION_CAP = 1024 * MiB  # the collection inside it, once inflated
YAML_SUFFIXES = (".yaml", ".yml")
_SPECIAL_ROOTS = ("/proc/", "/dev/", "/sys/")


class InputError(OSError):
    """A file that must not be read: not a regular file, or over its cap. ``str()`` is the
    reason in plain words (no path: the caller names the file)."""


def read_regular(path: Path, cap: int) -> bytes:
    """The bytes of ``path``, refused (``InputError``) unless it is a regular file of at most
    ``cap`` bytes. Other ``OSError``s (missing, no permission) pass through."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"is {kind_of(info.st_mode)}, not a regular file")
        if info.st_size > cap:
            raise InputError(
                f"is {info.st_size / MiB:,.1f} MiB; the limit is {cap // MiB:,} MiB for this file"
            )
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, cap + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:  # it grew while we read it
                raise InputError(f"grew past the limit of {cap // MiB:,} MiB while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def kind_of(mode: int) -> str:
    """'a folder', 'a FIFO (named pipe)', … for a file mode."""
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def regular_size(path: Path) -> int | None:
    """The size of a regular file at ``path`` (following links), ``None`` if there is none."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def check_target(path: Path, what: str = "output") -> None:
    """Refuse to write ``path`` unless it is a regular file or does not exist yet: never a
    device, FIFO, socket, folder, or a link to one of those or into /proc, /dev or /sys."""
    shown = display(str(path))
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        info = None  # nothing there yet (writing will say why a folder is unusable)
    except OSError as exc:
        raise OutputError(f"{shown}: cannot use this {what} ({exc.strerror})") from None
    if path.is_symlink():
        target = os.readlink(path)
        if not target.startswith(_SPECIAL_ROOTS):
            target = os.path.realpath(path)
        if target.startswith(_SPECIAL_ROOTS):
            raise OutputError(
                f"{shown}: is a link to {target}, not a file; choose a file name for the {what}",
                code="output-not-regular",
            )
    if info is None:
        return
    if stat.S_ISDIR(info.st_mode):
        fix = (
            f"give a file name such as {path / 'deck.apkg'}"
            if what == "output"
            else f"but the {what} is written here; move it away"
        )
        raise OutputError(f"{shown}: is a folder; {fix}", code="output-is-a-folder")
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(
            f"{shown}: is {kind_of(info.st_mode)}, not a regular file; choose a file name "
            f"for the {what}",
            code="output-not-regular",
        )


def display(name: str) -> str:
    """A file name as messages show it: as is, or quoted with escapes when it holds a line
    break, another control character or bytes that are not UTF-8 (so ``PATH:LINE`` stays one
    parseable line)."""
    if name.isprintable() and not any("\udc80" <= ch <= "\udcff" for ch in name):
        return name
    out = []
    for ch in name:
        if "\udc80" <= ch <= "\udcff":  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ch == "'" or ch == "\\":
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ascii(ch)[1:-1])
    return "'" + "".join(out) + "'"


def staging_prefix(final: Path) -> str:
    """The start of this process's temp files beside ``final``: ``.NAME.PID.`` (so
    ``sweep_staged`` can tell a killed writer's files by their pid)."""
    return f".{final.name}.{os.getpid()}."


_DAY = 86_400
_MAX_PID = 2**31 - 1


def sweep_staged(*targets: Path) -> None:
    """Remove the temp files that dead writers staged beside ``targets``: their pid gone (or
    a day old) and no live writer holding their lock; never a file of another name or user,
    never this process's own. The clock is read only when there is a candidate."""
    for target in targets:
        # A pid as we write one: ASCII digits within C's int (os.kill takes nothing more).
        pattern = re.compile(rf"\.{re.escape(target.name)}\.([0-9]{{1,10}})\..*\.tmp\Z")
        with contextlib.suppress(OSError):
            for entry in os.scandir(target.parent):
                match = pattern.match(entry.name)
                pid = int(match.group(1)) if match else _MAX_PID + 1
                if pid <= _MAX_PID and _stale(entry, pid):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _stale(entry: os.DirEntry[str], pid: int) -> bool:
    info = entry.stat(follow_symlinks=False)
    if info.st_uid != os.getuid() or pid == os.getpid() or not stat.S_ISREG(info.st_mode):
        return False
    gone = not _alive(pid) or time.time() - info.st_mtime > _DAY
    return gone and not _locked(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _locked(path: str) -> bool:
    """True while a writer holds the lock of its staged file (a writer whose pid this
    process cannot see, in another pid namespace, still holds it)."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return True  # cannot look: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A new private folder (mode 0700) in the system temp folder for one step's throwaway
    files, removed with what it holds when the step ends, however it ends."""
    with tempfile.TemporaryDirectory(prefix="interview-deck-") as tmp:
        yield Path(tmp)


def write_files(
    files: Sequence[tuple[Path, bytes]],
    *,
    unchanged: Mapping[Path, bytes] | None = None,
    new_mode: int = 0o644,
) -> None:
    """Write each file atomically (temp file in the same folder, then ``os.replace``).

    Every temp file is complete before the first replace, and the replaces run with SIGINT
    and SIGTERM held back, so an error or interrupt leaves either all the new files or all
    the previous ones, and no temp file behind. Should a replace itself fail, the files
    already replaced are restored from hard links taken just before. A file that exists
    keeps its permission bits (and its owner and group, where this process may set them).

    ``unchanged`` names files being edited (a user's documents) with the bytes each must
    still hold: one that changed meanwhile, or is read-only, is refused and nothing is
    written; one with other hard links, or whose owner cannot be kept, is rewritten in
    place so that it stays the same file. A file that does not exist yet gets ``new_mode``.
    """
    with _staged(files, unchanged or {}, new_mode) as staged, _signals_held():
        _commit(staged)


@dataclass(frozen=True)
class _Stage:
    """One file staged: its complete temp copy (held open and locked by ``_staged`` until the
    write ends), what the target must still hold (``None``: anything) and whether the target
    is rewritten in place (keeping its inode: hard links, owner)."""

    tmp: str
    final: Path
    data: bytes
    expected: bytes | None
    in_place: bool


def _commit(staged: Sequence[_Stage]) -> None:
    for stage in staged:
        if stage.expected is not None and not _holds(stage.final, stage.expected):
            raise OutputError(
                f"{display(str(stage.final))}: changed on disk while pull ran (saved in an "
                "editor?); nothing written: run pull again",
                code="content-changed",
            )
    done: list[tuple[_Stage, str | None, bool]] = []  # (stage, hard link to the old file, existed)
    try:
        for stage in staged:
            if stage.in_place:
                done.append((stage, None, True))
                _overwrite(stage.final, stage.data)
            else:
                existed = stage.final.exists()
                done.append((stage, _backup(stage.final) if existed else None, existed))
                os.replace(stage.tmp, stage.final)
    except OSError as exc:
        failed = done[-1][0]
        undo = done[:-1] + ([done[-1]] if failed.in_place else [])  # a failed replace did nothing
        for stage, backup, existed in reversed(undo):
            with contextlib.suppress(OSError):
                if stage.in_place and stage.expected is not None:
                    _overwrite(stage.final, stage.expected)
                elif backup is not None:
                    os.replace(backup, stage.final)
                elif not existed:
                    os.unlink(stage.final)
        raise OutputError(f"{failed.final}: cannot write ({exc.strerror})") from None
    finally:
        for _stage, backup, _existed in done:
            if backup is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(backup)


def _holds(path: Path, expected: bytes) -> bool:
    """True when ``path`` is a regular file holding exactly ``expected``."""
    try:
        return read_regular(path, len(expected)) == expected
    except OSError:
        return False


def _overwrite(path: Path, data: bytes) -> None:
    """Rewrite ``path``'s own content (same inode: its hard links and owner stay)."""
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        _write_all(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _backup(final: Path) -> str | None:
    """A hard link to ``final``'s current content (``None`` if the file system has none)."""
    for attempt in range(100):
        name = str(final.with_name(f"{staging_prefix(final)}{attempt}.bak.tmp"))
        try:
            os.link(final, name)
            return name
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links: no rollback, as before
            return None
    return None


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Delay SIGINT/SIGTERM until the block ends, so the files are replaced all together."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _blocking_file(folder: Path) -> Path | None:
    """The first of ``folder`` and its parents that exists but is not a folder."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def _existing(final: Path, editing: bool) -> os.stat_result | None:
    """The target's status (``None`` when there is none yet); a document being edited must
    be writable."""
    try:
        info = final.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"{final}: cannot write here ({exc.strerror})") from None
    if editing and (not info.st_mode & 0o222 or not os.access(final, os.W_OK)):
        raise OutputError(
            f"{display(str(final))}: is read-only; nothing written (make it writable, "
            "e.g. chmod u+w, to pull into it)",
            code="content-read-only",
        )
    return info


def _keep_owner(fd: int, info: os.stat_result) -> bool:
    """Give the temp file the target's owner and group; False when that is not allowed."""
    if (info.st_uid, info.st_gid) == (os.geteuid(), os.getegid()):
        return True
    try:
        os.fchown(fd, info.st_uid, info.st_gid)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def _staged(
    files: Sequence[tuple[Path, bytes]], unchanged: Mapping[Path, bytes], new_mode: int
) -> Iterator[list[_Stage]]:
    staged: list[_Stage] = []
    made: list[tuple[int, str]] = []  # every temp file made: (its open fd, its name)
    try:
        for final, data in files:
            if final.is_dir():
                raise OutputError(
                    f"{final}: is a folder; give a file name such as {final / 'deck.apkg'}"
                )
            blocker = _blocking_file(final.parent)
            if blocker is not None:
                raise OutputError(f"{final}: cannot write here: {blocker} is a file, not a folder")
            expected = unchanged.get(final)
            info = _existing(final, expected is not None)
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(
                    prefix=staging_prefix(final), suffix=".tmp", dir=final.parent
                )
            except OSError as exc:
                raise OutputError(f"{final}: cannot write here ({exc.strerror})") from None
            made.append((fd, tmp))
            try:
                if fcntl is not None:  # held until the write ends: a sweeper leaves it be
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.fchmod(fd, stat.S_IMODE(info.st_mode) & 0o777 if info else new_mode)
                owner_kept = info is None or _keep_owner(fd, info)
                _write_all(fd, data)
                os.fsync(fd)
            except OSError as exc:
                raise OutputError(f"{final}: cannot write ({exc.strerror})") from None
            in_place = (
                expected is not None and info is not None and (info.st_nlink > 1 or not owner_kept)
            )
            staged.append(_Stage(tmp, final, data, expected, in_place))
        yield staged
    finally:
        for fd, tmp in made:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.close(fd)
