"""`pull` brings home what was edited in Anki of the keys that train an answer (issue 31):
a key point edited, reordered, added or deleted in its cloze note, a hint or a follow-up
edited or deleted in the main note; each into its own key, and the next build keeps each
card with its point (no card added, reviews kept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from exporter.content.model import Question
from helpers import EPOCH, Anki, build_deck, export, make_bank, question, run_cli

EDITED_AT = EPOCH + 3600
REBUILT_AT = EPOCH + 7200
POINTS = ("the client sends an idempotency key", "the server stores the first response")


def bank(folder: Path, points: tuple[str, ...] = POINTS) -> Path:
    q = question("retry", "medium", text="How do you retry safely?", answer="With a key.")
    full = Question(
        q.id,
        q.difficulty,
        q.question,
        q.answer,
        key_points=points,
        hint="What can a client send twice?",
        follow_ups=("What if two arrive at once?", "How long do you keep keys?"),
    )
    return make_bank(folder, [full, question("plain")])


def built(tmp_path: Path, anki: Anki) -> tuple[Path, Path]:
    """The bank built to dist/ and imported into ``anki``."""
    src = bank(tmp_path / "src")
    package = build_deck(src, output=tmp_path / "dist" / "deck.apkg").output
    anki.import_package(package)
    return src, package


def note_of(anki: Anki, kind: str) -> Any:
    (nid,) = anki.col.find_notes(f'"note:{kind}" "ID:retry"')
    return anki.col.get_note(nid)


def save(anki: Anki, note: Any) -> None:
    """Save as Anki's editor would, then pin the mod time to the user's edit."""
    anki.col.update_note(note)
    anki.col.db.execute("update notes set mod=? where id=?", EDITED_AT, note.id)


def pulled(tmp_path: Path, anki: Anki, package: Path, src: Path, *args: str) -> Any:
    exported = export(anki, tmp_path / "export.apkg")
    return run_cli(["pull", str(exported), str(src), "--output", str(package), *args])


def loaded(src: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(src.read_text(encoding="utf-8"))["questions"][0]
    return data


def test_edits_of_key_points_hint_and_follow_ups_come_home_and_keep_their_cards(
    tmp_path: Path, anki: Anki
) -> None:
    """Edit the second key point, the hint and the first follow-up in Anki: pull shows them,
    --apply writes each into its key; the rebuilt package updates the same notes, the key
    point keeps its card (no card added) and its number."""
    src, package = built(tmp_path, anki)
    points = note_of(anki, "Interview Key Points")
    points["Text"] = points["Text"].replace(
        "the server stores the first response", "the server stores the <b>first</b> response"
    )
    save(anki, points)
    main = note_of(anki, "Interview Question")
    main["Question"] = main["Question"].replace("send twice?", "send again?")
    main["Answer"] = main["Answer"].replace("What if two arrive", "What if two requests arrive")
    save(anki, main)
    cards = sorted(anki.col.find_cards(""))
    shown = pulled(tmp_path, anki, package, src)
    assert shown.exit_code == 1, shown.output
    assert "'retry': question, answer, key points, hint, follow-ups edited in Anki" not in (
        shown.stdout
    )
    assert "'retry': key points, hint, follow-ups edited in Anki" in shown.stdout
    applied = pulled(tmp_path, anki, package, src, "--apply")
    assert applied.exit_code == 0, applied.output
    data = loaded(src)
    assert data["key_points"] == [POINTS[0], "the server stores the **first** response"]
    assert data["hint"] == "What can a client send again?"
    assert data["follow_ups"] == [
        "What if two requests arrive at once?",
        "How long do you keep keys?",
    ]
    assert data["question"] == "How do you retry safely?"
    assert data["answer"] == "With a key."
    build_deck(src, output=package, epoch=REBUILT_AT)
    log = anki.import_package(package)
    assert len(log.new) == 0
    assert sorted(anki.col.find_cards("")) == cards
    text = note_of(anki, "Interview Key Points")["Text"]
    assert "{{c2::the server stores the <strong>first</strong> response}}" in text
    again = pulled(tmp_path, anki, package, src)
    assert "Nothing to pull" in again.stdout


def test_reordered_and_deleted_key_points_and_a_deleted_hint_come_home(
    tmp_path: Path, anki: Anki
) -> None:
    """Swap the two clozes and delete the hint in Anki: the YAML's points swap (the next
    build keeps each card with its text) and the hint key goes."""
    src, package = built(tmp_path, anki)
    points = note_of(anki, "Interview Key Points")
    first, second = (f"<li>{{{{c{n}::{p}}}}}</li>" for n, p in ((1, POINTS[0]), (2, POINTS[1])))
    assert first in points["Text"]
    points["Text"] = points["Text"].replace(first, "\x00").replace(second, first)
    points["Text"] = points["Text"].replace("\x00", second)
    save(anki, points)
    main = note_of(anki, "Interview Question")
    main["Question"] = main["Question"].split("\n<details")[0]
    save(anki, main)
    applied = pulled(tmp_path, anki, package, src, "--apply")
    assert applied.exit_code == 0, applied.output
    data = loaded(src)
    assert data["key_points"] == [POINTS[1], POINTS[0]]
    assert "hint" not in data
    build_deck(src, output=package, epoch=REBUILT_AT)
    anki.import_package(package)
    text = note_of(anki, "Interview Key Points")["Text"]
    assert text.index("{{c2::") < text.index("{{c1::")


def test_a_key_point_edited_on_both_sides_is_a_conflict(tmp_path: Path, anki: Anki) -> None:
    """A key point edited in Anki while the YAML's points changed since the build: a
    conflict, shown and not written without --prefer."""
    src, package = built(tmp_path, anki)
    points = note_of(anki, "Interview Key Points")
    points["Text"] = points["Text"].replace("idempotency key", "unique key")
    save(anki, points)
    text = src.read_text(encoding="utf-8").replace("first response", "first reply")
    src.write_text(text, encoding="utf-8")
    shown = pulled(tmp_path, anki, package, src, "--apply")
    assert "CONFLICT" in shown.stdout
    assert "(key points)" in shown.stdout
    assert shown.exit_code == 1
    assert loaded(src)["key_points"] == [POINTS[0], "the server stores the first reply"]
    taken = pulled(tmp_path, anki, package, src, "--apply", "--prefer", "anki")
    assert taken.exit_code == 0, taken.output
    assert loaded(src)["key_points"] == ["the client sends an unique key", POINTS[1]]


def test_an_unedited_export_with_every_kind_pulls_nothing(tmp_path: Path, anki: Anki) -> None:
    """Straight after the import nothing differs: not the split fields, not the clozes."""
    src, package = built(tmp_path, anki)
    result = pulled(tmp_path, anki, package, src)
    assert result.exit_code == 0, result.output
    assert "Nothing to pull" in result.stdout


def test_splice_writes_each_new_key_in_place() -> None:
    """A flow list becomes a block list, a block hint keeps its style, a key Anki emptied
    loses its lines, a key the YAML lacks is added after the question; the rest of the
    file, comments included, stays as it was."""

    from exporter.authoring.yamlwrite import splice
    from exporter.content.check import check_file
    from exporter.content.yamlnodes import compose

    text = (
        "role: R\n"
        "questions:\n"
        "  - id: one  # first\n"
        "    difficulty: easy\n"
        "    question: Q?\n"
        "    answer: A.\n"
        "    key_points: [a, b]\n"
        "    hint: |\n"
        "      Think.\n"
        "    follow_ups:\n"
        "      - Why?  # keep asking\n"
        "    tags: [t]\n"
        "  - id: two\n"
        "    difficulty: easy\n"
        "    question: Q2?\n"
        "    answer: A2.\n"
    )
    root, _err = compose(text, "f")
    assert root is not None
    one, two = check_file(root, "f").result.questions  # type: ignore[union-attr]
    edits = {
        "one": one._replace(key_points=("b", "a: c"), hint="Think again.", follow_ups=()),
        "two": two._replace(hint="New hint.", follow_ups=("Next?",)),
    }
    out = splice(text, "f", edits, ())
    assert out == (
        "role: R\n"
        "questions:\n"
        "  - id: one  # first\n"
        "    difficulty: easy\n"
        "    question: Q?\n"
        "    answer: A.\n"
        "    key_points:\n"
        "      - b\n"
        "      - |-\n"
        "        a: c\n"
        "    hint: |-\n"
        "      Think again.\n"
        "    tags: [t]\n"
        "  - id: two\n"
        "    difficulty: easy\n"
        "    question: Q2?\n"
        "    answer: A2.\n"
        "    hint: New hint.\n"
        "    follow_ups:\n"
        "      - Next?\n"
    )


def test_import_text_leaves_the_new_keys_out_and_keeps_those_a_file_has(tmp_path: Path) -> None:
    """A page has no key points, hints, follow-ups or reverse cards: import-text writes
    none for the questions it adds, and keeps those of the questions already in the file
    while it takes the page's text."""
    from helpers import SOURCE_PAGE, write

    target = tmp_path / "bank.yaml"
    shipped = (Path(__file__).resolve().parents[2] / "content" / "mlops-engineer.yaml").read_text(
        encoding="utf-8"
    )
    first_id = shipped.split("  - id: ", 2)[1].split("\n", 1)[0]
    # The shipped bank has key points and follow-ups for every question and a few hints;
    # a reverse card is added to its first question.
    shipped = shipped.replace(
        f"  - id: {first_id}\n", f"  - id: {first_id}\n    reverse: true\n", 1
    )
    write(target, shipped)
    keys = ("key_points", "hint", "follow_ups", "reverse")
    had = {q["id"]: {k: q[k] for k in keys if k in q} for q in yaml.safe_load(shipped)["questions"]}
    assert had[first_id]["reverse"] is True
    assert all(h["key_points"] and h["follow_ups"] for h in had.values())
    assert any("hint" in h for h in had.values())
    page = SOURCE_PAGE.read_text(encoding="utf-8").replace("10 questions", "11 questions")
    page = page.rstrip("\n") + (
        "\n\nQuestion 11\n\nDifficulty: hard\n\nHow do you roll out a model to edge "
        "devices?\n\nSample answer\n\nIn stages.\n"
    )
    result = run_cli(["import-text", str(write(tmp_path / "page.txt", page)), "-o", str(target)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(target.read_text(encoding="utf-8"))["questions"]
    assert len(data) == 11
    assert {q["id"]: {k: q[k] for k in keys if k in q} for q in data[:10]} == had
    assert data[10]["question"] == "How do you roll out a model to edge devices?"
    assert not set(keys) & data[10].keys()


def test_crafted_fields_are_split_in_one_pass() -> None:
    """A field of a million unclosed '<' or cloze openings, from a crafted export, is split
    in one pass (a scan that went back to the end from each would run for hours)."""
    from exporter.authoring.fieldparts import cloze_points, split_answer, split_question
    from helpers import hang_guard

    with hang_guard(60):
        assert split_question("<a" * 1_000_000).extra is None
        assert split_answer("<div" * 500_000).extra is None
        assert cloze_points("{{c1::" * 500_000) == ()
        assert cloze_points("{{c1::x}}" + "}}" * 500_000) == ((1, "x"),)
