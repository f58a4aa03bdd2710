"""Writing content files (what `import-text` and the tests' bank factory use): any text a card
can hold is written as YAML that loads back to exactly that text."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exporter.authoring.yamlwrite import dump_role_file, holds_questions, splice
from exporter.content.load import load_file
from exporter.content.model import FORBIDDEN_CHARS, Question, RoleFile, default_deck, slugify
from exporter.content.sources import SourceFile
from exporter.markup.markdown import scan
from helpers import examples, hang_guard

# Any text a card can hold (what the loader accepts), awkward YAML characters made likely.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("#:-|>'\"!&*?{}[],% \n\t@`\\\u2028\u2029\ufeff\u00a0")),
        st.characters(blacklist_categories=["Cs"]),
    ),
    min_size=1,
    max_size=60,
).filter(lambda t: t.strip() != "" and not FORBIDDEN_CHARS.search(t))


@settings(max_examples=examples(300), deadline=None)
@given(
    role=TEXT.filter(lambda r: slugify(r.strip()) != ""),
    description=TEXT,
    question=TEXT,
    answer=TEXT,
)
def test_dumped_role_loads_back_unchanged(
    role: str, description: str, question: str, answer: str
) -> None:
    """Whatever the text, the emitted YAML parses to the same role and question text."""
    # Text the loader refuses for its Markdown (an unclosed \\[ …) is not this test's case.
    assume(not scan(question).problems and not scan(answer).problems)
    original = RoleFile(
        display_path="x.yaml",
        role=role.strip(),
        deck=default_deck(role.strip()),
        description=description.strip(),
        questions=(Question("some-id", "hard", question, answer, ("a-tag",), 0),),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.yaml"
        path.write_text(dump_role_file(original), encoding="utf-8")
        result = load_file(SourceFile(path, "x.yaml"))
        loaded, errors = result.role_file, list(result.errors)
    assert errors == []
    assert loaded is not None
    assert (loaded.role, loaded.description) == (original.role, original.description)
    (q,) = loaded.questions
    assert (q.id, q.difficulty, q.question, q.answer, q.tags) == (
        "some-id",
        "hard",
        question,
        answer,
        ("a-tag",),
    )


# Splicing pulled edits into a file as it is laid out (what `pull --apply` writes).

_BLOCK_TAGS = (
    "role: R\nquestions:\n  - id: one\n    difficulty: easy\n    question: q\n    answer: a\n"
    "    tags:\n      - x  # why x\n      # the next one is the team's\n      - y  # team\n"
    "  - id: two\n    difficulty: easy\n    question: q2\n    answer: a2\n"
)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (
            ("x", "y", "z"),
            "      - x  # why x\n      # the next one is the team's\n      - y  # team\n      - z\n",
        ),
        (("x", "z"), "      - x  # why x\n      # the next one is the team's\n      - z\n"),
        (("y",), "      # the next one is the team's\n      - y  # team\n"),
        (("y", "a"), "      # the next one is the team's\n      - y  # team\n      - a\n"),
    ],
    ids=["added", "replaced-last", "removed-first", "removed-and-added"],
)
def test_a_block_tag_list_keeps_its_layout_and_comments(
    tags: tuple[str, ...], expected: str
) -> None:
    """Tags pulled into a block list stay a block list: kept items keep their lines and
    comments, comment lines stay, new tags are new items in the list's own indentation."""
    new = Question("one", "easy", "q", "a", tags)
    out = splice(_BLOCK_TAGS, "f.yaml", {"one": new}, ())
    assert out == _BLOCK_TAGS.replace(
        "      - x  # why x\n      # the next one is the team's\n      - y  # team\n", expected
    )


@pytest.mark.parametrize("dash", ["-   ", "- ", "-    "])
@pytest.mark.parametrize("indent", ["", "  ", "    "])
def test_new_questions_follow_the_lists_own_dash_column(dash: str, indent: str) -> None:
    """A list laid out `-   id: x` (or not indented at all) gets new questions laid out
    the same way, and edits land at the keys' own column."""
    pad = indent + " " * len(dash)
    text = (
        f"role: R\nquestions:\n{indent}{dash}id: one\n{pad}difficulty: easy\n"
        f"{pad}question: q\n{pad}answer: a\n"
    )
    edited = Question("one", "hard", "q", "first\nsecond")
    added = Question("two", "easy", "New?", "Yes.", ("t",))
    out = splice(text, "f.yaml", {"one": edited}, (added,))
    assert f"\n{indent}{dash}id: two\n{pad}difficulty: easy\n{pad}question: New?\n" in out
    assert f"{pad}answer: |-\n{pad}  first\n{pad}  second\n" in out


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"], ids=["CR", "CRLF", "LF"])
def test_a_multi_line_edit_is_written_with_the_files_own_line_ends(ending: str) -> None:
    """A CR-only file (which build accepts) and a CRLF one take multi-line edits and new
    questions in their own line ends."""
    text = (
        "role: R\nquestions:\n  - id: one  # first\n    difficulty: easy\n    question: q\n"
        "    answer: |-\n      a\n\n      b\n  - id: two\n    difficulty: easy\n"
        "    question: q2\n    answer: a2\n"
    ).replace("\n", ending)
    edited = Question("one", "easy", "q\nover two lines", "edited\n\nagain")
    added = Question("three", "easy", "new q", "n")
    out = splice(text, "f.yaml", {"one": edited}, (added,))
    assert out.replace(ending, "").count("\r") + out.replace(ending, "").count("\n") == 0
    assert f"      edited{ending}{ending}      again{ending}" in out
    assert "  - id: three" in out


def test_a_file_of_mixed_line_ends_is_edited_as_it_is() -> None:
    """A file that mixes CR, LF and CRLF is spliced without changing its other lines' ends,
    and the result holds exactly the edit."""
    text = (
        "role: R\rquestions:\n  - id: one\r    difficulty: easy\r\n    question: q\r"
        "    answer: |-\r      a\r  - id: two\n    difficulty: easy\n    question: q2\n"
        "    answer: a2\n"
    )
    edited = Question("one", "easy", "q", "x\ny")
    out = splice(text, "f.yaml", {"one": edited}, ())
    assert out.startswith("role: R\rquestions:\n  - id: one\r    difficulty: easy\r\n")
    assert holds_questions(out, "f.yaml", [edited, Question("two", "easy", "q2", "a2")])


def test_an_answer_of_many_blank_lines_is_replaced_in_linear_work() -> None:
    """Linear work on any field: an answer whose block holds 200,000 blank lines before its
    last line (where the white space ending its range is looked for) is replaced well
    inside a generous hang guard, and the result holds exactly the edit."""
    text = (
        "role: R\nquestions:\n  - id: one\n    difficulty: easy\n    question: q\n"
        "    answer: |-\n      a\n" + "\n" * 200_000 + "      b\n  - id: two\n"
        "    difficulty: easy\n    question: q2\n    answer: a2\n"
    )
    edited = Question("one", "easy", "q", "edited")
    with hang_guard(60):
        out = splice(text, "f.yaml", {"one": edited}, ())
    assert holds_questions(out, "f.yaml", [edited, Question("two", "easy", "q2", "a2")])
