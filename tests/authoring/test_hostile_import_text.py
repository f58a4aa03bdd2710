"""Hostile input, import-text never churns ids: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import (
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
