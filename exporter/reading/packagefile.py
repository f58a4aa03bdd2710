"""Read any ``.apkg`` (ours or not) and summarise it: decks, notes, tags, note types, times.

Reads Anki 2.1.50+'s zstd-compressed ``collection.anki21b`` when present (what Anki and
AnkiDroid export today), else the legacy ``collection.anki21`` / ``collection.anki2``.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from exporter.errors import PackageReadError
from exporter.files import (
    COLLECTION_CAP,
    PACKAGE_CAP,
    MiB,
    display,
    kind_of,
    regular_size,
    scratch_folder,
)

# The creation time genanki gives every collection it writes (genanki/apkg_col.py): a
# collection Anki wrote (an export) has its own, and may hold edits made in Anki.
GENANKI_CREATED = 1411124400
_PROVENANCE = re.compile(r"Built by interview-deck (\S+) from content (sha256:[0-9a-f]+)")


@dataclass(frozen=True)
class NoteTypeInfo:
    """A note type as the package defines it."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[str, ...]
    mod: int
    notes: int = 0  # how many notes of it the package holds
    cards: int = 0


@dataclass(frozen=True)
class PackageInfo:
    """What a package holds, as a user would want to know it."""

    decks: dict[str, int]
    tags: dict[str, int]
    notetypes: tuple[NoteTypeInfo, ...]
    note_count: int
    mod_range: tuple[int, int] | None
    provenance: tuple[str, str] | None  # (tool version, content fingerprint) when ours
    media: tuple[tuple[str, int], ...] = ()  # (file name, its size in bytes), by name
    exported: bool = False  # the collection was written by Anki, not as our build wrote it

    @property
    def media_bytes(self) -> int:
        """All media, each file at its own size."""
        return sum(size for _name, size in self.media)


def read_package(path: Path) -> PackageInfo:
    """Summarise the package at ``path``; ``PackageReadError`` if it is not one."""
    with open_collection(path) as (conn, media), damaged_as(display(str(path)), "package"):
        info = _query(conn)
    return replace(info, media=tuple(sorted(media)))


def field_names(conn: sqlite3.Connection, notetype_id: int) -> tuple[str, ...]:
    """A schema-18 note type's field names, in order."""
    rows = conn.execute("SELECT name FROM fields WHERE ntid=? ORDER BY ord", (notetype_id,))
    return tuple(str(r[0]) for r in rows)


_NOT_AN_INTEGER = "a number no 64-bit integer can hold"
_TOO_MANY_DIGITS = "Exceeds the limit"  # int() of text past Python's 4,300 digits


