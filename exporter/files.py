"""The file jobs the stages share: one bounded reader of regular files, one all-or-nothing
writer, and one temp-name scheme, swept by the code that made it.

``read_regular``: a file is opened without blocking (a FIFO cannot hang us), must be a
regular file, and may not exceed its cap, checked before a byte is read. ``write_files``:
each file is staged as a complete temp file beside its target (``.NAME.PID.….tmp``), then
all are moved into place with ``os.replace`` while SIGINT and SIGTERM wait (in a command's
``write_session``, until the command ends: past that commit point it finishes and reports),
and rolled back should a replace fail; ``sweep_staged`` removes what a killed writer left
beside a target.
``scratch_folder`` is a private folder for one step's throwaway files, removed when the step
ends; nothing ever scans the shared system temp folder.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import signal
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from exporter.errors import OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: staged files carry no lock there
    fcntl = None  # type: ignore[assignment]

MiB = 1 << 20
# Caps, per file (docs/errors.md, "Errors"). A 100,000-question bank is ~130 MB over many files;
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


def collection_name(name: str) -> bool:
    """True for a file name AnkiDroid opens as a whole collection, not a deck package:
    ``collection.apkg`` or any ``*.colpkg`` (in any case)."""
    lower = name.lower()
    return lower == "collection.apkg" or lower.endswith(".colpkg")


def check_target(path: Path, what: str = "output") -> None:
    """Refuse to write ``path`` unless it is a regular file or does not exist yet: never a
    device, FIFO, socket, folder, or a link to one of those or into /proc, /dev or /sys;
    nor a name AnkiDroid takes for a whole collection (``collection_name``)."""
    shown = display(str(path))
    _no_linked_folder(path, what)
    if collection_name(path.name):
        raise OutputError(
            f"{shown}: AnkiDroid offers a file named collection.apkg or *.colpkg as a "
            "replacement of the whole collection (the user's reviews would go); choose "
            "another name, such as deck.apkg",
            code="output-named-collection",
        )
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
                f"{shown}: is a link to {display(target)}, not a file; choose a file name for "
                f"the {what}",
                code="output-not-regular",
            )
    if info is None:
        return
    if stat.S_ISDIR(info.st_mode):
        fix = (
            f"give a file name such as {display(str(path / 'deck.apkg'))}"
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


def _no_linked_folder(path: Path, what: str) -> None:
    """Refuse a relative ``path`` whose folders include a symbolic link: git stores links,
    so a cloned checkout can ship ``dist`` as one (to a folder elsewhere, or dangling), and
    the tool never writes through a link it did not make. A path given from the root is
    the user's own choice of place (``/tmp`` is a link on macOS): it is taken as it is."""
    if path.is_absolute():
        return
    folder = Path()
    for part in path.parent.parts:
        folder = folder / part
        if part != ".." and folder.is_symlink():
            raise OutputError(
                f"{display(str(folder))}: is a symbolic link (to {display(os.readlink(folder))}),"
                f" and the {what} {display(str(path))} would be written where it points; "
                "remove the link, or pass the real place as an absolute path",
                code="output-linked",
            )


def display(name: str) -> str:
    """A file name as messages show it: as is, or quoted with escapes when it holds a line
    break, another control character or bytes that are not UTF-8 (so ``PATH:LINE`` stays one
    parseable line)."""
    if name.isprintable() and not any("\udc80" <= ch <= "\udcff" for ch in name):
        return name
    out = []
    for ch in name:
        if ch == "'" or ch == "\\":
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(escape_char(ch))
    return "'" + "".join(out) + "'"


def escape_char(ch: str) -> str:
    """How a message writes a character it must not show as is: ``\\xNN`` for a byte that
    was not UTF-8 (a surrogate escape), else Python's escape (``\\x1b``, ``\\u202e``)."""
    if "\udc80" <= ch <= "\udcff":
        return f"\\x{ord(ch) - 0xDC00:02x}"
    return ascii(ch)[1:-1]


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
    names: dict[Path, set[str]] = {}
    for target in targets:
        names.setdefault(target.parent, set()).add(target.name)
    for folder, finals in names.items():  # one listing a folder, whatever the targets in it
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if any(_stale(entry, pid) for pid in _staged_pids(entry.name, finals)):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


