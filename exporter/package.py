"""Notes, decks and stamps -> the bytes of a deterministic ``.apkg``, written atomically.

genanki fills the SQLite database; we write the zip ourselves (fixed entry order, date, mode
and compression), because genanki's own ``write_to_file`` stamps entries with a temp file's
mtime and leaves that temp file behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import types
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from exporter.errors import OutputError
from exporter.history import History
from exporter.notes import DeckSpec, NoteSpec
from exporter.notetype import SORT_FIELD, NoteType

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# DEFLATE level 1: about 4x smaller than genanki's stored zip for a fraction of level 6's
# time (docs/BENCHMARKS.md); the level is part of the byte-for-byte output.
ZIP_LEVEL = 1
# Bytes 96-99 of a SQLite file record the library version that last wrote it: pin them so
# the package does not depend on the machine's SQLite. Bytes 24-27 and 92-95 count the
# writes made to the file; zero them, as in an in-memory database's image.
_SQLITE_HEADER_PINS = (
    (24, bytes(4)),
    (92, bytes(4)),
    (96, (3_045_000).to_bytes(4, "big")),
)


def build_apkg(
    notetype: NoteType,
    decks: Sequence[DeckSpec],
    notes: Sequence[NoteSpec],
    history: History,
    *,
    dues: Sequence[int] | None = None,
) -> bytes:
    """The complete ``.apkg`` for ``notes``, with mod times and ids from ``history``."""
    # The database goes to a temp file, not memory: at 100k notes it is ~200 MB that would
    # otherwise be held two or three times over (SQLite's pages, serialized copy, zip input).
    with tempfile.TemporaryDirectory(prefix="interview-deck-") as tmp:
        database = Path(tmp) / "collection.anki2"
        _write_database(database, notetype, decks, notes, history, dues)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive, database.open("rb") as db:
            _add(archive, "collection.anki2", db, database.stat().st_size)
            _add(archive, "media", io.BytesIO(b"{}"), 2)
    return buffer.getvalue()


def _genanki() -> Any:
    """genanki, imported on first use (``--help`` and ``validate`` never need it).

    Its ``cached_property`` dependency imports asyncio (~30 ms, a third of a small build)
    only to support coroutine properties, which genanki has none of: while genanki is
    imported, a minimal equivalent stands in for it.
    """
    if "genanki" in sys.modules or "cached_property" in sys.modules:
        import genanki

        return genanki
    shim = types.ModuleType("cached_property")
    shim.cached_property = _CachedProperty  # type: ignore[attr-defined]
    sys.modules["cached_property"] = shim
    try:
        import genanki
    finally:
        if sys.modules.get("cached_property") is shim:
            del sys.modules["cached_property"]
    return genanki


class _CachedProperty:
    """``cached_property.cached_property`` for plain (non-coroutine) functions."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.__doc__ = func.__doc__
        self.func = func

    def __get__(self, obj: Any, cls: Any) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.func.__name__] = self.func(obj)
        return value


def _write_database(
    path: Path,
    notetype: NoteType,
    decks: Sequence[DeckSpec],
    notes: Sequence[NoteSpec],
    history: History,
    dues: Sequence[int] | None,
) -> None:
    genanki = _genanki()
    model_base: Any = genanki.Model
    note_base: Any = genanki.Note
    deck_base: Any = genanki.Deck

    class _Model(model_base):  # type: ignore[misc]
        def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
            return dict(super().to_json(history.notetype.mod, deck_id))

    class _Note(note_base):  # type: ignore[misc]
        def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
            stamp = history.notes[self.fields[4]]
            super().write_to_db(cursor, stamp.mod, deck_id, iter((stamp.id, stamp.id)))

        def _check_invalid_html_tags_in_fields(self) -> None:
            pass  # our fields are generated HTML; genanki's check only warns and costs time

    model = _Model(
        model_id=notetype.id,
        name=notetype.name,
        fields=[{"name": name} for name in notetype.fields],
        templates=[{"name": notetype.template_name, "qfmt": notetype.front, "afmt": notetype.back}],
        css=notetype.css,
        sort_field_index=SORT_FIELD,
    )

    class _Deck(deck_base):  # type: ignore[misc]
        """A deck whose notes are made one at a time as they are written, not all up front."""

        def __init__(self, spec: DeckSpec) -> None:
            super().__init__(spec.id, spec.name, spec.description)
            self.indices: list[int] = []
            self.add_model(model)

        def write_to_db(self, cursor: Any, timestamp: float, id_gen: Any) -> None:
            super().write_to_db(cursor, timestamp, id_gen)  # no notes yet: deck and note type
            for i in self.indices:
                spec = notes[i]
                due = dues[i] if dues is not None else i + 1
                note = _Note(
                    model=model,
                    fields=list(spec.fields),
                    tags=list(spec.tags),
                    guid=spec.guid,
                    due=due,
                )
                note.write_to_db(cursor, timestamp, self.deck_id, id_gen)

    by_name = {d.name: _Deck(d) for d in decks}
    for i, spec in enumerate(notes):
        by_name[spec.deck].indices.append(i)

    conn = sqlite3.connect(path)
    try:
        # A throwaway file: no rollback journal and no fsync (a crash just loses the temp dir).
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        cursor = conn.cursor()
        genanki.Package(list(by_name.values())).write_to_db(cursor, 0, iter(()))
        conn.commit()
    finally:
        conn.close()
    with path.open("r+b") as f:
        for offset, value in _SQLITE_HEADER_PINS:
            f.seek(offset)
            f.write(value)


def _add(archive: zipfile.ZipFile, name: str, data: BinaryIO, size: int) -> None:
    """Stream one entry into the zip with a fixed date, mode and compression."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3  # Unix, whatever machine builds it
    info.file_size = size  # known up front, as ``writestr`` would set it
    if hasattr(info, "compress_level"):  # Python >= 3.13
        info.compress_level = ZIP_LEVEL
    else:
        info._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]
    with archive.open(info, "w") as dest:
        shutil.copyfileobj(data, dest, 1 << 20)


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
        name = str(final.with_name(f".{final.name}.{os.getpid()}-{attempt}.bak.tmp"))
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
                    prefix=f".{final.name}.", suffix=".tmp", dir=final.parent
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
