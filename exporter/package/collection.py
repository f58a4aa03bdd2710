"""The SQLite collection inside a package, written by genanki (the dependency that knows
Anki's collection schema) through its public classes, with our mod times and ids instead of
its clock and counters."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from exporter.render.notetype import SORT_FIELD, NoteType

# Bytes 96-99 of a SQLite file record the library version that last wrote it: pin them so
# the package does not depend on the machine's SQLite. Bytes 24-27 and 92-95 count the
# writes made to the file; zero them, as in an in-memory database's image.
_SQLITE_HEADER_PINS = (
    (24, bytes(4)),
    (92, bytes(4)),
    (96, (3_045_000).to_bytes(4, "big")),
)


@dataclass(frozen=True)
class DeckRow:
    """One deck as it goes into the collection."""

    id: int
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class NoteRow:
    """One note as it goes into the collection: everything, times and ids included."""

    guid: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    due: int
    mod: int
    id: int


def _note_class() -> type:
    import genanki

    class Note(genanki.Note):  # type: ignore[misc]
        """genanki's note without its scan for unescaped text (a regex over every field,
        a third of genanki's time): every field is HTML we rendered and escaped."""

        def _check_invalid_html_tags_in_fields(self) -> None:
            pass

    return Note


def write_collection(
    path: Path,
    notetype: NoteType,
    notetype_mod: int,
    decks: Sequence[DeckRow],
    notes: Mapping[str, Callable[[], Iterable[NoteRow]]],
) -> None:
    """Write a collection database at ``path``: the note type, ``decks`` and, per deck name,
    its notes (made one at a time as they are written, so a big bank is never all in memory).

    Only genanki's public classes and their ``write_to_db`` methods are used: an empty
    package writes the schema and the ``col`` row; each deck writes itself and the note type,
    stamped ``notetype_mod`` (genanki stamps the note type with the time it is given), then
    its notes, each with its own mod time and id (the id also numbers its one card).
    """
    import sqlite3  # imported on first use, as genanki: --help and validate need neither

    import genanki

    model = genanki.Model(
        model_id=notetype.id,
        name=notetype.name,
        fields=[{"name": name} for name in notetype.fields],
        templates=[{"name": notetype.template_name, "qfmt": notetype.front, "afmt": notetype.back}],
        css=notetype.css,
        sort_field_index=SORT_FIELD,
    )
    note_class = _note_class()
    conn = sqlite3.connect(path)
    try:
        # A throwaway file: no rollback journal and no fsync (a crash just loses the temp dir).
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        cursor = conn.cursor()
        with warnings.catch_warnings():  # genanki's advice for HTML it takes for unknown tags
            warnings.filterwarnings("ignore", module="genanki", message="^Field contained")
            genanki.Package([]).write_to_db(cursor, notetype_mod, iter(()))  # schema, col
            for row in decks:
                deck = genanki.Deck(row.id, row.name, row.description)
                deck.add_model(model)
                deck.write_to_db(cursor, notetype_mod, iter(()))  # the deck, the note type
                for note in notes.get(row.name, tuple)():
                    note_class(
                        model=model,
                        fields=list(note.fields),
                        guid=note.guid,
                        tags=list(note.tags),
                        due=note.due,
                    ).write_to_db(cursor, note.mod, row.id, itertools.repeat(note.id))
        conn.commit()
    finally:
        conn.close()
    with path.open("r+b") as f:
        for offset, value in _SQLITE_HEADER_PINS:
            f.seek(offset)
            f.write(value)
