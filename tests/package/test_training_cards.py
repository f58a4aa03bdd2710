"""Cards that train an answer (issue 31), in a real Anki collection: key points are cloze
cards of their own note type (one card a point), the hint hides on the front, follow-ups
follow the answer, a reverse card has its own review; an edited point updates its card in
place, a reordered one keeps its review, an inserted one gets a new card, a removed one's
number is retired; a collection holding a 0.6.0 package keeps every review and gets one
note type per kind."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from exporter.content.model import Question
from helpers import EPOCH, ROOT, Anki, Builder, make_bank, question

DAY = 86_400
DECK = "Interview Questions::Tester"
POINTS = (
    "the client sends an *idempotency key*",
    "the server stores the first response",
    "a retry gets the stored response back",
)
MIGRATION = ROOT / "tests" / "data" / "migration" / "v0.6.0"


def trained(
    points: Sequence[str] = POINTS,
    *,
    hint: str = "Think about what the client can send again.",
    follow_ups: Sequence[str] = ("What if two retries arrive at once?",),
    reverse: bool = True,
) -> list[Question]:
    """A question with every new key, and a plain one."""
    full = question(
        "idempotency",
        "medium",
        text="How do you make a payment API safe to retry?",
        answer="With an idempotency key the server remembers.",
    )
    full = Question(
        full.id,
        full.difficulty,
        full.question,
        full.answer,
        key_points=tuple(points),
        hint=hint,
        follow_ups=tuple(follow_ups),
        reverse=reverse,
    )
    return [full, question("plain", text="Why?", answer="Because.")]


def notes_by_type(anki: Anki) -> dict[str, list[Any]]:
    """Every note of the collection, by its note type's name."""
    found: dict[str, list[Any]] = {}
    for note in anki.notes():
        found.setdefault(note.note_type()["name"], []).append(note)
    return found


def key_point_cards(anki: Anki) -> dict[int, Any]:
    """The key-points note's cards by cloze number (card ord + 1)."""
    (note,) = notes_by_type(anki)["Interview Key Points"]
    return {card.ord + 1: card for card in note.cards()}


def shown_point(card: Any) -> str:
    """The text of the point a key-point card asks for, from its answer side."""
    found = re.search(r'<span class="cloze" data-ordinal="\d+">(.*?)</span>', card.answer())
    assert found is not None, card.answer()
    return found.group(1)


def review(anki: Anki, card: Any) -> None:
    """Answer ``card`` 'Good' with the real scheduler."""
    from anki.scheduler.v3 import CardAnswer

    states = anki.col._backend.get_scheduling_states(card.id)
    card.start_timer()
    answer = anki.col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD)
    anki.col.sched.answer_card(answer)


def reviews(anki: Anki) -> list[tuple[int, int, int]]:
    """(card id, reps, interval) of every reviewed card, and the review log's cards."""
    rows = anki.col.db.all("select id, reps, ivl from cards where reps > 0 order by id")
    return [tuple(r) for r in rows]


