"""Notes, decks and stamps -> the bytes of a deterministic ``.apkg``.

genanki fills the SQLite database (``exporter.genanki_adapter``); we write the zip ourselves
(fixed entry order, date, mode and compression), because genanki's own ``write_to_file``
stamps entries with a temp file's mtime and leaves that temp file behind.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from exporter.genanki_adapter import DeckRow, NoteRow, write_collection
from exporter.history import Stamp
from exporter.leftovers import temp_prefix
from exporter.media import read_verified
from exporter.model import MediaFile
from exporter.notes import NoteSpec
from exporter.notetype import NoteType
from exporter.rendering import fields_in_order

Rendered = Callable[[NoteSpec, tuple[str, ...]], None]

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# DEFLATE level 1: about 4x smaller than genanki's stored zip for a fraction of level 6's
# time (docs/BENCHMARKS.md); the level is part of the byte-for-byte output.
ZIP_LEVEL = 1


def build_apkg(
    notetype: NoteType,
    notetype_mod: int,
    decks: Sequence[DeckRow],
    notes: Sequence[NoteSpec],
    stamps: Mapping[str, Stamp],
    dues: Sequence[int],
    on_rendered: Rendered | None = None,
) -> bytes:
    """The complete ``.apkg``: ``notes`` with the mod time and id of their question's stamp,
    and ``dues[i]`` as the new-card position of ``notes[i]``. ``on_rendered`` is told each
    note and its fields as they are written."""
    by_deck: dict[str, list[int]] = {}
    for i, spec in enumerate(notes):
        by_deck.setdefault(spec.deck, []).append(i)
    # The order the database asks for the notes in: deck by deck.
    order = [i for deck in decks for i in by_deck.get(deck.name, ())]
    fields_stream = zip(order, fields_in_order([notes[i] for i in order]), strict=True)

    def rows(indices: Sequence[int]) -> Iterator[NoteRow]:
        for i in indices:
            j, fields = next(fields_stream)
            assert i == j, "notes asked for out of order"
            spec = notes[i]
            stamp = stamps[spec.question_id]
            if on_rendered is not None:
                on_rendered(spec, fields)
            yield NoteRow(spec.guid, fields, spec.tags, dues[i], stamp.mod, stamp.id)

    per_deck = {name: (lambda ix=ix: rows(ix)) for name, ix in by_deck.items()}
    # The database goes to a temp file, not memory: at 100k notes it would otherwise be held
    # two or three times over (SQLite's pages, serialized copy, zip input).
    with tempfile.TemporaryDirectory(prefix=temp_prefix()) as tmp:
        database = Path(tmp) / "collection.anki2"
        write_collection(database, notetype, notetype_mod, decks, per_deck)
        buffer = io.BytesIO()
        media = media_of(notes)
        with zipfile.ZipFile(buffer, "w") as archive, database.open("rb") as db:
            _add(archive, "collection.anki2", db, database.stat().st_size)
            for number, file in enumerate(media):
                _add(archive, str(number), io.BytesIO(data := read_verified(file)), len(data))
            index = media_index(media)
            _add(archive, "media", io.BytesIO(index), len(index))
    return buffer.getvalue()


def media_of(notes: Sequence[NoteSpec]) -> list[MediaFile]:
    """Every media file the notes show, once each, sorted by name (the zip's numbering)."""
    by_name = {file.name: file for note in notes for file in note.media}
    return [by_name[name] for name in sorted(by_name)]


def media_index(media: Sequence[MediaFile]) -> bytes:
    """The package's ``media`` entry: zip entry number -> file name, as Anki reads it."""
    return json.dumps({str(i): f.name for i, f in enumerate(media)}).encode("utf-8")


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
