"""One build at a time per output, and no litter from builds that were killed.

A build holds an advisory lock (``flock``) on ``.interview-deck-cache/NAME.lock`` beside
its output from reading the history to writing the package, so two builds of one output
cannot interleave; the second is told who holds it. Temp files and folders carry the pid
of the build that made them (``interview-deck-PID-…`` in the system temp folder,
``.NAME.PID.….tmp`` beside an output); the next build removes the ones whose build is gone
(dead pid, a minute old) or that are a day old, and never anything of another name or user.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from exporter.buildcache import cache_folder
from exporter.errors import OutputError
from exporter.safeio import display

TEMP_PREFIX = "interview-deck-"
_TEMP = re.compile(r"interview-deck-(?:inspect-)?(\d+)-")
_GRACE = 60  # seconds: a build's own files are never this young when it is gone
_DAY = 86_400

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: builds are not serialised there
    fcntl = None  # type: ignore[assignment]


def temp_prefix(kind: str = "") -> str:
    """The prefix of this process's temp folders: ``interview-deck-[KIND-]PID-``."""
    return f"{TEMP_PREFIX}{kind + '-' if kind else ''}{os.getpid()}-"


@contextlib.contextmanager
def exclusive(output: Path) -> Iterator[None]:
    """Hold the build lock of ``output`` for the block; ``OutputError`` when another build
    holds it. Without a usable cache folder (read-only), the block runs unlocked: writing
    will then fail and say why."""
    folder = cache_folder(output)
    if fcntl is None or folder is None:
        yield
        return
    path = folder / f"{output.name}.lock"
    flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:  # never through a link, never anything but a regular file: it is written to
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise OutputError(
            f"{display(str(path))}: cannot use this build lock ({exc.strerror}); remove it",
            code="output-not-regular",
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutputError(
                f"{display(str(path))}: the build lock is not a regular file; remove it",
                code="output-not-regular",
            )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise OutputError(
                f"{display(str(output))}: another build (pid {holder}) is writing it now; "
                "wait for it to finish, then build again",
                code="output-locked",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_leftovers(*outputs: Path) -> None:
    """Remove temp files of dead builds beside ``outputs`` and their temp folders (the clock
    is read only when there is a candidate: a clean build does not depend on it)."""
    for output in outputs:
        # atomic.staging_prefix: .NAME.PID. then mkstemp's letters or a backup's number
        pattern = re.compile(rf"\.{re.escape(output.name)}\.(\d+)\..*\.tmp\Z")
        with contextlib.suppress(OSError):
            for entry in os.scandir(output.parent):
                match = pattern.match(entry.name)
                if match and _stale(entry, int(match.group(1))):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
    with contextlib.suppress(OSError):
        for entry in os.scandir(tempfile.gettempdir()):
            match = _TEMP.match(entry.name)
            is_ours = match and entry.is_dir(follow_symlinks=False)
            if is_ours and match and _stale(entry, int(match.group(1))):
                shutil.rmtree(entry.path, ignore_errors=True)


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
