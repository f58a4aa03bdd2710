"""An export made by Anki desktop or AnkiDroid -> the notes of our note types, as plain data.

Reads ``.apkg`` (with or without scheduling) and ``.colpkg``: the zstd-compressed
``collection.anki21b`` of Anki 2.1.50+ when present, else the legacy ``collection.anki21`` /
``collection.anki2`` (the same order as ``exporter.reading.packagefile``, which summarises packages;
this module reads the notes themselves).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from exporter.errors import PackageReadError
from exporter.files import display
from exporter.reading.packagefile import damaged_as, field_names, open_collection
from exporter.render.notetype import (
    EXTRA_FIELDS,
    EXTRA_ID,
    EXTRA_NAME,
    FIELDS,
    KEY_POINTS_FIELDS,
    KEY_POINTS_ID,
    KEY_POINTS_NAME,
    MODEL_ID,
    MODEL_NAME,
)

# Our note types: id, name and fields, by the kind of note (an extra card's own kind is in
# its Kind field).
_TYPES = {
    "question": (MODEL_ID, MODEL_NAME, FIELDS),
    "key-points": (KEY_POINTS_ID, KEY_POINTS_NAME, KEY_POINTS_FIELDS),
    "extra": (EXTRA_ID, EXTRA_NAME, EXTRA_FIELDS),
}

_TAG = re.compile(r"<[^>]*>")


def without_tags(value: str) -> str:
    """``value`` with each ``<…>`` dropped, in work linear in its length: a '<' after the
    last '>' starts no tag, so only the text up to that '>' is searched (the regex alone
    would scan to the end again from each such '<')."""
    end = value.rfind(">") + 1
    return _TAG.sub("", value[:end]) + value[end:]


def field_text(value: str) -> str:
    """A field's text as a person reads it: tags dropped, entities decoded, no-break spaces
    as spaces, trimmed (how a note's ID field is matched to a question, everywhere)."""
    return html.unescape(without_tags(value)).replace("\xa0", " ").strip()


@dataclass(frozen=True)
class ExportedNote:
    """One note of our note types as the export holds it."""

    id: int
    guid: str
    mod: int
    fields: dict[str, str]
    tags: tuple[str, ...]
    deck: str  # the deck of its card ('' when it has none)
    kind: str = "question"  # or "key-points", or "extra" (its Kind field says which)

    @property
    def question_id(self) -> str:
        """The question the note is (its ``ID`` field as text; '' for a note made in Anki)."""
        return field_text(self.fields.get("ID", ""))

    @property
    def key(self) -> str:
        """The note's key, as the build history names it: the question's id, with the kind
        after ``::`` for a question's other notes ('id::key-points', 'id::reverse')."""
        if self.kind == "question":
            return self.question_id
        kind = self.kind if self.kind != "extra" else field_text(self.fields.get("Kind", ""))
        return f"{self.question_id}::{kind or 'extra'}"

    @property
    def label(self) -> str:
        """How a message names the note: its id and the start of its question."""
        text = " ".join(field_text(self.fields.get("Question", "")).split())
        short = text if len(text) <= 40 else text[:39] + "…"
        return f"note {self.id} ({short!r})" if short else f"note {self.id}"


def read_export(path: Path) -> tuple[ExportedNote, ...]:
    """Every note of our note types in the export at ``path``, by note id;
    ``PackageReadError`` when it is not an Anki export or holds no note of the
    'Interview Question' note type. The export is read as ``inspect`` reads a package
    (bounded, regular files only)."""
    shown = display(str(path))
    with open_collection(path) as (conn, _media), damaged_as(shown, "export"):
        notes = _notes(conn)
    if not any(n.kind == "question" for n in notes):
        raise PackageReadError(
            f"{shown}: holds no notes of the '{MODEL_NAME}' note type; export the deck that "
            "holds your interview questions"
        )
    return notes


def _ours(ntid: int, name: str, fields: tuple[str, ...]) -> str | None:
    """The kind of note of our note type ``ntid`` (by its fields, and its id or name: Anki
    may suffix a copy's name), or ``None`` for another note type."""
    for kind, (our_id, our_name, our_fields) in _TYPES.items():
        if fields == our_fields and (ntid == our_id or name.startswith(our_name)):
            return kind
    return None


def _notes(conn: sqlite3.Connection) -> tuple[ExportedNote, ...]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "notetypes" in tables:  # schema 18: note types and decks have tables of their own
        found = {
            int(ntid): _ours(int(ntid), str(name), field_names(conn, int(ntid)))
            for ntid, name in conn.execute("SELECT id, name FROM notetypes")
        }
        decks = {
            int(i): str(n).replace("\x1f", "::")
            for i, n in conn.execute("SELECT id, name FROM decks")
        }
    else:
        decks_json, models_json = conn.execute("SELECT decks, models FROM col").fetchone()
        found = {
            int(m["id"]): _ours(
                int(m["id"]), str(m["name"]), tuple(str(f["name"]) for f in m["flds"])
            )
            for m in json.loads(models_json).values()
        }
        decks = {int(d["id"]): str(d["name"]) for d in json.loads(decks_json).values()}
    ours = {ntid: kind for ntid, kind in found.items() if kind is not None}
    deck_of = {
        int(nid): decks.get(int(did), "")
        for nid, did in conn.execute("SELECT nid, did FROM cards ORDER BY ord DESC")
    }
    notes = []
    for nid, guid, mid, mod, tags, flds in conn.execute(
        "SELECT id, guid, mid, mod, tags, flds FROM notes ORDER BY id"
    ):
        kind = ours.get(int(mid))
        if kind is None:
            continue
        _id, name, names = _TYPES[kind]
        count = str(flds).count("\x1f") + 1  # counted, never split into a million strings
        if count != len(names):
            raise ValueError(
                f"note {nid} has {count:,} fields; the '{name}' note type has {len(names)}"
            )
        values = str(flds).split("\x1f")
        notes.append(
            ExportedNote(
                id=int(nid),
                guid=str(guid),
                mod=int(mod),
                fields=dict(zip(names, values, strict=False)),
                tags=tuple(str(tags).split()),
                deck=deck_of.get(int(nid), ""),
                kind=kind,
            )
        )
    return tuple(notes)
