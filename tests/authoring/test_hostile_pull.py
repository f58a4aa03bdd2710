"""Hostile cases for `pull --apply`: the files it edits are never split from what they name
nor written through a link. Real Anki exports throughout."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

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


_POINT = "{{c1::the client sends an idempotency key}}"
_LIST_END = "</ol>\n</div>"


@pytest.mark.parametrize(
    ("field", "edit", "words"),
    [
        ("Text", lambda f: f.replace(_POINT, "the client sends an idempotency key"), "idempotency"),
        ("Text", lambda f: f.replace(_POINT, _POINT[:-2] + "::which header}}"), "which header"),
        ("Text", lambda f: f.replace("sends an", "sends {{c2::an}} an"), "idempotency key"),
        ("Text", lambda f: f.replace("</ul>", "<li>{{c1::a second use}}</li></ul>"), "second use"),
        ("Text", lambda f: f.replace("</ul>", "<li>no cloze here</li></ul>"), "no cloze here"),
        ("Text", lambda f: f.replace("{{c1::", "{{c0::"), "idempotency"),
        ("Answer", lambda f: f.replace(_LIST_END, "</ol><p>Ask about TTLs</p></div>"), "TTLs"),
        ("Answer", lambda f: f.replace("<ol>", "").replace("</ol>", ""), "arrive at once"),
        ("Question", lambda f: f.replace(">Hint<", ">Hint: think of retries<"), "of retries"),
    ],
    ids=[
        *("cloze-removed", "cloze-hint", "nested", "number-twice", "no-cloze", "c0"),
        *("after-list", "no-list", "hint-label"),
    ],
)
def test_words_of_a_training_field_that_pull_cannot_place_are_reported(
    tmp_path: Path, anki: Anki, field: str, edit: Any, words: str
) -> None:
    """Words a user leaves in a key-points or follow-ups field where no key can hold them are
    reported at file:line, never silently dropped from the YAML."""
    from test_pull_training import built, loaded, note_of, pulled, save

    src, package = built(tmp_path, anki)
    note = note_of(anki, "Interview Key Points" if field == "Text" else "Interview Question")
    note[field] = edit(note[field])
    assert words in note[field]
    save(anki, note)
    before = src.read_text(encoding="utf-8")
    result = pulled(tmp_path, anki, package, src, "--apply")
    written = yaml.safe_dump(loaded(src))
    assert words in written or (result.exit_code == 1 and f"{src}:3" in result.output), (
        result.output
    )
    if result.exit_code == 1:
        assert src.read_text(encoding="utf-8") == before
        assert "Traceback" not in result.output
