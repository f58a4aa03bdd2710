"""The collection database: its notes and cards rows, written as plain INSERTs, give the
very bytes genanki's own ``Note.write_to_db`` gave (the writer of 0.6, kept here as the
reference), for real builds and for synthetic rows with every shape a row can take."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import exporter.package.assemble
from exporter.package.collection import (
    Collection,
    DeckRow,
    NoteRow,
    _model,
    write_collection,
)
from exporter.render.notetype import NoteKind, NoteType, note_types
from helpers import CONTENT, ROOT, build_deck, write_stress_bank

Notes = Mapping[str, Callable[[], Iterable[NoteRow]]]


def genanki_collection(
    path: Path, notetypes: Sequence[tuple[NoteType, int]], decks: Sequence[DeckRow], notes: Notes
) -> None:
    """The writer of 0.6: a genanki ``Note`` per note, its ``write_to_db`` writing the rows."""
    import sqlite3

    import genanki

    from exporter.package.collection import _SQLITE_HEADER_PINS

    class Note(genanki.Note):  # type: ignore[misc]
        @property
        def cards(self) -> list[Any]:
            return sorted(super().cards, key=lambda card: card.ord)

    models = {t.id: (_model(t), mod) for t, mod in notetypes}
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    cursor = conn.cursor()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="genanki", message="^Field contained")
        genanki.Package([]).write_to_db(cursor, notetypes[0][1], iter(()))
        for row in decks:
            for model, mod in models.values():
                deck = genanki.Deck(row.id, row.name, row.description)
                deck.add_model(model)
                deck.write_to_db(cursor, mod, iter(()))
            for note in notes.get(row.name, tuple)():
                ids = itertools.chain([note.id], note.cards) if note.cards else None
                Note(
                    model=models[note.notetype][0],
                    fields=list(note.fields),
                    guid=note.guid,
                    tags=list(note.tags),
                    due=note.due,
                ).write_to_db(cursor, note.mod, row.id, ids or itertools.repeat(note.id))
    conn.commit()
    conn.close()
    with path.open("r+b") as f:
        for offset, value in _SQLITE_HEADER_PINS:
            f.seek(offset)
            f.write(value)


def both_ways(
    tmp_path: Path,
    notetypes: Sequence[tuple[NoteType, int]],
    decks: Sequence[DeckRow],
    notes: Notes,
) -> tuple[bytes, bytes]:
    """The database as ``write_collection`` writes it, and as genanki's notes wrote it."""
    ours, theirs = tmp_path / "ours.anki2", tmp_path / "genanki.anki2"
    for path in (ours, theirs):
        path.unlink(missing_ok=True)
    write_collection(ours, notetypes, decks, notes)
    genanki_collection(theirs, notetypes, decks, notes)
    return ours.read_bytes(), theirs.read_bytes()


TYPES = note_types()
# Field values with every shape that reaches a row: empty, unicode and control characters,
# numbers (the sort field's column is an integer one: "42" is stored as 42), HTML, big
# values (overflow pages), Anki's syntax, and cloze markers genanki counts oddly.
VALUES = (
    "",
    " ",
    "42",
    "-7",
    "3.5",
    "0x10",
    "1e3",
    "<p>plain &amp; <b>bold</b></p>",
    "\U0001f680 \u05e9\u05dc\u05d5\u05dd caf\u00e9 \u200d\u2705",
    "tab\tnew\nline\r\x00nul\x1fsep",
    "{{c1::not a cloze here}}",
    "<script>x</script> <3 & >",
)
CLOZES = (
    "",
    "no cloze",
    "{{c1::one}}",
    "{{c1::a}} {{c2::b}} {{c3::c}}",
    "{{c3::c}} {{c1::a}}",
    "{{c12::far}} {{c2::near}}",
    "{{c0::zero}} {{c1::one}}",
    "{{c2::}} {{c3::eaten by c2's match}}",
    "{{c1::multi\nline}}",
    "{{c1::same}} {{c1::again}}",
    "{{c\U0001f680::x}} {{c4::\u00e9}}",
)


