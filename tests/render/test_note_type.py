"""The note type: its name, id, fields and template name are a contract with users'
collections; a change of style or read-aloud (--tts) updates the users' copy in place, with
no second note type and no lost review."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.render import notetype as notetype_module
from exporter.render.notetype import NoteKind, NoteType, note_type, note_types
from helpers import CONTENT, EPOCH, Anki, Builder, bank_counts, review_some, run_cli, scheduling


def test_note_type_contract_is_pinned() -> None:
    """Field and template names are a contract with users' collections: change = migration."""
    nt = notetype_module.note_type()
    assert nt.id == 1_730_118_263_051
    assert nt.name == "Interview Question"
    assert nt.fields == ("Question", "Answer", "Difficulty", "Role", "ID")
    assert nt.template_name == "Interview Card"


def test_the_other_note_types_are_pinned() -> None:
    """The key points' and the extra cards' note types: ids, names, fields, template names
    and kind are a contract with users' collections, decided once (change = migration)."""
    from exporter.render.notetype import extra_type, key_points_type

    points, extra = key_points_type(), extra_type()
    assert (points.id, points.name, points.template_name, points.cloze) == (
        1_730_118_263_052,
        "Interview Key Points",
        "Key Point",
        True,
    )
    assert points.fields == ("Text", "Question", "Extra", "Difficulty", "Role", "ID")
    assert (extra.id, extra.name, extra.template_name, extra.cloze) == (
        1_730_118_263_053,
        "Interview Extra",
        "Extra Card",
        False,
    )
    assert extra.fields == ("Front", "Back", "Kind", "Difficulty", "Role", "ID")
    assert "{{cloze:Text}}" in points.front
    assert "{{cloze:Text}}" in points.back
    assert note_types().keys() == {"question", "key-points", "reverse"}


def test_note_type_keeps_its_names() -> None:
    """Styling only: the note type's name, fields and template name are unchanged."""
    notetype = note_type()
    assert notetype.name == "Interview Question"
    assert notetype.fields == ("Question", "Answer", "Difficulty", "Role", "ID")
    assert notetype.template_name == "Interview Card"


def test_note_type_fields_in_order(build: Builder, anki: Anki) -> None:
    """The note type is 'Interview Question' with the documented fields, Question sorting."""
    anki.import_package(build(CONTENT).output)
    (model,) = anki.notetypes()
    assert model["name"] == "Interview Question"
    assert [f["name"] for f in model["flds"]] == ["Question", "Answer", "Difficulty", "Role", "ID"]
    assert model["sortf"] == 0


