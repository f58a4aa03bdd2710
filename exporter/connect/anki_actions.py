"""What a running Anki holds of a bank, and the few things ``push`` and ``pull`` ask of it.

Only actions the AnkiConnect add-on has, with its parameters: ``findNotes {query}``,
``notesInfo {notes}`` (each note's fields, tags and cards, and its ``mod`` in releases since
the add-on left GitHub; ``None`` from those before), ``importPackage {path}``,
``exportPackage {deck, path, includeSched}``, ``suspend``/``unsuspend {cards}``,
``addTags``/``removeTags {notes, tags}`` and ``sync``. Answers are checked for the shape the
add-on gives before anything is read from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from exporter.connect.client import Client
from exporter.errors import AnkiError
from exporter.reading.exports import ExportedNote, field_text
from exporter.render.notetype import (
    EXTRA_FIELDS,
    EXTRA_NAME,
    FIELDS,
    KEY_POINTS_FIELDS,
    KEY_POINTS_NAME,
    MODEL_NAME,
)

# Our note types by name (Anki may suffix a copy's name), with their fields and the kind of
# note they hold.
_OURS = (
    (MODEL_NAME, FIELDS, "question"),
    (KEY_POINTS_NAME, KEY_POINTS_FIELDS, "key-points"),
    (EXTRA_NAME, EXTRA_FIELDS, "extra"),
)

BATCH = 500  # notes asked per notesInfo: each answer stays small, however big the bank


@dataclass(frozen=True)
class AnkiNote:
    """One note of our note types as the running Anki holds it."""

    id: int
    mod: int | None  # None: the add-on does not say (releases up to GitHub's last, 4064fa1)
    fields: dict[str, str]
    tags: tuple[str, ...]
    cards: tuple[int, ...]
    kind: str = "question"  # or "key-points", or "extra" (its Kind field says which)

    @property
    def question_id(self) -> str:
        """The question the note is (its ``ID`` field as text; '' for a note made in Anki)."""
        return field_text(self.fields.get("ID", ""))

    @property
    def key(self) -> str:
        """The note's key as the build history names it (``exporter.reading.exports``)."""
        return self.exported().key

    def has_tag(self, tag: str) -> bool:
        """True when the note carries ``tag`` (Anki's tags ignore case)."""
        return tag.lower() in (t.lower() for t in self.tags)

    def exported(self) -> ExportedNote:
        """The note as ``pull`` reads one from an export (matched by its ID field)."""
        return ExportedNote(self.id, "", self.mod or 0, dict(self.fields), self.tags, "", self.kind)


def search_text(value: str) -> str:
    """``value`` inside a quoted Anki search term: its wildcards and quotes escaped."""
    return re.sub(r'([\\"*_])', r"\\\1", value)


def bank_query(decks: Iterable[str], *, kinds: bool = False) -> str:
    """The Anki search for the notes of our main note type (``kinds``: of all our note
    types), and Anki's renamed copies of them, in ``decks`` and their subdecks."""
    wanted = " OR ".join(f'"deck:{search_text(d)}"' for d in sorted(set(decks)))
    names = [name for name, _f, _k in _OURS] if kinds else [MODEL_NAME]
    types = " OR ".join(f'"note:{search_text(name)}*"' for name in names)
    return f"({types}) ({wanted})" if kinds else f"{types} ({wanted})"


def questions_query(question_ids: Iterable[str], deck: str | None = None) -> str:
    """The Anki search for the notes of our note types whose ID field is one of
    ``question_ids`` (in ``deck`` and its subdecks only, when given)."""
    wanted = " OR ".join(f'"ID:{search_text(q)}"' for q in sorted(set(question_ids)))
    where = "" if deck is None else f' "deck:{search_text(deck)}"'
    types = " OR ".join(f'"note:{search_text(name)}*"' for name, _f, _k in _OURS)
    return f"({types}){where} ({wanted})"


def note_ids(client: Client, decks: Iterable[str], *, kinds: bool = False) -> list[int]:
    """The ids of the notes of our main note type (``kinds``: of all our note types) in
    ``decks`` (and their subdecks), sorted."""
    decks = sorted(set(decks))
    return _find(client, bank_query(decks, kinds=kinds)) if decks else []


