"""``Bank`` -> the notes and decks of a package, as plain data (no ids or times yet)."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property

from exporter.content.model import (
    GUID_NAMESPACE,
    Bank,
    Difficulty,
    MediaFile,
    Question,
    RoleFile,
    guid_for,
)
from exporter.markup.highlight import plugin_free_languages, plugin_lexers
from exporter.markup.markdown import inert_anki_syntax, inert_math_delimiters, to_html


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
    # The Question and Answer an earlier build rendered for this very note, if any
    # (``exporter.state.fieldcache``).
    known_html: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def fields(self) -> tuple[str, ...]:
        """The field values, rendered on each use: kept for 100k notes they cost ~150 MB."""
        if self.known_html is not None:
            return fields_for(self.role_file, self.question, self.known_html)
        return fields_for(self.role_file, self.question)

    @property
    def has_code(self) -> bool:
        """True when the note shows a fenced block: the one part Pygments renders, about
        100 times the cost of prose (what the field cache keeps)."""
        return has_fence(self.question.question) or has_fence(self.question.answer)

    @property
    def media(self) -> tuple[MediaFile, ...]:
        """The media files this note's fields show."""
        return tuple(i.file for i in self.question.images if i.file is not None)

    @cached_property  # read by the content fingerprint and the history: hash once
    def fingerprint(self) -> str:
        """A hash of everything the note is made from, and of the code that renders it:
        changes exactly when Anki should update the note, without rendering its fields (a
        build renders each field once, when it writes the package)."""
        q = self.question
        payload = _json(
            [
                self.guid,
                self.deck,
                [q.question, q.answer, q.difficulty, self.role_file.role, q.id],
                sorted(q.media_names().items()),
                self.tags,
                _renderer_of(q.question, q.answer),
            ]
        )
        return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(x, ensure_ascii=False), made once


# How fields are rendered, as a number: raised with every change to the HTML a text renders
# to (the golden test in tests/render fails until it is), so that Anki updates exactly the
# notes whose fields changed. A change that keeps the HTML (a refactor, a moved module)
# keeps the number, so it never makes every note look edited.
RENDER_REVISION = 3


@cache
def renderer_identity(highlighted: bool = True, plugins: bool = True) -> str:
    """A hash of how fields are rendered: ``RENDER_REVISION`` and the renderer's version;
    for a note with fenced code also Pygments' version, and the plugin lexers when a fence
    could reach one (a change of any is a change to every note it renders; prose never
    depends on Pygments)."""
    import pyromark

    parts: list[object] = [RENDER_REVISION, ["pyromark", pyromark.__version__]]
    if highlighted:
        import pygments

        parts += [["pygments", pygments.__version__], list(plugin_lexers()) if plugins else []]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


# A fence and the first word after it: a superset of the languages fences name (the word
# is taken raw, so an escaped or quoted name is never a built-in and counts as unknown).
# Any white space but a line break is skipped before it: pulldown-cmark trims only spaces
# and tabs from an info string, and ``fence_language`` skips the rest (U+00A0, U+3000, …).
_FENCE_WORD = re.compile(r"([`~])\1\1+[^\S\n]*(\S*)")


def has_fence(text: str) -> bool:
    """True when ``text`` may hold a fenced code block."""
    return "```" in text or "~~~" in text


def _renderer_of(*texts: str) -> str:
    """``renderer_identity`` for a note's texts: highlighted when one has a fence; plugin
    lexers counted only if a fence names a language no built-in lexer has (built-ins win
    Pygments' lookup) or a built-in that looks other lexers up (reading the plugins' entry
    points costs ~15 ms)."""
    if not any(map(has_fence, texts)):
        return renderer_identity(False)
    words = {w.lower() for text in texts for _, w in _FENCE_WORD.findall(text)} - {""}
    return renderer_identity(True, not words <= plugin_free_languages())


def deck_id_for(name: str) -> int:
    """A deck id derived from the deck name: positive and exact in JavaScript (< 2**53)."""
    digest = hashlib.sha256(f"{GUID_NAMESPACE}:deck:{name}".encode()).digest()
    return (1 << 40) + int.from_bytes(digest[:6], "big") % ((1 << 52) - (1 << 40))


def note_for(role_file: RoleFile, question: Question) -> NoteSpec:
    """The note for one question of a role file."""
    return NoteSpec(
        question_id=question.id,
        guid=question.guid or guid_for(question.id),
        deck=role_file.deck,
        role_file=role_file,
        question=question,
        tags=(f"difficulty::{question.difficulty}", f"role::{role_file.slug}", *question.tags),
        difficulty=question.difficulty,
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
        # Shown on the card: never markup, never a formula.
        inert_math_delimiters(inert_anki_syntax(html.escape(role_file.role, quote=False))),
        question.id,
    )


def notes_for(
    bank: Bank, by_fingerprint: Mapping[str, tuple[str, str]] | None = None
) -> tuple[NoteSpec, ...]:
    """Every note of the bank, in bank order; ``by_fingerprint``: fields rendered earlier."""
    notes = tuple(note_for(f, q) for f in bank.files for q in f.questions)
    if not by_fingerprint:
        return notes
    return tuple(
        replace(note, known_html=by_fingerprint[note.fingerprint])
        if note.fingerprint in by_fingerprint
        else note
        for note in notes
    )


def decks_for(bank: Bank) -> tuple[tuple[str, str], ...]:
    """Each deck name once, in bank order, with the description of its first role file."""
    seen: dict[str, str] = {}
    for role_file in bank.files:
        seen.setdefault(role_file.deck, role_file.description)
    return tuple(seen.items())


def media_of(notes: Sequence[NoteSpec]) -> list[MediaFile]:
    """Every media file the notes show, once each, sorted by name (the zip's numbering)."""
    by_name = {file.name: file for note in notes for file in note.media}
    return [by_name[name] for name in sorted(by_name)]
