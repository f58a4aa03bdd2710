"""Build: the shipped bank becomes a package that a real Anki collection imports as ten
notes, worded and tagged as published, with cards that show question, badge and answer; the
build says what it wrote."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from helpers import CONTENT, DECK, SOURCE_PAGE, Anki, Builder


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
    """The shipped bank becomes 10 notes in its deck, tagged and worded as published."""
    log = anki.import_package(build(CONTENT).output)
    assert len(log.new) == 10
    notes = anki.notes(f'deck:"{DECK}"')
    assert len(notes) == 10
    tags = [t for n in notes for t in n.tags]
    assert tags.count("difficulty::easy") == 2
    assert tags.count("difficulty::medium") == 5
    assert tags.count("difficulty::hard") == 3
    assert all("role::mlops-engineer" in n.tags for n in notes)
    published = published_questions()
    assert len(published) == 10
    seen = {(n["Difficulty"], plain(n["Question"]), plain(n["Answer"])) for n in notes}
    assert seen == set(published)


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
    """build says what it wrote: notes per deck and per difficulty."""
    out = tmp_path / "d" / "deck.apkg"
    result = build(CONTENT, output=out)
    assert f"Wrote {out} (10 notes" in result.stdout
    assert f"{DECK}: 10 notes (2 easy, 5 medium, 3 hard)" in result.stdout
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