@contextmanager
def damaged_as(shown: str, what: str) -> Iterator[None]:
    """Reading a collection's tables: any surprise in them is a damaged ``what``."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if str(exc) != "interrupted":
            raise PackageReadError(
                f"{shown}: not an Anki {what} (damaged collection: {exc})"
            ) from None
        if not _over_budget[0]:  # Ctrl-C or SIGTERM arrived in the middle of a query
            raise KeyboardInterrupt from None
        raise PackageReadError(
            f"{shown}: not an Anki {what}: reading its collection takes more work than a "
            "collection of its size needs (a damaged or hostile package)"
        ) from None
    except OverflowError:  # an id or mod SQLite or JSON holds as an infinite float
        raise PackageReadError(
            f"{shown}: not an Anki {what} (damaged collection: {_NOT_AN_INTEGER})"
        ) from None
    except (sqlite3.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        why = _NOT_AN_INTEGER if str(exc).startswith(_TOO_MANY_DIGITS) else exc
        raise PackageReadError(f"{shown}: not an Anki {what} (damaged collection: {why})") from None
    except RecursionError:
        raise PackageReadError(
            f"{shown}: not an Anki {what} (damaged collection: JSON nested too deeply)"
        ) from None


@contextmanager
def open_collection(path: Path) -> Iterator[tuple[sqlite3.Connection, list[tuple[str, int]]]]:
    """The package's collection, inflated (at most ``COLLECTION_CAP`` bytes, whatever the
    compression) into a private temp file and opened read-only; with the stored size of each
    media file. ``PackageReadError`` for anything that is not a readable Anki package."""
    shown = display(str(path))
    size = regular_size(path)
    if size is None:
        check_readable(path, shown)
    elif size > PACKAGE_CAP:
        raise PackageReadError(
            f"{shown}: is {size / MiB:,.0f} MiB; the limit is {PACKAGE_CAP // MiB:,} MiB"
        )
    with scratch_folder() as tmp:
        database = Path(tmp) / "collection.sqlite"
        try:
            with zipfile.ZipFile(path) as archive:
                _one_reading(archive, shown)
                names = set(archive.namelist())
                media = _media(archive)
                name = next(
                    (
                        n
                        for n in ("collection.anki21b", "collection.anki21", "collection.anki2")
                        if n in names
                    ),
                    None,
                )
                if name is None:
                    raise PackageReadError(f"{shown}: not an Anki package (no collection inside)")
                if archive.getinfo(name).file_size > COLLECTION_CAP:  # declared: refuse now
                    raise _TooBig
                with archive.open(name) as entry, database.open("wb") as out:
                    _inflate(entry, out, zstd=name.endswith("b"))
                    while entry.read(1 << 20):  # to the end, where zipfile checks the CRC
                        pass
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
            raise PackageReadError(
                f"{shown}: not an Anki package (not a valid zip file: {exc})"
            ) from None
        except (NotImplementedError, RuntimeError) as exc:  # unknown compression, encryption
            raise PackageReadError(f"{shown}: not an Anki package we can read ({exc})") from None
        except _TooBig:
            raise PackageReadError(
                f"{shown}: its collection inflates past {COLLECTION_CAP // MiB:,} MiB; refused "
                "(a damaged or hostile package)"
            ) from None
        except _BadZstd as exc:
            raise PackageReadError(
                f"{shown}: not an Anki package (damaged collection: {exc})"
            ) from None
        except OSError as exc:
            raise PackageReadError(f"{shown}: cannot read ({exc.strerror or exc})") from None
        with database.open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise PackageReadError(
                    f"{shown}: not an Anki package (damaged collection: the collection is not a "
                    "SQLite database)"
                )
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            _bounded(conn, database.stat().st_size)
            with damaged_as(shown, "package"):
                _tables_only(conn)
            yield conn, media
        finally:
            conn.close()


# The work a query may do, in SQLite VM steps: a fixed allowance plus some per byte of the
# collection (a real collection's queries are scans: a few hundred steps per row at most).
STEPS_MIN = 200_000_000
STEPS_PER_BYTE = 2_000
_CHECK_EVERY = 10_000  # steps between two calls of the budget's check


# Whether the last query stopped for its budget (SQLite says 'interrupted' for that and for
# a signal that arrived while it ran, which Python delivers inside the budget's check).
_over_budget = [False]


def _bounded(conn: sqlite3.Connection, size: int) -> None:
    """Stop any query on ``conn`` once all of them together pass their step budget, so a
    crafted collection cannot keep a read running (or growing) for ever; Ctrl-C and
    SIGTERM reach Python while a query runs."""
    left = [STEPS_MIN + STEPS_PER_BYTE * size]
    _over_budget[0] = False

    def spend() -> int:
        left[0] -= _CHECK_EVERY
        _over_budget[0] = left[0] < 0
        return 1 if _over_budget[0] else 0

    conn.set_progress_handler(spend, _CHECK_EVERY)


def _tables_only(conn: sqlite3.Connection) -> None:
    """Refuse a collection holding anything but tables and indexes: an Anki collection has
    no views (a view can hide an endless query), triggers or virtual tables."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    for kind, name, sql in rows:
        if kind == "view":
            raise ValueError(f"'{name}' is a view, not a table; an Anki collection has none")
        if kind == "trigger":
            raise ValueError(f"it holds a trigger '{name}'; an Anki collection has none")
        if kind == "table" and str(sql or "").lstrip().upper().startswith("CREATE VIRTUAL"):
            raise ValueError(f"'{name}' is a virtual table; an Anki collection has none")


def _one_reading(archive: zipfile.ZipFile, shown: str) -> None:
    """Refuse a zip that two readers could read differently: two entries of one name, or
    entries whose data overlap (how a zip bomb multiplies its size)."""
    seen: set[str] = set()
    for info in archive.infolist():
        if info.filename in seen:
            raise PackageReadError(
                f"{shown}: not an Anki package: it holds two entries named "
                f"'{info.filename}' (a damaged or crafted zip)"
            )
        seen.add(info.filename)
    entries = sorted(archive.infolist(), key=lambda i: i.header_offset)
    for one, two in itertools.pairwise(entries):
        # A local header is at least 30 bytes and the name: the next entry starts after.
        end = one.header_offset + 30 + len(one.orig_filename.encode()) + one.compress_size
        if two.header_offset < end:
            raise PackageReadError(
                f"{shown}: not an Anki package: its entries '{one.filename}' and "
                f"'{two.filename}' overlap (a damaged or crafted zip)"
            )


def _media(archive: zipfile.ZipFile) -> list[tuple[str, int]]:
    """Each media file's name and its own size (as stats counts it, not as stored in the
    zip), from the package's ``media`` index: JSON (ours, legacy exports) or the
    zstd-compressed protobuf of Anki's newer exports (whose files are zstd-compressed too,
    so their size comes from the index). ``#N`` for a file the index does not name."""
    numbered = {i.filename: i.file_size for i in archive.infolist() if i.filename.isdigit()}
    index: dict[str, tuple[str, int | None]] = {}
    if "media" in archive.namelist() and archive.getinfo("media").file_size <= _MEDIA_INDEX_CAP:
        data = archive.read("media")
        try:
            if data.startswith(_ZSTD_MAGIC):
                index = {str(i): entry for i, entry in enumerate(_media_entries(data))}
            else:
                listed = json.loads(data)
                if isinstance(listed, dict):
                    index = {str(k): (str(v), None) for k, v in listed.items()}
        except (ValueError, UnicodeDecodeError, RecursionError, _BadZstd, _TooBig):
            pass  # an index we cannot read: the files are listed by number
    out = []
    for number, stored in numbered.items():
        name, size = index.get(number, (f"#{number}", None))
        out.append((name, stored if size is None else size))
    return out


