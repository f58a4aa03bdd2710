"""The "Interview Question" note type: fixed id, fields and templates, CSS from files.

Field and template names are a contract with every collection that imported a package:
renaming or reordering them makes Anki create a second note type on the next import and
refuse to update existing notes. Change them only as a planned migration (see README).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_ID = 1_730_118_263_051
MODEL_NAME = "Interview Question"
FIELDS: tuple[str, ...] = ("Question", "Answer", "Difficulty", "Role", "ID")
TEMPLATE_NAME = "Interview Card"
SORT_FIELD = 0


@dataclass(frozen=True)
class NoteType:
    """Everything of the note type that lands in a package, apart from its mod time."""

    id: int
    name: str
    fields: tuple[str, ...]
    template_name: str
    front: str
    back: str
    css: str

    @property
    def fingerprint(self) -> str:
        """A hash of all the note type's content: changes exactly when Anki should update it."""
        payload = json.dumps(
            [self.id, self.name, self.fields, self.template_name, self.front, self.back, self.css],
            ensure_ascii=False,
        )
        return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


_TEMPLATES = Path(__file__).parent / "templates"  # shipped as package data


@cache
def _template(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def note_type(*, tts_lang: str | None = None) -> NoteType:
    """The note type, optionally reading the question aloud (Anki's ``{{tts}}`` tag)."""
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
