"""Build history: which notes changed since the last build, and so which mod times rise.

Anki's importer updates a note (or note type) only when the package's ``mod`` is strictly
newer than the collection's. So a note keeps its recorded mod while its fingerprint is
unchanged (the package stays byte-identical) and gets a fresh, strictly higher mod as soon as
its content changes (the edit reaches every collection that imports it).

The history also numbers each question's key points (their cloze numbers, ``assign_clozes``)
and gives each of their cards an id: a point keeps its number while its text is unchanged,
wherever it moves in the list, so its card keeps its reviews.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from exporter.errors import ContentError, ContentErrors

# 2 added "highest", 3 each note's deck, 4 the other note types and the key points' cloze
# numbers; formats 1 to 3 are still read.
HISTORY_FORMAT = 4
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
    """No note id below 2**53 (or cloze number Anki can hold) is left to hand out."""


class Stamp(NamedTuple):
    """What the history remembers of one note: content hash, mod time (s) and Anki id."""

    fingerprint: str
    mod: int
    id: int = 0
    deck: str = ""  # the deck the note was built into ("" in histories before format 3)


class Clozes(NamedTuple):
    """A key-points note's cloze numbers: each point's number and a hash of its text, in
    the order of the points; each number's card id; the highest number ever given (numbers
    of removed points are never given again)."""

    points: tuple[tuple[int, str], ...]
    cards: tuple[tuple[int, int], ...]  # (number, card id), by number
    highest: int


@dataclass(frozen=True)
class History:
    """The main note type's stamp, the other note types' by name, each note's by its key
    (a question id, or ``id::kind`` for a question's other notes), the key points' cloze
    numbers by note key (kept when the points go: a number is never reused), and the
    highest mod and id ever handed out for this output (removed notes included: a question
    removed and later added back must still get a strictly newer mod, and a new note or
    card never an old id)."""

    notetype: Stamp
    notes: Mapping[str, Stamp]
    recorded_highest_mod: int = 0  # as written in the file; removed notes' stamps count too
    recorded_highest_id: int = 0
    notetypes: Mapping[str, Stamp] = field(default_factory=dict)
    clozes: Mapping[str, Clozes] = field(default_factory=dict)

    @property
    def highest_mod(self) -> int:
        """The newest mod time ever given, by this history or the builds before it."""
        return max(
            [
                self.recorded_highest_mod,
                self.notetype.mod,
                *(s.mod for s in self.notetypes.values()),
                *(s.mod for s in self.notes.values()),
            ]
        )

    @property
    def highest_id(self) -> int:
        """The largest note or card id ever handed out (0 when none)."""
        cards = (i for c in self.clozes.values() for _n, i in c.cards)
        return max([self.recorded_highest_id, *(s.id for s in self.notes.values()), *cards])


def point_hash(text: str) -> str:
    """What the history keeps of a key point's text: enough to know it again."""
    normal = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


def assign_clozes(previous: Clozes | None, hashes: Sequence[str]) -> tuple[int, ...]:
    """The cloze number of each point (by its text's hash, in point order), given the
    numbers of the last build: a point whose text is unchanged keeps its number wherever it
    moved; a new point in the place of a point that is gone takes that point's number (an
    edited point: its card is updated in place); every other point gets a number never
    given before (its own new card). Numbers of points that are gone are retired."""
    old = list(previous.points) if previous is not None else []
    taken = [False] * len(old)
    numbers: list[int | None] = [None] * len(hashes)
    unused: dict[str, list[int]] = {}  # each text's old places, last first (popped in order)
    for j in reversed(range(len(old))):
        unused.setdefault(old[j][1], []).append(j)
    for i, wanted in enumerate(hashes):
        places = unused.get(wanted)
        if places:
            j = places.pop()
            taken[j] = True
            numbers[i] = old[j][0]
    for i in range(len(hashes)):
        if numbers[i] is None and i < len(old) and not taken[i]:
            taken[i] = True
            numbers[i] = old[i][0]
    highest = max([previous.highest if previous is not None else 0, *(n for n, _h in old)])
    out = []
    for number in numbers:
        if number is None:
            highest += 1
            number = highest
        out.append(number)
    if highest > MAX_CLOZE:
        raise HistoryFull
    return tuple(out)


def advance(
    previous: History | None,
    notetype_fingerprint: str,
    notes: Sequence[tuple[str, str, str]],
    now: Callable[[], int],
    rival: Stamp | None = None,
    *,
    notetypes: Mapping[str, str] | None = None,
    rivals: Mapping[str, Stamp] | None = None,
    clozes: Mapping[str, Sequence[tuple[int, str]]] | None = None,
) -> History:
    """The history of a new build of ``notes`` (note key, fingerprint, deck), in bank
    order, ``clozes`` giving each key-points note's (number, point hash) pairs: a
    ``Stamper`` told each note in turn (see there)."""
    others = notetypes or {}
    stamper = Stamper(
        previous,
        notetype_fingerprint,
        now,
        rival,
        rivals={n: r for n, r in (rivals or {}).items() if n in others},
    )
    points = clozes or {}
    for key, fingerprint, deck in notes:
        stamper.note(key, fingerprint, deck, points.get(key))
    return stamper.finish(others)


class Stamper:
    """The next build's history, made note by note as the build streams (see ``advance``).

    Unchanged entries keep their stamp; changed or new ones get the fresh mod
    ``max(now(), highest previous mod + 1)``. ``now`` is called only when something changed.
    New notes and cards get ids counting up from ``max(fresh * 1000, highest previous id +
    1)``, in the order they are told, so Anki's "Added" date is the build that first shipped
    them and never moves afterwards. ``HistoryAhead`` when a fresh mod is needed and the
    history is far in the future; ``HistoryFull`` when no id is left.

    ``rival`` is the newest stamp of another note type in the other outputs' histories (the
    user's Anki holds one note type for all of them): when this history's note-type stamp is
    not newer (``switches``), the note type gets a fresh mod newer than the rival's, so that
    importing this package switches Anki's note type to this build's. ``rivals``: the same
    for the other note types, by name (each counts for the fresh mod, held or not: the
    notes are stamped before the build knows which kinds it holds).
    """

    def __init__(
        self,
        previous: History | None,
        notetype_fingerprint: str,
        now: Callable[[], int],
        rival: Stamp | None = None,
        *,
        rivals: Mapping[str, Stamp] | None = None,
    ) -> None:
        self._previous = previous
        self._now = now
        self._rivals = rivals or {}
        self._outdated = [r for r in ([rival] if rival else []) if switches(previous, r)]
        self._outdated += [r for n, r in self._rivals.items() if _switches(previous, n, r)]
        self._fresh: int | None = None
        self._next_id = 0
        self._used: set[int] = set()
        self.notes: dict[str, Stamp] = {}
        self._numbered = dict(previous.clozes) if previous else {}
        switched = rival if rival is not None and switches(previous, rival) else None
        self.notetype = self._stamped(
            previous.notetype if previous else None, notetype_fingerprint, switched
        )

    def fresh(self) -> int:
        """The mod of everything this build changes (the clock, read once, when first asked)."""
        if self._fresh is None:
            clock = int(self._now())
            floor = self._previous.highest_mod + 1 if self._previous else 0
            floor = max([floor, *(r.mod + 1 for r in self._outdated)])
            if floor > clock + FUTURE_SLACK:
                raise HistoryAhead(floor - 1, clock)
            self._fresh = max(clock, floor)
        return self._fresh

    def _new_id(self) -> int:
        if not self._next_id:
            highest = self._previous.highest_id if self._previous else 0
            self._next_id = max(self.fresh() * 1000, highest + 1)
        if self._next_id >= MAX_ID:
            raise HistoryFull
        self._next_id += 1
        return self._next_id - 1

    def _stamped(self, old_type: Stamp | None, fingerprint: str, rival: Stamp | None) -> Stamp:
        if old_type is not None and old_type.fingerprint == fingerprint and rival is None:
            return old_type
        return Stamp(fingerprint, self.fresh())

    def note(
        self,
        key: str,
        fingerprint: str,
        deck: str,
        points: Sequence[tuple[int, str]] | None = None,
    ) -> tuple[Stamp, tuple[int, ...]]:
        """Stamp one note (its key, fingerprint and deck; ``points``: a key-points note's
        (number, point hash) pairs): its stamp, and its cards' ids by cloze number (a
        key-points note's; ``()`` for others)."""
        old = self._previous.notes.get(key) if self._previous else None
        if old is None:
            stamp = Stamp(fingerprint, self.fresh(), self._new_id(), deck)
        else:
            # An id shared with another note (two branches' histories merged) or missing
            # gets a new one; the note itself is matched by GUID, so nothing else moves.
            nid = old.id if old.id and old.id not in self._used else self._new_id()
            changed = old.fingerprint != fingerprint
            stamp = Stamp(fingerprint, self.fresh() if changed else old.mod, nid, deck)
        self._used.add(stamp.id)
        self.notes[key] = stamp
        if points is None:
            return stamp, ()
        old_clozes = self._numbered.get(key)
        old_cards = dict(old_clozes.cards) if old_clozes else {}
        cards = []
        for n in sorted(n for n, _h in points):  # an id another card took gets a new one
            cid = old_cards[n] if n in old_cards and old_cards[n] not in self._used else None
            cid = self._new_id() if cid is None else cid
            self._used.add(cid)
            cards.append((n, cid))
        highest = max([old_clozes.highest if old_clozes else 0, *(n for n, _h in points)])
        self._numbered[key] = Clozes(tuple(points), tuple(cards), highest)
        return stamp, tuple(cid for _n, cid in cards)

    def finish(self, notetypes: Mapping[str, str]) -> History:
        """The history, once every note is stamped; ``notetypes``: the other note types the
        package holds (name -> fingerprint)."""
        previous = self._previous
        old_types = previous.notetypes if previous else {}
        other_types = {
            name: self._stamped(
                old_types.get(name),
                fingerprint,
                rival
                if (rival := self._rivals.get(name)) is not None
                and _switches(previous, name, rival)
                else None,
            )
            for name, fingerprint in sorted(notetypes.items())
        }
        fresh = [] if self._fresh is None else [self._fresh]
        highest_mod = max([previous.highest_mod if previous else 0, *fresh])
        last_id = self._next_id - 1 if self._next_id else 0
        highest_id = max([previous.highest_id if previous else 0, last_id])
        return History(
            self.notetype, self.notes, highest_mod, highest_id, other_types, self._numbered
        )


def _switches(previous: History | None, name: str, rival: Stamp) -> bool:
    """``switches`` for the other note type ``name``."""
    own = previous.notetypes.get(name) if previous is not None else None
    return own is None or own.mod <= rival.mod


def rival_of(notetype_fingerprint: str, stamps: Iterable[Stamp]) -> Stamp | None:
    """The newest of the note-type ``stamps`` of other outputs that is another note type."""
    others = [s for s in stamps if s.fingerprint != notetype_fingerprint]
    return max(others, key=lambda s: s.mod, default=None)


def switches(previous: History | None, rival: Stamp) -> bool:
    """True when this build's note type must outdate ``rival`` (another note type, stamped
    by another output): this history's own note-type stamp, if any, is not newer than it
    (Anki updates a note type only from a strictly newer one)."""
    return previous is None or previous.notetype.mod <= rival.mod


def dumps(history: History) -> bytes:
    """The history as stable, human-readable JSON (sorted keys, one note per line), UTF-8;
    each line encoded as it is made (a 100k bank's history is 21 MB: never held twice)."""
    head = [
        "{",
        f'  "format": {HISTORY_FORMAT},',
        '  "about": "interview-deck build history: keep it committed next to the package",',
        f'  "highest": {json.dumps({"mod": history.highest_mod, "id": history.highest_id})},',
        f'  "notetype": {_stamp_json(history.notetype)},',
    ]
    if history.notetypes:
        types = ", ".join(
            f"{_text(name)}: {_stamp_json(stamp)}"
            for name, stamp in sorted(history.notetypes.items())
        )
        head.append(f'  "notetypes": {{{types}}},')
    head.append('  "notes": {')
    lines = [line.encode() for line in head]
    items = sorted(history.notes.items())
    for i, (qid, stamp) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {_ascii(qid)}: {_stamp_json(stamp)}{comma}".encode())
    if history.clozes:
        lines += [b"  },", b'  "clozes": {']
        numbered = sorted(history.clozes.items())
        for i, (key, clozes) in enumerate(numbered):
            comma = "," if i < len(numbered) - 1 else ""
            lines.append(f"    {_ascii(key)}: {_clozes_json(clozes)}{comma}".encode())
    lines += [b"  }", b"}", b""]
    return b"\n".join(lines)


def _clozes_json(clozes: Clozes) -> str:
    """A key-points note's numbers on one line: points (number, text hash) in point order,
    each number's card id, the highest number given."""
    points = ", ".join(f"[{int(n)}, {_text(h)}]" for n, h in clozes.points)
    cards = ", ".join(f"[{int(n)}, {int(i)}]" for n, i in clozes.cards)
    return f'{{"points": [{points}], "cards": [{cards}], "highest": {int(clozes.highest)}}}'


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
        if data.get("format") not in (1, 2, 3, HISTORY_FORMAT):
            raise ValueError(f"unknown format {data.get('format')!r}")
        notetype = _stamp(data["notetype"])
        notetypes = {str(k): _stamp(v) for k, v in data.get("notetypes", {}).items()}
        notes = {str(k): _stamp(v) for k, v in data["notes"].items()}
        clozes = {str(k): _clozes(v) for k, v in data.get("clozes", {}).items()}
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
    return History(notetype, notes, highest_mod, highest_id, notetypes, clozes)


_DAMAGED = "build history is damaged ({}); delete it to start a new one"
# The note type's line as ``dumps`` writes it, near the start of the file.
_NOTETYPE_LINE = re.compile(r'^  "notetype": (\{[^\n]*\}),?\r?$', re.MULTILINE)
_HEAD = 64 * 1024


_NOTETYPES_LINE = re.compile(r'^  "notetypes": (\{[^\n]*\}),?\r?$', re.MULTILINE)
_NOTES_LINE = re.compile(r'^  "notes": \{', re.MULTILINE)


def notetype_stamps(text: str, display_path: str) -> dict[str, Stamp]:
    """The note types' stamps of a history file: the main one under ``""``, the others by
    name. From their lines in the file's head when it is laid out as ``dumps`` writes it
    (no need to parse every note), else from the whole file; a damaged one is a
    ``ContentErrors`` naming the file."""
    found = _NOTETYPE_LINE.search(text, 0, _HEAD)
    notes = _NOTES_LINE.search(text, 0, _HEAD)
    if found is not None and notes is not None:
        others = _NOTETYPES_LINE.search(text, 0, notes.start())
        try:
            stamps = {"": _stamp(json.loads(found.group(1)))}
            if others is not None:
                raw = json.loads(others.group(1))
                stamps.update({str(k): _stamp(v) for k, v in raw.items()})
            return stamps
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            pass
    history = loads(text, display_path)
    return {"": history.notetype, **history.notetypes}


def _number(value: object, limit: int = MAX_ID) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < limit:
        shown = repr(value) if not isinstance(value, int) or value.bit_length() <= 64 else ""
        what = shown if len(shown) <= 40 else shown[:39] + "…"
        raise ValueError(f"{what or 'a huge number'} is not a whole number from 0 to {limit - 1}")
    return value


def _mod(value: object) -> int:
    """A mod time in seconds: at most the end of year 9999, so ids made from it fit."""
    return _number(value, MAX_MOD + 1)


def _clozes(raw: Mapping[str, object]) -> Clozes:
    points, cards = raw["points"], raw["cards"]
    if not isinstance(points, list) or not isinstance(cards, list):
        raise ValueError("a key-points entry's points and cards must be lists")
    numbered = tuple((_cloze(n), _hash(h)) for n, h in points)
    ids = tuple((_cloze(n), _number(i)) for n, i in cards)
    if len({n for n, _h in numbered}) != len(numbered):
        raise ValueError("a key-points entry gives one number to two points")
    return Clozes(numbered, ids, _number(raw["highest"], MAX_CLOZE + 1))


def _cloze(value: object) -> int:
    number = _number(value, MAX_CLOZE + 1)
    if not number:
        raise ValueError("a cloze number starts at 1")
    return number


MAX_CLOZE = 65_536  # Anki keeps a card's number in 16 bits: c1 … c65536, never past


def _hash(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a key point's hash")
    return value


def _stamp(raw: Mapping[str, object]) -> Stamp:
    fingerprint, deck = raw["fingerprint"], raw.get("deck", "")
    if not isinstance(fingerprint, str) or not isinstance(deck, str):
        raise ValueError("a stamp's fingerprint and deck must be text")
    return Stamp(fingerprint, _mod(raw["mod"]), _number(raw.get("id", 0)), deck)
