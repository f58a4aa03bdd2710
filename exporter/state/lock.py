"""One build at a time per output: an advisory lock (``flock``) on
``.interview-deck-cache/NAME.lock`` beside the output, held from reading the history to
writing the package, so two builds of one output cannot interleave; the second is told who
holds it."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from exporter.errors import OutputError
from exporter.files import display
from exporter.state.record import CACHE_DIR, cache_folder, lock_path_for

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: builds are not serialised there
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def exclusive(output: Path) -> Iterator[None]:
    """Hold the build lock of ``output`` for the block; ``OutputError`` when another build
    holds it, or when the cache folder or the lock is a link (``record.refuse_links``).
    Without a usable cache folder (read-only), the block runs unlocked: writing will then
    fail and say why. When the block raises, the folders made for the lock go again (with
    the lock and the cache's ``.gitignore``: a failed first build leaves nothing behind),
    before the lock is let go; a lock another build holds is never removed."""
    wanted = output.parent / CACHE_DIR
    missing = [p for p in (wanted, *wanted.parents) if not os.path.lexists(p)]
    folder = cache_folder(output)
    if fcntl is None or folder is None:
        yield
        return
    with _held(output):
        try:
            yield
        except BaseException:  # (while the lock is held: no other build holds what goes)
            _unmake(output, missing)
            raise


def _unmake(output: Path, missing: list[Path]) -> None:
    """Remove the lock and the cache's ``.gitignore``, and the ``missing`` folders made for
    them (innermost first; one that holds anything else stays); nothing if none was made."""
    if missing:
        for made in (lock_path_for(output), output.parent / CACHE_DIR / ".gitignore"):
            with contextlib.suppress(OSError):
                os.unlink(made)
        for folder in missing:
            with contextlib.suppress(OSError):
                os.rmdir(folder)


@contextlib.contextmanager
def _held(output: Path) -> Iterator[None]:
    """The lock of ``output`` held for the block (see ``exclusive``)."""
    path = lock_path_for(output)
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
