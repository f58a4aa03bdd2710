"""'interview-deck diff OLD NEW' lists the notes (questions, key points, reverse cards)
added, removed, changed (which fields and tags) and moved between decks, then counts the
notes, for our packages and for Anki's own exports."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import EPOCH, Anki, export, make_bank, question, run_cli

ENV = {"SOURCE_DATE_EPOCH": str(EPOCH)}


def _packages(tmp_path: Path) -> tuple[Path, Path]:
    """old.apkg: a, b, c for role Tester; new.apkg: a's answer edited, b harder with another
    tag, c gone, d new, and e moved to another role's deck."""
    old_src, new_src = tmp_path / "old", tmp_path / "new"
    make_bank(
        old_src,
        [question("a"), question("b", "medium", tags=["x"]), question("c"), question("e")],
    )
    make_bank(new_src, [question("a", answer="A, better."), question("b", "hard", tags=["y"])])
    make_bank(new_src, [question("d")], filename="more.yaml")
    make_bank(new_src, [question("e")], role="Lead", filename="lead.yaml")
    old, new = tmp_path / "out" / "old.apkg", tmp_path / "out" / "new.apkg"
    assert run_cli(["build", old_src, "-o", old], env=ENV).exit_code == 0
    assert run_cli(["build", new_src, "-o", new], env=ENV).exit_code == 0
    return old, new


def test_diff_lists_each_kind_of_change(tmp_path: Path) -> None:
    """Added, removed, changed (fields, tags) and moved, one line each, then the counts."""
    old, new = _packages(tmp_path)
    result = run_cli(["diff", old, new])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"--- {old}",
        f"+++ {new}",
        "added    d  (Interview Questions::Tester)",
        "removed  c  (Interview Questions::Tester)",
        "changed  a  (Answer)",
        "changed  b  (Difficulty, tag +difficulty::hard, tag +y, tag -difficulty::medium, tag -x)",
        "changed  e  (Role, tag +role::lead, tag -role::tester)",
        "moved    e  (Interview Questions::Tester -> Interview Questions::Lead)",
        "1 note added, 1 removed, 3 changed, 1 moved, 0 unchanged.",
    ]


def test_diff_json_and_exit_code(tmp_path: Path) -> None:
    """--json gives the same as one object; --exit-code exits 1 only when the packages differ."""
    old, new = _packages(tmp_path)
    body = json.loads(run_cli(["diff", old, new, "--json"]).stdout)
    assert body["added"] == [{"id": "d", "deck": "Interview Questions::Tester"}]
    assert body["removed"] == [{"id": "c", "deck": "Interview Questions::Tester"}]
    assert body["changed"][0] == {
        "id": "a",
        "deck": "Interview Questions::Tester",
        "fields": ["Answer"],
        "tags_added": [],
        "tags_removed": [],
    }
    assert body["moved"] == [
        {"id": "e", "from": "Interview Questions::Tester", "to": "Interview Questions::Lead"}
    ]
    assert run_cli(["diff", old, new, "--exit-code"]).exit_code == 1
    same = run_cli(["diff", new, new, "--exit-code"])
    assert same.exit_code == 0
    assert (
        same.stdout.splitlines()[-1] == "0 notes added, 0 removed, 0 changed, 0 moved, 4 unchanged."
    )


def test_diff_reads_ankis_own_export(tmp_path: Path, anki: Anki) -> None:
    """A package imported into Anki, edited there and exported with Anki's own exporter: the
    edited field shows as changed; nothing else does."""
    _, new = _packages(tmp_path)
    anki.import_package(new)
    note = anki.note_by_id_field("a")
    note["Question"] = "Edited in Anki?"
    anki.col.update_note(note)
    exported = export(anki, tmp_path / "export.apkg")
    result = run_cli(["diff", new, exported])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[2:] == [
        "changed  a  (Question)",
        "0 notes added, 0 removed, 1 changed, 0 moved, 3 unchanged.",
    ]


def test_diff_refuses_what_is_not_a_package(tmp_path: Path) -> None:
    """A file that is not an Anki package: one 'error:' line, exit 1."""
    bogus = tmp_path / "x.apkg"
    bogus.write_bytes(b"not a zip")
    result = run_cli(["diff", bogus, bogus])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bogus}: ")


def test_pull_push_and_diff_read_an_id_field_alike() -> None:
    """One rule reads a note's ID field everywhere (pull, push, diff): tags dropped,
    entities decoded, no-break spaces as spaces, trimmed."""
    from exporter.connect.anki_actions import AnkiNote
    from exporter.reading.exports import ExportedNote, field_text

    raw = " <b>drift&nbsp;psi</b>&amp;co\xa0"
    assert field_text(raw) == "drift psi&co"
    exported = ExportedNote(1, "g", 0, {"ID": raw}, (), "d")
    live = AnkiNote(1, 0, {"ID": raw}, (), ())
    assert exported.question_id == live.question_id == "drift psi&co"


def test_diff_and_inspect_follow_the_new_kinds(tmp_path: Path) -> None:
    """A question's key points and reverse card are notes of their own: diff names them
    ID::key-points and ID::reverse (added, changed in their own fields, removed); inspect
    counts the notes and cards of each note type."""
    from exporter.content.model import Question

    def keyed(points: tuple[str, ...], reverse: bool, hint: str = "") -> list[Question]:
        return [Question("a", "easy", "A?", "A.", key_points=points, reverse=reverse, hint=hint)]

    old_src, new_src = (
        make_bank(tmp_path / "old", keyed(("one", "two"), True)),
        make_bank(tmp_path / "new", keyed(("one", "two, edited", "three"), False, hint="Think.")),
    )
    old, new = tmp_path / "out" / "old.apkg", tmp_path / "out" / "new.apkg"
    assert run_cli(["build", old_src, "-o", old], env=ENV).exit_code == 0
    assert run_cli(["build", new_src, "-o", new], env=ENV).exit_code == 0
    result = run_cli(["diff", old, new])
    assert result.stdout.splitlines()[2:] == [
        "removed  a::reverse  (Interview Questions::Tester)",
        "changed  a  (Question)",
        "changed  a::key-points  (Text)",
        # the counts are of notes: the one question is neither added nor removed
        "0 notes added, 1 removed, 2 changed, 0 moved, 0 unchanged.",
    ]
    shown = run_cli(["inspect", old]).stdout
    assert "  Interview Key Points (id 1730118263052): fields Text, Question, Extra, " in shown
    assert "templates Key Point; 1 note, 2 cards" in shown
    assert "templates Extra Card; 1 note, 1 card" in shown
    assert "templates Interview Card; 1 note, 1 card" in shown