# What follows a target's name in its staged file's: '.PID.' as we write one (ASCII digits
# within C's int: os.kill takes nothing more), then anything on one line, then '.tmp'.
_STAGED_TAIL = re.compile(r"\.([0-9]{1,10})\..*\.tmp\Z")


def _staged_pids(name: str, finals: set[str]) -> Iterator[int]:
    """The pid in ``name`` for each of ``finals`` it is a staged file of (``.FINAL.PID.….tmp``:
    ``a.yaml`` and ``a.yaml.1.yaml`` may both read it, each with its own pid)."""
    if not name.startswith(".") or not name.endswith(".tmp"):
        return
    at = name.find(".", 1)
    while at >= 0:  # every split, as a name may hold dots and digits of its own
        if name[1:at] in finals and (match := _STAGED_TAIL.match(name, at)) is not None:
            pid = int(match.group(1))
            if pid <= _MAX_PID:
                yield pid
        at = name.find(".", at + 1)


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
    files, removed with what it holds when the step ends, however it ends: even out of
    file descriptors (one is held for the removal from the start)."""
    try:
        path = tempfile.mkdtemp(prefix="interview-deck-")
    except FileNotFoundError:  # tempfile's probe of the temp folder failed: say why
        os.close(os.open(os.devnull, os.O_RDONLY))  # (EMFILE, when that was it)
        raise
    try:
        spare = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        os.rmdir(path)
        raise
    try:
        yield Path(path)
    finally:
        os.close(spare)
        _remove_tree(path)


def _remove_tree(top: str) -> None:
    """Remove the folder ``top`` and all it holds, never following a link, one open file
    descriptor at a time (``shutil.rmtree`` holds one per level, and one more to list)."""
    folders = [top]
    while folders:
        inner = []
        for name in os.listdir(folders[-1]):  # (listed whole, its descriptor closed)
            path = os.path.join(folders[-1], name)
            if stat.S_ISDIR(os.lstat(path).st_mode):
                inner.append(path)
            else:
                os.unlink(path)
        if inner:
            folders += inner  # emptied first; this folder is listed again, then removed
        else:
            os.rmdir(folders.pop())


class Editing(NamedTuple):
    """Files being edited (a user's documents) by a ``write_files`` call: the bytes each must
    still hold when the new copies go into place, and the command as a refusal names it:
    ``command``, the one to run again, and ``writer``, the invocation that writes."""

    expected: Mapping[Path, bytes]
    command: str
    writer: str


def write_files(
    files: Sequence[tuple[Path, bytes | Path]],
    *,
    editing: Editing | None = None,
    new_mode: int = 0o644,
    own_cache: bool = False,
    durable: bool = True,
) -> None:
    """Write each file atomically (temp file in the same folder, then ``os.replace``); its
    data is bytes, or a file of ours whose bytes are copied (a package made in scratch).

    Every temp file is complete before the first replace, and the replaces run with SIGINT
    and SIGTERM held back, so an error or interrupt leaves either all the new files or all
    the previous ones, and no temp file behind. Should a replace itself fail, the files
    already replaced are restored from hard links taken just before. A file that exists
    keeps its permission bits (and its owner and group, where this process may set them).

    ``editing`` names files being edited (a user's documents) with the bytes each must
    still hold: one that changed meanwhile, is read-only, has other hard links or whose
    owner cannot be given to its new copy is refused and nothing is written (a file is
    never rewritten in place: a kill half-way would leave new text over the old tail). A
    file that does not exist yet gets ``new_mode``. ``own_cache``: files of the tool's own
    caches, not named among what a command wrote (``Session.written``), with SIGINT and
    SIGTERM held back from the first byte (a worker process, which dies of SIGTERM, leaves
    no temp file either; the signal then stops the command as anywhere else).
    ``durable=False``: no ``fsync`` (a cache's entry: losing it in a power cut costs only
    speed).
    """
    held = _signals_held(commit=not own_cache)
    if own_cache:  # held while it is staged too: a signal never leaves a cache's temp file
        with held, _staged(files, editing, new_mode, durable) as staged:
            _commit(staged, editing)
    else:
        with _staged(files, editing, new_mode, durable) as staged, held:
            _commit(staged, editing)
    session = _SESSION.get()
    if session is not None and not own_cache:
        session.written.extend(final for final, _data in files)


class _Stage(NamedTuple):
    """One file staged: its complete temp copy (held open and locked by ``_staged`` until the
    write ends) and what the target must still hold (``None``: anything)."""

    tmp: str
    final: Path
    expected: bytes | None


def _commit(staged: Sequence[_Stage], editing: Editing | None) -> None:
    for stage in staged:
        if editing and stage.expected is not None and not _holds(stage.final, stage.expected):
            raise OutputError(
                f"{display(str(stage.final))}: changed on disk while {editing.command} ran "
                f"(saved in an editor?); nothing written: run {editing.command} again",
                code="content-changed",
            )
    done: list[tuple[_Stage, str | None, bool]] = []  # (stage, hard link to the old file, existed)
    try:
        for stage in staged:
            existed = os.path.lexists(stage.final)  # a link, even dangling, is put back as one
            done.append((stage, _backup(stage.final) if existed else None, existed))
            os.replace(stage.tmp, stage.final)
    except OSError as exc:
        failed = done[-1][0]
        for stage, backup, existed in reversed(done[:-1]):  # a failed replace did nothing
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, stage.final)
                elif not existed:
                    os.unlink(stage.final)
        raise OutputError(f"{display(str(failed.final))}: cannot write ({exc.strerror})") from None
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


def _write_all(fd: int, data: bytes | Path) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may take only part of it); a path: the
    bytes of that file (one of ours, made in a scratch folder), a chunk at a time."""
    if isinstance(data, Path):
        with data.open("rb") as f:
            while chunk := f.read(CHUNK):
                _write_all(fd, chunk)
        return
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


CHUNK = 1 << 20  # how much of a file is read at a time where it is streamed


def holds(path: Path, data: bytes | Path) -> bool:
    """True when ``path`` is a regular file holding exactly ``data`` (bytes, or the bytes of
    the file ``data``): sizes first, so a wrong file is never read whole."""
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    if regular_size(path) != size:
        return False
    try:
        if not isinstance(data, Path):
            return read_regular(path, size) == data
        with path.open("rb") as have, data.open("rb") as want:
            while chunk := want.read(CHUNK):
                if have.read(len(chunk)) != chunk:
                    return False
        return True
    except OSError:
        return False


def _backup(final: Path) -> str | None:
    """A hard link to ``final`` itself (to a link, not where it points: nothing outside is
    linked in); ``None`` if the file system has none."""
    for attempt in range(100):
        name = str(final.with_name(f"{staging_prefix(final)}{attempt}.bak.tmp"))
        try:
            os.link(final, name, follow_symlinks=False)
            return name
        except FileExistsError:
            continue
        except (OSError, NotImplementedError):  # no hard links here: no rollback, as before
            return None
    return None


_HELD = {signal.SIGINT, signal.SIGTERM}


@dataclass
class Session:
    """One command's writes (``write_session``): the files moved into place, and the signal
    that arrived once they were on their way (``signum``; ``None``: none)."""

    written: list[Path] = field(default_factory=list)
    signum: int | None = None
    # The signal mask to restore when the session ends, once a commit has held signals back.
    mask: set[int | signal.Signals] | None = None

    def release(self, *, deliver: bool = False) -> None:
        """Stop holding SIGINT/SIGTERM back: one that waited is noted in ``signum`` (or, with
        ``deliver``, raised now, as if it had just arrived)."""
        if self.mask is None:
            return
        mask, self.mask = self.mask, None
        if not deliver and hasattr(signal, "sigtimedwait"):
            pending = signal.sigpending() & _HELD
            for signum in sorted(pending):
                if signal.sigtimedwait([signum], 0) is not None:
                    self.signum = self.signum or int(signum)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


_SESSION: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "write_session", default=None
)


@contextlib.contextmanager
def write_session() -> Iterator[Session]:
    """For a command: once ``write_files`` has begun moving files into place, SIGINT and
    SIGTERM wait until the block ends (the write is past its commit point: the command
    finishes and reports it), and are then noted in ``signum`` rather than raised; a step
    that must stay interruptible after a write calls ``interruptible``."""
    session = Session()
    token = _SESSION.set(session)
    try:
        yield session
    finally:
        _SESSION.reset(token)
        session.release()


def interruptible() -> None:
    """Let SIGINT and SIGTERM through again after a write of this session (one that waited
    is raised now): for long work that follows a write, such as talking to Anki."""
    session = _SESSION.get()
    if session is not None:
        session.release(deliver=True)


@contextlib.contextmanager
def _signals_held(*, commit: bool = True) -> Iterator[None]:
    """Delay SIGINT/SIGTERM until the block ends, so the files are replaced all together;
    in a ``write_session``, for a ``commit`` (what the command writes, not a cache of its
    own, which may be written while it still works), until the session ends once the files
    are in place."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    session = _SESSION.get()
    committed = False
    try:
        yield
        committed = True
    finally:
        if committed and commit and session is not None:
            if session.mask is None:  # (an earlier write of the session may hold them already)
                session.mask = previous
        else:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _blocking_file(folder: Path) -> Path | None:
    """The first of ``folder`` and its parents that exists but is not a folder."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def _existing(final: Path, editing: Editing | None) -> os.stat_result | None:
    """The target's status (``None`` when there is none yet); a document being edited must
    be writable."""
    try:
        info = final.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"{display(str(final))}: cannot write here ({exc.strerror})") from None
    if editing is not None and (not info.st_mode & 0o222 or not os.access(final, os.W_OK)):
        raise OutputError(
            f"{display(str(final))}: is read-only; nothing written (make it writable, "
            f"e.g. chmod u+w, to {editing.command} into it)",
            code="content-read-only",
        )
    return info


