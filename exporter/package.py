"""Notes, decks and stamps -> the bytes of a deterministic ``.apkg``, written atomically.

genanki fills the SQLite database; we write the zip ourselves (fixed entry order, date, mode
and compression), because genanki's own ``write_to_file`` stamps entries with a temp file's
mtime and leaves that temp file behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from exporter.errors import OutputError
from exporter.history import History
from exporter.notes import DeckSpec, NoteSpec
from exporter.notetype import NoteType

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# DEFLATE level 1: about 4x smaller than genanki's stored zip for a fraction of level 6's
# time (docs/BENCHMARKS.md); the level is part of the byte-for-byte output.
ZIP_LEVEL = 1
# Bytes 96-99 of a SQLite file record the library version that last wrote it: pin them so
# the package does not depend on the machine's SQLite.
_SQLITE_VERSION_OFFSET = 96
_SQLITE_VERSION_PINNED = (3_045_000).to_bytes(4, "big")


def build_apkg(
    notetype: NoteType,
    decks: Sequence[DeckSpec],
    notes: Sequence[NoteSpec],
    history: History,
    *,
    dues: Sequence[int] | None = None,
) -> bytes:
    """The complete ``.apkg`` for ``notes``, with mod times and ids from ``history``."""
    database = _database(notetype, decks, notes, history, dues)
    return _zip({"collection.anki2": database, "media": b"{}"})


def _database(
    notetype: NoteType,
    decks: Sequence[DeckSpec],
    notes: Sequence[NoteSpec],
    history: History,
    dues: Sequence[int] | None,
) -> bytes:
    import genanki  # imported here: it costs ~30 ms that `--help` and `validate` never need

    class _Model(genanki.Model):  # type: ignore[misc]
        def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
            return dict(super().to_json(history.notetype.mod, deck_id))

    class _Note(genanki.Note):  # type: ignore[misc]
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
        sort_field_index=0,
    )
    by_name = {d.name: genanki.Deck(d.id, d.name, d.description) for d in decks}
    for deck in by_name.values():
        deck.add_model(model)
    for i, spec in enumerate(notes):
        due = dues[i] if dues is not None else i + 1
        note = _Note(
            model=model, fields=list(spec.fields), tags=list(spec.tags), guid=spec.guid, due=due
        )
        by_name[spec.deck].add_note(note)

    conn = sqlite3.connect(":memory:")
    try:
        cursor = conn.cursor()
        genanki.Package(list(by_name.values())).write_to_db(cursor, 0, iter(()))
        conn.commit()
        image = _serialize(conn)
    finally:
        conn.close()
    return (
        image[:_SQLITE_VERSION_OFFSET]
        + _SQLITE_VERSION_PINNED
        + image[_SQLITE_VERSION_OFFSET + 4 :]
    )


def _serialize(conn: sqlite3.Connection) -> bytes:
    if hasattr(conn, "serialize"):  # Python >= 3.11
        return bytes(conn.serialize())
    with tempfile.TemporaryDirectory(prefix="interview-deck-") as tmp:  # pragma: no cover
        path = os.path.join(tmp, "collection.anki2")
        target = sqlite3.connect(path)
        try:
            conn.backup(target)
        finally:
            target.close()
        return Path(path).read_bytes()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever machine builds it
            archive.writestr(info, entries[name], compresslevel=ZIP_LEVEL)
    return buffer.getvalue()


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
