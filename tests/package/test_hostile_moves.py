"""Hostile input, moves and renames are told: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

from pathlib import Path

from helpers import (
    EPOCH,
    Anki,
    Builder,
    make_bank,
    question,
)


def test_a_moved_question_is_told_with_the_search(
    build: Builder, tmp_path: Path, anki: Anki
) -> None:
    """A question whose deck changed: Anki keeps its card in the old deck, and build says
    which questions moved and how to find them."""
    src = tmp_path / "c"
    make_bank(src, [question("one"), question("two")], role="Backend")
    out = tmp_path / "d" / "deck.apkg"
    anki.import_package(build(src, output=out).output)
    make_bank(src, [question("one"), question("two")], role="Platform")
    moved = build(src, output=out, epoch=EPOCH + 60)
    assert (
        "Moved to another deck since the last build: 2 questions from Interview "
        "Questions::Backend to Interview Questions::Platform." in moved.stdout
    )
    assert '"ID:one" OR "ID:two"' in moved.stdout
    anki.import_package(out)
    decks = {anki.col.decks.name(c.did) for n in anki.notes() for c in n.cards()}
    assert decks == {"Interview Questions::Backend"}  # Anki did not move them