def _replaceable(final: Path, info: os.stat_result, owner_kept: bool, editing: Editing) -> None:
    """Refuse to edit a document that a new file in its place would split from its other
    hard links, or take from its owner (rewriting it in place instead is never all-or-nothing:
    a kill between the write and the truncate leaves new text over the old tail)."""
    shown = display(str(final))
    if info.st_nlink > 1:
        raise OutputError(
            f"{shown}: has {info.st_nlink} hard links; {editing.writer} writes a new file and "
            "moves it into place (never half a file), which would leave the other names with "
            "the old text; nothing written: make it a file of its own (copy it, then move the "
            f"copy over it) and {editing.command} again",
            code="content-hard-linked",
        )
    if not owner_kept:
        raise OutputError(
            f"{shown}: belongs to another user (uid {info.st_uid}), which a new file in its "
            "place cannot keep, and rewriting it in place could leave it half-written; "
            f"nothing written: {editing.command} as its owner",
            code="content-not-owned",
        )


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
    files: Sequence[tuple[Path, bytes | Path]],
    editing: Editing | None,
    new_mode: int,
    durable: bool = True,
) -> Iterator[list[_Stage]]:
    staged: list[_Stage] = []
    made: list[tuple[int, str]] = []  # every temp file made: (its open fd, its name)
    try:
        for final, data in files:
            if final.is_dir():
                raise OutputError(
                    f"{display(str(final))}: is a folder; give a file name such as "
                    f"{display(str(final / 'deck.apkg'))}"
                )
            blocker = _blocking_file(final.parent)
            if blocker is not None:
                raise OutputError(
                    f"{display(str(final))}: cannot write here: {display(str(blocker))} is a "
                    "file, not a folder"
                )
            expected = editing.expected.get(final) if editing is not None else None
            info = _existing(final, editing if expected is not None else None)
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(
                    prefix=staging_prefix(final), suffix=".tmp", dir=final.parent
                )
            except OSError as exc:
                raise OutputError(
                    f"{display(str(final))}: cannot write here ({exc.strerror})"
                ) from None
            made.append((fd, tmp))
            try:
                if fcntl is not None:  # held until the write ends: a sweeper leaves it be
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.fchmod(fd, stat.S_IMODE(info.st_mode) & 0o777 if info else new_mode)
                owner_kept = info is None or _keep_owner(fd, info)
                _write_all(fd, data)
                if durable:
                    os.fsync(fd)
            except OSError as exc:
                raise OutputError(f"{display(str(final))}: cannot write ({exc.strerror})") from None
            if editing is not None and expected is not None and info is not None:
                _replaceable(final, info, owner_kept, editing)
            staged.append(_Stage(tmp, final, expected))
        yield staged
    finally:
        for fd, tmp in made:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.close(fd)
