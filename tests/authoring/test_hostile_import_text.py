"""Hostile input, import-text never churns ids: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import (
    examples,
    one_error,
    run_cli,
    write,
)

PAGE = """Role
2 questions

Question 1
Difficulty: easy
How do you detect model drift in production?
Sample answer
Compare live feature distributions with the training baseline.

Question 2
Difficulty: medium
How do you roll back a bad model?
Sample answer
Keep the previous model deployed behind a flag and switch the flag.
"""


def import_text(page: Path, target: Path, *extra: str) -> Any:
    return run_cli(["import-text", str(page), "-o", str(target), *extra])


def ids_in(target: Path) -> list[str]:
    return [line.split(": ")[1] for line in target.read_text().splitlines() if "- id: " in line]


def test_a_page_that_repeats_a_question_is_stable(tmp_path: Path) -> None:
    """Importing the same page twice changes nothing, even when the page repeats itself;
    --prune keeps every id."""
    text = PAGE.replace("2 questions", "3 questions") + (
        "\nQuestion 3\nDifficulty: easy\nHow do you detect model drift in production?\n"
        "Sample answer\nCompare live feature distributions with the training baseline.\n"
    )
    page, target = write(tmp_path / "page.txt", text), tmp_path / "role.yaml"
    assert import_text(page, target).exit_code == 0
    first = target.read_text()
    assert ids_in(target) == [
        "detect-model-drift-production",
        "roll-back-bad-model",
        "detect-model-drift-production-2",
    ]
    again = import_text(page, target)
    assert again.stdout.startswith("Unchanged:")
    assert import_text(page, target, "--prune").stdout.startswith("Unchanged:")
    assert target.read_text() == first


def test_a_reworded_question_keeps_its_id(tmp_path: Path) -> None:
    """One word changed (same place, same difficulty): the id and its tags stay; a changed
    question with the same answer too; --prune drops nothing."""
    page, target = write(tmp_path / "page.txt", PAGE), tmp_path / "role.yaml"
    import_text(page, target)
    target.write_text(
        target.read_text().replace("    answer: |-", "    tags: [kept]\n    answer: |-", 1)
    )
    reworded = PAGE.replace("How do you detect model drift", "How would you spot model drift")
    reworded = reworded.replace("How do you roll back a bad model?", "Rolling back: how?")
    write(page, reworded)
    result = import_text(page, target, "--prune")
    assert result.exit_code == 0
    assert ids_in(target) == ["detect-model-drift-production", "roll-back-bad-model"]
    assert "tags: [kept]" in target.read_text()
    assert "0 added, 0 removed" in result.stdout


def test_a_page_of_another_role_and_an_emptying_prune_are_refused(tmp_path: Path) -> None:
    """A page about another role is refused; --prune that would empty the file is refused."""
    page, target = write(tmp_path / "page.txt", PAGE), tmp_path / "role.yaml"
    import_text(page, target)
    before = target.read_text()
    other = write(tmp_path / "other.txt", PAGE.replace("Role\n", "Another Role\n", 1))
    assert "is about 'Another Role'" in one_error(import_text(other, target))
    unrelated = write(
        tmp_path / "unrelated.txt",
        "Role\n\nQuestion 1\nDifficulty: hard\nSomething else entirely, about queues?\n"
        "Sample answer\nBack-pressure and bounded buffers.\n",
    )
    assert "would remove all 2 questions" in one_error(import_text(unrelated, target, "--prune"))
    assert target.read_text() == before


def test_one_numbering_slip_is_one_message(tmp_path: Path) -> None:
    """A page that skips 'Question 2' gets one message, not one per later question."""
    text = PAGE.replace("2 questions", "4 questions").replace("Question 2", "Question 3") + (
        "\nQuestion 4\nDifficulty: easy\nQ4?\nSample answer\nA4.\n"
        "\nQuestion 5\nDifficulty: easy\nQ5?\nSample answer\nA5.\n"
    )
    page = write(tmp_path / "page.txt", text)
    result = import_text(page, tmp_path / "role.yaml")
    assert result.exit_code == 1
    assert result.stderr.count("expected 'Question") == 1


def test_a_content_file_that_is_a_symbolic_link_is_written_where_it_points(
    tmp_path: Path,
) -> None:
    """import-text into an existing content file that is a symbolic link replaces the file
    it points at and keeps the link (never a plain file in the link's place while the target
    keeps the old text), as pull --apply does."""
    page = write(tmp_path / "page.txt", PAGE)
    real = tmp_path / "shared" / "role.yaml"
    real.parent.mkdir()
    assert import_text(page, real).exit_code == 0
    link = tmp_path / "content" / "role.yaml"
    link.parent.mkdir()
    link.symlink_to("../shared/role.yaml")
    reworded = write(tmp_path / "page2.txt", PAGE.replace("flag and switch", "switch"))
    result = import_text(reworded, link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert os.readlink(link) == "../shared/role.yaml"
    assert "deployed behind a switch the flag." in real.read_text()
    assert sorted(p.name for p in real.parent.iterdir()) == ["role.yaml"]


def test_an_existing_content_file_is_edited_as_pull_edits_it(tmp_path: Path) -> None:
    """import-text into an existing content file that has a second hard link, or is
    read-only, refuses as pull --apply does, in its own name (one line, nothing written),
    never splitting the file from its twin or replacing a file its owner made read-only."""
    page = write(tmp_path / "page.txt", PAGE)
    target = tmp_path / "role.yaml"
    assert import_text(page, target).exit_code == 0
    before = target.read_bytes()
    reworded = write(tmp_path / "page2.txt", PAGE.replace("flag and switch", "switch"))
    twin = tmp_path / "twin.yaml"
    os.link(target, twin)
    assert "has 2 hard links; import-text writes" in one_error(import_text(reworded, target))
    assert target.read_bytes() == twin.read_bytes() == before
    assert os.stat(target).st_ino == os.stat(twin).st_ino
    twin.unlink()
    target.chmod(0o444)
    refused = one_error(import_text(reworded, target))
    assert "is read-only" in refused
    assert "to import-text into it" in refused
    assert target.read_bytes() == before


HUGE = "9" * 5_000  # past Python's 4,300-digit limit of int() on text


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("Question 1\n", f"Question {HUGE}\n", 4),
        ("Question 2\n", f"Question 2{HUGE}\n", 10),
        ("Question 2\n", f"Question {'0' * 5_000}2\n", None),  # leading zeros: it is 2
        ("Question 2\n", f"Question {chr(0x661) * 5_000}\n", 10),  # Arabic-Indic digits
        ("2 questions\n", f"{HUGE} questions\n", 2),
        ("2 questions\n", f"{HUGE}2 questions\n", 2),
    ],
)
def test_a_number_of_thousands_of_digits_is_a_page_line(
    tmp_path: Path, old: str, new: str, line: int | None
) -> None:
    """A 'Question N' or count line whose number has thousands of digits is one PAGE:LINE
    message (exit 1, nothing written), or read as the number it is."""
    page, target = write(tmp_path / "page.txt", PAGE.replace(old, new, 1)), tmp_path / "role.yaml"
    result = import_text(page, target)
    if line is None:
        assert result.exit_code == 0, result.stderr
        return
    message = one_error(result)
    assert message.startswith(f"{page}:{line}: ")
    assert len(message) < 300  # the number is not repeated in full
    assert not target.exists()


_TAG = re.compile(r"<[^>]*>")
_IGNORED = '<span class="tex2jax_ignore">'  # the renderer's literal '\\(' that MathJax skips


def shown_on_card(field_html: str) -> str | None:
    """What a card shows for ``field_html`` when it is paragraphs of text and nothing else;
    ``None`` for any other element, or a ``\\(``/``\\[`` that Anki's MathJax would typeset."""
    tags, texts = _TAG.findall(field_html), _TAG.split(field_html)
    out, ignored, paragraphs = [html.unescape(texts[0])], False, 0
    for tag, text in zip(tags, texts[1:], strict=True):
        if tag == "<p>":
            out.append("\n\n" if paragraphs else "")
            paragraphs += 1
        elif tag == "<br />":
            out.append("\n")
        elif tag == _IGNORED:
            ignored = True
        elif tag == "</span>" and ignored:
            ignored = False
        elif tag != "</p>":
            return None
        if tag in ("<br />", "</p>"):
            text = text.removeprefix("\n")  # the renderer's own line break after the tag
        shown = html.unescape(text)
        if not ignored and re.search(r"\\[(\[]", shown):
            return None
        out.append(shown)
    return "".join(out)


def imported_or_refused(tmp_path: Path, page_text: str) -> None:
    """import-text of ``page_text`` either writes a file that validates and whose cards show
    each text exactly as the page does, or refuses at PAGE:LINE and writes nothing."""
    from exporter.authoring.page import parse_page
    from exporter.content.load import load_file
    from exporter.content.sources import SourceFile
    from exporter.markup.markdown import to_html

    page, target = write(tmp_path / "page.txt", page_text), tmp_path / "role.yaml"
    target.unlink(missing_ok=True)
    result = import_text(page, target)
    if result.exit_code != 0:
        message = one_error(result)
        assert re.match(rf"{re.escape(str(page))}:[1-9][0-9]*: ", message), message
        assert not target.exists()
        return
    assert run_cli(["validate", str(target)]).exit_code == 0
    expected = parse_page(page_text, "page.txt")
    role_file = load_file(SourceFile(target.resolve(), "role.yaml")).role_file
    assert role_file is not None
    assert len(role_file.questions) == len(expected.questions)
    for made, asked in zip(role_file.questions, expected.questions, strict=True):
        assert shown_on_card(to_html(made.question)) == asked.question
        assert shown_on_card(to_html(made.answer)) == asked.answer
    if expected.description:
        assert shown_on_card(to_html(role_file.description)) == expected.description


def _page(question: str, answer: str, description: str = "") -> str:
    head = f"Role\n{description}\n" if description else "Role\n"
    return head + f"\nQuestion 1\nDifficulty: easy\n{question}\nSample answer\n{answer}\n"


ANKI_AND_MARKDOWN = [
    "Use \\( to open a formula",
    "It costs $$9 a month",
    "Write \\[0-9\\] in the pattern",
    "The variable $x$ and $y$",
    "Play [sound:a.mp3] or {{c1::cloze}} or [anki:tts]x[/anki:tts] or [$]x[/$]",
    "<script>alert(1)</script> and <b>bold</b> and <!-- comment -->",
    "[click](javascript:alert(1)) and ![flow](diagram.png) and <https://example.com>",
    "*stars* _under_ **strong** `code` ~~struck~~ a\\\nb",
    "- a list\n1. numbered\n2) numbered\n# heading\n> quote\n---",
    "Title\n===\n\n```python\nx = 1\n```\n\n~~~\ny\n~~~",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "&amp; &#91; &copy; \\& \\* \\\\ \\( \\)",
    "$$\nx\n$$",
    "\\(x\\) and \\[y\\]",
    "Trailing backslash\\\nnext line",
]


@pytest.mark.parametrize("text", ANKI_AND_MARKDOWN)
def test_page_text_reads_back_as_the_page_says(tmp_path: Path, text: str) -> None:
    """A page whose question, answer or description mentions math, Markdown, HTML or Anki's
    own syntax: the file import-text writes validates and its cards show the page's text,
    or the import is refused at PAGE:LINE with nothing written."""
    imported_or_refused(tmp_path, _page("What does this mean?", text))
    imported_or_refused(tmp_path, _page(text.replace("\n", " ") + "?", "An answer."))
    imported_or_refused(tmp_path, _page("Why?", "Because.", description=text))


def test_math_text_is_written_not_refused(tmp_path: Path) -> None:
    """The cases of issue 29 item 17 are written (escaped), not refused."""
    for text in ("Use \\( to open a formula", "It costs $$9 a month", "The variable $x$"):
        page, target = write(tmp_path / "page.txt", _page("Q?", text)), tmp_path / "r.yaml"
        target.unlink(missing_ok=True)
        assert import_text(page, target).exit_code == 0
        assert run_cli(["validate", str(target)]).exit_code == 0


# Text of a page's question or answer: characters and pieces that mean something in
# Markdown, in our math rules, in HTML or to Anki, and plain words between them.
_PIECES = st.sampled_from(
    [
        "\\",
        "(",
        ")",
        "[",
        "]",
        "$",
        "$$",
        "*",
        "_",
        "`",
        "~",
        "|",
        "<",
        ">",
        "&",
        "#",
        "!",
        "-",
        "+",
        "=",
        ".",
        ":",
        "{",
        "}",
        '"',
        "'",
        " ",
        "\n",
        "\n\n",
        "1.",
        "2)",
        "&amp;",
        "&#91;",
        "<b>",
        "<script>",
        "[sound:",
        "{{c1::",
        "javascript:",
        "http://x",
        "\\(",
        "\\)",
        "\\[",
        "\\]",
        "```",
        "~~~",
        "---",
        "===",
        "a",
        "word",
        "9",
    ]
)
_FIELD = (
    st.lists(st.one_of(_PIECES, st.text(alphabet="ab ", max_size=3)), min_size=1, max_size=12)
    .map("".join)
    .filter(
        lambda t: (
            t.strip() != ""
            and not any(
                re.fullmatch(
                    r"Question \d+|Sample answer|Difficulty:.*|\d+ questions?", line.strip()
                )
                for line in t.split("\n")
            )
        )
    )
)


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(question=_FIELD, answer=_FIELD)
def test_any_page_text_reads_back_or_is_refused(tmp_path: Path, question: str, answer: str) -> None:
    """For generated page text, import-text's file validates and its cards show the page's
    text exactly, or the import is refused at PAGE:LINE with nothing written."""
    imported_or_refused(tmp_path, _page(question, answer))


def test_a_file_the_check_would_refuse_is_refused_at_the_page_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the content check would find in the file as written is refused before
    writing, at the page line of the text it came from (here: escaping switched off, so an
    unclosed formula reaches the file)."""
    import exporter.authoring.import_text as import_text_module

    monkeypatch.setattr(import_text_module, "literal_markdown", lambda text: text)
    page = write(tmp_path / "page.txt", PAGE.replace("with the training baseline.", "with \\("))
    target = tmp_path / "role.yaml"
    message = one_error(import_text(page, target))
    assert message.startswith(f"{page}:8: this text would make a content file that cannot be")
    assert "math opened with \\( is never closed" in message
    assert not target.exists()
