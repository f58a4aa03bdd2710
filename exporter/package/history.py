"""Build history: which notes changed since the last build, and so which mod times rise.

Anki's importer updates a note (or note type) only when the package's ``mod`` is strictly
newer than the collection's. So a note keeps its recorded mod while its fingerprint is
unchanged (the package stays byte-identical) and gets a fresh, strictly higher mod as soon as
its content changes (the edit reaches every collection that imports it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from exporter.errors import ContentError, ContentErrors

HISTORY_FORMAT = 3  # 2 added "highest", 3 each note's deck; formats 1 and 2 are still read
MAX_ID = 2**53  # ids stay exact in JavaScript (Anki's web views) and below this
MAX_MOD = 253_402_300_799  # 9999-12-31T23:59:59Z: a new note's id (mod * 1000) stays < MAX_ID
FUTURE_SLACK = 86_400  # a history this far ahead of the clock was not made by this clock


class HistoryAhead(Exception):
    """The history's newest mod is far ahead of the clock (a build with a future
    SOURCE_DATE_EPOCH): building on would stamp every change in that future."""

    def __init__(self, highest: int, now: int) -> None:
        super().__init__(highest, now)
        self.highest, self.now = highest, now


class HistoryFull(Exception):
    """No note id below 2**53 is left to hand out."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """What the history remembers of one note: content hash, mod time (s) and Anki id."""

    fingerprint: str
    mod: int
    id: int = 0
    deck: str = ""  # the deck the note was built into ("" in histories before format 3)


@dataclass(frozen=True)
class History:
    """The note type's stamp and each note's, by question id, and the highest mod and id
    ever handed out for this output (removed notes included: a question removed and later
    added back must still get a strictly newer mod, and a new note never an old id)."""

    notetype: Stamp
    notes: Mapping[str, Stamp]
    recorded_highest_mod: int = 0  # as written in the file; removed notes' stamps count too
    recorded_highest_id: int = 0

    @property
    def highest_mod(self) -> int:
        """The newest mod time ever given, by this history or the builds before it."""
        return max(
            [self.recorded_highest_mod, self.notetype.mod, *(s.mod for s in self.notes.values())]
        )

    @property
    def highest_id(self) -> int:
        """The largest note id ever handed out (0 when none)."""
        return max([self.recorded_highest_id, *(s.id for s in self.notes.values())])


def advance(
    previous: History | None,
    notetype_fingerprint: str,
    notes: Sequence[tuple[str, str, str]],
    now: Callable[[], int],
) -> History:
    """The history of a new build of ``notes`` (question id, fingerprint, deck), in bank
    order. ``HistoryAhead`` when a fresh mod is needed and the history is far in the future;
    ``HistoryFull`` when no note id is left.

    Unchanged entries keep their stamp; changed or new ones get the fresh mod
    ``max(now(), highest previous mod + 1)``. ``now`` is called only when something changed.
    New notes get ids counting up from ``max(fresh * 1000, highest previous id + 1)``, so
    Anki's "Added" date is the build that first shipped them and never moves afterwards.
    """
    fresh_cache: list[int] = []

    def fresh() -> int:
        if not fresh_cache:
            clock = int(now())
            floor = previous.highest_mod + 1 if previous else 0
            if floor > clock + FUTURE_SLACK:
                raise HistoryAhead(floor - 1, clock)
            fresh_cache.append(max(clock, floor))
        return fresh_cache[0]

    old_type = previous.notetype if previous else None
    if old_type is not None and old_type.fingerprint == notetype_fingerprint:
        notetype = old_type
    else:
        notetype = Stamp(notetype_fingerprint, fresh())

    old_notes = previous.notes if previous else {}
    next_id = 0

    def new_id() -> int:
        nonlocal next_id
        if not next_id:
            highest = previous.highest_id if previous else 0
            next_id = max(fresh() * 1000, highest + 1)
        if next_id >= MAX_ID:
            raise HistoryFull
        next_id += 1
        return next_id - 1

    stamps: dict[str, Stamp] = {}
    used: set[int] = set()
    for qid, fingerprint, deck in notes:
        old = old_notes.get(qid)
        if old is None:
            stamp = Stamp(fingerprint, fresh(), new_id(), deck)
        else:
            # An id shared with another note (two branches' histories merged) or missing
            # gets a new one; the note itself is matched by GUID, so nothing else moves.
            nid = old.id if old.id and old.id not in used else new_id()
            changed = old.fingerprint != fingerprint
            stamp = Stamp(fingerprint, fresh() if changed else old.mod, nid, deck)
        used.add(stamp.id)
        stamps[qid] = stamp
    highest_mod = max([previous.highest_mod if previous else 0, *fresh_cache])
    highest_id = max([previous.highest_id if previous else 0, next_id - 1 if next_id else 0])
    return History(notetype, stamps, highest_mod, highest_id)


def dumps(history: History) -> bytes:
    """The history as stable, human-readable JSON (sorted keys, one note per line), UTF-8;
    each line encoded as it is made (a 100k bank's history is 21 MB: never held twice)."""
    head = [
        "{",
        f'  "format": {HISTORY_FORMAT},',
        '  "about": "interview-deck build history: keep it committed next to the package",',
        f'  "highest": {json.dumps({"mod": history.highest_mod, "id": history.highest_id})},',
        f'  "notetype": {_stamp_json(history.notetype)},',
        '  "notes": {',
    ]
    lines = [line.encode() for line in head]
    items = sorted(history.notes.items())
    for i, (qid, stamp) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {_ascii(qid)}: {_stamp_json(stamp)}{comma}".encode())
    lines += [b"  }", b"}", b""]
    return b"\n".join(lines)


def _stamp_json(stamp: Stamp) -> str:
    """``json.dumps`` of the stamp's fields (``ensure_ascii=False``), written out directly:
    ten times faster, which a 100k bank's history notices."""
    text = f'{{"fingerprint": {_text(stamp.fingerprint)}, "mod": {int(stamp.mod)}'
    if stamp.id:
        text += f', "id": {int(stamp.id)}'
    if stamp.deck:
        text += f', "deck": {_text(stamp.deck)}'
    return text + "}"


_text = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) uses
_ascii = json.encoder.encode_basestring_ascii  # and json.dumps(...) by default