def test_a_bank_with_every_key_imports_every_kind_of_card(build: Builder, anki: Anki) -> None:
    """One question with key points, hint, follow-ups and reverse, one without: three note
    types; one main card each, a cloze card per key point, one reverse card; the hint
    collapsed on the front (and on the back, which shows the front), the follow-ups after
    the answer, the plain question's card as it always was."""
    src = make_bank(build.default_output.parent.parent / "src", trained())
    log = anki.import_package(build(src).output)
    assert len(log.new) == 4
    kinds = notes_by_type(anki)
    assert sorted(kinds) == ["Interview Extra", "Interview Key Points", "Interview Question"]
    assert [n["ID"] for n in kinds["Interview Question"]] == ["idempotency", "plain"]
    assert [len(n.cards()) for n in kinds["Interview Question"]] == [1, 1]
    cards = key_point_cards(anki)
    assert sorted(cards) == [1, 2, 3]
    for number, card in cards.items():
        assert card.did == anki.col.decks.id_for_name(DECK)
        front = card.question()
        assert "[...]" in front
        assert front.count('class="cloze"') == 1
        assert "How do you make a payment API safe to retry?" in front
        assert POINTS[number - 1].replace("*", "") not in front.replace("<em>", "").replace(
            "</em>", ""
        )
        assert shown_point(card).replace("<em>", "*").replace("</em>", "*") == POINTS[number - 1]
    (reverse,) = kinds["Interview Extra"]
    assert reverse["Kind"] == "reverse"
    (reverse_card,) = reverse.cards()
    assert "With an idempotency key the server remembers." in reverse_card.question()
    assert "How do you make a payment API safe to retry?" not in reverse_card.question()
    assert "How do you make a payment API safe to retry?" in reverse_card.answer()
    (main,) = kinds["Interview Question"][0].cards()
    front, back = (side.split("</style>", 1)[1] for side in (main.question(), main.answer()))
    (hint,) = re.findall(r"<details[^>]*>.*?</details>", front, re.DOTALL)
    assert hint.startswith('<details class="iq-hint">')  # no 'open': collapsed
    assert "Think about what the client can send again." in hint
    assert re.findall(r"<details[^>]*>", back) == ['<details class="iq-hint">']
    assert back.index("the server remembers.") < back.index("Follow-up questions")
    assert "<li>What if two retries arrive at once?</li>" in back
    (plain,) = kinds["Interview Question"][1].cards()
    shown = plain.question().split("</style>", 1)[1] + plain.answer().split("</style>", 1)[1]
    assert "<details" not in shown
    assert "Follow-up" not in shown


def test_the_hint_stays_hidden_until_the_learner_asks(
    build: Builder, tmp_path: Path, card_page: Any
) -> None:
    """In a browser, the front shows 'Hint' and not its text; a click on it shows the text;
    the back (which shows the front) has it closed again."""
    from browser import PHONE, card_document

    src = make_bank(tmp_path / "src", trained()[:1])
    package = build(src).output
    collection = Anki(tmp_path / "render.anki2")
    try:
        collection.import_package(package)
        (note,) = [n for n in collection.notes() if n.note_type()["name"] == "Interview Question"]
        (card,) = note.cards()
        front, back = card.question(), card.answer()
    finally:
        collection.close()
    hint = "Think about what the client can send again."
    for side in (front, back):
        card_page.show(card_document(side, night=False), PHONE)
        page = card_page.page
        assert page.locator("summary").inner_text() == "Hint"
        assert not page.get_by_text(hint).is_visible()
    card_page.show(card_document(front, night=False), PHONE)
    card_page.page.click("summary")
    assert card_page.page.get_by_text(hint).is_visible()