def question_note_ids(
    client: Client, question_ids: Iterable[str], deck: str | None = None
) -> list[int]:
    """The ids of the notes of our note types that are these questions (by their ID field,
    wherever they are; in ``deck`` only, when given), sorted."""
    wanted = sorted(set(question_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), BATCH):
        found.update(_find(client, questions_query(wanted[start : start + BATCH], deck)))
    return sorted(found)


def _find(client: Client, query: str) -> list[int]:
    found = client.call("findNotes", {"query": query})
    if not isinstance(found, list) or not all(_whole(n) for n in found):
        raise client.unexpected("findNotes", "something other than a list of note ids")
    return sorted(set(found))


def bank_notes(client: Client, decks: Iterable[str]) -> tuple[AnkiNote, ...]:
    """Every note of our note types in ``decks`` (and their subdecks), by note id."""
    return notes_info(client, note_ids(client, decks, kinds=True))


def notes_info(client: Client, ids: Sequence[int]) -> tuple[AnkiNote, ...]:
    """The notes of our note types among ``ids``, by note id (deleted meanwhile: left out)."""
    notes: list[AnkiNote] = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        infos = client.call("notesInfo", {"notes": batch})
        if not isinstance(infos, list) or len(infos) != len(batch):
            raise client.unexpected("notesInfo", "a list that does not match the notes asked")
        notes += [n for n in (_note(client, raw) for raw in infos) if n is not None]
    return tuple(sorted(notes, key=lambda n: n.id))


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _note(client: Client, raw: object) -> AnkiNote | None:
    """One ``notesInfo`` entry; ``None`` for a note deleted meanwhile (``{}``) or of another
    note type that happens to match the search."""
    if raw == {}:
        return None
    if not isinstance(raw, dict):
        raise client.unexpected("notesInfo", "an entry that is not an object")
    mod = raw.get("mod")
    fields, tags, cards = raw.get("fields"), raw.get("tags"), raw.get("cards")
    if not (
        _whole(raw.get("noteId"))
        and (mod is None or _whole(mod))
        and isinstance(raw.get("modelName"), str)
        and isinstance(fields, dict)
        and all(isinstance(v, dict) and isinstance(v.get("value"), str) for v in fields.values())
        and isinstance(tags, list)
        and all(isinstance(t, str) for t in tags)
        and isinstance(cards, list)
        and all(_whole(c) for c in cards)
    ):
        raise client.unexpected("notesInfo", "an entry without a note's id, mod, fields or tags")
    kind = next(
        (
            kind
            for name, names, kind in _OURS
            if raw["modelName"].startswith(name) and set(fields) == set(names)
        ),
        None,
    )
    if kind is None:
        return None
    values = {str(name): str(v["value"]) for name, v in fields.items()}
    return AnkiNote(
        int(raw["noteId"]),
        None if mod is None else int(mod),
        values,
        tuple(tags),
        tuple(cards),
        kind,
    )


def import_package(client: Client, package: Path) -> None:
    """Anki's own import of ``package`` (what File → Import does, through AnkiConnect)."""
    done = client.call("importPackage", {"path": str(package.resolve())}, slow=True)
    if done is not True:
        raise AnkiError(
            f"Anki at {client.address} did not import {package}: is a profile open in Anki?",
            code="anki-failed",
        )


def export_deck(client: Client, deck: str, path: Path) -> bool:
    """``deck`` (with its subdecks and scheduling) exported by Anki into ``path``; False
    when Anki has no such deck."""
    done = client.call(
        "exportPackage", {"deck": deck, "path": str(path), "includeSched": True}, slow=True
    )
    if not isinstance(done, bool):
        raise client.unexpected("exportPackage", "an answer that is not true or false")
    return done


def suspend(client: Client, cards: Sequence[int], *, undo: bool = False) -> None:
    """Suspend ``cards`` (``undo``: unsuspend them); their scheduling and reviews stay."""
    if cards:
        client.call("unsuspend" if undo else "suspend", {"cards": list(cards)})


def tag(client: Client, notes: Sequence[int], name: str, *, undo: bool = False) -> None:
    """Add the tag ``name`` to ``notes`` (``undo``: remove it)."""
    if notes:
        client.call("removeTags" if undo else "addTags", {"notes": list(notes), "tags": name})


def sync(client: Client) -> None:
    """Ask Anki to sync with AnkiWeb (it does so in the background, as its sync button)."""
    client.call("sync")
