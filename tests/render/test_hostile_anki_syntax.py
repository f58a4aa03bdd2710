"""Hostile input, anki's own syntax stays text: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import html
import re
from pathlib import Path

from browser import PHONE, CardPage, card_document, need_mathjax
from exporter.markup.markdown import to_html
from exporter.render.mathjax import has_math
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


# Text that holds MathJax's delimiters but no formula of ours (escaped ``\\[``, an address
# left as text, an image's alt text shown as a link...): everywhere text reaches a card.
LITERAL_DELIMITERS = [
    ("Write \\\\[0-9\\\\] in the pattern", "Write \\[0-9\\] in the pattern"),
    ("and \\\\(x\\\\) here", "and \\(x\\) here"),
    ("*\\\\[b\\\\]* **\\\\(c\\\\)**", "\\[b\\] \\(c\\)"),
    ("## \\\\[d\\\\] heading", "\\[d\\] heading"),
    ("- \\\\[e\\\\] item", "\\[e\\] item"),
    ("| \\\\[f\\\\] | \\\\(g\\\\) |\n|---|---|\n| \\\\[h\\\\] | x |", "\\[f\\]"),
    ("[\\\\[i\\\\]](https://example.com) link text", "\\[i\\] link text"),
    ("[j](javascript:\\\\[k\\\\]) address left as text", "[j](javascript:\\[k\\])"),
    ("![l](javascript:\\\\(m\\\\)) image left as text", "![l](javascript:\\(m\\))"),
    ("![\\\\[n\\\\]](https://example.com/x.png) web image", "\\[n\\] web image"),
    ("\\\\\\\\[o\\\\\\\\] two backslashes", "\\\\[o\\\\] two backslashes"),
]


def visible(field_html: str) -> str:
    """The text a reader sees in a field: tags dropped, entities read."""
    return html.unescape(re.sub(r"<[^>]*>", "", field_html))


def test_literal_math_delimiters_are_never_formulas() -> None:
    """A ``\\[`` or ``\\(`` that is text (however it got there) reaches the card in a form
    Anki's MathJax leaves alone, and reads as written."""
    for text, shown in LITERAL_DELIMITERS:
        field = to_html(text)
        assert not has_math(field), text
        assert shown in visible(field), (text, field)
    assert to_html("`\\[x\\]` and\n\n```\n\\(y\\)\n```") == (
        '<p><code>\\[x\\]</code> and</p>\n<pre><code><span class="iq-line">\\(y\\)</span>\n'
        "</code></pre>"
    )  # code is left alone: MathJax never looks into it


def test_literal_delimiters_reach_anki_as_text(
    tmp_path: Path, anki: Anki, card_page: CardPage
) -> None:
    """Through a real collection and Anki's MathJax typesetting the card: the literal
    delimiters of the question, the answer and the role stay text (no formula at all), and
    a formula of ours next to them still typesets."""
    need_mathjax()
    answer = "\n\n".join(text for text, _ in LITERAL_DELIMITERS) + "\n\nA formula: $x^2$"
    src = make_bank(
        tmp_path / "c",
        [question("a", text="Why \\\\[a-z\\\\] and \\\\(x\\\\)?", answer=answer)],
        role="Role \\[r\\] \\(\\href{javascript:alert(1)}{s}\\)",
    )
    out = build_deck(src, output=tmp_path / "d.apkg").output
    anki.import_package(out)
    (note,) = anki.notes()
    card = note.cards()[0]
    for side, rendered in (("front", card.question()), ("back", card.answer())):
        card_page.show(card_document(rendered, night=False, mathjax=True), PHONE)
        counts = card_page.page.evaluate(
            """() => [document.querySelectorAll('mjx-container').length,
                      document.querySelectorAll('[href^="javascript" i]').length,
                      document.body.innerText]"""
        )
        assert counts[:2] == [1 if side == "back" else 0, 0], side
        assert "Role \\[r\\] \\(\\href{javascript:alert(1)}{s}\\)" in counts[2]
        assert "Why \\[a-z\\] and \\(x\\)?" in counts[2]
