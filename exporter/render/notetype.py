"""The note types: fixed ids, fields and templates, CSS from files.

"Interview Question" is the main card of every question. "Interview Key Points" (a cloze
note type) holds a question's key points, one card each; "Interview Extra" holds any other
card of a question, its ``Kind`` field saying which (``reverse`` today). Each note type's
id, name, fields and template names are a contract with every collection that imported a
package: renaming, adding or reordering them makes Anki create a second note type on the
next import and refuse to update the notes already there. They are fixed once, with room
for later kinds (the Extra field of the key points, the Kind field of the extra cards);
template text and CSS may change (Anki updates them in place from a newer note type).
See docs/architecture.md, "Decision: one note type per kind of card".
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple, get_args

MODEL_ID = 1_730_118_263_051
MODEL_NAME = "Interview Question"
FIELDS: tuple[str, ...] = ("Question", "Answer", "Difficulty", "Role", "ID")
TEMPLATE_NAME = "Interview Card"
SORT_FIELD = 0

KEY_POINTS_ID = 1_730_118_263_052
KEY_POINTS_NAME = "Interview Key Points"
KEY_POINTS_FIELDS: tuple[str, ...] = ("Text", "Question", "Extra", "Difficulty", "Role", "ID")
KEY_POINTS_TEMPLATE = "Key Point"

EXTRA_ID = 1_730_118_263_053
EXTRA_NAME = "Interview Extra"
EXTRA_FIELDS: tuple[str, ...] = ("Front", "Back", "Kind", "Difficulty", "Role", "ID")
EXTRA_TEMPLATE = "Extra Card"

# The kinds of note a question makes, in the order its notes are written.
NoteKind = Literal["question", "key-points", "reverse"]
KINDS: tuple[NoteKind, ...] = get_args(NoteKind)


class NoteType(NamedTuple):
    """Everything of a note type that lands in a package, apart from its mod time."""

    id: int
    name: str
    fields: tuple[str, ...]
    template_name: str
    front: str
    back: str
    css: str
    cloze: bool = False  # a cloze note type: one card per cloze number of its first field
    sort_field: int = SORT_FIELD

    @property
    def fingerprint(self) -> str:
        """A hash of all the note type's content: changes exactly when Anki should update it."""
        parts: list[object] = [
            self.id,
            self.name,
            self.fields,
            self.template_name,
            self.front,
            self.back,
            self.css,
        ]
        if self.cloze or self.sort_field != SORT_FIELD:
            parts += [self.cloze, self.sort_field]
        payload = json.dumps(parts, ensure_ascii=False)
        return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


_TEMPLATES = Path(__file__).parent / "templates"  # shipped as package data


@cache
def _template(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def note_type(*, tts_lang: str | None = None) -> NoteType:
    """The main note type, optionally reading the question aloud (Anki's ``{{tts}}`` tag)."""
    front = _template("front.html")
    if tts_lang:
        front = front.rstrip("\n") + f"\n{{{{tts {tts_lang}:Question}}}}\n"
    return NoteType(
        id=MODEL_ID,
        name=MODEL_NAME,
        fields=FIELDS,
        template_name=TEMPLATE_NAME,
        front=front,
        back=_template("back.html"),
        css=_template("style.css"),
    )


def key_points_type() -> NoteType:
    """The cloze note type of a question's key points: one card per point."""
    return NoteType(
        id=KEY_POINTS_ID,
        name=KEY_POINTS_NAME,
        fields=KEY_POINTS_FIELDS,
        template_name=KEY_POINTS_TEMPLATE,
        front=_template("key-points-front.html"),
        back=_template("key-points-back.html"),
        css=_template("style.css"),
        cloze=True,
        sort_field=1,
    )


def extra_type() -> NoteType:
    """The note type of a question's other cards (the reverse card), by ``Kind``."""
    return NoteType(
        id=EXTRA_ID,
        name=EXTRA_NAME,
        fields=EXTRA_FIELDS,
        template_name=EXTRA_TEMPLATE,
        front=_template("extra-front.html"),
        back=_template("extra-back.html"),
        css=_template("style.css"),
        sort_field=1,
    )


def note_types(*, tts_lang: str | None = None) -> dict[NoteKind, NoteType]:
    """The note type of each kind of note."""
    return {
        "question": note_type(tts_lang=tts_lang),
        "key-points": key_points_type(),
        "reverse": extra_type(),
    }
