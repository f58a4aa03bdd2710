"""Hostile cases for `pull --apply`: the files it edits are never split from what they name
nor written through a link. Real Anki exports throughout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import Anki, built_and_imported, export, make_bank, question, run_cli

EDITED_AT = 1_764_201_600 + 3600


def _exported_edit(tmp_path: Path, anki: Anki, bank: Path) -> tuple[Path, Path]:
    """``bank`` built and imported, its note 'one' edited in Anki: (package, export)."""
    package = built_and_imported(bank.parent, tmp_path / "out", anki)
    note = anki.note_by_id_field("one")
    note["Answer"] = "Edited in Anki."
    anki.col.update_note(note)
    anki.col.db.execute("update notes set mod=? where id=?", EDITED_AT, note.id)
    return package, export(anki, tmp_path / "x.apkg")


@pytest.mark.parametrize("named", ["folder", "file", "relative"])
def test_a_content_file_that_is_a_symbolic_link_is_written_where_it_points(
    tmp_path: Path, anki: Anki, named: str
) -> None:
    """pull --apply into a content file that is a symbolic link replaces the file it points
    at (atomically, as any content file) and keeps the link: the link is never replaced by a
    plain file while its target keeps the old text."""
    real = make_bank(tmp_path / "shared", [question("one"), question("two")])
    content = tmp_path / "c"
    content.mkdir()
    link = content / "bank.yaml"
    link.symlink_to(os.path.relpath(real, content) if named == "relative" else real)
    package, exported = _exported_edit(tmp_path, anki, link)
    target = os.readlink(link)
    result = run_cli(
        ["pull", exported, link if named == "file" else content, "--apply", "-o", package]
    )
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert os.readlink(link) == target
    assert "Edited in Anki." in real.read_text("utf-8")
    assert sorted(p.name for p in content.iterdir()) == ["bank.yaml"]
    assert sorted(p.name for p in real.parent.iterdir()) == [real.name]
