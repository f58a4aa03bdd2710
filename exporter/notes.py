"""``Bank`` -> the notes and decks of a package, as plain data (no ids or times yet)."""

from __future__ import annotations

import hashlib
import html
import importlib.util
import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from exporter.highlight import plugin_lexers
from exporter.model import Bank, Difficulty, MediaFile, Question, RoleFile
from exporter.text import inert_anki_syntax, to_html

if TYPE_CHECKING:
    from collections.abc import Mapping

GUID_NAMESPACE = "interview-deck"
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


@dataclass(frozen=True, slots=True)
class KnownNote:
    """What an earlier build found for a note made from the very same text and code
    (``exporter.workcache``): its fingerprint, and its Question and Answer HTML when that
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
    # What an earlier build found for this very note (``exporter.workcache``), if anything.
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


# The code that turns a note's text into its fields: ours, and the libraries that shape it.
_RENDERER_FILES = ("text.py", "mathsyntax.py", "highlight.py", "notes.py")
_RENDERER_LIBRARIES = ("markdown_it", "mdurl", "pygments")


@cache
def renderer_identity() -> str:
    """A hash of the rendering code (our modules' text, the libraries' ``__init__``, which
    names their version, and Pygments' plugin lexers): a change to how fields render is a
    change to every note."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _RENDERER_FILES:
        digest.update((here / name).read_bytes())
    for library in _RENDERER_LIBRARIES:
        spec = importlib.util.find_spec(library)
        if spec is not None and spec.origin is not None:
            digest.update(Path(spec.origin).read_bytes())
    for plugin in plugin_lexers():
        digest.update(f"\0lexer\0{plugin}".encode())
    return digest.hexdigest()[:16]


def guid_for(question_id: str) -> str:
    """The note GUID for a question id, namespaced so other tools' notes never collide."""
    digest = hashlib.sha256(f"{GUID_NAMESPACE}:{question_id}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    chars: list[str] = []
    while number:
        number, rest = divmod(number, len(_BASE91))
        chars.append(_BASE91[rest])
    return "".join(reversed(chars)) or _BASE91[0]


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
