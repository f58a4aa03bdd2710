"""Any bank (property-based): any valid bank builds and round-trips through a real Anki
collection with its text shown as typed; any broken or garbled one fails with PATH:LINE
messages and never a traceback. Banks are written by PyYAML here, independently of the
project's own YAML writer."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.content.model import DIFFICULTIES, slugify
from helpers import Anki, build_deck, card_text, examples, markdown_literal, run_cli, typed_text
from strategies import SLUG, TEXT

FAST = settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

ROLES = ["Backend Engineer", "Ingénieur données", "مهندس بيانات", "SRE 🚀"]


@st.composite
def banks(draw: Any) -> dict[str, Any]:
    """A valid one-file bank as plain data, ready for ``yaml.safe_dump``."""
    ids = draw(st.lists(SLUG, min_size=1, max_size=6, unique=True))
    questions = []
    for qid in ids:
        q: dict[str, Any] = {
            "id": qid,
            "difficulty": draw(st.sampled_from(DIFFICULTIES)),
            "question": draw(TEXT),
            "answer": draw(TEXT),
        }
        tags = draw(st.lists(SLUG, max_size=3, unique=True))
        if tags:
            q["tags"] = tags
        questions.append(q)
    return {"role": draw(st.sampled_from(ROLES)), "questions": questions}


def dump(data: Any, folder: Path) -> Path:
    """Write ``data`` as a real UTF-8 YAML content file."""
    path = folder / "bank.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def as_written(data: dict[str, Any]) -> dict[str, Any]:
    """The bank as an author who wants text shown literally writes it in Markdown: trimmed
    lines, ASCII punctuation backslash-escaped."""
    questions = [
        {
            **q,
            "question": markdown_literal(typed_text(q["question"])),
            "answer": markdown_literal(typed_text(q["answer"])),
        }
        for q in data["questions"]
    ]
    return {**data, "questions": questions}


@FAST
@given(data=banks())
def test_any_valid_bank_round_trips_through_anki(data: dict[str, Any]) -> None:
    """Generated banks build, import as exactly those notes, and show their text as typed."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = dump(as_written(data), folder)
        out = build_deck(src, output=folder / "out" / "deck.apkg").output
        anki = Anki(folder / "collection.anki2")
        try:
            anki.import_package(out)
            notes = {n["ID"]: n for n in anki.notes()}
            assert sorted(notes) == sorted(q["id"] for q in data["questions"])
            for q in data["questions"]:
                note = notes[q["id"]]
                assert card_text(note["Question"]) == typed_text(q["question"])
                assert card_text(note["Answer"]) == typed_text(q["answer"])
                assert note["Difficulty"] == q["difficulty"]
                assert card_text(note["Role"]) == data["role"]
                assert set(note.tags) == {
                    f"difficulty::{q['difficulty']}",
                    f"role::{slugify(data['role'])}",
                    *q.get("tags", []),
                }
        finally:
            anki.close()


MUTATIONS = [
    "delete-key",
    "wrong-type",
    "duplicate-id",
    "unknown-key",
    "bad-difficulty",
    "bad-id",
    "empty-text",
]
WRONG = [[], ["a"], 3, 2.5, True, None, {"a": 1}]


@FAST
@given(
    data=banks(),
    mutation=st.sampled_from(MUTATIONS),
    which=st.integers(0, 5),
    key=st.sampled_from(["id", "difficulty", "question", "answer"]),
    wrong=st.sampled_from(WRONG),
)
def test_any_broken_bank_fails_at_path_and_line(
    data: dict[str, Any], mutation: str, which: int, key: str, wrong: Any
) -> None:
    """Deleted keys, wrong types, duplicate ids...: exit 1, PATH:LINE messages, no traceback."""
    questions = data["questions"]
    q = questions[which % len(questions)]
    if mutation == "delete-key":
        del q[key]
    elif mutation == "wrong-type":
        q[key] = wrong
    elif mutation == "duplicate-id":
        questions.append(dict(q))
    elif mutation == "unknown-key":
        q[key + "s"] = "x"
    elif mutation == "bad-difficulty":
        q["difficulty"] = q["difficulty"].upper()
    elif mutation == "bad-id":
        q["id"] = q["id"] + "_X"
    elif mutation == "empty-text":
        q[key] = "   "
    with tempfile.TemporaryDirectory() as tmp:
        src = dump(data, Path(tmp))
        result = run_cli(["validate", str(src)])
    assert result.exit_code == 1
    *problems, count = result.stderr.splitlines()
    assert problems
    assert count == f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found."
    for line in problems:
        assert re.match(rf"{re.escape(str(src))}:\d+(:\d+)?: \S", line), line


VALID = (
    "role: Tester\n"
    "description: A bank.\n"
    "questions:\n"
    "  - id: first-one\n"
    "    difficulty: easy\n"
    "    question: What is it?\n"
    "    answer: |\n"
    "      It is.\n"
    "\n"
    "      Really.\n"
    "    tags: [basics, ci-cd]\n"
    "  - id: second\n"
    "    difficulty: hard\n"
    '    question: "Why: because"\n'
    "    answer: Because.\n"
)
NOISE = st.sampled_from([*list(":-#'\"[]{}&*!|>%@`\t\n ,?"), "\x00", "ÿ", "é", "---\n"])


@FAST
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(VALID)), st.sampled_from(["insert", "delete"]), NOISE),
        min_size=1,
        max_size=4,
    )
)
def test_any_garbled_file_is_reported_never_a_traceback(
    edits: list[tuple[int, str, str]],
) -> None:
    """Random character edits of a valid file: either valid, or exit 1 with PATH:LINE lines."""
    text = VALID
    for at, op, noise in edits:
        at = min(at, len(text))
        text = text[:at] + noise + text[at:] if op == "insert" else text[:at] + text[at + 1 :]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "bank.yaml"
        src.write_bytes(text.encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
        result = run_cli(["validate", str(src)])  # an exception here fails the test
    if result.exit_code == 0:
        return
    assert result.exit_code == 1
    *problems, count = result.stderr.splitlines()
    assert count == f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found."
    for line in problems:
        assert re.match(rf"{re.escape(str(src))}:\d+(:\d+)?: \S", line), line