def synthetic(seed: int, size: int) -> tuple[list[DeckRow], dict[str, list[NoteRow]]]:
    """Decks (one left empty) and ``size`` notes of all three note types, from ``seed``."""
    rng = random.Random(seed)
    decks = [
        DeckRow(1 << 41 | i, name, rng.choice(VALUES) + f"<p>{name}</p>")
        for i, name in enumerate(["B::one", "A \u00e9", "Empty", "Z"])
    ]
    notes: dict[str, list[NoteRow]] = {d.name: [] for d in decks if d.name != "Empty"}
    ids = itertools.count(1_600_000_000_000 + seed * 10**9, 7)
    for n in range(size):
        kind: NoteKind = rng.choice(("question", "question", "key-points", "reverse"))
        notetype = TYPES[kind]
        big = "x\u00e9" * rng.choice((0, 0, 3000, 40_000))
        fields = [rng.choice(VALUES) + big * (i == 1) for i in range(len(notetype.fields))]
        cards: tuple[int, ...] = ()
        if kind == "key-points":
            fields[0] = rng.choice(CLOZES)
            cards = tuple(next(ids) for _ in range(13))
        note = NoteRow(
            guid=f"g{seed}-{n}\u00e9",
            fields=tuple(fields),
            tags=tuple(rng.sample(("a", "b-c", "role::x", "\u00e9t\u00e9"), rng.randrange(4))),
            due=rng.randrange(-3, 10**6),
            mod=rng.choice((0, 1_700_000_000, 2**31 + 5)),
            id=next(ids),
            notetype=notetype.id,
            cards=cards,
        )
        notes[rng.choice(list(notes))].append(note)
    return decks, notes


def deferred(notes: Mapping[str, list[NoteRow]]) -> Notes:
    """``notes`` as the writer takes them: per deck name, a function that makes them."""

    def later(rows: list[NoteRow]) -> Callable[[], Iterable[NoteRow]]:
        return lambda: iter(rows)

    return {name: later(rows) for name, rows in notes.items()}


@pytest.mark.parametrize(("seed", "size"), [(1, 1), (2, 40), (3, 400), (4, 3000)])
def test_rows_are_genankis_own_for_every_shape_of_row(tmp_path: Path, seed: int, size: int) -> None:
    """Synthetic rows of every note type, field shape, tag list and cloze shape (big ones
    over several pages): the database is byte for byte the one genanki's notes wrote."""
    decks, notes = synthetic(seed, size)
    notetypes = [
        (TYPES["question"], 1_700_000_000),
        (TYPES["key-points"], 5),
        (TYPES["reverse"], 9),
    ]
    ours, theirs = both_ways(tmp_path, notetypes, decks, deferred(notes))
    assert ours == theirs


def test_rows_are_genankis_own_with_speech_and_one_note_type(tmp_path: Path) -> None:
    """The note type of ``--tts`` (another front), alone: the same bytes as genanki's."""
    decks, notes = synthetic(5, 200)
    only = {
        name: [n for n in rows if n.notetype == TYPES["question"].id]
        for name, rows in notes.items()
    }
    notetypes = [(note_types(tts_lang="en_US")["question"], 1_234)]
    ours, theirs = both_ways(tmp_path, notetypes, decks, deferred(only))
    assert ours == theirs


def table_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the database at ``path``, each table's sorted by its key."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}


