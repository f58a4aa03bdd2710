"""The question bank as plain, immutable data: what the YAML said, already checked."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from exporter.errors import ContentWarning

Difficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[Difficulty, ...] = get_args(Difficulty)
DEFAULT_DECK_PREFIX = "Interview Questions"
# Characters no card can hold: C0/C1 controls but tab and newline (U+001F is Anki's field
# separator), lone surrogates (not encodable) and the non-characters U+FFFE/U+FFFF.
FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class MediaFile(NamedTuple):
    """An image of the bank as it goes into Anki's media folder: ``name`` is derived from
    the bytes (``sha256``), so a changed image gets a new name."""

    name: str
    path: Path  # resolved: the file read
    sha256: str
    size: int
    written: Path | None = None  # the path as written, before links are followed


class Image(NamedTuple):
    """An image a question shows: its path as written (Markdown-normalised), the line it is
    on, and the media file it resolved to (``None`` until the loader resolves it)."""

    src: str
    line: int
    file: MediaFile | None = None


class Question(NamedTuple):  # a tuple, no __dict__: 100k of them in a big bank
    """One interview question with its sample answer; ``line`` is where it starts.

    The optional parts train the answer: ``key_points`` (each a cloze card), a ``hint`` on
    the front (hidden until asked for), ``follow_ups`` on the back, and a ``reverse`` card
    (the answer on the front)."""

    id: str
    difficulty: Difficulty
    question: str
    answer: str
    tags: tuple[str, ...] = ()
    line: int = 0
    images: tuple[Image, ...] = ()
    guid: str = ""  # the note's GUID when it is not derived from the id (a note made in Anki)
    key_points: tuple[str, ...] = ()
    hint: str = ""
    follow_ups: tuple[str, ...] = ()
    reverse: bool = False

    def media_names(self) -> dict[str, str]:
        """Each image path as written -> the media file name it is shown from."""
        return {i.src: i.file.name for i in self.images if i.file is not None}


@dataclass(frozen=True)
class RoleFile:
    """One content file: the role it is about, the deck its questions go to, the questions.

    ``display_path`` is the file's name as the user gave it, for messages.
    """

    display_path: str
    role: str
    deck: str
    description: str
    questions: tuple[Question, ...]
    deck_line: int = 0  # where the deck is named: its 'deck' key, else the 'role' key

    @cached_property  # read once per note
    def slug(self) -> str:
        """The role as a tag-safe slug, e.g. ``mlops-engineer``."""
        return slugify(self.role)


class Bank(NamedTuple):
    """Every role file of a build, in a stable order (sorted by path), and the warnings the
    loader had (``PATH:LINE`` findings that do not stop a build)."""

    files: tuple[RoleFile, ...]
    warnings: tuple[ContentWarning, ...] = ()

    @property
    def questions(self) -> tuple[Question, ...]:
        """All questions, file by file, in file order."""
        return tuple(q for f in self.files for q in f.questions)


def slugify(text: str) -> str:
    """Lowercase words joined by '-': 'MLOps Engineer' -> 'mlops-engineer'.

    Letters and digits of any script are kept ('Ingénieur données' -> 'ingénieur-données'), so
    a role in any language gets a readable tag; '' when the text has no letter or digit.
    """
    out: list[str] = []
    word: list[str] = []
    for ch in unicodedata.normalize("NFC", text).lower():
        if ch.isalnum():
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return "-".join(out)


def deck_key(deck: str) -> str:
    """The name Anki files a deck under: parts compared without case or surrounding space
    (so 'Backend' and 'backend ' are one deck to Anki)."""
    text = FORBIDDEN_CHARS.sub("", unicodedata.normalize("NFC", deck))
    return "::".join(part.strip().casefold() for part in text.split("::"))


def default_deck(role: str) -> str:
    """The deck a role's questions go to unless its file names one."""
    return f"{DEFAULT_DECK_PREFIX}::{role}"


def unknown_difficulty(value: str) -> str:
    """The message for a difficulty that is none of ours, with the fix when it is close."""
    hint, fixed = "", value.strip().lower()
    if fixed in DIFFICULTIES:
        how = [("without spaces", value != value.strip()), ("in lowercase", value != value.lower())]
        hint = f"; write it {' and '.join(w for w, needed in how if needed)}: '{fixed}'"
    return f"unknown difficulty '{value}': use one of {', '.join(DIFFICULTIES)}{hint}"


# What ASCII text may hold: printable characters, tab and newline. Deleting them from the
# text's bytes is one C pass, five times faster than the character class's search.
_ASCII_ALLOWED = bytes(range(0x20, 0x7F)) + b"\t\n"


def forbidden_char(text: str) -> str | None:
    """'U+001F' for the first character of ``text`` no card can hold, else ``None``."""
    if text.isascii() and not text.encode().translate(None, _ASCII_ALLOWED):
        return None
    match = FORBIDDEN_CHARS.search(text)
    return f"U+{ord(match.group()):04X}" if match else None


GUID_NAMESPACE = "interview-deck"
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


_PAIRS = [a + b for a in _BASE91 for b in _BASE91]  # two base-91 digits at a time: 2x faster


def guid_for(question_id: str) -> str:
    """The note GUID for a question id, namespaced so other tools' notes never collide: the
    first 8 bytes of a SHA-256 as a base-91 number (genanki's alphabet)."""
    digest = hashlib.sha256(f"{GUID_NAMESPACE}:{question_id}".encode()).digest()
    return base91(int.from_bytes(digest[:8], "big"))


def base91(number: int) -> str:
    """``number`` (>= 0) in base 91, most significant digit first, no leading zero."""
    text = ""
    while number >= len(_PAIRS):
        number, rest = divmod(number, len(_PAIRS))
        text = _PAIRS[rest] + text
    return (_PAIRS[number] if number >= len(_BASE91) else _BASE91[number]) + text
