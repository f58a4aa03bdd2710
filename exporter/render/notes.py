"""``Bank`` -> the notes and decks of a package, as plain data (no ids or times yet).

A question makes its main note ("Interview Question"), and, when it has them, a note of its
key points (one cloze card each) and a reverse note ("Interview Extra"); see
``exporter.render.notetype``. Each note has its own key (the question id, or the id and the
kind: ``id::key-points``), fingerprint and fields."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from exporter.markup.highlight import plugin_lexers
from exporter.markup.markdown import inert_anki_syntax, inert_math_delimiters, to_html
from exporter.render.notetype import NoteKind


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
    kind: NoteKind = "question"
    clozes: tuple[int, ...] = ()  # key points: each point's cloze number, in point order

    @property
    def key(self) -> str:
        """The note's key in the build history: its question's id, with its kind after
        ``::`` for a question's other notes (``::`` is never part of an id)."""
        return self.question_id if self.kind == "question" else f"{self.question_id}::{self.kind}"

    @property
    def fields(self) -> tuple[str, ...]:
        """The field values, rendered on each use: kept for 100k notes they cost ~150 MB."""
        if self.kind == "key-points":
            return key_points_fields(self.role_file, self.question, self.clozes)
        if self.kind == "reverse":
            return reverse_fields(self.role_file, self.question)
        return fields_for(self.role_file, self.question)

    @property
    def cards(self) -> int:
        """How many cards the note makes."""
        return len(self.clozes) if self.kind == "key-points" else 1

    @property
    def _texts(self) -> tuple[str, ...]:
        """The texts the note's fields are rendered from."""
        q = self.question
        if self.kind == "key-points":
            return (q.question, *q.key_points)
        if self.kind == "reverse":
            return (q.question, q.answer)
        return (q.question, q.answer, q.hint, *q.follow_ups)

    @property
    def media(self) -> tuple[MediaFile, ...]:
        """The media files this note's fields may show (its question's images)."""
        return tuple(i.file for i in self.question.images if i.file is not None)

    @cached_property  # read by the content fingerprint and the history: hash once
    def fingerprint(self) -> str:
        """A hash of everything the note is made from, and of the code that renders it:
        changes exactly when Anki should update the note, without rendering its fields (a
        build renders each field once, when it writes the package)."""
        q = self.question
        media = sorted(q.media_names().items())
        content: list[object] = [q.question, q.answer, q.difficulty, self.role_file.role, q.id]
        head: list[object] = [self.guid, self.deck]
        if self.kind == "question" and (q.hint or q.follow_ups):
            content.append([q.hint, list(q.follow_ups)])
        elif self.kind == "key-points":
            head = [self.kind, *head]
            content = [list(q.key_points), list(self.clozes), q.question, *content[2:]]
        elif self.kind == "reverse":
            head = [self.kind, *head]
        payload = _json([*head, content, media, self.tags, _renderer_of(*self._texts)])
        return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(x, ensure_ascii=False), made once


# How fields are rendered, as a number: raised with every change to the HTML a text renders
# to (the golden test in tests/render fails until it is), so that Anki updates exactly the
# notes whose fields changed. A change that keeps the HTML (a refactor, a moved module)
# keeps the number, so it never makes every note look edited.
RENDER_REVISION = 4


@cache
def renderer_identity(highlighted: bool = True) -> str:
    """A hash of how fields are rendered: ``RENDER_REVISION`` and the renderer's version;
    for a note with fenced code also Pygments' version and the plugin lexers installed (a
    change of any is a change to every note it renders; prose never depends on Pygments)."""
    import pyromark

    parts: list[object] = [RENDER_REVISION, ["pyromark", pyromark.__version__]]
    if highlighted:
        import pygments

        parts += [["pygments", pygments.__version__], list(plugin_lexers())]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def has_fence(text: str) -> bool:
    """True when ``text`` may hold a fenced code block."""
    return "```" in text or "~~~" in text


def _renderer_of(*texts: str) -> str:
    """``renderer_identity`` for a note's texts: highlighted when one has a fence."""
    return renderer_identity(any(map(has_fence, texts)))


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


def fields_for(role_file: RoleFile, question: Question) -> tuple[str, ...]:
    """The main note's fields as card HTML: Question, Answer, Difficulty, Role, ID."""
    media = question.media_names()
    return (
        question_html(question, media),
        answer_html(question, media),
        question.difficulty,
        role_html(role_file),
        question.id,
    )


def role_html(role_file: RoleFile) -> str:
    """The role as a field shows it: text, never markup, never a formula."""
    return inert_math_delimiters(inert_anki_syntax(html.escape(role_file.role, quote=False)))


# The parts a question's optional keys add to its main note's fields: exactly this markup,
# so that ``pull`` can tell them from the question and the answer (see split_question and
# split_answer in exporter.authoring.pull).
HINT_OPEN = '<details class="iq-hint"><summary>Hint</summary>\n<div class="iq-hint-text">'
HINT_CLOSE = "</div>\n</details>"
FOLLOW_UPS_OPEN = (
    '<div class="iq-follow-ups">\n<h3 class="iq-heading">Follow-up questions</h3>\n<ol>'
)
FOLLOW_UPS_CLOSE = "</ol>\n</div>"