def test_real_builds_write_genankis_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped bank, the training examples (key points, a reverse card), the rich example
    (math, code, an image) and the stress card: each build's database holds exactly the rows
    genanki's own classes write for its notes, decks and note types (a build writes its decks
    last, so the pages differ from genanki's decks-first file, never the rows)."""
    compared: list[int] = []

    class Recording(Collection):
        def __init__(self, path: Path, notetypes: Sequence[tuple[NoteType, int]]) -> None:
            super().__init__(path, notetypes)
            self.at = path
            self.notes: dict[int, list[NoteRow]] = {}
            self.decks: list[DeckRow] = []
            self.held: Sequence[tuple[NoteType, int]] = notetypes

        def add_notes(self, deck_id: int, notes: Iterable[NoteRow]) -> None:
            rows = list(notes)
            self.notes.setdefault(deck_id, []).extend(rows)
            super().add_notes(deck_id, rows)

        def add_deck(
            self, deck: DeckRow, notetypes: Sequence[tuple[NoteType, int]] | None = None
        ) -> None:
            self.decks.append(deck)
            self.held = notetypes or self.held
            super().add_deck(deck, notetypes)

        def close(self) -> None:
            super().close()
            theirs = tmp_path / "genanki.anki2"
            theirs.unlink(missing_ok=True)
            by_name = {deck.name: self.notes.get(deck.id, []) for deck in self.decks}
            genanki_collection(theirs, self.held, self.decks, deferred(by_name))
            assert table_rows(self.at) == table_rows(theirs)
            compared.append(sum(len(rows) for rows in self.notes.values()))

    monkeypatch.setattr(exporter.package.assemble, "Collection", Recording)
    examples = ROOT / "docs" / "examples"
    stress = write_stress_bank(tmp_path / "stress")
    build_deck(CONTENT, output=tmp_path / "a" / "deck.apkg")
    build_deck(
        CONTENT,
        examples / "training",
        examples / "ml-monitoring",
        stress,
        output=tmp_path / "b" / "deck.apkg",
    )
    assert len(compared) == 2
    assert all(compared)


def test_a_note_with_more_cards_than_ids_is_refused(tmp_path: Path) -> None:
    """A cloze note with fewer card ids than cloze numbers is an error, not a lost card."""
    notetype = TYPES["key-points"]
    note = NoteRow(
        "g", ("{{c1::a}} {{c2::b}}", "", "", "", "", ""), (), 0, 0, 10, notetype.id, (11,)
    )
    collection = Collection(tmp_path / "c.anki2", [(notetype, 0)])
    with pytest.raises(ValueError, match="2 cards, 1 ids"), collection:
        collection.add_notes(1, [note])


def test_decks_added_after_the_notes_hold_the_same_rows(tmp_path: Path) -> None:
    """Decks added after all notes (a build that learns their descriptions last): the same
    rows in every table as decks first, and the same bytes every time (not decks first's
    bytes: the ``col`` row's pages land elsewhere, docs/architecture.md)."""

    decks, notes = synthetic(6, 300)
    notetypes = [(TYPES["question"], 7), (TYPES["key-points"], 8), (TYPES["reverse"], 9)]
    first = tmp_path / "first.anki2"
    write_collection(first, notetypes, decks, deferred(notes))
    made = []
    for name in ("last.anki2", "again.anki2"):
        with Collection(tmp_path / name, notetypes) as collection:
            for deck in decks:
                collection.add_notes(deck.id, notes.get(deck.name, []))
            for deck in decks:
                collection.add_deck(deck)
        made.append((tmp_path / name).read_bytes())
    assert made[0] == made[1]
    assert table_rows(tmp_path / "last.anki2") == table_rows(first)


def test_genanki_loads_without_asyncio() -> None:
    """genanki is imported with the standard library's ``cached_property`` in place of its
    dependency's (which loads asyncio, ~30 ms of a small build), only while it loads, and
    its note types still compute what they compute with the real one."""
    code = (
        "import sys\n"
        "from exporter.package.collection import _genanki, _model\n"
        "from exporter.render.notetype import note_types\n"
        "genanki = _genanki()\n"
        "assert 'asyncio' not in sys.modules, 'asyncio'\n"
        "assert 'cached_property' not in sys.modules\n"
        "import json\n"
        "print(json.dumps([_model(t).to_json(7, 1) for t in note_types().values()]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    expected = [_model(t).to_json(7, 1) for t in TYPES.values()]  # here: the real decorator
    assert json.loads(done.stdout) == json.loads(json.dumps(expected))
