"""An export made by Anki desktop or AnkiDroid -> the notes of our note type, as plain data.

Reads ``.apkg`` (with or without scheduling) and ``.colpkg``: the zstd-compressed
``collection.anki21b`` of Anki 2.1.50+ when present, else the legacy ``collection.anki21`` /
``collection.anki2`` (the same order as ``exporter.packageinfo``, which summarises packages;
this module reads the notes themselves).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from exporter.errors import PackageReadError
from exporter.notetype import FIELDS, MODEL_ID, MODEL_NAME

_COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")


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
    def label(self) -> str:
        """How a message names the note: its id and the start of its question."""
        raw = html.unescape(re.sub(r"<[^>]*>", "", self.fields.get("Question", "")))
        text = " ".join(raw.split())
        short = text if len(text) <= 40 else text[:39] + "…"
        return f"note {self.id} ({short!r})" if short else f"note {self.id}"


def read_export(path: Path) -> tuple[ExportedNote, ...]:
    """Every note of the 'Interview Question' note type in the export at ``path``, by note id;
    ``PackageReadError`` when it is not an Anki export or holds none of our notes."""
    data = _collection_bytes(path)
    with tempfile.TemporaryDirectory(prefix="interview-deck-pull-") as tmp:
        db = Path(tmp) / "collection.sqlite"
        db.write_bytes(data)
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                notes = _notes(conn)
            finally:
                conn.close()
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            raise PackageReadError(
                f"{path}: not an Anki export (damaged collection: {exc})"
            ) from None
    if not notes:
        raise PackageReadError(
            f"{path}: holds no notes of the '{MODEL_NAME}' note type; export the deck that "
            "holds your interview questions"
        )
    return notes


def _collection_bytes(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            name = next((n for n in _COLLECTIONS if n in names), None)
            if name is None:
                raise PackageReadError(f"{path}: not an Anki export (no collection inside)")
            data = archive.read(name)
            if name == "collection.anki21b":
                import zstandard

                data = bytes(zstandard.ZstdDecompressor().decompressobj().decompress(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
        raise PackageReadError(
            f"{path}: not an Anki export (not a valid zip file: {exc})"
        ) from None
    except OSError as exc:
        raise PackageReadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except Exception as exc:  # zstandard.ZstdError and friends: a damaged collection
        if type(exc).__module__.startswith("zstandard"):
            raise PackageReadError(f"{path}: not an Anki export (damaged: {exc})") from None
        raise
    if not data.startswith(b"SQLite format 3\x00"):
        raise PackageReadError(f"{path}: not an Anki export (the collection is not a database)")
    return data


def _ours(ntid: int, name: str, fields: tuple[str, ...]) -> bool:
    """Our note type: its fields, and its id or name (Anki may suffix a copy's name)."""
    return fields == FIELDS and (ntid == MODEL_ID or name.startswith(MODEL_NAME))


def _notes(conn: sqlite3.Connection) -> tuple[ExportedNote, ...]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "notetypes" in tables:  # schema 18: note types and decks have tables of their own
        ours = {
            int(ntid)
            for ntid, name in conn.execute("SELECT id, name FROM notetypes")
            if _ours(
                int(ntid),
                str(name),
                tuple(
                    str(r[0])
                    for r in conn.execute(
                        "SELECT name FROM fields WHERE ntid=? ORDER BY ord", (ntid,)
                    )
                ),
            )
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
