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

FORMAT = 1


@dataclass(frozen=True, slots=True)
class Stamp:
    """What the history remembers of one note: content hash, mod time (s) and Anki id."""

    fingerprint: str
    mod: int
    id: int = 0


@dataclass(frozen=True)
class History:
    """The note type's stamp and each note's, by question id."""

    notetype: Stamp
    notes: Mapping[str, Stamp]

    @property
    def highest_mod(self) -> int:
        """The newest mod time anywhere in the history."""
        return max([self.notetype.mod, *(s.mod for s in self.notes.values())])

    @property
    def highest_id(self) -> int:
        """The largest note id handed out so far (0 when none)."""
        return max([0, *(s.id for s in self.notes.values())])


def advance(
    previous: History | None,
    notetype_fingerprint: str,
    notes: Sequence[tuple[str, str]],
    now: Callable[[], int],
) -> History:
    """The history of a new build of ``notes`` (question id, fingerprint), in bank order.

    Unchanged entries keep their stamp; changed or new ones get the fresh mod
    ``max(now(), highest previous mod + 1)``. ``now`` is called only when something changed.
    New notes get ids counting up from ``max(fresh * 1000, highest previous id + 1)``, so
    Anki's "Added" date is the build that first shipped them and never moves afterwards.
    """
    fresh_cache: list[int] = []

    def fresh() -> int:
        if not fresh_cache:
            floor = previous.highest_mod + 1 if previous else 0
            fresh_cache.append(max(int(now()), floor))
        return fresh_cache[0]

    old_type = previous.notetype if previous else None
    if old_type is not None and old_type.fingerprint == notetype_fingerprint:
        notetype = old_type
    else:
        notetype = Stamp(notetype_fingerprint, fresh())

    old_notes = previous.notes if previous else {}
    next_id = 0
    stamps: dict[str, Stamp] = {}
    for qid, fingerprint in notes:
        old = old_notes.get(qid)
        if old is not None and old.fingerprint == fingerprint:
            stamps[qid] = old
            continue
        if old is not None:
            stamps[qid] = Stamp(fingerprint, fresh(), old.id)
            continue
        if not next_id:
            highest = previous.highest_id if previous else 0
            next_id = max(fresh() * 1000, highest + 1)
        stamps[qid] = Stamp(fingerprint, fresh(), next_id)
        next_id += 1
    return History(notetype, stamps)


def dumps(history: History) -> str:
    """The history as stable, human-readable JSON (sorted keys, one note per line)."""
    lines = [
        "{",
        f'  "format": {FORMAT},',
        '  "about": "interview-deck build history: keep it committed next to the package",',
        f'  "notetype": {_stamp_json(history.notetype)},',
        '  "notes": {',
    ]
    items = sorted(history.notes.items())
    for i, (qid, stamp) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(qid)}: {_stamp_json(stamp)}{comma}")
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def _stamp_json(stamp: Stamp) -> str:
    fields: dict[str, object] = {"fingerprint": stamp.fingerprint, "mod": stamp.mod}
    if stamp.id:
        fields["id"] = stamp.id
    return json.dumps(fields)


def loads(text: str, shown: str) -> History:
    """Parse a history file; a damaged one is a ``ContentErrors`` naming the file."""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown format {data.get('format')!r}")
        notetype = _stamp(data["notetype"])
        notes = {str(k): _stamp(v) for k, v in data["notes"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContentErrors(
            [
                ContentError(
                    shown, 0, 0, f"build history is damaged ({exc}); delete it to start a new one"
                )
            ]
        ) from None
    return History(notetype, notes)


def _stamp(raw: Mapping[str, object]) -> Stamp:
    fingerprint, mod, nid = raw["fingerprint"], raw["mod"], raw.get("id", 0)
    if not isinstance(fingerprint, str) or not isinstance(mod, int) or not isinstance(nid, int):
        raise ValueError("a stamp needs a text fingerprint and whole-number mod and id")
    return Stamp(fingerprint, mod, nid)
