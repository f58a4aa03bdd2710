"""genanki, with its quirks in one place: the SQLite collection of a package, written through
genanki's own code, with our mod times and ids instead of its clock and counters."""

from __future__ import annotations

import sqlite3
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.notetype import SORT_FIELD, NoteType

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


def write_collection(
    path: Path,
    notetype: NoteType,
    notetype_mod: int,
    decks: Sequence[DeckRow],
    notes: Mapping[str, Callable[[], Iterable[NoteRow]]],
) -> None:
    """Write a collection database at ``path``: the note type, ``decks`` and, per deck name,
    its notes (made one at a time as they are written, so a big bank is never all in memory).
    """
    genanki = load_genanki()
    model = _model_class(genanki)(
        notetype_mod,
        model_id=notetype.id,
        name=notetype.name,
        fields=[{"name": name} for name in notetype.fields],
        templates=[{"name": notetype.template_name, "qfmt": notetype.front, "afmt": notetype.back}],
        css=notetype.css,
        sort_field_index=SORT_FIELD,
    )
    deck_class = _deck_class(genanki)
    genanki_decks = [deck_class(d, model, notes.get(d.name, tuple)) for d in decks]
    conn = sqlite3.connect(path)
    try:
        # A throwaway file: no rollback journal and no fsync (a crash just loses the temp dir).
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        cursor = conn.cursor()
        genanki.Package(genanki_decks).write_to_db(cursor, 0, iter(()))
        conn.commit()
    finally:
        conn.close()
    with path.open("r+b") as f:
        for offset, value in _SQLITE_HEADER_PINS:
            f.seek(offset)
            f.write(value)


def _model_class(genanki: Any) -> Any:
    class _Model(genanki.Model):  # type: ignore[misc]
        """A note type stamped with our mod time, not the package's."""

        def __init__(self, mod: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.mod = mod

        def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
            return dict(super().to_json(self.mod, deck_id))

    return _Model


def _deck_class(genanki: Any) -> Any:
    class _Deck(genanki.Deck):  # type: ignore[misc]
        """A deck whose notes are made one at a time as they are written, not all up front."""

        def __init__(
            self, row: DeckRow, model: Any, notes: Callable[[], Iterable[NoteRow]]
        ) -> None:
            super().__init__(row.id, row.name, row.description)
            self.model = model
            self.rows = notes
            self.add_model(model)

        def write_to_db(self, cursor: Any, timestamp: float, id_gen: Any) -> None:
            super().write_to_db(cursor, timestamp, id_gen)  # no notes yet: deck and note type
            write_notes(cursor, self.model, self.deck_id, self.rows())

    return _Deck


_NOTE_SQL = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);"
_CARD_ZEROS = (
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    "",
)  # ivl, factor, reps, lapses, left, odue, odid, flags, data
_CARD_SQL = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);"


def write_notes(cursor: Any, model: Any, deck_id: int, rows: Iterable[NoteRow]) -> None:
    """The rows genanki's ``Note.write_to_db`` and ``Card.write_to_db`` write for each note,
    in the same order, without building a genanki ``Note`` per row (most of a big build's
    database time). A test checks the database equals the one genanki's own notes write."""
    requires = [(ord_, any if how == "any" else all, fields) for ord_, how, fields in model._req]
    sort_index = model.sort_field_index
    mid = model.model_id
    execute = cursor.execute
    for row in rows:
        fields = row.fields
        execute(
            _NOTE_SQL,
            (
                row.id,
                row.guid,
                mid,
                row.mod,
                -1,
                " " + " ".join(row.tags) + " ",
                "\x1f".join(fields),
                fields[sort_index],
                0,
                0,
                "",
            ),
        )
        note_id = cursor.lastrowid
        for ord_, test, required in requires:
            if test(fields[i] for i in required):
                execute(
                    _CARD_SQL,
                    (row.id, note_id, deck_id, ord_, row.mod, -1, 0, 0, row.due, *_CARD_ZEROS),
                )


def load_genanki() -> Any:
    """genanki, imported on first use (``--help`` and ``validate`` never need it).

    Its ``cached_property`` dependency imports asyncio (a third of a small build's time) only
    to support coroutine properties, which genanki has none of: while genanki is imported, a
    minimal equivalent stands in for it.
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
