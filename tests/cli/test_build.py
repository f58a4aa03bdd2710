"""Build: the shipped bank becomes a package that a real Anki collection imports as one
note per question, worded and tagged as published, with cards that show question, badge and
answer, and one note of key points per question, a cloze card per point; the build says
what it wrote."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml

from exporter.authoring.fieldparts import split_answer, split_question
from helpers import CONTENT, DECK, SOURCE_PAGE, Anki, Builder, bank_counts


def published_questions() -> list[tuple[str, str, str]]:
    """(difficulty, question, answer) straight from the published page, parsed naively."""
    blocks = re.split(r"\n\s*Question \d+\s*\n", SOURCE_PAGE.read_text(encoding="utf-8"))[1:]
    out = []
    for block in blocks:
        head, answer = block.split("\nSample answer\n")
        lines = [line for line in head.strip().splitlines() if line.strip()]
        difficulty = lines[0].removeprefix("Difficulty: ").strip()
        out.append((difficulty, "\n".join(lines[1:]).strip(), answer.strip()))
    return out


def plain(field_html: str) -> str:
    """Card field HTML back to the text a reader sees."""
    text = re.sub(r"</p>\s*<p>", "\n\n", field_html)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def test_shipped_bank_imports_into_anki(build: Builder, anki: Anki) -> None:
    """The shipped bank becomes its notes in its deck: one per question, tagged and worded
    as published, and one of key points per question, tagged as its question, whose cards
    each hide one point on the front and show it on the back, as the YAML words it."""
    shipped = bank_counts()
    log = anki.import_package(build(CONTENT).output)
    assert len(log.new) == shipped.notes
    assert len(anki.notes(f'deck:"{DECK}"')) == shipped.notes
    notes = anki.notes(f'deck:"{DECK}" "note:Interview Question"')
    assert len(notes) == shipped.questions == 10
    tags = [t for n in notes for t in n.tags]
    assert tags.count("difficulty::easy") == 2
    assert tags.count("difficulty::medium") == 5
    assert tags.count("difficulty::hard") == 3
    assert all("role::mlops-engineer" in n.tags for n in notes)
    published = published_questions()
    assert len(published) == 10
    asked = {n["ID"]: split_question(n["Question"]) for n in notes}
    answered = {n["ID"]: split_answer(n["Answer"]) for n in notes}
    seen = {
        (n["Difficulty"], plain(asked[n["ID"]].main), plain(answered[n["ID"]].main)) for n in notes
    }
    assert seen == set(published)
    data = yaml.safe_load((CONTENT / "mlops-engineer.yaml").read_text(encoding="utf-8"))
    for q in data["questions"]:  # the hint and follow-ups around them, as the YAML has them
        hint = asked[q["id"]].extra
        assert (plain(hint) if isinstance(hint, str) else None) == q.get("hint")
        follow_ups = answered[q["id"]].extra
        assert [plain(f) for f in follow_ups or ()] == q.get("follow_ups", [])

    points = {q["id"]: q["key_points"] for q in data["questions"]}
    questions = {n["ID"]: n for n in notes}
    held = anki.notes(f'deck:"{DECK}" "note:Interview Key Points"')
    assert sorted(n["ID"] for n in held) == sorted(points)
    assert shipped.key_point_notes == len(held)
    cards = 0
    for note in held:
        main = questions[note["ID"]]
        assert sorted(note.tags) == sorted(main.tags)
        assert note.cards()[0].did == main.cards()[0].did
        own = points[note["ID"]]
        assert 3 <= len(own) <= 5
        assert [c.ord for c in note.cards()] == list(range(len(own)))
        for card in note.cards():
            front, back = card.question(), card.answer()
            shown = [html.unescape(p) for p in HIDDEN.findall(front)]
            assert shown == ["[...]"], note["ID"]
            assert plain(asked[note["ID"]].main) in plain(front)
            others = [p for i, p in enumerate(own) if i != card.ord]
            assert [html.unescape(p) for p in INACTIVE.findall(front)] == others
            assert [html.unescape(p) for p in HIDDEN.findall(back)] == [own[card.ord]]
            cards += 1
    assert cards == shipped.key_point_cards


HIDDEN = re.compile(r'<span class="cloze"[^>]*>([^<]*)</span>')  # the point a card asks
INACTIVE = re.compile(r'<span class="cloze-inactive"[^>]*>([^<]*)</span>')  # the others


def test_cards_show_question_badge_and_answer(build: Builder, anki: Anki) -> None:
    """Front: question, difficulty badge and role; back: the sample answer under its heading."""
    anki.import_package(build(CONTENT).output)
    note = anki.note_by_id_field("secure-ml-pipelines-model")
    card = note.cards()[0]
    front, back = card.question(), card.answer()
    assert "What steps do you take to secure ML pipelines and model serving systems?" in front
    assert re.search(r'class="iq-badge iq-hard">hard</span>', front)
    assert "MLOps Engineer" in front
    assert "Sample answer" not in front
    assert "Sample answer" in back
    assert "I treat ML security as a full pipeline concern" in back
    assert "What steps do you take to secure ML pipelines" in back


def test_build_prints_counts_per_deck_and_difficulty(build: Builder, tmp_path: Path) -> None:
    """build says what it wrote: its notes (every kind), then per deck its questions by
    difficulty, then its cards of each kind; each count in the word it counts."""
    shipped = bank_counts()
    out = tmp_path / "d" / "deck.apkg"
    result = build(CONTENT, output=out)
    wrote, *counts = result.stdout.splitlines()
    assert wrote.startswith(f"Wrote {out} ({shipped.notes} notes, content sha256:")
    assert counts == [
        f"  {DECK}: 10 questions (2 easy, 5 medium, 3 hard)",
        f"  Cards: {shipped.questions} question cards, {shipped.key_point_cards} key-point "
        f"cards, {shipped.reverse} reverse cards",
    ]
    assert out.exists()
    assert out.with_name("deck.lock.json").exists()


def test_a_build_needs_no_thread_or_process(
    build: Builder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no thread or process can be started (`ulimit -u`, a container's pids limit), a
    build still writes the very same package: it runs in one thread of one process."""
    import os
    import subprocess
    import threading

    reference = build(CONTENT, output=tmp_path / "a" / "deck.apkg").output.read_bytes()

    def refused(*args: object, **kwargs: object) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refused)
    monkeypatch.setattr(os, "fork", refused)
    monkeypatch.setattr(subprocess.Popen, "__init__", refused)
    out = build(CONTENT, output=tmp_path / "b" / "deck.apkg", fresh=True).output
    assert out.read_bytes() == reference
