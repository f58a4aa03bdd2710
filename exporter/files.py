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
from collections.abc import Iterator, Sequence
from pathlib import Path

from exporter.errors import OutputError

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


_GRACE = 60  # seconds: a writer's own files are never this young when it is gone
_DAY = 86_400


def sweep_staged(*targets: Path) -> None:
    """Remove the temp files that dead writers staged beside ``targets`` (a minute old and
    their pid gone, or a day old); never a file of another name or user. The clock is read
    only when there is a candidate, so a clean build does not depend on it."""
    for target in targets:
        pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\..*\.tmp\Z")
        with contextlib.suppress(OSError):
            for entry in os.scandir(target.parent):
                match = pattern.match(entry.name)
                if match and _stale(entry, int(match.group(1))):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _stale(entry: os.DirEntry[str], pid: int) -> bool:
    info = entry.stat(follow_symlinks=False)
    if info.st_uid != os.getuid() or pid == os.getpid():
        return False
    age = time.time() - info.st_mtime
    return age > _DAY or (age > _GRACE and not _alive(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A new private folder (mode 0700) in the system temp folder for one step's throwaway
    files, removed with what it holds when the step ends, however it ends."""
    with tempfile.TemporaryDirectory(prefix="interview-deck-") as tmp:
        yield Path(tmp)


def write_files(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write each file atomically (temp file in the same folder, then ``os.replace``).

    Every temp file is complete before the first replace, and the replaces run with SIGINT
    and SIGTERM held back, so an error or interrupt leaves either all the new files or all
    the previous ones, and no temp file behind. Should a replace itself fail, the files
    already replaced are restored from hard links taken just before.
    """
    with _staged(files) as staged, _signals_held():
        _commit(staged)


def _commit(staged: Sequence[tuple[str, Path]]) -> None:
    backups: list[tuple[str | None, Path]] = []  # (hard link to the old file, file)
    existed: list[bool] = []
    try:
        for tmp, final in staged:
            existed.append(final.exists())
            backups.append((_backup(final) if existed[-1] else None, final))
            os.replace(tmp, final)
    except OSError as exc:
        for (backup, final), was_there in reversed(
            list(zip(backups[:-1], existed[:-1], strict=True))
        ):
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, final)
                elif not was_there:
                    os.unlink(final)
        raise OutputError(f"{staged[len(backups) - 1][1]}: cannot write ({exc.strerror})") from None
    finally:
        for backup, _final in backups:
            if backup is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(backup)


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


@contextlib.contextmanager
def _staged(files: Sequence[tuple[Path, bytes]]) -> Iterator[list[tuple[str, Path]]]:
    staged: list[tuple[str, Path]] = []
    try:
        for final, data in files:
            if final.is_dir():
                raise OutputError(
                    f"{final}: is a folder; give a file name such as {final / 'deck.apkg'}"
                )
            blocker = _blocking_file(final.parent)
            if blocker is not None:
                raise OutputError(f"{final}: cannot write here: {blocker} is a file, not a folder")
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(
                    prefix=staging_prefix(final), suffix=".tmp", dir=final.parent
                )
            except OSError as exc:
                raise OutputError(f"{final}: cannot write here ({exc.strerror})") from None
            staged.append((tmp, final))
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp, 0o644)
            except OSError as exc:
                raise OutputError(f"{final}: cannot write ({exc.strerror})") from None
        yield staged
    finally:
        for tmp, _final in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
