"""`interview-deck preview`: one self-contained HTML page shows every card exactly as Anki
renders it, grouped by deck, readable in a browser (phone width, light and dark), styled as
in Anki (the page's own CSS touches no card) with formulas typeset by Anki's MathJax;
content errors write nothing."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from browser import (
    DESKTOP,
    MATHJAX_DIR,
    PHONE,
    CardPage,
    aqt_web_file,
    card_document,
    missing_mathjax,
    need_mathjax,
)
from exporter.pipeline import run_load
from exporter.render import mathjax
from exporter.render.notes import media_of, notes_for
from exporter.render.notetype import note_type, note_types
from exporter.render.preview import (
    TemplateError,
    card_frame,
    card_view,
    render_page,
    render_template,
)
from helpers import (
    CONTENT,
    ROOT,
    RenderedCard,
    bank_counts,
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
    """The preview page of the shipped bank plus the stress card, written by the CLI: every
    card of the bank (its key points' too) and the stress card."""
    folder = tmp_path_factory.mktemp("preview")
    stress = write_stress_bank(folder / "stress")
    out = folder / "site" / "preview.html"
    result = run_cli(["preview", str(CONTENT), str(stress), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote {out} ({bank_counts().cards + 1} cards)\n"
    return out


def test_preview_markup_is_what_anki_renders(
    anki_cards: list[RenderedCard], preview_file: Path, tmp_path: Path
) -> None:
    """Front and back in the page equal Anki's own rendering of the same card, byte for byte."""
    notetype = note_type()
    stress = write_stress_bank(tmp_path)
    built = notes_for(run_load([str(CONTENT), str(stress)]))
    notes = {n.question_id: n for n in built if n.kind == "question"}  # the main cards
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
    sections = re.findall(
        r'<section class="pv-deck">\n<h2 class="pv-deck-name">(.*?) <small[^>]*>\((\d+)\)', page
    )
    cards = str(bank_counts().cards)  # the count is of cards: a key point is a card
    assert sections == [("Interview Questions::MLOps Engineer", cards), ("Stress", "1")]
    assert page.index('data-card="stress-card"') > page.index('<h2 class="pv-deck-name">Stress')


def test_preview_page_in_chromium(card_page: CardPage, preview_file: Path) -> None:
    """Opened from disk: loads nothing else, fits a phone, AA contrast, theme switch works."""
    page = card_page.page
    card_page.open_file(preview_file, DESKTOP)
    assert card_page.requests == [preview_file.resolve().as_uri()]
    assert page.locator(".pv-screen > .card").count() == 2 * (bank_counts().cards + 1)
    assert problems_in(card_page.measure(), "preview light desktop") == []

    page.click("#pv-width")
    assert page.evaluate("document.body.classList.contains('pv-phone')")
    widths = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pv-screen > .card'), (c) => c.clientWidth)"
    )
    assert set(widths) == {PHONE["width"]}
    card_page.page.set_viewport_size(PHONE)
    assert problems_in(card_page.measure(), "preview light phone") == []
    cards_fit = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pv-screen > .card'))"
        ".every((c) => c.scrollWidth <= c.clientWidth)"
    )
    assert cards_fit

    light = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    page.click("#pv-theme")
    night = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pv-screen > .card'))"
        ".every((c) => c.classList.contains('nightMode') && c.classList.contains('night_mode'))"
    )
    assert night
    dark = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
    assert (light, dark) == ("rgb(255, 255, 255)", "rgb(0, 0, 0)")  # AnkiDroid's Black
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
    """Fields, sections on a field and cloze on a cloze card render as Anki renders them;
    inverted sections, other filters, unknown fields or a cloze outside a cloze card raise
    instead of rendering something else."""
    fields = {"Question": "<p>Q</p>", "Extra": ""}
    assert render_template("<b>{{Question}}</b>", fields) == "<b><p>Q</p></b>"
    assert render_template("{{#Question}}x{{/Question}}{{#Extra}}y{{/Extra}}", fields) == "x"
    assert render_template("{{cloze:Question}}", {"Question": "{{c1::a}}"}, cloze=1) == (
        '<span class="cloze" data-cloze="a" data-ordinal="1">[...]</span>'
    )
    for template in (
        "{{^Question}}x{{/Question}}",
        "{{#Nope}}x{{/Nope}}",
        "{{text:Question}}",
        "{{cloze:Question}}",
        "{{Nope}}",
    ):
        with pytest.raises(TemplateError):
            render_template(template, fields)


EXAMPLE = ROOT / "docs" / "examples"


