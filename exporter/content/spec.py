"""The content format in one place: its keys, patterns and what each key holds. The loader
(``exporter.content.check``) checks against these; ``json_schema`` turns the same values into the
JSON Schema that editors use for completion and hover text."""

from __future__ import annotations

import re
from typing import Any

from exporter.content.model import DIFFICULTIES

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
TOP_KEYS = ("role", "description", "deck", "questions")
QUESTION_KEYS = (
    "id",
    "difficulty",
    "question",
    "answer",
    "key_points",
    "hint",
    "follow_ups",
    "reverse",
    "tags",
    "guid",
)
REQUIRED_TOP = ("role", "questions")
REQUIRED_QUESTION = ("id", "difficulty", "question", "answer")
# A key point is one short fact to recall: at most this many characters as the card shows
# it (the text, not its Markdown), in one paragraph.
KEY_POINT_MAX = 200
# A note GUID as Anki writes one (10 characters of base91): printable ASCII, no space.
GUID_RE = re.compile(r"[!-~]{1,64}\Z")

# What each text key holds, for "missing", "empty" and "wrong type" messages.
EXPECTED = {
    "role": "the role's name as text (e.g. 'role: MLOps Engineer')",
    "description": "text",
    "deck": "a deck name as text (e.g. 'Interview Questions::MLOps')",
    "id": "a lowercase slug such as 'model-drift-2'",
    "difficulty": f"one of {', '.join(DIFFICULTIES)}",
    "question": "the question as text",
    "answer": "the sample answer as text",
    "guid": "the GUID of the Anki note this question keeps (as 'pull --add-new' writes it)",
    "key_points": "a list of short texts, one point each (e.g. '- the client sends a key')",
    "key point": "one short text (inline Markdown)",
    "hint": "a short nudge as text, shown on the front only when asked for",
    "follow_ups": "a list of follow-up questions as text",
    "follow-up": "a follow-up question as text",
    "reverse": "true or false",
}

# Hover text for every key: what it is for, then what it must hold.
PURPOSE = {
    "role": "The role these questions are for; names the role's tag (role::<slug>).",
    "description": "A few words about the role (not shown on cards).",
    "deck": "The Anki deck the cards go to; '::' makes subdecks. "
    "Default: 'Interview Questions::<role>'.",
    "questions": "The questions: a list of at least one.",
    "id": "The question's stable id: its Anki note keeps it across edits. Never reuse one.",
    "difficulty": "How hard the question is.",
    "question": "The front of the card, in Markdown ($math$, `code`, images, tables).",
    "answer": (
        "The back of the card: a sample answer, in Markdown (CommonMark with $math$, "
        "fenced code, images, GFM pipe tables and ~~strikethrough~~)."
    ),
    "tags": "Extra Anki tags, each a lowercase slug such as 'ci-cd'.",
    "guid": "Set by 'pull --add-new' for a note made in Anki; leave it as it is.",
    "key_points": (
        "The answer's key points: each becomes a cloze card showing the question and the "
        "points with that one hidden. Inline Markdown, one short sentence each."
    ),
    "hint": "A nudge on the front of the card, hidden until the learner asks for it (Markdown).",
    "follow_ups": (
        "Questions an interviewer would ask next, listed on the back after the sample "
        "answer (Markdown)."
    ),
    "reverse": "true: one more card, the sample answer on the front and the question behind it.",
}


def _pattern(regex: re.Pattern[str]) -> str:
    """A Python ``fullmatch``-style pattern (ending ``\\Z``) as a JSON Schema pattern."""
    return "^" + regex.pattern.removesuffix(r"\Z") + "$"


def _text(key: str, *, pattern: str = r"\S") -> dict[str, Any]:
    """A text key: its description (purpose, then what it holds) and its constraints: any
    text that is not blank, or text matching ``pattern``."""
    expected = EXPECTED.get(key)
    description = PURPOSE[key] + (f" Expected: {expected}." if expected else "")
    return {"description": description, "type": "string", "pattern": pattern}


def _list(key: str, item: str) -> dict[str, Any]:
    """A list of texts: at least one, none blank, none repeated."""
    return {
        "description": f"{PURPOSE[key]} Expected: {EXPECTED[key]}.",
        "type": "array",
        "minItems": 1,
        "maxItems": 100,  # exporter.content.check.MAX_LIST_ITEMS
        "uniqueItems": True,
        "items": {
            "description": EXPECTED[item].capitalize() + ".",
            "type": "string",
            "pattern": r"\S",
        },
    }


def json_schema() -> dict[str, Any]:
    """The content format as a JSON Schema (draft 2020-12)."""
    slug = _pattern(SLUG_RE)
    question = {
        "type": "object",
        "description": "One question: an id, a difficulty, the question and its answer.",
        "properties": {
            "id": _text("id", pattern=slug),
            "difficulty": {
                "description": PURPOSE["difficulty"] + f" Expected: {EXPECTED['difficulty']}.",
                "enum": list(DIFFICULTIES),
            },
            "question": _text("question"),
            "answer": _text("answer"),
            "key_points": _list("key_points", "key point"),
            "hint": _text("hint"),
            "follow_ups": _list("follow_ups", "follow-up"),
            "reverse": {
                "description": PURPOSE["reverse"] + f" Expected: {EXPECTED['reverse']}.",
                "type": "boolean",
            },
            "tags": {
                "description": PURPOSE["tags"],
                "type": "array",
                "items": {"type": "string", "pattern": slug},
                "uniqueItems": True,
            },
            "guid": _text("guid", pattern=_pattern(GUID_RE)),
        },
        "required": list(REQUIRED_QUESTION),
        "additionalProperties": False,
    }
    assert list(question["properties"]) == list(QUESTION_KEYS)  # type: ignore[call-overload]
    # No empty part between '::' (nor before the first or after the last).
    deck = r"^(?!\s*::)(?!.*::\s*::)(?!.*::\s*$)[\s\S]*\S"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "interview-deck content file",
        "description": "One role's interview questions; 'interview-deck build' turns them "
        "into Anki cards.",
        "type": "object",
        "properties": {
            # The loader also wants a letter or digit (any script); JSON Schema patterns are
            # ECMAScript, whose \w is ASCII-only, so the schema asks for text that is not
            # blank and leaves the rest to `validate`.
            "role": _text("role"),
            "description": _text("description"),
            "deck": _text("deck", pattern=deck),
            "questions": {
                "description": PURPOSE["questions"],
                "type": "array",
                "minItems": 1,
                "items": question,
            },
        },
        "required": list(REQUIRED_TOP),
        "additionalProperties": False,
    }
