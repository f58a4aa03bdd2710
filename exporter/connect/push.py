"""``push`` and ``pull --from-anki`` against a running Anki, around the package a build wrote.

Before a push, ``look``: which of the bank's notes were edited in Anki since the last build
(a note's ``mod`` newer than the build history's stamp, with content ``pull`` would bring
home; the mod from ``notesInfo``, or from Anki's own export where an old add-on leaves it
out). Anki's importer keeps a note whose copy in the collection is newer, so such a note
stays as it is in Anki, unless the YAML changed it too since that build: a conflict, which
``push`` refuses to import over. Notes of the bank's decks whose ID is no longer a question
of SOURCES are listed (``--prune`` suspends and tags them; nothing is ever deleted). After
the import, ``deliver`` tells what Anki now holds: each note added, updated or unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from exporter.authoring.pull import plan_pull
from exporter.connect.anki_actions import (
    AnkiNote,
    bank_notes,
    export_deck,
    import_package,
    note_ids,
    notes_info,
    question_note_ids,
    suspend,
    sync,
    tag,
)
from exporter.connect.client import Client
from exporter.content.model import Bank, Question, RoleFile
from exporter.content.sources import SourceFile
from exporter.errors import AnkiError, ContentError, ContentErrors
from exporter.files import scratch_folder
from exporter.package.history import History, assign_clozes, point_hash
from exporter.reading.exports import ExportedNote, read_export
from exporter.render.notes import notes_of

REMOVED_TAG = "interview-deck::removed"  # set by --prune on notes no longer in the bank
ANKI = Path("Anki")  # how ``pull``'s messages name the running Anki


@dataclass(frozen=True)
class Edited:
    """A question whose note was edited in Anki since the last build."""

    role_file: RoleFile
    question: Question
    note: AnkiNote


@dataclass(frozen=True)
class Look:
    """What Anki holds of the bank before an import."""

    notes: tuple[AnkiNote, ...]  # our note type's notes in the bank's decks
    kept: tuple[Edited, ...] = ()  # edited in Anki only: the importer keeps them as they are
    conflicts: tuple[Edited, ...] = ()  # edited in Anki and in the YAML since the last build
    removed: tuple[AnkiNote, ...] = ()  # their ID is no question of SOURCES; not pruned yet
    pruned: tuple[AnkiNote, ...] = ()  # no longer in the bank, already suspended and tagged
    returned: tuple[AnkiNote, ...] = ()  # pruned once, back in the bank: unsuspended after


@dataclass(frozen=True)
class Pushed:
    """What a push did in Anki: each of the package's notes (by key: a question's id, or
    ``id::key-points`` / ``id::reverse``) added, updated or unchanged (``missing``: not found
    in the bank's decks afterwards), and what was pruned or restored."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    made_in_anki: int = 0  # notes of the bank's decks with no ID: questions written in Anki
    pruned: tuple[str, ...] = ()
    restored: tuple[str, ...] = ()
    synced: bool = False
    look: Look = field(default_factory=lambda: Look(()))


def bank_decks(bank: Bank) -> set[str]:
    """The decks the bank builds: the only decks push and pull look into as a whole (and
    so the only ones ``--prune`` acts in), whatever a build history names."""
    return {f.deck for f in bank.files}


def moved_away(bank: Bank, history: History | None) -> dict[str, tuple[str, ...]]:
    """The bank's questions its last build put in a deck it no longer builds, by that deck
    (Anki keeps a note's cards where they are when its question moves to another deck)."""
    own = [d.lower() for d in bank_decks(bank)]
    away: dict[str, list[str]] = {}
    for q in bank.questions:
        stamp = history.notes.get(q.id) if history is not None else None
        if stamp is None or not stamp.deck:
            continue
        deck = stamp.deck.lower()
        if not any(deck == d or deck.startswith(d + "::") for d in own):
            away.setdefault(stamp.deck, []).append(q.id)
    return {deck: tuple(ids) for deck, ids in away.items()}


def held_notes(client: Client, bank: Bank, history: History | None) -> tuple[AnkiNote, ...]:
    """Our note type's notes in the decks the bank builds, and the notes of the questions
    ``moved_away`` (found by their ID field, no deck named: a history cannot make push look
    into a deck of the user's), by note id."""
    notes = {n.id: n for n in bank_notes(client, bank_decks(bank))}
    away = {q for ids in moved_away(bank, history).values() for q in ids}
    if away:
        for n in notes_info(client, question_note_ids(client, away)):
            if n.question_id in away:
                notes.setdefault(n.id, n)
    return tuple(notes[i] for i in sorted(notes))


def by_question(
    notes: Iterable[AnkiNote], history: History | None, kind: str = "question"
) -> dict[str, AnkiNote]:
    """Each question id's note of ``kind``; of two notes with one ID, the one the history
    built (its note id), else the older."""
    found: dict[str, AnkiNote] = {}
    for note in sorted(notes, key=lambda n: n.id, reverse=True):
        qid = note.question_id
        if note.kind != kind:
            continue
        stamp = history.notes.get(note.key) if history is not None else None
        if qid and (qid not in found or stamp is None or found[qid].id != stamp.id):
            found[qid] = note
    return found


def note_keys(bank: Bank) -> dict[str, None]:
    """The key of every note a build of ``bank`` holds, in bank order: each question's id,
    and ``id::key-points`` / ``id::reverse`` for its other notes (a dict: ordered, and
    each key looked up at once)."""
    keys: dict[str, None] = {}
    for q in bank.questions:
        keys[q.id] = None
        if q.key_points:
            keys[f"{q.id}::key-points"] = None
        if q.reverse:
            keys[f"{q.id}::reverse"] = None
    return keys


def by_key(notes: Iterable[AnkiNote], history: History | None) -> dict[str, AnkiNote]:
    """Each note key's note (of a question's notes, every kind); of two notes with one key,
    the one the history built (its note id), else the older."""
    found: dict[str, AnkiNote] = {}
    for note in sorted(notes, key=lambda n: n.id, reverse=True):
        if not note.question_id:
            continue  # made in Anki: no key
        key = note.key
        stamp = history.notes.get(key) if history is not None else None
        if key not in found or stamp is None or found[key].id != stamp.id:
            found[key] = note
    return found


def look(
    client: Client,
    bank: Bank,
    selected: Bank,
    files: Sequence[SourceFile],
    history: History | None,
) -> Look:
    """What Anki holds of ``bank`` before ``selected`` (the questions of the package) is
    imported, told from the build history as it stands (the last build)."""
    notes = with_mods(client, held_notes(client, bank, history), bank)
    held = {kind: by_question(notes, history, kind) for kind in ("question", "key-points")}
    kept: list[Edited] = []
    conflicts: list[Edited] = []
    for role_file in selected.files:
        for q in role_file.questions:
            for built in notes_of(role_file, q, _numbers(q, history)):
                if built.kind not in held:
                    continue  # a reverse card is made from the question: never edited there
                note = held[built.kind].get(q.id)
                stamp = history.notes.get(built.key) if history is not None else None
                if note is None or stamp is None:
                    continue  # new to Anki, or no history to tell by
                if note.mod is not None and note.mod <= stamp.mod:
                    continue  # not edited there (no mod: told by its fields alone, below)
                if not _differs(bank, files, note, history):
                    continue  # edited, but to what the YAML says: nothing to lose
                edited = Edited(role_file, q, note)
                yaml_changed = built.fingerprint != stamp.fingerprint
                (conflicts if yaml_changed else kept).append(edited)
    keys = note_keys(bank)
    chosen = note_keys(selected)
    gone = [n for n in notes if n.question_id and n.key not in keys]
    return Look(
        notes,
        tuple(kept),
        tuple(conflicts),
        removed=tuple(n for n in gone if not n.has_tag(REMOVED_TAG)),
        pruned=tuple(n for n in gone if n.has_tag(REMOVED_TAG)),
        returned=tuple(n for n in notes if n.key in chosen and n.has_tag(REMOVED_TAG)),
    )


def _numbers(q: Question, history: History | None) -> tuple[int, ...]:
    """The cloze numbers a build from ``history`` gives ``q``'s key points."""
    clozes = history.clozes.get(f"{q.id}::key-points") if history is not None else None
    return assign_clozes(clozes, [point_hash(p) for p in q.key_points])


def conflicts(found: Look) -> ContentErrors:
    """Each conflict at its question's ``PATH:LINE``, saying how to settle it."""
    return ContentErrors(
        ContentError(
            e.role_file.display_path,
            e.question.line,
            0,
            f"'{e.question.id}': edited in Anki and in the YAML since the last build; "
            "importing would replace the Anki edit, so nothing was built or imported. See "
            "both with 'interview-deck pull --from-anki', then keep Anki's with "
            "'pull --from-anki --prefer anki --apply', or the YAML's with 'push --prefer yaml'",
            code="push-conflict",
        )
        for e in found.conflicts
    )


def _differs(
    bank: Bank, files: Sequence[SourceFile], note: AnkiNote, history: History | None
) -> bool:
    """True when ``pull`` would bring something of ``note`` home (or cannot: an edit that
    does not fit the YAML, such as a pasted image, is an edit all the same)."""
    try:
        found = plan_pull(bank, files, [note.exported()], history, ANKI)
    except ContentErrors:
        return True
    return bool(found.pulled)


def deliver(
    client: Client,
    package: Path,
    before: Look,
    bank: Bank,
    selected: Bank,
    history: History | None,
    *,
    prune: bool = False,
    and_sync: bool = False,
) -> Pushed:
    """Import ``package`` into Anki, restore the notes of questions back in the bank, prune
    (``prune``) and sync (``and_sync``); what Anki then holds of the notes of the
    ``selected`` questions (every kind: a question's key points and reverse card too)."""
    import_package(client, package)
    after = with_mods(client, held_notes(client, bank, history), bank)
    held = by_key(after, history)
    old = {n.id: n for n in before.notes}
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    missing: list[str] = []
    for key in note_keys(selected):
        note = held.get(key)
        if note is None:
            missing.append(key)
        elif note.id not in old:
            added.append(key)
        elif _changed(old[note.id], note):
            updated.append(key)
        else:
            unchanged.append(key)
    present = {n.key for n in after}
    restored = [n for n in before.returned if n.key in present]
    suspend(client, [c for n in restored for c in n.cards], undo=True)
    tag(client, [n.id for n in restored], REMOVED_TAG, undo=True)
    pruned: tuple[AnkiNote, ...] = ()
    if prune:
        pruned = before.removed
        suspend(client, [c for n in pruned for c in n.cards])
        tag(client, [n.id for n in pruned], REMOVED_TAG)
    if and_sync:
        sync(client)
    return Pushed(
        tuple(added),
        tuple(updated),
        tuple(unchanged),
        tuple(missing),
        made_in_anki=sum(1 for n in after if not n.question_id),
        pruned=tuple(n.key for n in pruned),
        restored=tuple(n.key for n in restored),
        synced=and_sync,
        look=before,
    )


def with_mods(client: Client, notes: tuple[AnkiNote, ...], bank: Bank) -> tuple[AnkiNote, ...]:
    """``notes`` each with its mod time: an AnkiConnect released before it left GitHub
    (4064fa1 and older) leaves ``mod`` out of ``notesInfo``, so the times are read from
    Anki's own export of the decks the bank builds (``exportPackage``, which every release
    has), before anything is imported. A note outside them (its question moved to another
    deck) keeps ``None``: no other deck is ever exported for push."""
    if all(n.mod is not None for n in notes):
        return notes
    decks = bank_decks(bank)
    if not note_ids(client, decks, kinds=True):
        return notes
    mods = {n.id: n.mod for n in exported_notes(client, decks)}
    return tuple(replace(n, mod=mods.get(n.id)) if n.mod is None else n for n in notes)


def _changed(before: AnkiNote, after: AnkiNote) -> bool:
    """True when the import changed the note: its fields, its tags, or its mod where the
    add-on tells it after the import too."""
    moved = None not in (before.mod, after.mod) and before.mod != after.mod
    return moved or before.fields != after.fields or before.tags != after.tags


def roots(decks: Iterable[str]) -> list[str]:
    """``decks`` without those inside another of them (an export of a deck holds its
    subdecks), sorted."""
    names = sorted(set(decks))
    return [d for d in names if not any(d.lower().startswith(o.lower() + "::") for o in names)]


def exported_notes(
    client: Client, decks: Iterable[str], away: Mapping[str, Sequence[str]] | None = None
) -> tuple[ExportedNote, ...]:
    """The notes of our note types in ``decks``, as exports made by Anki itself
    (``exportPackage`` with scheduling, one per deck, into a private temp folder removed
    afterwards) read them; and from each deck of ``away`` (questions by the deck their
    last build put them in), only the notes of those questions, the deck exported only
    when it holds one. ``AnkiError`` when Anki holds none of them."""
    wanted = [d for d in roots(decks) if note_ids(client, [d], kinds=True)]
    only: dict[str, set[str]] = {}  # a deck of ``away``: the questions taken from it
    for deck, ids in sorted((away or {}).items()):
        if question_note_ids(client, ids, deck):
            wanted.append(deck)
            only[deck] = set(ids)
    if not wanted:
        shown = ", ".join(roots(decks))
        raise AnkiError(
            f"Anki at {client.address} holds no notes of the bank's decks ({shown}): push "
            "them first (interview-deck push)",
            code="anki-decks-missing",
        )
    notes: dict[int, ExportedNote] = {}
    with scratch_folder() as folder:
        for number, deck in enumerate(wanted):
            path = folder / f"deck-{number}.apkg"
            if not export_deck(client, deck, path):
                continue  # removed since it was asked about
            if not path.is_file():
                raise AnkiError(
                    f"Anki at {client.address} says it exported '{deck}' but {path} is not "
                    "there: does Anki run in a sandbox (Flatpak, Snap) or on another machine?",
                    code="anki-failed",
                )
            for note in read_export(path):
                if deck not in only or note.question_id in only[deck]:
                    notes.setdefault(note.id, note)
    return tuple(notes[i] for i in sorted(notes))
