"""Hostile input, anki's own syntax stays text: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

from pathlib import Path

from helpers import (
    Anki,
    build_deck,
    make_bank,
    question,
)

ANKI_SYNTAX = (
    "[sound:x.mp3] [anki:tts lang=en_US]hello[/anki:tts] [latex]x^2[/latex] [$]y[/$] [$$]z[/$$]"
)


def test_anki_syntax_reaches_the_card_as_text(tmp_path: Path, anki: Anki) -> None:
    """In question, answer, role and code, Anki's bracket syntax is shown, never acted on:
    no play button, no TTS, no LaTeX image, no media reference."""
    src = make_bank(
        tmp_path / "c",
        [question("a", text=f"Q {ANKI_SYNTAX}?", answer=f"A {ANKI_SYNTAX}\n\n`{ANKI_SYNTAX}`")],
        role="Role [sound:r.mp3] [latex]r[/latex]",
    )
    out = build_deck(src, output=tmp_path / "d.apkg").output
    anki.import_package(out)
    (note,) = anki.notes()
    card = note.cards()[0]
    for side in (card.question(), card.answer()):
        assert "[anki:play" not in side
        assert "<img" not in side
        assert "latex-" not in side
        assert "&#91;sound:x.mp3]" in side
        assert "&#91;$]y&#91;/$]" in side
    assert card.question_av_tags() == []
    assert card.answer_av_tags() == []
    assert anki.col.media.files_in_str(note.mid, note.joined_fields()) == []
    rendered = anki.col._backend.render_existing_card(
        card_id=card.id, browser=False, partial_render=False
    )
    text = "".join(n.text for n in rendered.answer_nodes if n.WhichOneof("value") == "text")
    assert "&#91;latex]x^2&#91;/latex]" in text