@pytest.fixture(scope="module")
def example_preview(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The preview page of the documented example (math, code, a diagram) and of the
    technical bank (long code lines, tall formulas)."""
    from test_technical_answers import technical_bank

    folder = tmp_path_factory.mktemp("example-preview")
    bank = technical_bank(folder / "content")
    out = folder / "preview.html"
    result = run_cli(["preview", str(EXAMPLE), str(bank), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def show_preview(card_page: CardPage, path: Path, *, phone: bool, night: bool) -> None:
    """Open the page in a desktop window with the width and theme switches set."""
    card_page.open_file(path, DESKTOP)
    page = card_page.page
    for switch, wanted in (("#pv-width", phone), ("#pv-theme", night)):
        if (page.get_attribute(switch, "aria-pressed") == "true") != wanted:
            page.click(switch)
    page.evaluate("document.fonts.ready")


# Every computed property of every element of one card, the card's own element first: as a
# digest per element, or (``full``) the values of the elements at the given indexes.
STYLES_JS = """
([root, full]) => {
  const card = document.querySelector(root);
  const elements = [card, ...card.querySelectorAll("*")].filter((e) => e.tagName !== "STYLE");
  const values = (e) => {
    const style = getComputedStyle(e), out = {};
    for (const name of style) out[name] = style.getPropertyValue(name);
    return out;
  };
  // The app's wrappers (#content, #qa) are classed pv-content, pv-qa in the preview.
  const classes = (e) => (e.getAttribute("class") || "").replace(/\\bpv-(content|qa)\\b/, "");
  const tag = (e) => (e === card ? "card" : e.tagName.toLowerCase())
    + (e !== card && classes(e) ? "." + classes(e) : "");
  if (full) return full.map((i) => [tag(elements[i]), values(elements[i])]);
  return elements.map((e) => {
    let hash = 2166136261;
    const all = values(e);
    for (const name of Object.keys(all).sort()) {
      if (e === card && name === "unicode-bidi") continue;
      const text = name + ":" + all[name] + ";";
      for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
    }
    return [tag(e), hash >>> 0];
  });
}
"""
# The card's own element is <body> in Anki and a <div> here: the user agent gives a div
# 'unicode-bidi: isolate', which does nothing to a card of no declared direction.
_ROOT_ONLY = {"unicode-bidi"}


def style_differences(ours: list[Any], anki: list[Any]) -> list[str]:
    """Each property whose value differs, element by element ([tag, values] lists)."""
    out = []
    for (tag, mine), (_, theirs) in zip(ours, anki, strict=True):
        out += [
            f"{tag}: {name} is {mine[name]!r}, in Anki {theirs.get(name)!r}"
            for name in mine
            if mine[name] != theirs.get(name)
            and not (tag.startswith("card") and name in _ROOT_ONLY)
        ]
    return out


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_preview_styles_cards_as_anki_does(
    card_page: CardPage, tmp_path: Path, night: bool
) -> None:
    """At phone width, every element of a card in the preview computes the very same styles
    (all properties, sizes included) as the same card alone in the AnkiDroid-like view at
    360 px, formulas typeset in both. One card a page: MathJax adds the CSS of each kind of
    box when a formula first needs it, so a formula can lay out a pixel differently beside
    other cards' formulas, in the preview as on any page that holds more than one card."""
    need_mathjax()
    from test_technical_answers import technical_bank

    notetype = note_type()
    bank = technical_bank(tmp_path / "content")
    notes = notes_for(run_load([str(EXAMPLE), str(bank)]))
    media = {file.name: file.path.read_bytes() for file in media_of(notes)}
    assert media
    compared = 0
    types = note_types()
    for note in notes:  # every kind: the key points' and the reverse card's too
        page = tmp_path / f"{note.key.replace(':', '-')}.html"
        page.write_text(render_page(notetype, [note], title="t", media=media), encoding="utf-8")
        view = card_view(types[note.kind], note)
        frame = f'.pv-screen > .card[data-card="{view.anchor}"][data-side="back"]'
        document = card_document(
            f"<style>{notetype.css}</style>{view.back}",
            night=night,
            mathjax=True,
        )

        def preview_styles(full: list[int] | None, page: Path = page, frame: str = frame) -> Any:
            show_preview(card_page, page, phone=True, night=night)
            return card_page.page.evaluate(STYLES_JS, [frame, full])

        def anki_styles(full: list[int] | None, document: str = document) -> Any:
            card_page.show(document, PHONE, media)
            card_page.page.evaluate("document.fonts.ready")
            return card_page.page.evaluate(STYLES_JS, ["body", full])

        ours, anki = preview_styles(None), anki_styles(None)
        assert [tag for tag, _ in ours] == [tag for tag, _ in anki], note.question_id
        differing = [i for i, (a, b) in enumerate(zip(ours, anki, strict=True)) if a != b][:5]
        if differing:
            found = style_differences(preview_styles(differing), anki_styles(differing))
            pytest.fail(f"{note.question_id}:\n" + "\n".join(found))
        compared += len(ours)
    assert compared > 1000


def test_page_css_never_matches_a_card(card_page: CardPage, example_preview: Path) -> None:
    """No rule of the page's own style sheet selects a card or anything in it (the card's
    "Sample answer" heading is 0.8 em, as in Anki, not the page's 20 px deck heading)."""
    show_preview(card_page, example_preview, phone=False, night=False)
    matches = card_page.page.evaluate(
        """() => [...document.getElementById("page-css").sheet.cssRules].flatMap((rule) =>
             [...document.querySelectorAll(rule.selectorText)]
               .filter((e) => e.closest(".card"))
               .map((e) => rule.selectorText + " -> " + e.tagName))"""
    )
    assert matches == []
    sizes = card_page.page.evaluate(
        """() => [...document.querySelectorAll(".card .iq-heading, .pv-deck-name")]
             .map((e) => getComputedStyle(e).fontSize)"""
    )
    assert set(sizes) == {"14.4px", "20px"}


def test_preview_typesets_formulas_offline(card_page: CardPage, example_preview: Path) -> None:
    """Formulas in the page are typeset by the MathJax it carries, fonts included, with no
    TeX error and no request leaving the page."""
    page_html = example_preview.read_text(encoding="utf-8")
    show_preview(card_page, example_preview, phone=True, night=False)
    assert card_page.requests == [example_preview.resolve().as_uri()]
    cards = page_html.split('<div class="card card1"')[1:]
    formulas = sum(len(re.findall(r'(?<!tex2jax_ignore">)\\[(\[]', c)) for c in cards)
    typeset = card_page.page.evaluate(
        """async () => { await document.fonts.ready; return [
             document.querySelectorAll(".card mjx-container").length,
             document.querySelectorAll("mjx-merror, .pv-bar mjx-container").length,
             [...document.fonts].filter((f) => f.status === "error").length,
             [...document.fonts].filter((f) => f.status === "loaded").length]; }"""
    )
    assert typeset[:3] == [formulas, 0, 0]
    assert formulas > 20
    assert typeset[3] >= 3  # MathJax's main, italic and size fonts, from data: URIs
    assert "Formulas are typeset by MathJax 3.2.2" in page_html
    assert problems_in(card_page.measure(), "preview with math") == []


def configured_mathjax(card_page: CardPage, script: str) -> Any:
    """``window.MathJax`` (as JSON: no functions) once ``script`` has run in a blank page."""
    card_page.show(f"<!doctype html><script>{script}</script>", PHONE)
    return card_page.page.evaluate("() => JSON.parse(JSON.stringify(window.MathJax))")


def test_preview_configures_mathjax_as_anki_does(card_page: CardPage) -> None:
    """The preview typesets with the TeX options and extensions of Anki's own MathJax
    configuration (``js/mathjax.js`` of the aqt wheel, which AnkiDroid loads too): only
    where MathJax is loaded from and who starts typesetting differ."""
    anki = configured_mathjax(card_page, aqt_web_file("js/mathjax.js"))
    ours = configured_mathjax(card_page, mathjax.page_config(".card"))
    assert ours["tex"] == anki["tex"]
    assert ours["loader"]["load"] == anki["loader"]["load"]
    assert anki["tex"]["packages"]["[-]"] == ["textmacros"]  # not vacuous


def test_a_page_without_math_carries_no_mathjax(preview_file: Path) -> None:
    """MathJax (about 1.8 MB inlined) is only in a page that has a formula to typeset:
    none of its script or fonts, and the page's own chrome (all but its cards) is small."""
    page = preview_file.read_text(encoding="utf-8")
    assert '<script id="mathjax">' not in page
    assert "window.MathJax" not in page
    script = mathjax.script()
    assert script[len(script) // 2 :][:2000] not in page
    assert "data:font/woff" not in page
    assert not any(font[:64] in page for font in mathjax.fonts().values())
    cards = re.findall(r'<div class="pv-screen">\n(.*?)\n</div></figure>', page, re.DOTALL)
    assert len(cards) == 2 * (bank_counts().cards + 1)  # each card's front and back
    chrome = len(page.encode()) - sum(len(card.encode()) for card in cards)
    assert chrome < 100_000


def test_the_shipped_mathjax_is_npm_s_3_2_2() -> None:
    """The MathJax in the package is mathjax@3.2.2's tex-chtml-full.js, ui/safe.js and its
    fonts, unchanged (compared with npm's copy when ./scripts/test has installed it)."""
    script = gzip.decompress((mathjax.FOLDER / "tex-chtml-full.js.gz").read_bytes())
    safe = gzip.decompress((mathjax.FOLDER / "safe.js.gz").read_bytes())
    readme = (mathjax.FOLDER / "README.md").read_text(encoding="utf-8")
    for shipped in (script, safe):
        assert hashlib.sha256(shipped).hexdigest() in readme
    named = set(re.findall(rb"MathJax_[\w-]+\.woff", script))
    assert {p.name.encode() for p in (mathjax.FOLDER / "fonts").iterdir()} == named
    if missing_mathjax() is None:
        assert script == (MATHJAX_DIR / "tex-chtml-full.js").read_bytes()
        assert safe == (MATHJAX_DIR / "ui" / "safe.js").read_bytes()
        for font in (mathjax.FOLDER / "fonts").iterdir():
            npm = MATHJAX_DIR / "output" / "chtml" / "fonts" / "woff-v2" / font.name
            assert font.read_bytes() == npm.read_bytes()


def test_the_preview_typesets_with_mathjax_s_safe_extension(
    card_page: CardPage, tmp_path: Path
) -> None:
    """Should a formula with ``\\href``, ``\\style``, ``\\class`` or ``\\cssId`` reach the
    preview (the loader refuses them), MathJax's safe extension typesets it without a
    ``javascript:`` link, the style, or the page's own class and id."""
    from exporter.content.model import Question, RoleFile
    from exporter.render.notes import note_for

    answer = (
        "\\(\\href{javascript:alert(1)}{a}\\) \\(\\style{position:fixed;top:0}{b}\\) "
        "\\(\\class{pv-bar}{c}\\) \\(\\cssId{pv-theme}{d}\\) \\(\\href{https://example.com}{e}\\)"
    )
    question_ = Question("unsafe", "easy", "Q?", answer)
    role_file = RoleFile("x.yaml", "R", "Deck", "", (question_,))
    out = tmp_path / "preview.html"
    out.write_text(
        render_page(note_type(), [note_for(role_file, question_)], title="t"), encoding="utf-8"
    )
    card_page.open_file(out, DESKTOP)
    found = card_page.page.evaluate(
        """() => { const card = document.querySelector('[data-side="back"]'); return [
             card.querySelectorAll('mjx-container').length,
             card.querySelectorAll('mjx-merror').length,
             card.querySelectorAll('[href^="javascript" i]').length,
             card.querySelectorAll('[href^="https://example.com"]').length,
             [...card.querySelectorAll('[style]')].filter(
               (e) => e.getAttribute('style').includes('fixed')).length,
             card.querySelectorAll('.pv-bar, #pv-theme').length]; }"""
    )
    assert found[:3] == [5, 0, 0]
    assert found[3] > 0  # a link to the web stays a link
    assert found[4:] == [0, 0]


TRAINING = """\
role: Tester
questions:
  - id: idempotency
    difficulty: medium
    question: How do you make a payment API safe to retry?
    answer: With an idempotency key.
    key_points:
      - the client sends an *idempotency key* & a `POST`
      - "braces {{c1::x}} and a::b }} stay text, \\u00e9 and \\u65e5\\u672c"
      - the server replays the first response
    hint: Think about what the client can send again.
    follow_ups:
      - What if two requests arrive at once?
    reverse: true
"""


def test_preview_shows_every_kind_of_card_as_anki_renders_it(tmp_path: Path) -> None:
    """The page holds the main card, one card per key point and the reverse card, each
    front and back equal to what a real Anki renders from the package (the cloze markup
    included)."""
    from exporter.render.notetype import NoteKind, note_types
    from exporter.render.preview import card_views
    from helpers import Anki, build_deck

    src = write(tmp_path / "bank.yaml", TRAINING)
    out = tmp_path / "preview.html"
    result = run_cli(["preview", str(src), "-o", str(out)])
    assert result.stdout == f"Wrote {out} (5 cards)\n"
    page = out.read_text(encoding="utf-8")
    types = note_types()
    views = {
        (view.kind, view.number): view
        for note in notes_for(run_load([str(src)]))
        for view in card_views(types[note.kind], note)
    }
    assert sorted(views) == [
        ("key-points", 1),
        ("key-points", 2),
        ("key-points", 3),
        ("question", 0),
        ("reverse", 0),
    ]
    kinds: dict[str, NoteKind] = {
        "Interview Question": "question",
        "Interview Key Points": "key-points",
        "Interview Extra": "reverse",
    }
    anki = Anki(tmp_path / "collection.anki2")
    try:
        anki.import_package(build_deck(src, output=tmp_path / "deck.apkg").output)
        for note in anki.notes():
            kind = kinds[note.note_type()["name"]]
            for card in note.cards():
                view = views[(kind, card.ord + 1 if kind == "key-points" else 0)]
                assert view.front == without_anki_wrapper(card.question()), view.anchor
                assert view.back == without_anki_wrapper(card.answer()), view.anchor
                assert card_frame(view.front, qid=view.anchor, side="front") in page
    finally:
        anki.close()
    assert 'id="card-idempotency-key-points-2"' in page
