"""Notes, decks and stamps -> a deterministic ``.apkg``, written to a file as it is made.

The SQLite database is filled by ``exporter.package.collection``; the zip is written here
with stdlib ``zipfile`` (fixed entry order, date, mode and compression level), because
genanki's own ``write_to_file`` stamps entries with a temp file's mtime and leaves that
temp file behind.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from exporter.content.media import read_verified
from exporter.content.model import MediaFile
from exporter.files import scratch_folder
from exporter.package.collection import DeckRow, NoteRow, write_collection
from exporter.package.history import History
from exporter.render.notes import NoteSpec, media_of
from exporter.render.notetype import NoteType, note_types

Rendered = Callable[[NoteSpec, tuple[str, ...]], None]


def build_apkg(
    notetypes: Sequence[tuple[NoteType, int]],
    decks: Sequence[DeckRow],
    notes: Sequence[NoteSpec],
    history: History,
    dues: Sequence[int],
    on_rendered: Rendered | None = None,
) -> bytes:
    """The bytes of the ``.apkg`` ``write_apkg`` writes."""
    buffer = io.BytesIO()
    write_apkg(buffer, notetypes, decks, notes, history, dues, on_rendered)
    return buffer.getvalue()


def write_apkg(
    out: BinaryIO,
    notetypes: Sequence[tuple[NoteType, int]],
    decks: Sequence[DeckRow],
    notes: Sequence[NoteSpec],
    history: History,
    dues: Sequence[int],
    on_rendered: Rendered | None = None,
) -> None:
    """Write the complete ``.apkg`` to ``out`` (a seekable binary file, from its current
    position): the note types, each with its mod time; ``notes`` with the mod time and id
    of their stamp in ``history`` (a key-points note's cards with the ids it gives their
    numbers), and ``dues[i]`` as the new-card position of ``notes[i]``. ``on_rendered`` is
    told each note and its fields as they are written."""
    by_deck: dict[str, list[int]] = {}
    for i, spec in enumerate(notes):
        by_deck.setdefault(spec.deck, []).append(i)
    type_ids = {kind: t.id for kind, t in note_types().items()}

    def rows(indices: Sequence[int]) -> Iterator[NoteRow]:
        for i in indices:
            spec = notes[i]
            fields = spec.fields  # rendered now (or known from the field cache)
            stamp = history.notes[spec.key]
            if on_rendered is not None:
                on_rendered(spec, fields)
            clozes = history.clozes.get(spec.key)
            cards = tuple(card_id for _n, card_id in clozes.cards) if clozes else ()
            yield NoteRow(
                spec.guid,
                fields,
                spec.tags,
                dues[i],
                stamp.mod,
                stamp.id,
                type_ids[spec.kind],
                cards,
            )

    per_deck = {name: (lambda ix=ix: rows(ix)) for name, ix in by_deck.items()}
    # The database goes to a temp file, not memory: at 100k questions it is 224 MiB, and
    # SQLite's pages in memory plus serialize()'s copy took ~3x that (docs/BENCHMARKS.md).
    with scratch_folder() as tmp:
        database = Path(tmp) / "collection.anki2"
        write_collection(database, notetypes, decks, per_deck)
        write_package(out, database, media_of(notes))


def write_package(out: BinaryIO, database: Path, media: Sequence[MediaFile]) -> None:
    """The package's zip, to ``out`` (seekable): the finished collection ``database``, each
    media file by number (each read when its turn comes) and the media index."""

    def members() -> Iterator[tuple[str, BinaryIO]]:
        with database.open("rb") as db:
            yield "collection.anki2", db
        for number, file in enumerate(media):
            yield str(number), io.BytesIO(read_verified(file))
        yield "media", io.BytesIO(media_index(media))

    write_zip(out, members())


LEVEL = 1  # fastest; about 4x smaller than genanki's stored zip (docs/BENCHMARKS.md)
_ZIP64_AT = 0x7FFF_0000  # stdlib zipfile's own bound for an entry without ZIP64 sizes


def write_zip(out: BinaryIO, members: Iterator[tuple[str, BinaryIO]]) -> None:
    """A zip of ``members`` (name, readable stream), in order, that depends on their bytes
    alone: a fixed date, mode 0644, DEFLATE at ``LEVEL``, no data descriptors (``out`` must
    be seekable); ZIP64 records only where sizes or counts need them. Public ``zipfile``
    only: an entry opened by name takes the archive's method and level and the date
    1980-01-01; its mode and system, read only from the central directory, are set on its
    ``ZipInfo`` before the archive closes."""
    import zipfile  # only when writing: ``validate`` never needs it

    if not out.seekable():
        raise ValueError("a package is written to a seekable file")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=LEVEL) as archive:
        for name, data in members:
            size = data.seek(0, io.SEEK_END)
            data.seek(0)
            with archive.open(name, "w", force_zip64=size > _ZIP64_AT) as entry:
                shutil.copyfileobj(data, entry, 1 << 20)
            info = archive.infolist()[-1]
            info.create_system = 3  # Unix, so the mode below is read
            info.external_attr = 0o100644 << 16


def media_index(media: Sequence[MediaFile]) -> bytes:
    """The package's ``media`` entry: zip entry number -> file name, as Anki reads it."""
    return json.dumps({str(i): f.name for i, f in enumerate(media)}).encode("utf-8")
