"""Reading and writing only what is safe: regular files of a bounded size in, regular files
(or nothing yet) out, and file names shown so that ``PATH:LINE`` stays one line.

Every file the tool reads goes through ``read_regular``: it is opened without blocking (a
FIFO cannot hang us), must be a regular file, and may not exceed its cap, checked before a
byte is read. Every file it writes is first checked by ``check_target``.
"""

from __future__ import annotations

import os
import stat
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
