"""An export made by Anki desktop or AnkiDroid -> the notes of our note type, as plain data.

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
from exporter.render.notetype import FIELDS, MODEL_ID, MODEL_NAME

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
    """One note of our note type as the export holds it."""

    id: int
    guid: str
    mod: int
    fields: dict[str, str]
    tags: tuple[str, ...]
    deck: str  # the deck of its card ('' when it has none)

    @property
    def question_id(self) -> str:
        """The question the note is (its ``ID`` field as text; '' for a note made in Anki)."""
        return field_text(self.fields.get("ID", ""))

    @property
    def label(self) -> str:
        """How a message names the note: its id and the start of its question."""
        text = " ".join(field_text(self.fields.get("Question", "")).split())
        short = text if len(text) <= 40 else text[:39] + "…"
        return f"note {self.id} ({short!r})" if short else f"note {self.id}"


def read_export(path: Path) -> tuple[ExportedNote, ...]:
    """Every note of the 'Interview Question' note type in the export at ``path``, by note id;
    ``PackageReadError`` when it is not an Anki export or holds none of our notes. The
    export is read as ``inspect`` reads a package (bounded, regular files only)."""
    shown = display(str(path))
    with open_collection(path) as (conn, _media), damaged_as(shown, "export"):
        notes = _notes(conn)
    if not notes:
        raise PackageReadError(
            f"{shown}: holds no notes of the '{MODEL_NAME}' note type; export the deck that "
            "holds your interview questions"
        )
    return notes


def _ours(ntid: int, name: str, fields: tuple[str, ...]) -> bool:
    """Our note type: its fields, and its id or name (Anki may suffix a copy's name)."""
    return fields == FIELDS and (ntid == MODEL_ID or name.startswith(MODEL_NAME))


def _notes(conn: sqlite3.Connection) -> tuple[ExportedNote, ...]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "notetypes" in tables:  # schema 18: note types and decks have tables of their own
        ours = {
            int(ntid)
            for ntid, name in conn.execute("SELECT id, name FROM notetypes")
            if _ours(int(ntid), str(name), field_names(conn, int(ntid)))
        }
        decks = {
            int(i): str(n).replace("\x1f", "::")
            for i, n in conn.execute("SELECT id, name FROM decks")
        }
    else:
        decks_json, models_json = conn.execute("SELECT decks, models FROM col").fetchone()
        ours = {
            int(m["id"])
            for m in json.loads(models_json).values()
            if _ours(int(m["id"]), str(m["name"]), tuple(str(f["name"]) for f in m["flds"]))
        }
        decks = {int(d["id"]): str(d["name"]) for d in json.loads(decks_json).values()}
    deck_of = {
        int(nid): decks.get(int(did), "")
        for nid, did in conn.execute("SELECT nid, did FROM cards ORDER BY ord DESC")
    }
    notes = []
    for nid, guid, mid, mod, tags, flds in conn.execute(
        "SELECT id, guid, mid, mod, tags, flds FROM notes ORDER BY id"
    ):
        if int(mid) not in ours:
            continue
        count = str(flds).count("\x1f") + 1  # counted, never split into a million strings
        if count != len(FIELDS):
            raise ValueError(
                f"note {nid} has {count:,} fields; the '{MODEL_NAME}' note type has {len(FIELDS)}"
            )
        values = str(flds).split("\x1f")
        notes.append(
            ExportedNote(
                id=int(nid),
                guid=str(guid),
                mod=int(mod),
                fields=dict(zip(FIELDS, values, strict=False)),
                tags=tuple(str(tags).split()),
                deck=deck_of.get(int(nid), ""),
            )
        )
    return tuple(notes)
