"""`push` with the notes that train an answer (issue 31), against the stand-in AnkiConnect:
a question's key points and reverse card that leave the bank are listed and pruned like a
removed question (suspended, tagged, reviews kept, back when they return); a key point
edited in Anki is kept by the import and comes home with `pull --from-anki`; edited on
both sides, push refuses."""

from __future__ import annotations

from pathlib import Path

import yaml
from test_push import addon, imported, own_temp, pull_from_anki, push, release

from ankiconnect_server import Settings
from exporter.connect.push import REMOVED_TAG
from exporter.content.model import Question
from helpers import EPOCH, Anki, make_bank, question

__all__ = ["addon", "own_temp", "release"]  # the fixtures of test_push, used here too

EDITED_AT = EPOCH + 3600
REBUILT_AT = EPOCH + 7200
POINTS = ("the client sends an idempotency key", "the server stores the first response")


def trained(points: tuple[str, ...] = POINTS, reverse: bool = True) -> list[Question]:
    q = question("retry", "medium", text="How do you retry safely?", answer="With a key.")
    full = Question(q.id, q.difficulty, q.question, q.answer, key_points=points, reverse=reverse)
    return [full, question("plain")]


def test_push_counts_every_note_of_the_package(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """What push says Anki holds counts every note of the package, a question's key points
    and reverse card too: all added at first; a key point edited in the YAML is its note
    updated, the other notes unchanged."""
    url, _ = addon
    folder, out = tmp_path / "content", tmp_path / "out" / "deck.apkg"
    make_bank(folder, trained())
    first = imported(push(url, folder, out=out))
    assert first.endswith("4 notes of this package, 4 added, 0 updated, 0 unchanged.")
    make_bank(folder, trained((POINTS[0], "the server stores the first reply")))
    again = imported(push(url, folder, out=out, epoch=REBUILT_AT))
    assert again.endswith("4 notes of this package, 0 added, 1 updated, 3 unchanged.")
    assert "the first reply" in anki.note_by_id_field("retry", "Interview Key Points")["Text"]


def test_removed_key_points_and_reverse_cards_are_listed_and_pruned(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """Drop a question's key points and reverse card: push lists their two notes; --prune
    suspends their cards and tags them (the main card untouched); when they come back they
    are unsuspended; removing the question prunes all its notes."""
    url, _ = addon
    folder, out = tmp_path / "content", tmp_path / "out" / "deck.apkg"
    make_bank(folder, trained())
    imported(push(url, folder, out=out))
    make_bank(folder, trained((), reverse=False))
    listed = push(url, folder, out=out, epoch=REBUILT_AT)
    assert (
        "No longer in the bank: 2 notes in Anki (retry::key-points, retry::reverse); Anki "
        "keeps them." in listed.stdout
    )
    pruned = push(url, folder, "--prune", out=out, epoch=REBUILT_AT)
    assert "Suspended and tagged interview-deck::removed: 2 notes (retry::key-points, " in (
        pruned.stdout
    )
    points = anki.note_by_id_field("retry", "Interview Key Points")
    assert {c.queue for c in points.cards()} == {-1}
    assert REMOVED_TAG in points.tags
    main = anki.note_by_id_field("retry")
    assert [c.queue for c in main.cards()] != [-1]
    assert REMOVED_TAG not in main.tags

    make_bank(folder, trained())
    back = push(url, folder, out=out, epoch=REBUILT_AT + 3600)
    assert "Back in the bank, unsuspended: 2 notes (retry::key-points, retry::reverse)." in (
        back.stdout
    )
    assert -1 not in {c.queue for c in anki.note_by_id_field("retry", "Interview Extra").cards()}

    make_bank(folder, [question("plain")])
    gone = push(url, folder, "--prune", out=out, epoch=REBUILT_AT + 7200)
    assert (
        "Suspended and tagged interview-deck::removed: 3 notes (retry, retry::key-points, "
        "retry::reverse)" in gone.stdout
    )


def test_a_key_point_edited_in_anki_is_kept_and_comes_home(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A key point edited in Anki since the last push: the next push keeps it in Anki and
    says so; pull --from-anki --apply writes it into key_points."""
    url, _ = addon
    folder, out = tmp_path / "content", tmp_path / "out" / "deck.apkg"
    source = make_bank(folder, trained())
    imported(push(url, folder, out=out))
    note = anki.note_by_id_field("retry", "Interview Key Points")
    note["Text"] = note["Text"].replace("idempotency key", "unique key")
    anki.col.update_note(note)
    anki.col.db.execute("update notes set mod=? where id=?", EDITED_AT, note.id)
    again = push(url, folder, out=out, epoch=REBUILT_AT)
    assert "Edited in Anki since the last build, kept as they are there: 1 question (retry)" in (
        again.stdout
    )
    assert "unique key" in anki.note_by_id_field("retry", "Interview Key Points")["Text"]
    home = pull_from_anki(url, folder, "--apply", out=out)
    assert home.exit_code == 0, home.output
    data = yaml.safe_load(source.read_text(encoding="utf-8"))["questions"][0]
    assert data["key_points"] == ["the client sends an unique key", POINTS[1]]


def test_a_key_point_edited_on_both_sides_stops_the_push(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """Edited in Anki and in the YAML since the last build: push refuses, at the question's
    line, before anything is built or imported."""
    url, _ = addon
    folder, out = tmp_path / "content", tmp_path / "out" / "deck.apkg"
    make_bank(folder, trained())
    imported(push(url, folder, out=out))
    note = anki.note_by_id_field("retry", "Interview Key Points")
    note["Text"] = note["Text"].replace("idempotency key", "unique key")
    anki.col.update_note(note)
    anki.col.db.execute("update notes set mod=? where id=?", EDITED_AT, note.id)
    make_bank(folder, trained((POINTS[0], "the server stores the first reply")))
    refused = push(url, folder, out=out, epoch=REBUILT_AT)
    assert refused.exit_code == 1
    assert "'retry': edited in Anki and in the YAML since the last build" in refused.stderr
    assert "unique key" in anki.note_by_id_field("retry", "Interview Key Points")["Text"]


def test_push_takes_a_0_6_0_collection_to_the_new_kinds_keeping_reviews(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A collection holding the 0.6.0 package (tests/data/migration) and reviews: push of
    the bank with key points, hint, follow-ups and a reverse card, through the add-on's
    import (merge_notetypes on): reviews kept, one note type per kind, no note twice. (0.7.0's
    RENDER_REVISION 3 renders every card anew, so all three main notes are updated in place;
    the new kinds' two notes are added.)"""
    import shutil

    from helpers import ROOT, review_some, scheduling

    url, _ = addon
    old = ROOT / "tests" / "data" / "migration" / "v0.6.0"
    out = tmp_path / "out" / "deck.apkg"
    out.parent.mkdir()
    for name in ("deck.apkg", "deck.lock.json"):
        shutil.copy(old / name, out.parent / name)
    anki.import_package(out)
    review_some(anki, 3, "Interview Questions::Migration Tester")
    before = scheduling(anki)
    text = (
        (old / "bank.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "  - id: feature-drift",
            "    key_points: [the client sends a key, the server replays]\n"
            "    hint: Think.\n    follow_ups: [And then?]\n    reverse: true\n"
            "  - id: feature-drift",
        )
    )
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "bank.yaml").write_text(text, encoding="utf-8")
    line = imported(push(url, folder, out=out, epoch=EPOCH + 86_400))
    # the three main notes updated, the key points' and reverse card's notes added
    assert line.endswith("5 notes of this package, 2 added, 3 updated, 0 unchanged.")
    cards, revlog = scheduling(anki)
    assert revlog == before[1]
    assert [c for c in cards if c[8]] == [c for c in before[0] if c[8]]  # reviewed cards
    names = sorted(m["name"] for m in anki.col.models.all() if m["name"].startswith("Interview"))
    assert names == ["Interview Extra", "Interview Key Points", "Interview Question"]
    assert len(anki.notes()) == 5
