"""The SQLite collection inside a package. genanki (the dependency that knows Anki's
collection schema) writes the schema, the ``col`` row, the note types and the decks through
its public classes; the notes and cards rows are plain INSERTs here, in genanki's columns
and values, with our mod times and ids instead of its clock and counters."""

from __future__ import annotations

import functools
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from exporter.render.notetype import MODEL_ID, NoteType

# Bytes 96-99 of a SQLite file record the library version that last wrote it: pin them so
# the package does not depend on the machine's SQLite. Bytes 24-27 and 92-95 count the
# writes made to the file; zero them, as in an in-memory database's image.
_SQLITE_HEADER_PINS = (
    (24, bytes(4)),
    (92, bytes(4)),
    (96, (3_045_000).to_bytes(4, "big")),
)

# The rows genanki 0.13's Note.write_to_db and Card.write_to_db insert, column by column.
_NOTE = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)"
_CARD = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_NEW_CARD = (0, 0, 0, 0, 0, 0, 0, 0, "")  # ivl, factor, reps, lapses, left, odue, odid, flags, data
# genanki's cloze numbers in a field, and the fields its template's ``{{cloze:…}}`` names.
_CLOZE_NUMBER = re.compile(r"{{c(\d+)::.+?}}", re.DOTALL)
_CLOZE_FIELDS = (re.compile(r"{{[^}]*?cloze:(?:[^}]?:)*(.+?)}}"), re.compile("<%cloze:(.+?)%>"))


class DeckRow(NamedTuple):
    """One deck as it goes into the collection."""

    id: int
    name: str
    description: str


class NoteRow(NamedTuple):
    """One note as it goes into the collection: everything, times and ids included (its
    tags are slugs: no spaces)."""

    guid: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    due: int
    mod: int
    id: int
    notetype: int = MODEL_ID  # the id of its note type
    cards: tuple[int, ...] = ()  # a cloze note's card ids, by card (default: the note's id)


CardOrds = Callable[[tuple[str, ...]], list[int]]


class Collection:
    """A collection database being written at ``path``, with the note types (each with its
    mod time): open it (the schema and the ``col`` row are written), add decks and notes in
    the order they are to be stored, then ``close`` it (``with`` does: on an error it is
    left unfinished for the caller to delete).

    genanki's public classes write the schema, the ``col`` row and, per deck, the deck and
    each note type stamped with its mod (a deck's ``write_to_db`` stamps the note types it
    holds with the time it is given), the note types' ``did`` naming the deck added last.
    The notes and cards rows are those genanki's ``Note.write_to_db`` would insert: a card
    per template whose required fields are filled, or per cloze number of a cloze note,
    each note's rows right after the last's (the database's pages follow that order).
    """

    def __init__(self, path: Path, notetypes: Sequence[tuple[NoteType, int]]) -> None:
        import sqlite3  # imported on first use, as genanki: --help and validate need neither

        genanki = _genanki()

        self._path = path
        self._models = [(_model(notetype), mod) for notetype, mod in notetypes]
        self._shapes = {
            notetype.id: (len(notetype.fields), notetype.sort_field, _card_ords(model))
            for (notetype, _mod), (model, _) in zip(notetypes, self._models, strict=True)
        }
        self._conn = sqlite3.connect(path)
        # A throwaway file: no rollback journal and no fsync (a crash just loses the temp dir).
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._cursor = self._conn.cursor()
        genanki.Package([]).write_to_db(self._cursor, notetypes[0][1], iter(()))  # schema, col

    def add_deck(
        self, deck: DeckRow, notetypes: Sequence[tuple[NoteType, int]] | None = None
    ) -> None:
        """Write ``deck`` into the ``col`` row, and each note type again, stamped with its
        mod and naming this deck (genanki's ``Deck.write_to_db``, once per note type);
        ``notetypes``: those to write with their mods, when not all those the collection
        was opened with (a build that learns which it holds, and their mods, last)."""
        genanki = _genanki()

        models = self._models
        if notetypes is not None:
            models = [(_model(notetype), mod) for notetype, mod in notetypes]
        for model, mod in models:
            row = genanki.Deck(deck.id, deck.name, deck.description)
            row.add_model(model)
            row.write_to_db(self._cursor, mod, iter(()))

    def add_notes(self, deck_id: int, notes: Iterable[NoteRow]) -> None:
        """``notes`` into the deck ``deck_id``, each with its cards (made one at a time as
        they are written, so a big bank is never all in memory)."""
        execute = self._cursor.execute
        shapes = self._shapes
        for note in notes:
            width, sort_field, card_ords = shapes[note.notetype]
            fields = note.fields
            if len(fields) != width:
                raise ValueError(f"note {note.guid}: {len(fields)} fields for {width}")
            execute(
                _NOTE,
                (
                    note.id,
                    note.guid,
                    note.notetype,
                    note.mod,
                    -1,  # usn
                    " " + " ".join(note.tags) + " ",
                    "\x1f".join(fields),
                    fields[sort_field],
                    0,  # csum (genanki writes 0)
                    0,  # flags
                    "",  # data
                ),
            )
            ords = card_ords(fields)
            if note.cards and len(ords) > len(note.cards):
                raise ValueError(f"note {note.guid}: {len(ords)} cards, {len(note.cards)} ids")
            for ord_, card_id in zip(ords, note.cards or (note.id,) * len(ords), strict=False):
                execute(
                    _CARD,
                    # id, nid, did, ord, mod, usn, type, queue, due, then ivl to data
                    (card_id, note.id, deck_id, ord_, note.mod, -1, 0, 0, note.due, *_NEW_CARD),
                )

    def close(self) -> None:
        """Commit and close the database, its header pinned (see ``_SQLITE_HEADER_PINS``)."""
        self._conn.commit()
        self._conn.close()
        with self._path.open("r+b") as f:
            for offset, value in _SQLITE_HEADER_PINS:
                f.seek(offset)
                f.write(value)

    def __enter__(self) -> Collection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self._conn.close()