def question_html(question: Question, media: Mapping[str, str]) -> str:
    """The Question field: the question, then its hint (collapsed until asked for, with no
    script: a ``<details>`` element, on Anki desktop and AnkiDroid alike)."""
    shown = to_html(question.question, media)
    if not question.hint:
        return shown
    return f"{shown}\n{HINT_OPEN}{to_html(question.hint, media)}{HINT_CLOSE}"


def answer_html(question: Question, media: Mapping[str, str]) -> str:
    """The Answer field: the sample answer, then the follow-up questions."""
    shown = to_html(question.answer, media)
    if not question.follow_ups:
        return shown
    items = "".join(f"\n<li>{_inline(to_html(f, media))}</li>" for f in question.follow_ups)
    return f"{shown}\n{FOLLOW_UPS_OPEN}{items}\n{FOLLOW_UPS_CLOSE}"


def _inline(rendered: str) -> str:
    """One paragraph's HTML without its ``<p>`` (a list item of one paragraph)."""
    inner = rendered.removeprefix("<p>").removesuffix("</p>")
    if rendered.startswith("<p>") and rendered.endswith("</p>") and "</p>" not in inner:
        return inner
    return rendered


# Anki reads cloze syntax in a cloze field's HTML: '{{c1::' opens, '::' starts a hint, '}}'
# closes. A point's own braces and double colons are written as character references:
# the card shows them, and Anki finds nothing in them.
_CLOZE_SYNTAX = re.compile(r"[{}]|:(?=:)|(?<=:):")
_CLOZE_ESCAPES = {"{": "&#123;", "}": "&#125;", ":": "&#58;"}


def cloze_text(points: Sequence[str], numbers: Sequence[int]) -> str:
    """The Text field of a key-points note: each point, as inline HTML, a cloze with its
    number, in a list."""
    items = "".join(
        f"\n<li>{{{{c{n}::{_CLOZE_SYNTAX.sub(_cloze_escape, _inline(to_html(p)))}}}}}</li>"
        for p, n in zip(points, numbers, strict=True)
    )
    return f'<ul class="iq-point-list">{items}\n</ul>'


def _cloze_escape(match: re.Match[str]) -> str:
    return _CLOZE_ESCAPES[match.group()]


def key_points_fields(
    role_file: RoleFile, question: Question, numbers: Sequence[int]
) -> tuple[str, ...]:
    """A key-points note's fields: Text, Question, Extra, Difficulty, Role, ID."""
    return (
        cloze_text(question.key_points, numbers),
        to_html(question.question, question.media_names()),
        "",
        question.difficulty,
        role_html(role_file),
        question.id,
    )


REVERSE_PROMPT = '<h2 class="iq-heading">Which question does this answer?</h2>'
REVERSE_HEADING = '<h2 class="iq-heading">Question</h2>'


def reverse_fields(role_file: RoleFile, question: Question) -> tuple[str, ...]:
    """A reverse note's fields: Front (the sample answer), Back (the question), Kind,
    Difficulty, Role, ID."""
    media = question.media_names()
    return (
        f'{REVERSE_PROMPT}\n<div class="iq-answer">{to_html(question.answer, media)}</div>',
        f'{REVERSE_HEADING}\n<div class="iq-question">{to_html(question.question, media)}</div>',
        "reverse",
        question.difficulty,
        role_html(role_file),
        question.id,
    )


def notes_of(
    role_file: RoleFile, question: Question, clozes: Sequence[int] | None = None
) -> tuple[NoteSpec, ...]:
    """Every note of one question: its main note, then its key points' and its reverse
    note when it has them. ``clozes``: the key points' numbers (default 1, 2, …)."""
    main = note_for(role_file, question)
    notes = [main]
    if question.key_points:
        numbers = tuple(clozes) if clozes else tuple(range(1, len(question.key_points) + 1))
        notes.append(_other_note(main, "key-points", numbers))
    if question.reverse:
        notes.append(_other_note(main, "reverse", ()))
    return tuple(notes)


def _other_note(main: NoteSpec, kind: NoteKind, clozes: tuple[int, ...]) -> NoteSpec:
    """The note of another ``kind`` of ``main``'s question (made directly:
    ``dataclasses.replace`` cost a quarter of ``notes_of``)."""
    return NoteSpec(
        main.question_id,
        guid_for(f"{main.question_id}::{kind}"),
        main.deck,
        main.role_file,
        main.question,
        main.tags,
        main.difficulty,
        kind,
        clozes,
    )


def notes_for(bank: Bank) -> tuple[NoteSpec, ...]:
    """Every note of the bank, question by question in bank order (key points numbered 1,
    2, …, as a first build numbers them)."""
    return tuple(n for f in bank.files for q in f.questions for n in notes_of(f, q))


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
