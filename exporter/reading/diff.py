"""Two packages compared note by note: what a reviewer wants to see when a pull request
changes ``dist/``. Notes of our note types are matched by their ID field (their
GUID when it is empty) and their kind, so a question keeps its identity across edits and
deck moves; a question's key points and reverse card are ``ID::key-points`` and
``ID::reverse``, as the build history names them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from exporter.reading.exports import ExportedNote, read_export


@dataclass(frozen=True)
class Changed:
    """A note in both packages whose fields or tags differ."""

    key: str
    deck: str  # in the new package
    fields: tuple[str, ...]  # the note type's field names that differ, in its order
    tags_added: tuple[str, ...] = ()
    tags_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Moved:
    """A note in another deck in the new package."""

    key: str
    old_deck: str
    new_deck: str


@dataclass(frozen=True)
class PackageDiff:
    """Notes added, removed, changed and moved (``key`` is the note's key: the question's
    id, or ``ID::key-points`` / ``ID::reverse``), sorted."""

    added: tuple[tuple[str, str], ...]  # (key, deck)
    removed: tuple[tuple[str, str], ...]  # (key, deck)
    changed: tuple[Changed, ...]
    moved: tuple[Moved, ...]
    unchanged: int

    @property
    def differs(self) -> bool:
        """True when anything at all was added, removed, changed or moved."""
        return bool(self.added or self.removed or self.changed or self.moved)


def _key(note: ExportedNote) -> str:
    """The note's key (the ID field as plain text, with its kind for a question's other
    notes), else ``guid:`` and its GUID."""
    return note.key if note.question_id else f"guid:{note.guid}"


def _by_key(notes: tuple[ExportedNote, ...]) -> dict[str, ExportedNote]:
    found: dict[str, ExportedNote] = {}
    for note in notes:
        found.setdefault(_key(note), note)  # a repeated id: the first note (by note id) counts
    return found


def compare(old: tuple[ExportedNote, ...], new: tuple[ExportedNote, ...]) -> PackageDiff:
    """What changed from the notes ``old`` to the notes ``new``."""
    before, after = _by_key(old), _by_key(new)
    added = tuple(sorted((k, n.deck) for k, n in after.items() if k not in before))
    removed = tuple(sorted((k, n.deck) for k, n in before.items() if k not in after))
    changed: list[Changed] = []
    moved: list[Moved] = []
    unchanged = 0
    for key in sorted(before.keys() & after.keys()):
        a, b = before[key], after[key]
        names = list(dict.fromkeys([*a.fields, *b.fields]))  # the note type's order
        fields = tuple(f for f in names if a.fields.get(f, "") != b.fields.get(f, ""))
        plus = tuple(sorted(set(b.tags) - set(a.tags)))
        minus = tuple(sorted(set(a.tags) - set(b.tags)))
        if fields or plus or minus:
            changed.append(Changed(key, b.deck, fields, plus, minus))
        if a.deck != b.deck:
            moved.append(Moved(key, a.deck, b.deck))
        if not (fields or plus or minus or a.deck != b.deck):
            unchanged += 1
    return PackageDiff(added, removed, tuple(changed), tuple(moved), unchanged)


def diff_packages(old: Path, new: Path) -> PackageDiff:
    """Read both packages (ours, or Anki's own exports) and compare their notes;
    ``PackageReadError`` when either is not a readable package with our notes."""
    return compare(read_export(old), read_export(new))
