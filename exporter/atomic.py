"""Write files so that a failure never leaves a half-written one: every writer uses this.

Each file is staged as a complete temp file beside its target, then all are moved into place
with ``os.replace`` while SIGINT and SIGTERM wait, and rolled back should a replace fail.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from exporter.errors import OutputError


def staging_prefix(final: Path) -> str:
    """The start of this process's temp files beside ``final``: ``.NAME.PID.`` (so
    ``exporter.leftovers`` can tell a killed build's files by their pid)."""
    return f".{final.name}.{os.getpid()}."


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
