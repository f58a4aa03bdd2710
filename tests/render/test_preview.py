"""`interview-deck preview`: one self-contained HTML page shows every card exactly as Anki
renders it, grouped by deck, readable in a browser (phone width, light and dark); content
errors write nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser import DESKTOP, PHONE, CardPage
from exporter.pipeline import run_load
from exporter.render.notes import notes_for
from exporter.render.notetype import note_type
from exporter.render.preview import TemplateError, card_frame, card_view, render_template
from helpers import (
    CONTENT,
    RenderedCard,
    make_bank,
    problems_in,
    question,
    run_cli,
    write,
    write_stress_bank,
)

_ANKI_STYLE = re.compile(r"\A<style>.*?</style>", re.DOTALL)


def without_anki_wrapper(rendered: str) -> str:
    """Anki's card HTML minus the ``<style>`` block it puts first."""
    assert _ANKI_STYLE.match(rendered), rendered[:80]
    return _ANKI_STYLE.sub("", rendered, count=1)


@pytest.fixture(scope="module")
def preview_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The preview page of the shipped bank plus the stress card, written by the CLI."""
    folder = tmp_path_factory.mktemp("preview")
    stress = write_stress_bank(folder / "stress")
    out = folder / "site" / "preview.html"
    result = run_cli(["preview", str(CONTENT), str(stress), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote {out} (11 cards)\n"
    return out


def test_preview_markup_is_what_anki_renders(
    anki_cards: list[RenderedCard], preview_file: Path, tmp_path: Path
) -> None:
    """Front and back in the page equal Anki's own rendering of the same card, byte for byte."""
    notetype = note_type()
    stress = write_stress_bank(tmp_path)
    notes = {n.question_id: n for n in notes_for(run_load([str(CONTENT), str(stress)]))}
    page = preview_file.read_text(encoding="utf-8")
    assert f'<style id="card-css">\n{notetype.css}</style>' in page
    for card in anki_cards:
        view = card_view(notetype, notes[card.question_id])
        assert view.front == without_anki_wrapper(card.question), card.question_id
        assert view.back == without_anki_wrapper(card.answer), card.question_id
        assert card_frame(view.front, qid=card.question_id, side="front") in page
        assert card_frame(view.back, qid=card.question_id, side="back") in page


def test_preview_groups_cards_by_deck(preview_file: Path) -> None:
    """Each deck is a section headed by its name, holding its own cards."""
    page = preview_file.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="pv-deck">\n<h2>(.*?) <small>\((\d+)\)', page)
    assert sections == [("Interview Questions::MLOps Engineer", "10"), ("Stress", "1")]
    assert page.index('data-card="stress-card"') > page.index("<h2>Stress")


def test_preview_page_in_chromium(card_page: CardPage, preview_file: Path) -> None:
    """Opened from disk: loads nothing else, fits a phone, AA contrast, theme switch works."""
    page = card_page.page
    card_page.open_file(preview_file, DESKTOP)
    assert card_page.requests == [preview_file.resolve().as_uri()]
    assert page.locator(".pv-side > .card").count() == 22
    assert problems_in(card_page.measure(), "preview light desktop") == []

    page.click("#pv-width")
    assert page.evaluate("document.body.classList.contains('pv-phone')")
    widths = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pv-side > .card'), (c) => c.clientWidth)"
    )
    assert set(widths) == {PHONE["width"]}
    card_page.page.set_viewport_size(PHONE)
    assert problems_in(card_page.measure(), "preview light phone") == []
    cards_fit = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pv-side > .card'))"
        ".every((c) => c.scrollWidth <= c.clientWidth)"
    )
    assert cards_fit

    light = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    page.click("#pv-theme")
    night = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pv-side > .card'))"
        ".every((c) => c.classList.contains('nightMode') && c.classList.contains('night_mode'))"
    )
    assert night
    dark = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    assert (light, dark) == ("rgb(255, 255, 255)", "rgb(28, 29, 33)")
    assert problems_in(card_page.measure(), "preview night phone") == []
    page.click("#pv-theme")
    assert page.evaluate("document.querySelector('.card').className") == "card card1"
    assert card_page.requests == [preview_file.resolve().as_uri()]


def test_preview_default_output_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default output is dist/preview.html; a content error is reported and writes nothing."""
    monkeypatch.chdir(tmp_path)
    make_bank(
        tmp_path / "content", [question("a", text="Q?", answer="A")], role="R", filename="r.yaml"
    )
    result = run_cli(["preview"])
    assert result.exit_code == 0, result.output
    assert (
        (tmp_path / "dist" / "preview.html")
        .read_text(encoding="utf-8")
        .startswith("<!DOCTYPE html>")
    )
    bad = write(tmp_path / "bad.yaml", "role: R\nquestions:\n  - id: a\n    difficulty: easy\n")
    result = run_cli(["preview", str(bad), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 1
    assert f"{bad}:3: missing required key 'question'" in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_renderer_refuses_what_it_does_not_implement() -> None:
    """Conditionals, filters or unknown fields raise instead of rendering something else."""
    fields = {"Question": "<p>Q</p>"}
    assert render_template("<b>{{Question}}</b>", fields) == "<b><p>Q</p></b>"
    for template in ("{{#Question}}x{{/Question}}", "{{text:Question}}", "{{Nope}}"):
        with pytest.raises(TemplateError):
            render_template(template, fields)