def loads(text: str, display_path: str) -> History:
    """Parse a history file; a damaged one is a ``ContentErrors`` naming the file."""
    try:
        data = json.loads(text)
        if data.get("format") not in (1, 2, HISTORY_FORMAT):
            raise ValueError(f"unknown format {data.get('format')!r}")
        notetype = _stamp(data["notetype"])
        notes = {str(k): _stamp(v) for k, v in data["notes"].items()}
        highest = data.get("highest", {"mod": 0, "id": 0})
        highest_mod, highest_id = _mod(highest["mod"]), _number(highest["id"])
    except RecursionError:
        raise ContentErrors(
            [
                ContentError(
                    display_path,
                    0,
                    0,
                    _DAMAGED.format("JSON nested too deeply"),
                    code="history-damaged",
                )
            ]
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # json.loads refuses (with advice about Python's sys) a number over 4,300 digits.
        why = "a number of thousands of digits" if str(exc).startswith("Exceeds the limit") else exc
        raise ContentErrors(
            [ContentError(display_path, 0, 0, _DAMAGED.format(why), code="history-damaged")]
        ) from None
    return History(notetype, notes, highest_mod, highest_id)


_DAMAGED = "build history is damaged ({}); delete it to start a new one"


def _number(value: object, limit: int = MAX_ID) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < limit:
        shown = repr(value) if not isinstance(value, int) or value.bit_length() <= 64 else ""
        what = shown if len(shown) <= 40 else shown[:39] + "…"
        raise ValueError(f"{what or 'a huge number'} is not a whole number from 0 to {limit - 1}")
    return value


def _mod(value: object) -> int:
    """A mod time in seconds: at most the end of year 9999, so ids made from it fit."""
    return _number(value, MAX_MOD + 1)


def _stamp(raw: Mapping[str, object]) -> Stamp:
    fingerprint, deck = raw["fingerprint"], raw.get("deck", "")
    if not isinstance(fingerprint, str) or not isinstance(deck, str):
        raise ValueError("a stamp's fingerprint and deck must be text")
    return Stamp(fingerprint, _mod(raw["mod"]), _number(raw.get("id", 0)), deck)
