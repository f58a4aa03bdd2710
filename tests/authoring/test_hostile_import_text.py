"""Hostile input, import-text never churns ids: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
    read-only, refuses as pull --apply does (one line, nothing written), never splitting the
    file from its twin or replacing a file its owner made read-only."""
    page = write(tmp_path / "page.txt", PAGE)
    target = tmp_path / "role.yaml"
    assert import_text(page, target).exit_code == 0
    before = target.read_bytes()
    reworded = write(tmp_path / "page2.txt", PAGE.replace("flag and switch", "switch"))
    twin = tmp_path / "twin.yaml"
    os.link(target, twin)
    assert "has 2 hard links" in one_error(import_text(reworded, target))
    assert target.read_bytes() == twin.read_bytes() == before
    assert os.stat(target).st_ino == os.stat(twin).st_ino
    twin.unlink()
    target.chmod(0o444)
    assert "is read-only" in one_error(import_text(reworded, target))
    assert target.read_bytes() == before