def test_an_edited_key_point_updates_its_card_in_place(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """Edit the second point: same note, same card (its review kept), the new text on it."""
    out = tmp_path / "dist" / "deck.apkg"
    anki.import_package(build(make_bank(tmp_path / "a", trained()), output=out).output)
    (note,) = notes_by_type(anki)["Interview Key Points"]
    review(anki, key_point_cards(anki)[2])
    before = reviews(anki)
    edited = (POINTS[0], "the server stores the first response under the key", POINTS[2])
    src = make_bank(tmp_path / "b", trained(edited))
    log = anki.import_package(build(src, output=out, epoch=EPOCH + DAY).output)
    assert len(log.new) == 0
    (after,) = notes_by_type(anki)["Interview Key Points"]
    assert after.id == note.id
    cards = key_point_cards(anki)
    assert sorted(cards) == [1, 2, 3]
    assert shown_point(cards[2]) == "the server stores the first response under the key"
    assert reviews(anki) == before
    assert before[0][0] == cards[2].id


def test_reordered_points_keep_their_reviews_with_their_text(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """Reverse the points: each card keeps its own point (and so its review); no new card."""
    out = tmp_path / "dist" / "deck.apkg"
    anki.import_package(build(make_bank(tmp_path / "a", trained()), output=out).output)
    first = key_point_cards(anki)[1]
    review(anki, first)
    before = reviews(anki)
    src = make_bank(tmp_path / "b", trained(POINTS[::-1]))
    anki.import_package(build(src, output=out, epoch=EPOCH + DAY).output)
    cards = key_point_cards(anki)
    assert sorted(cards) == [1, 2, 3]
    assert shown_point(cards[1]) == "the client sends an <em>idempotency key</em>"
    assert reviews(anki) == before
    text = notes_by_type(anki)["Interview Key Points"][0]["Text"]
    assert text.index("{{c3::") < text.index("{{c2::") < text.index("{{c1::")


def test_an_inserted_point_gets_a_new_card_and_the_others_stay(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """A point added first gets number 4, a new card; the three cards keep points and reviews."""
    out = tmp_path / "dist" / "deck.apkg"
    anki.import_package(build(make_bank(tmp_path / "a", trained()), output=out).output)
    review(anki, key_point_cards(anki)[3])
    before = reviews(anki)
    src = make_bank(tmp_path / "b", trained(("a new first point", *POINTS)))
    anki.import_package(build(src, output=out, epoch=EPOCH + DAY).output)
    cards = key_point_cards(anki)
    assert sorted(cards) == [1, 2, 3, 4]
    assert shown_point(cards[4]) == "a new first point"
    assert shown_point(cards[3]) == POINTS[2]
    assert cards[4].type == 0  # new
    assert reviews(anki) == before


def test_a_removed_point_retires_its_number(build: Builder, anki: Anki, tmp_path: Path) -> None:
    """Remove the second point: the build names it; its card is empty in Anki (Empty Cards
    finds it), the others keep their points; a point added later gets 4, never 2."""
    out = tmp_path / "dist" / "deck.apkg"
    anki.import_package(build(make_bank(tmp_path / "a", trained()), output=out).output)
    src = make_bank(tmp_path / "b", trained((POINTS[0], POINTS[2])))
    removed = build(src, output=out, epoch=EPOCH + DAY)
    assert (
        "Key points removed since the last build: 1 (idempotency: 2). Their cards are empty "
        "in Anki now: Tools > Empty Cards deletes them." in removed.stdout
    )
    anki.import_package(out)
    cards = key_point_cards(anki)
    assert sorted(cards) == [1, 2, 3]  # Anki keeps the card until Empty Cards
    assert shown_point(cards[3]) == POINTS[2]
    empty = anki.col.get_empty_cards()
    assert [list(n.card_ids) for n in empty.notes] == [[cards[2].id]]
    src = make_bank(tmp_path / "c", trained((POINTS[0], POINTS[2], "one more")))
    build(src, output=out, epoch=EPOCH + 2 * DAY)
    history = json.loads(out.with_suffix(".lock.json").read_text(encoding="utf-8"))
    points = history["clozes"]["idempotency::key-points"]["points"]
    assert [n for n, _h in points] == [1, 3, 4]


def test_removing_every_key_point_and_the_reverse_card_is_reported(
    build: Builder, tmp_path: Path
) -> None:
    """A question that loses its key points or its reverse card keeps its main note; the
    build names the notes Anki keeps, and how to find them."""
    out = tmp_path / "dist" / "deck.apkg"
    build(make_bank(tmp_path / "a", trained()), output=out)
    again = build(
        make_bank(tmp_path / "b", trained((), reverse=False)), output=out, epoch=EPOCH + DAY
    )
    assert (
        "No longer built: 2 notes of questions still in the bank (idempotency::key-points, "
        "idempotency::reverse). Anki keeps them; find them in the browser with: "
        '"ID:idempotency" -"note:Interview Question"' in again.stdout
    )


@pytest.mark.parametrize("merge", [False, True], ids=["default-import", "merge-notetypes"])
def test_a_0_6_0_collection_takes_the_new_kinds_keeping_every_review(
    build: Builder, anki: Anki, tmp_path: Path, merge: bool
) -> None:
    """A collection holding the 0.6.0 package (built by 0.6.0, tests/data/migration) and
    its reviews imports a 0.7 build with key points, hint, follow-ups and a reverse card:
    every review kept, the main notes updated in place, one note type of each kind and no
    second copy of any; the questions without new keys keep their fields exactly."""
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in ("deck.apkg", "deck.lock.json"):
        shutil.copy(MIGRATION / name, dist / name)
    anki.import_package(dist / "deck.apkg")
    deck = anki.col.decks.id_for_name("Interview Questions::Migration Tester")
    anki.col.decks.select(deck)
    for card_id in sorted(anki.col.find_cards("")):
        review(anki, anki.col.get_card(card_id))
    before = reviews(anki)
    assert len(before) == 3
    old_fields = {n["ID"]: list(n.fields) for n in anki.notes()}
    text = (MIGRATION / "bank.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  - id: feature-drift",
        "    key_points:\n      - the client sends an idempotency key\n"
        "      - the server replays the first response\n"
        "    hint: What can a client send twice?\n"
        "    follow_ups:\n      - What if two arrive at once?\n"
        "    reverse: true\n  - id: feature-drift",
    )
    src = tmp_path / "src" / "bank.yaml"
    src.parent.mkdir()
    src.write_text(text, encoding="utf-8")
    built = build(src, output=dist / "deck.apkg", epoch=EPOCH + DAY)
    assert built.stdout.startswith(f"Wrote {dist / 'deck.apkg'} (5 notes, ")
    log = anki.import_package(dist / "deck.apkg", merge_notetypes=merge)
    assert len(log.conflicting) == 0
    assert len(log.new) == 2  # the key points and the reverse card
    assert reviews(anki) == before
    names = sorted(m["name"] for m in anki.col.models.all() if m["name"].startswith("Interview"))
    assert names == ["Interview Extra", "Interview Key Points", "Interview Question"]
    kinds = notes_by_type(anki)
    assert len(kinds["Interview Question"]) == 3
    new_fields = {n["ID"]: list(n.fields) for n in kinds["Interview Question"]}
    assert new_fields["feature-drift"] == old_fields["feature-drift"]
    assert new_fields["rollback"] == old_fields["rollback"]
    assert '<details class="iq-hint">' in new_fields["idempotent-retries"][0]
    assert "What if two arrive at once?" in new_fields["idempotent-retries"][1]
    assert len(key_point_cards(anki)) == 2


def test_every_kind_is_deterministic_and_the_file_cache_changes_nothing(
    build: Builder, tmp_path: Path, file_cache: Path
) -> None:
    """A bank with every key builds to the same bytes with or without the file cache, which
    keeps each note of the file (the main note, its key points and its reverse card here),
    by key; after an edit the cached build equals a fresh one."""
    code = "With a key:\n\n```python\nstore[key] = response\n```"
    questions = trained()
    questions[0] = Question(
        questions[0].id,
        questions[0].difficulty,
        questions[0].question,
        code,
        key_points=POINTS,
        hint="Think.",
        follow_ups=("What next?",),
        reverse=True,
    )
    src = make_bank(tmp_path / "src", questions)
    cached = build(src, output=tmp_path / "a" / "deck.apkg")
    fresh = build(src, output=tmp_path / "b" / "deck.apkg", fresh=True)
    assert cached.output.read_bytes() == fresh.output.read_bytes()
    assert cached.history.read_bytes() == fresh.history.read_bytes()
    (entry,) = (file_cache / "files").glob("file-*.json")
    kept = json.loads(entry.read_text(encoding="utf-8").split("\n", 1)[1])["notes"]
    assert len(kept) == len(questions) + 2  # the first question's key points and reverse
    front = kept[f"{questions[0].id}::reverse"][3][0]
    assert "Which question does this answer?" in front
    text = src.read_text(encoding="utf-8").replace("Because.", "Because, edited.")
    src.write_text(text, encoding="utf-8")
    again = build(src, output=cached.output, epoch=EPOCH + DAY)
    again_fresh = build(src, output=fresh.output, epoch=EPOCH + DAY, fresh=True)
    assert again.output.read_bytes() == again_fresh.output.read_bytes()
    unchanged = build(
        src, output=cached.output, epoch=EPOCH + 2 * DAY, fresh=True, expect="unchanged"
    )
    assert unchanged.output.read_bytes() == again.output.read_bytes()