_MEDIA_INDEX_CAP = 64 * MiB
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _media_entries(data: bytes) -> list[tuple[str, int | None]]:
    """(name, size) of each entry of Anki's ``MediaEntries`` message (zstd-compressed):
    ``repeated MediaEntry entries = 1``, each ``string name = 1; uint32 size = 2`` (other
    fields skipped). ``ValueError`` for anything that is not such a message."""
    import io

    raw = io.BytesIO()
    _inflate(io.BytesIO(data), raw, zstd=True, cap=_MEDIA_INDEX_CAP)
    entries = []
    for number, value in _protobuf_fields(raw.getvalue()):
        if number != 1 or not isinstance(value, bytes):
            continue
        name, size = "", None
        for inner, item in _protobuf_fields(value):
            if inner == 1 and isinstance(item, bytes):
                name = item.decode("utf-8")
            elif inner == 2 and isinstance(item, int):
                size = item
        entries.append((name, size))
    return entries


def _protobuf_fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one protobuf message, in order: varints as ints,
    length-delimited fields as bytes, fixed 32/64-bit ones skipped; ``ValueError`` when the
    bytes are not a message."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield number, value
        elif wire == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise ValueError("a protobuf field runs past the end")
            yield number, data[at : at + length]
            at += length
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise ValueError(f"protobuf wire type {wire} is not expected here")
    if at != len(data):
        raise ValueError("a protobuf field runs past the end")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("a protobuf varint runs past the end")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


class _TooBig(Exception):
    pass


class _BadZstd(Exception):
    pass


def check_readable(path: Path, shown: str) -> None:
    """Raise the reason ``path`` cannot be read as a package file."""
    try:
        info = path.stat()
    except OSError as exc:
        raise PackageReadError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    raise PackageReadError(f"{shown}: is {kind_of(info.st_mode)}, not a package file")


def _inflate(entry: IO[bytes], out: IO[bytes], *, zstd: bool, cap: int | None = None) -> None:
    """Copy a zip entry to ``out``, through zstd when ``zstd``, never past ``cap`` (default:
    the collection cap, read when called)."""
    cap = COLLECTION_CAP if cap is None else cap
    reader: IO[bytes] = entry
    if zstd:
        try:
            import zstandard
        except ImportError:  # pragma: no cover - a runtime dependency
            raise _BadZstd("made by Anki 2.1.50 or newer: install 'zstandard' to read it") from None
        reader = zstandard.ZstdDecompressor().stream_reader(entry)
    total = 0
    try:
        while chunk := reader.read(1 << 20):
            total += len(chunk)
            if total > cap:
                raise _TooBig
            out.write(chunk)
    except _TooBig:
        raise
    except Exception as exc:
        if zstd and type(exc).__module__.startswith("zstandard"):
            raise _BadZstd(f"not zstd data: {exc}") from None
        raise


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
                field_names(conn, int(ntid)),
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
    notes_of: Counter[int] = Counter()
    for mid, count in conn.execute("SELECT mid, COUNT(*) FROM notes GROUP BY mid"):
        notes_of[int(mid)] += int(count)
    cards_of: Counter[int] = Counter()
    for mid, count in conn.execute(
        "SELECT n.mid, COUNT(*) FROM cards c JOIN notes n ON n.id = c.nid GROUP BY n.mid"
    ):
        cards_of[int(mid)] += int(count)
    notetypes = tuple(replace(t, notes=notes_of[t.id], cards=cards_of[t.id]) for t in notetypes)
    per_deck: Counter[str] = Counter()
    for did, count in conn.execute("SELECT did, COUNT(DISTINCT nid) FROM cards GROUP BY did"):
        per_deck[deck_names.get(int(did), f"(deck {did})")] += int(count)
    tags: Counter[str] = Counter()
    for (raw,) in conn.execute("SELECT tags FROM notes"):
        tags.update(str(raw).split())
    count, low, high = conn.execute("SELECT COUNT(*), MIN(mod), MAX(mod) FROM notes").fetchone()
    provenance = next((m.groups() for d in descriptions if (m := _PROVENANCE.search(d))), None)
    (created,) = conn.execute("SELECT crt FROM col").fetchone()
    return PackageInfo(
        decks=dict(sorted(per_deck.items())),
        tags=dict(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))),
        notetypes=tuple(sorted(notetypes, key=lambda n: n.name)),
        note_count=int(count),
        mod_range=(int(low), int(high)) if count else None,
        provenance=(str(provenance[0]), str(provenance[1])) if provenance else None,
        exported="notetypes" in tables or created != GENANKI_CREATED,
    )