def test_css_change_updates_the_note_type(
    build: Builder, anki: Anki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSS change raises the note type's mod, and Anki's copy takes the new CSS."""
    out = tmp_path / "dist" / "deck.apkg"
    anki.import_package(build(CONTENT, output=out).output)
    review_some(anki, 1)
    before = scheduling(anki)

    original = notetype_module.note_types

    def restyled(tts_lang: str | None = None) -> dict[NoteKind, NoteType]:
        types = original(tts_lang=tts_lang)
        nt = types["question"]
        return {
            **types,
            "question": nt._replace(css=nt.css + "\n.iq-test-marker { color: red; }\n"),
        }

    monkeypatch.setattr("exporter.package.assemble.note_types", restyled)
    build(CONTENT, output=out, fresh=True)  # the code changed, the record cannot know
    anki.import_package(out)
    (model,) = anki.notetypes()
    assert ".iq-test-marker" in model["css"]
    assert len(anki.notes()) == bank_counts().notes
    assert scheduling(anki) == before


def test_restyled_package_updates_the_note_type_in_place(
    build: Builder, anki: Anki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collection holding the old style gets the new CSS on re-import, no second note type."""
    import exporter.package.assemble

    current = note_type()
    output = tmp_path / "out" / "deck.apkg"
    old = {**note_types(), "question": current._replace(css="/* old */")}
    with monkeypatch.context() as patch:
        patch.setattr(exporter.package.assemble, "note_types", lambda **_: old)
        anki.import_package(build(CONTENT, output=output).output)
    assert [m["css"] for m in anki.notetypes()] == ["/* old */"]
    anki.import_package(build(CONTENT, output=output, epoch=EPOCH + 86_400, fresh=True).output)
    (model,) = anki.notetypes()
    assert model["css"] == current.css
    assert [t["name"] for t in model["tmpls"]] == ["Interview Card"]
    assert [t["qfmt"] for t in model["tmpls"]] == [current.front]
    assert len(anki.notes()) == bank_counts().notes


def test_tts_reads_the_question_and_updates_the_note_type(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """--tts adds Anki's tts tag to the front; re-importing updates the same note type."""
    out = tmp_path / "deck.apkg"
    anki.import_package(build(CONTENT, output=out).output)
    assert not anki.notes()[0].cards()[0].question_av_tags()
    build(CONTENT, output=out, extra=["--tts", "en_US"])
    log = anki.import_package(out)
    assert len(log.conflicting) == 0
    assert len(log.new) == 0
    (model,) = anki.notetypes()
    assert "{{tts en_US:Question}}" in model["tmpls"][0]["qfmt"]
    card = anki.note_by_id_field("secure-ml-pipelines-model").cards()[0]
    assert "[anki:play:q:0]" in card.question()
    (tag,) = card.question_av_tags()
    assert tag.lang == "en_US"
    assert tag.field_text.strip() == (
        "What steps do you take to secure ML pipelines and model serving systems?"
    )
    assert len(anki.notes()) == bank_counts().notes


def test_tts_rejects_a_bad_language_code(tmp_path: Path) -> None:
    """--tts takes a language code; anything else is a usage error (exit 2)."""
    result = run_cli(["build", str(CONTENT), "-o", str(tmp_path / "x.apkg"), "--tts", "en US"])
    assert result.exit_code == 2
    assert "is not a language code" in result.stderr


def test_tts_switches_on_and_off_across_outputs_keeping_reviews(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """build (plain), build --tts -o practice, import practice: read aloud; build plain
    again: a newer note-type mod, said in one line; import it: no {{tts}}, one note type,
    reviews kept; a rebuild with nothing changed is byte-identical; build practice again:
    read aloud again. All at one SOURCE_DATE_EPOCH, as CI builds."""
    plain, practice = tmp_path / "dist" / "deck.apkg", tmp_path / "dist" / "practice.apkg"
    tts = ["--tts", "en_US"]

    def qfmt() -> str:
        (model,) = anki.notetypes()  # never a second note type
        return str(model["tmpls"][0]["qfmt"])

    anki.import_package(build(CONTENT, output=plain).output)
    review_some(anki, 3)
    anki.import_package(build(CONTENT, output=practice, extra=tts).output)
    assert "{{tts en_US:Question}}" in qfmt()
    before = scheduling(anki)

    again = build(CONTENT, output=plain)
    assert (
        f"Note type: differs from the one {practice} was built with, so this build's is "
        f"newer: import {plain} to switch Anki to it." in again.stdout
    )
    anki.import_package(plain)
    assert "{{tts" not in qfmt()
    assert not anki.note_by_id_field("secure-ml-pipelines-model").cards()[0].question_av_tags()
    assert scheduling(anki) == before
    assert len(anki.notes()) == bank_counts().notes
    kept = plain.read_bytes()
    assert build(CONTENT, output=plain, fresh=True, expect="unchanged").output == plain
    assert plain.read_bytes() == kept

    anki.import_package(build(CONTENT, output=practice, extra=tts).output)
    assert "{{tts en_US:Question}}" in qfmt()
    assert scheduling(anki) == before


def test_hostile_siblings_neither_break_the_line_nor_the_build(
    build: Builder, tmp_path: Path
) -> None:
    """A sibling history named with a line break is named on one escaped line; a damaged
    or unreadable sibling (a FIFO) is passed over, never read, never a traceback."""
    import os
    import shutil

    out = tmp_path / "dist"
    practice = build(CONTENT, output=out / "practice.apkg", extra=["--tts", "en_US"])
    evil = out / "evil\nname.lock.json"
    shutil.move(practice.history, evil)
    (out / "damaged.lock.json").write_text("{", encoding="utf-8")
    os.mkfifo(out / "fifo.lock.json")
    plain = build(CONTENT, output=out / "deck.apkg")
    (line,) = [x for x in plain.stdout.splitlines() if x.startswith("Note type:")]
    assert f"the one '{out}/evil\\nname.apkg' was built with" in line
