"""Hostile input, moves and renames are told: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import (
    EPOCH,
    Anki,
    Builder,
    build_deck,
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


# Two images of the same size, different bytes (only the PNG signature is checked).
PNG_A = b"\x89PNG\r\n\x1a\n" + bytes(24)
PNG_B = b"\x89PNG\r\n\x1a\n" + b"\x01" * 24
# An image, and an unknown fence language: a warning that names the file and line.
SHOWS_IMAGE = "![flow]({src})\n\n```nosuchlang\nx\n```"


def _bank(folder: Path, src: str = "diagram.png", name: str = "backend.yaml") -> Path:
    answer = SHOWS_IMAGE.format(src=src)
    return make_bank(folder, [question("flow", answer=answer)], role="Backend", filename=name)


def _standard(c: Path) -> list[Path]:
    """c/backend.yaml shows diagram.png (A); c/roles/diagram.png is another image (B)."""
    _bank(c)
    (c / "roles").mkdir()
    (c / "diagram.png").write_bytes(PNG_A)
    (c / "roles" / "diagram.png").write_bytes(PNG_B)
    return [c]


def _in_roles(c: Path) -> list[Path]:
    """c/roles/backend.yaml shows ../diagram.png and diagram.png."""
    (c / "roles").mkdir(parents=True)
    _bank(c / "roles", "../diagram.png")
    (c / "diagram.png").write_bytes(PNG_A)
    return [c]


def _move_file(c: Path) -> list[Path]:
    (c / "backend.yaml").rename(c / "roles" / "backend.yaml")  # git mv: names roles/diagram.png
    return [c]


def _rename_file(c: Path) -> list[Path]:
    (c / "backend.yaml").rename(c / "backend-role.yaml")  # the warning names the new file
    return [c]


def _link_file(c: Path) -> list[Path]:
    (c / "backend.yaml").rename(c / "roles" / "backend.yaml")
    (c / "backend.yaml").symlink_to(Path("roles") / "backend.yaml")  # same name, other folder
    return [c]


def _rename_folder(c: Path) -> list[Path]:
    (c / "roles").rename(c / "teams")
    return [c]


def _narrow_root(c: Path) -> list[Path]:
    return [c / "roles"]  # ../diagram.png is now outside the content folder


def _replace_image(c: Path) -> list[Path]:
    (c / "diagram.png").write_bytes(PNG_B)  # same size, same mtime second, other bytes
    return [c]


def _move_image(c: Path) -> list[Path]:
    (c / "diagram.png").rename(c / "roles" / "flow.png")
    (c / "diagram.png").symlink_to(Path("roles") / "flow.png")  # the same bytes, another name
    return [c]


def _move_image_away(c: Path) -> list[Path]:
    (c / "diagram.png").rename(c / "roles" / "moved.png")
    return [c]


MOVES = {
    "file moved to a subfolder": (_standard, _move_file),
    "file renamed": (_standard, _rename_file),
    "file replaced by a link to a moved copy": (_standard, _link_file),
    "folder renamed": (_in_roles, _rename_folder),
    "content root narrowed": (_in_roles, _narrow_root),
    "image replaced by same-size bytes": (_standard, _replace_image),
    "image moved behind a link": (_standard, _move_image),
    "image moved away": (_standard, _move_image_away),
}


@pytest.mark.parametrize("case", list(MOVES))
def test_a_build_after_a_move_equals_a_build_without_the_record(tmp_path: Path, case: str) -> None:
    """Moving or renaming a content file, a folder or an image, or building from another
    content folder: `build` (which may skip by its record) writes and says exactly what
    `build --no-cache` does."""
    prepare, move = MOVES[case]
    c, out = tmp_path / "c", tmp_path / "d" / "deck.apkg"
    build_deck(*prepare(c), output=out)
    sources = move(c)
    shutil.copytree(out.parent, tmp_path / "fresh")
    fresh_out = tmp_path / "fresh" / out.name
    recorded = build_deck(*sources, output=out, epoch=EPOCH + 60, expect=None)
    full = build_deck(*sources, output=fresh_out, epoch=EPOCH + 60, fresh=True, expect=None)
    assert recorded.status != "up-to-date" or full.status == "unchanged"
    assert recorded.exit_code == full.exit_code
    assert recorded.stderr == full.stderr.replace(str(fresh_out.parent), str(out.parent))
    for mine, theirs in ((out, fresh_out), (recorded.history, full.history)):
        assert mine.read_bytes() == theirs.read_bytes()
