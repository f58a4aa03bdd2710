"""Read any ``.apkg`` (ours or not) and summarise it: decks, notes, tags, note types, times.

Reads Anki 2.1.50+'s zstd-compressed ``collection.anki21b`` when present (what Anki and
AnkiDroid export today), else the legacy ``collection.anki21`` / ``collection.anki2``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from exporter.errors import PackageReadError

_PROVENANCE = re.compile(r"Built by interview-deck (\S+) from content (sha256:[0-9a-f]+)")


@dataclass(frozen=True)
class NoteTypeInfo:
    """A note type as the package defines it."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[str, ...]
    mod: int


@dataclass(frozen=True)
class PackageInfo:
    """What a package holds, as a user would want to know it."""

    decks: dict[str, int]
    tags: dict[str, int]
    notetypes: tuple[NoteTypeInfo, ...]
    note_count: int
    mod_range: tuple[int, int] | None
    provenance: tuple[str, str] | None  # (tool version, content fingerprint) when ours
    media_count: int = 0
    media_bytes: int = 0  # as stored in the package


def read_package(path: Path) -> PackageInfo:
    """Summarise the package at ``path``; ``PackageReadError`` if it is not one."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            media = [i.compress_size for i in archive.infolist() if i.filename.isdigit()]
            if "collection.anki21b" in names:
                data = _zstd_decompress(archive.read("collection.anki21b"), path)
            else:
                name = next(
                    (n for n in ("collection.anki21", "collection.anki2") if n in names), None
                )
                if name is None:
                    raise PackageReadError(f"{path}: not an Anki package (no collection inside)")
                data = archive.read(name)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        zlib.error,
        NotImplementedError,
    ) as exc:
        raise PackageReadError(
            f"{path}: not an Anki package (not a valid zip file: {exc})"
        ) from None
    except OSError as exc:
        raise PackageReadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        info = _summarise(data)
    except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
        raise PackageReadError(f"{path}: not an Anki package (damaged collection: {exc})") from None
    return replace(info, media_count=len(media), media_bytes=sum(media))


def _zstd_decompress(data: bytes, path: Path) -> bytes:
    try:
        import zstandard
    except ImportError:
        raise PackageReadError(
            f"{path}: made by Anki 2.1.50 or newer (zstd-compressed); "
            "install 'zstandard' to inspect it"
        ) from None
    return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(data))


def _connect(data: bytes, tmp: str) -> sqlite3.Connection:
    if not data.startswith(b"SQLite format 3\x00"):
        raise ValueError("the collection is not a SQLite database")
    path = Path(tmp) / "collection.sqlite"
    path.write_bytes(data)
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _summarise(data: bytes) -> PackageInfo:
    with tempfile.TemporaryDirectory(prefix="interview-deck-inspect-") as tmp:
        conn = _connect(data, tmp)
        try:
            return _query(conn)
        finally:
            conn.close()


def _query(conn: sqlite3.Connection) -> PackageInfo:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "notetypes" in tables:  # schema 18: decks and note types have tables of their own
        deck_names = {int(i): str(n) for i, n in conn.execute("SELECT id, name FROM decks")}
        deck_names = {i: n.replace("\x1f", "::") for i, n in deck_names.items()}
        # A deck's description sits inside its protobuf 'kind' blob as plain UTF-8 text.
        descriptions = [
            bytes(kind).decode("utf-8", "replace")
            for (kind,) in conn.execute("SELECT kind FROM decks")
        ]
        notetypes = tuple(
            NoteTypeInfo(
                int(ntid),
                str(name),
                tuple(
                    str(r[0])
                    for r in conn.execute(
                        "SELECT name FROM fields WHERE ntid=? ORDER BY ord", (ntid,)
                    )
                ),
                tuple(
                    str(r[0])
                    for r in conn.execute(
                        "SELECT name FROM templates WHERE ntid=? ORDER BY ord", (ntid,)
                    )
                ),
                int(mod),
            )
            for ntid, name, mod in conn.execute("SELECT id, name, mtime_secs FROM notetypes")
        )
    else:
        decks_json, models_json = conn.execute("SELECT decks, models FROM col").fetchone()
        decks = json.loads(decks_json)
        deck_names = {int(d["id"]): str(d["name"]) for d in decks.values()}
        descriptions = [str(d.get("desc", "")) for d in decks.values()]
        notetypes = tuple(
            NoteTypeInfo(
                int(m["id"]),
                str(m["name"]),
                tuple(str(f["name"]) for f in m["flds"]),
                tuple(str(t["name"]) for t in m["tmpls"]),
                int(m.get("mod", 0)),
            )
            for m in json.loads(models_json).values()
        )
    per_deck: Counter[str] = Counter()
    for did, count in conn.execute("SELECT did, COUNT(DISTINCT nid) FROM cards GROUP BY did"):
        per_deck[deck_names.get(int(did), f"(deck {did})")] += int(count)
    tags: Counter[str] = Counter()
    for (raw,) in conn.execute("SELECT tags FROM notes"):
        tags.update(str(raw).split())
    count, low, high = conn.execute("SELECT COUNT(*), MIN(mod), MAX(mod) FROM notes").fetchone()
    provenance = next((m.groups() for d in descriptions if (m := _PROVENANCE.search(d))), None)
    return PackageInfo(
        decks=dict(sorted(per_deck.items())),
        tags=dict(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))),
        notetypes=tuple(sorted(notetypes, key=lambda n: n.name)),
        note_count=int(count),
        mod_range=(int(low), int(high)) if count else None,
        provenance=(str(provenance[0]), str(provenance[1])) if provenance else None,
    )
