"""``Bank`` -> the notes and decks of a package, as plain data (no ids or times yet)."""

from __future__ import annotations

import hashlib
import html
import importlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING

from exporter.content.model import (
    GUID_NAMESPACE,
    Bank,
    Difficulty,
    MediaFile,
    Question,
    RoleFile,
    guid_for,
)
from exporter.markup.highlight import plugin_lexers
from exporter.markup.markdown import inert_anki_syntax, to_html
from exporter.workers import ordered_map, worker_count

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class KnownNote:
    """What an earlier build found for a note made from the very same text and code
    (``exporter.state.workcache``): its fingerprint, and its Question and Answer HTML when that
    build rendered them, and its GUID."""

    fingerprint: str
    html: tuple[str, str]
    guid: str


@dataclass(frozen=True)
class NoteSpec:
    """One note as it lands in Anki: identity, fields, tags and deck."""

    question_id: str
    guid: str
    deck: str
    role_file: RoleFile = field(repr=False)
    question: Question = field(repr=False)
    tags: tuple[str, ...]
    difficulty: Difficulty
    # What an earlier build found for this very note (``exporter.state.workcache``), if anything.
    known_fingerprint: str = field(default="", repr=False, compare=False)
    known_html: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def fields(self) -> tuple[str, ...]:
        """The field values, rendered on each use: kept for 100k notes they cost ~150 MB."""
        if self.known_html is not None:
            return fields_for(self.role_file, self.question, self.known_html)
        return fields_for(self.role_file, self.question)

    @property
    def media(self) -> tuple[MediaFile, ...]:
        """The media files this note's fields show."""
        return tuple(i.file for i in self.question.images if i.file is not None)

    @cached_property  # read by the content fingerprint and the history: hash once
    def fingerprint(self) -> str:
        """A hash of everything the note is made from, and of the code that renders it:
        changes exactly when Anki should update the note, without rendering its fields (a
        build renders each field once, when it writes the package)."""
        if self.known_fingerprint:
            return self.known_fingerprint
        q = self.question
        payload = json.dumps(
            [
                self.guid,
                self.deck,
                [q.question, q.answer, q.difficulty, self.role_file.role, q.id],
                sorted(q.media_names().items()),
                self.tags,
                renderer_identity(),
            ],
            ensure_ascii=False,
        )
        return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


# How fields are rendered, as a number: raised with every change to the HTML a text renders
# to (the golden test in tests/render fails until it is), so that Anki updates exactly the
# notes whose fields changed. A change that keeps the HTML (a refactor, a moved module)
# keeps the number, so it never makes every note look edited.
RENDER_REVISION = 2
_LIBRARIES = ("pyromark", "pygments")


@cache
def renderer_identity() -> str:
    """A hash of how fields are rendered: ``RENDER_REVISION``, the versions of the libraries
    that render, and Pygments' plugin lexers (a change of any is a change to every note)."""
    versions = [getattr(importlib.import_module(n), "__version__", None) for n in _LIBRARIES]
    parts = [RENDER_REVISION, list(zip(_LIBRARIES, versions, strict=True)), plugin_lexers()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def deck_id_for(name: str) -> int:
    """A deck id derived from the deck name: positive and exact in JavaScript (< 2**53)."""
    digest = hashlib.sha256(f"{GUID_NAMESPACE}:deck:{name}".encode()).digest()
    return (1 << 40) + int.from_bytes(digest[:6], "big") % ((1 << 52) - (1 << 40))


def note_for(role_file: RoleFile, question: Question, known: KnownNote | None = None) -> NoteSpec:
    """The note for one question of a role file (``known``: what an earlier build found)."""
    return NoteSpec(
        question_id=question.id,
        guid=known.guid if known else question.guid or guid_for(question.id),
        deck=role_file.deck,
        role_file=role_file,
        question=question,
        tags=(f"difficulty::{question.difficulty}", f"role::{role_file.slug}", *question.tags),
        difficulty=question.difficulty,
        known_fingerprint=known.fingerprint if known else "",
        known_html=known.html if known else None,
    )


def fields_for(
    role_file: RoleFile, question: Question, rendered: tuple[str, str] | None = None
) -> tuple[str, ...]:
    """The note's fields as card HTML: Question, Answer, Difficulty, Role, ID (``rendered``:
    the first two, already rendered)."""
    if rendered is None:
        media = question.media_names()
        rendered = (to_html(question.question, media), to_html(question.answer, media))
    return (
        *rendered,
        question.difficulty,
        inert_anki_syntax(html.escape(role_file.role, quote=False)),  # shown: never markup
        question.id,
    )


def notes_for(
    bank: Bank,
    known: Mapping[str, KnownNote] | None = None,
    by_fingerprint: Mapping[str, tuple[str, str]] | None = None,
) -> tuple[NoteSpec, ...]:
    """Every note of the bank, in bank order. ``known``: by question id, what an earlier
    build found for the very same note; ``by_fingerprint``: fields rendered earlier."""
    if not known and not by_fingerprint:
        return tuple(note_for(f, q) for f in bank.files for q in f.questions)
    known = known or {}
    notes = []
    for f in bank.files:
        for q in f.questions:
            note = note_for(f, q, known.get(q.id))
            html = by_fingerprint.get(note.fingerprint) if by_fingerprint else None
            if note.known_html is None and html is not None:
                note = note_for(f, q, KnownNote(note.fingerprint, html, note.guid))
            notes.append(note)
    return tuple(notes)


def decks_for(bank: Bank) -> tuple[tuple[str, str], ...]:
    """Each deck name once, in bank order, with the description of its first role file."""
    seen: dict[str, str] = {}
    for role_file in bank.files:
        seen.setdefault(role_file.deck, role_file.description)
    return tuple(seen.items())


# Below this many notes to render, workers cost more than they save (docs/BENCHMARKS.md).
PARALLEL_MIN_NOTES = 1_500
_CHUNK = 32  # notes per task: enough to hide the messaging, small enough to keep order cheap
_Job = tuple[str, str, Mapping[str, str]]


def fields_in_order(
    notes: Sequence[NoteSpec], workers: int | None = None
) -> Iterator[tuple[str, ...]]:
    """The fields of each of ``notes``, in order. ``workers``: how many processes may
    render (default: one per core when worth it; 1 renders here)."""
    todo = [n for n in notes if n.known_html is None]
    count = worker_count(len(todo), PARALLEL_MIN_NOTES, workers)
    rendered = ordered_map(_render, map(_job, todo), count, _CHUNK)
    for note in notes:
        if note.known_html is not None:
            yield note.fields
        else:
            yield fields_for(note.role_file, note.question, next(rendered))
    rendered.close()


def _job(note: NoteSpec) -> _Job:
    q = note.question
    return q.question, q.answer, q.media_names()


def _render(job: _Job) -> tuple[str, str]:
    question, answer, media = job
    return to_html(question, media), to_html(answer, media)


def media_of(notes: Sequence[NoteSpec]) -> list[MediaFile]:
    """Every media file the notes show, once each, sorted by name (the zip's numbering)."""
    by_name = {file.name: file for note in notes for file in note.media}
    return [by_name[name] for name in sorted(by_name)]
