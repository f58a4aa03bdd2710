"""The SQLite collection inside a package, written by genanki (the dependency that knows
Anki's collection schema) through its public classes, with our mod times and ids instead of
its clock and counters."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.render.notetype import MODEL_ID, NoteType

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
    notetype: int = MODEL_ID  # the id of its note type
    cards: tuple[int, ...] = ()  # a cloze note's card ids, by card (default: the note's id)


def _note_class() -> type:
    import genanki

    class Note(genanki.Note):  # type: ignore[misc]
        """genanki's note without its scan for unescaped text (a regex over every field,
        a third of genanki's time): every field is HTML we rendered and escaped."""

        def _check_invalid_html_tags_in_fields(self) -> None:
            pass

        @property
        def cards(self) -> list[Any]:
            """The cards in order (genanki gives a cloze note's in set order)."""
            return sorted(super().cards, key=lambda card: card.ord)

    return Note


def write_collection(
    path: Path,
    notetypes: Sequence[tuple[NoteType, int]],
    decks: Sequence[DeckRow],
    notes: Mapping[str, Callable[[], Iterable[NoteRow]]],
) -> None:
    """Write a collection database at ``path``: the note types (each with its mod time),
    ``decks`` and, per deck name, its notes (made one at a time as they are written, so a
    big bank is never all in memory).

    Only genanki's public classes and their ``write_to_db`` methods are used: an empty
    package writes the schema and the ``col`` row; each deck writes itself and a note type,
    once per note type, stamped with its mod (genanki stamps the note types a deck holds
    with the time it is given), then its notes, each with its own mod time and id (the id
    also numbers its one card; a cloze note's cards have ids of their own).
    """
    import sqlite3  # imported on first use, as genanki: --help and validate need neither

    import genanki

    models = {
        notetype.id: (
            genanki.Model(
                model_id=notetype.id,
                name=notetype.name,
                fields=[{"name": name} for name in notetype.fields],
                templates=[
                    {"name": notetype.template_name, "qfmt": notetype.front, "afmt": notetype.back}
                ],
                css=notetype.css,
                model_type=genanki.Model.CLOZE if notetype.cloze else genanki.Model.FRONT_BACK,
                sort_field_index=notetype.sort_field,
            ),
            mod,
        )
        for notetype, mod in notetypes
    }
    note_class = _note_class()
    conn = sqlite3.connect(path)
    try:
        # A throwaway file: no rollback journal and no fsync (a crash just loses the temp dir).
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        cursor = conn.cursor()
        with warnings.catch_warnings():  # genanki's advice for HTML it takes for unknown tags
            warnings.filterwarnings("ignore", module="genanki", message="^Field contained")
            genanki.Package([]).write_to_db(cursor, notetypes[0][1], iter(()))  # schema, col
            for row in decks:
                for model, mod in models.values():
                    deck = genanki.Deck(row.id, row.name, row.description)
                    deck.add_model(model)
                    deck.write_to_db(cursor, mod, iter(()))  # the deck, one note type
                for note in notes.get(row.name, tuple)():
                    ids = itertools.chain([note.id], note.cards) if note.cards else None
                    note_class(
                        model=models[note.notetype][0],
                        fields=list(note.fields),
                        guid=note.guid,
                        tags=list(note.tags),
                        due=note.due,
                    ).write_to_db(cursor, note.mod, row.id, ids or itertools.repeat(note.id))
        conn.commit()
    finally:
        conn.close()
    with path.open("r+b") as f:
        for offset, value in _SQLITE_HEADER_PINS:
            f.seek(offset)
            f.write(value)