def write_collection(
    path: Path,
    notetypes: Sequence[tuple[NoteType, int]],
    decks: Sequence[DeckRow],
    notes: Mapping[str, Callable[[], Iterable[NoteRow]]],
) -> None:
    """Write a collection database at ``path``: the note types (each with its mod time),
    then per deck of ``decks`` the deck and, from ``notes`` by deck name, its notes (made one
    at a time as they are written)."""
    with Collection(path, notetypes) as collection:
        for deck in decks:
            collection.add_deck(deck)
            collection.add_notes(deck.id, notes.get(deck.name, tuple)())


def _model(notetype: NoteType) -> Any:
    genanki = _genanki()
    return genanki.Model(
        model_id=notetype.id,
        name=notetype.name,
        fields=[{"name": name} for name in notetype.fields],
        templates=[{"name": notetype.template_name, "qfmt": notetype.front, "afmt": notetype.back}],
        css=notetype.css,
        model_type=genanki.Model.CLOZE if notetype.cloze else genanki.Model.FRONT_BACK,
        sort_field_index=notetype.sort_field,
    )


def _genanki() -> Any:
    """genanki, imported without its dependency ``cached_property``, whose import loads
    asyncio (~30 ms of a small build's ~0.2 s): genanki 0.13 takes only that decorator, for
    properties of its own instances, and the standard library's ``functools.cached_property``
    does the same there. The stand-in is in ``sys.modules`` only while genanki is imported.
    Pinned by ``tests/package/test_collection.py::test_genanki_loads_without_asyncio``."""
    if "genanki" not in sys.modules and "cached_property" not in sys.modules:
        stand_in = types.ModuleType("cached_property")
        stand_in.cached_property = functools.cached_property  # type: ignore[attr-defined]
        sys.modules["cached_property"] = stand_in
        try:
            import genanki
        finally:
            del sys.modules["cached_property"]
    import genanki

    return genanki


def _card_ords(model: Any) -> CardOrds:
    """The ords of a note's cards, in order, as genanki 0.13 makes them: a front/back note
    gets one per template whose required fields (the ``req`` of its JSON) are filled; a
    cloze note one per number ``N`` > 0 of a ``{{cN::…}}`` in the fields its first
    template's ``{{cloze:…}}`` names (none when there is none)."""
    if model.model_type == model.CLOZE:
        qfmt = model.templates[0]["qfmt"]
        names = {name for pattern in _CLOZE_FIELDS for name in pattern.findall(qfmt)}
        field_names = [field["name"] for field in model.fields]
        indices = [field_names.index(name) for name in names if name in field_names]

        def cloze(fields: tuple[str, ...]) -> list[int]:
            found = {int(n) for i in indices for n in _CLOZE_NUMBER.findall(fields[i])}
            return sorted(n - 1 for n in found if n > 0)

        return cloze
    required = [
        (ord_, all if how == "all" else any, tuple(need))
        for ord_, how, need in model.to_json(0, None)["req"]
    ]

    def front_back(fields: tuple[str, ...]) -> list[int]:
        return [ord_ for ord_, test, need in required if test(fields[i] for i in need)]

    return front_back
