"""Card design: every card reads well on a phone and on the desktop, light and dark (real
Anki renders, headless Chromium measures): no sideways scroll, AA contrast, worded badges,
readable text, right-to-left paragraphs, code that scrolls inside, nothing loaded."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from browser import DESKTOP, PAGE_URL, PHONE, VIEWS, CardPage, card_document, view_document
from exporter.pipeline import run_load
from exporter.render.notes import notes_for
from exporter.render.notetype import note_type
from exporter.render.preview import card_view
from helpers import CONTENT, LONG_URL, LONG_WORD, ROOT, RTL, RenderedCard, problems_in

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_card_fits_and_reads_in_chromium(
    anki_cards: list[RenderedCard], card_page: CardPage, view: str
) -> None:
    """No sideways scroll, AA contrast, a worded badge and no request, for every card side,
    in AnkiDroid's page (light, Dark, Black) and Anki desktop's reviewer (light, dark)."""
    problems: list[str] = []
    for card in anki_cards:
        for side, rendered in (("front", card.question), ("back", card.answer)):
            card_page.show(view_document(rendered, view), VIEWS[view][0])
            where = f"{card.question_id} {side}"
            measured = card_page.measure()
            problems += problems_in(measured, where)
            assert [b["text"] for b in measured["badges"]] == [card.difficulty], where
            assert card_page.requests == [PAGE_URL], where
            assert len(measured["texts"]) >= 3, where
    assert problems == []


# What each view shows behind a card, and the card's text colour there.
APP_BACKGROUNDS = {
    "phone-light": "rgb(255, 255, 255)",
    "phone-dark": "rgb(48, 48, 48)",  # AnkiDroid's Dark theme, #303030
    "phone-black": "rgb(0, 0, 0)",  # AnkiDroid's Black theme (its default at night)
    "desktop-light": "rgb(255, 255, 255)",
    "desktop-dark": "rgb(44, 44, 44)",  # Anki desktop's --canvas, #2c2c2c
}


def test_night_cards_keep_the_app_s_background(
    anki_cards: list[RenderedCard], card_page: CardPage
) -> None:
    """At night a card sits on the app's own background (AnkiDroid Dark and Black, Anki
    desktop), with the card's palette for its text; a page without such a rule gets Anki
    desktop's background from the card, whichever night class it sets."""
    texts = {}
    for view, background in APP_BACKGROUNDS.items():
        card_page.show(view_document(anki_cards[0].question, view), VIEWS[view][0])
        assert card_page.measure()["bodyBackground"] == background, view
        texts[view] = card_page.page.evaluate(
            "getComputedStyle(document.querySelector('.iq')).color"
        )
    assert {texts[v] for v in VIEWS if v.endswith("light")} == {"rgb(31, 35, 40)"}
    assert {texts[v] for v in VIEWS if not v.endswith("light")} == {"rgb(230, 232, 235)"}
    bare = {}
    for classes in ("", "nightMode", "night_mode"):
        card_page.show(
            f'<!doctype html><body class="card card1 {classes}">{anki_cards[0].question}</body>',
            PHONE,
        )
        bare[classes] = card_page.measure()["bodyBackground"]
    assert bare == {
        "": "rgb(255, 255, 255)",
        "nightMode": "rgb(44, 44, 44)",
        "night_mode": "rgb(44, 44, 44)",
    }


def test_text_size_line_height_and_measure(
    anki_cards: list[RenderedCard], card_page: CardPage
) -> None:
    """Body text >= 16px with line height >= 1.4; on a wide screen a centred column <= 45em."""
    card = next(c for c in anki_cards if c.question_id == "secure-ml-pipelines-model")
    card_page.show(card_document(card.answer, night=False), DESKTOP)
    style = card_page.page.evaluate(
        """() => [".iq-question p", ".iq-answer p"].map((s) => {
             const cs = getComputedStyle(document.querySelector(s));
             return [parseFloat(cs.fontSize), parseFloat(cs.lineHeight)];
           })"""
    )
    for size, line in style:
        assert size >= 16
        assert line / size >= 1.4
    box = card_page.page.evaluate(
        """() => { const r = document.querySelector(".iq-back").getBoundingClientRect();
                   return [r.left, window.innerWidth - r.right, r.width,
                           parseFloat(getComputedStyle(document.body).fontSize)]; }"""
    )
    left, right, width, em = box
    assert width <= 45 * em
    assert abs(left - right) <= 1


def test_badges_differ_without_colour(anki_cards: list[RenderedCard], card_page: CardPage) -> None:
    """easy / medium / hard each show their word and a different number of filled dots."""
    dots = {}
    for card in anki_cards:
        card_page.show(card_document(card.question, night=False), PHONE)
        (badge,) = card_page.measure()["badges"]
        dots[badge["text"]] = badge["dots"]
    assert set(dots) == {"easy", "medium", "hard"}
    filled = {word: content.count("\u25cf") for word, content in dots.items()}
    assert filled == {"easy": 1, "medium": 2, "hard": 3}


def test_right_to_left_paragraph_reads_right_to_left(
    anki_cards: list[RenderedCard], card_page: CardPage
) -> None:
    """A Hebrew/Arabic paragraph in an answer starts at the right edge."""
    card = next(c for c in anki_cards if c.question_id == "stress-card")
    card_page.show(card_document(card.answer, night=False), PHONE)
    gap_left, gap_right = card_page.page.evaluate(
        """() => {
             const p = Array.from(document.querySelectorAll(".iq-answer p"))
               .find((e) => /[\\u0590-\\u05ff]/.test(e.textContent));
             const range = document.createRange(); range.selectNodeContents(p);
             const line = range.getClientRects()[0], box = p.getBoundingClientRect();
             return [line.left - box.left, box.right - line.right];
           }"""
    )
    assert gap_right < 2 <= gap_left


def test_code_blocks_wrap_inside_the_card(card_page: CardPage) -> None:
    """A long line in a code block wraps: neither the card nor the block scrolls sideways
    (AnkiDroid's sideways swipes would fight it), and no character is lost."""
    (note, *_) = notes_for(run_load([str(CONTENT)]))
    long_line = "kubectl rollout undo deployment/model-server --to-revision=" + "1234567890" * 20
    answer = f"Roll back:\n\n```bash\n{long_line}\n```\n\n```\n{long_line}\n```\n\n- then check\n"
    notetype = note_type()
    view = card_view(notetype, replace(note, question=note.question._replace(answer=answer)))
    assert '<pre class="iq-code" data-lang="bash">' in view.back
    assert '<pre><code><span class="iq-line">kubectl' in view.back
    card_page.show(card_document(f"<style>{notetype.css}</style>{view.back}", night=True), PHONE)
    measured = card_page.measure()
    assert measured["scrollWidth"] <= measured["clientWidth"]
    blocks = card_page.page.evaluate(
        """() => [...document.querySelectorAll('pre')].map(
             p => [p.scrollWidth, p.clientWidth, p.textContent.length])"""
    )
    assert len(blocks) == 2
    for scroll_width, client_width, length in blocks:
        assert scroll_width <= client_width
        assert length == len(long_line) + 1
    assert problems_in(measured, "pre") == []


def test_cards_load_nothing_from_outside() -> None:
    """Templates and CSS name no font, image, script or stylesheet to fetch."""
    notetype = note_type()
    for text in (notetype.front, notetype.back, notetype.css):
        assert not re.search(r"url\(|@import|@font-face|<script|<link|<img|\bsrc=|https?:", text)


def test_readme_shows_the_screenshots() -> None:
    """The README's card pictures exist: front and back at phone size, and the rich card
    on a phone and a desktop, each light and dark."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shots = re.findall(r"\]\((docs/screenshots/[\w-]+\.png)\)", readme)
    names = ("back", "front", "rich-desktop", "rich-phone")
    assert sorted(shots) == [
        f"docs/screenshots/{name}-{theme}.png" for name in names for theme in ("dark", "light")
    ]
    for shot in shots:
        data = (ROOT / shot).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        screen = DESKTOP if "desktop" in shot else PHONE
        if shot.startswith("docs/screenshots/rich-"):  # the whole card, taller than a screen
            assert width == 2 * screen["width"]
            assert height >= 2 * screen["height"] or "desktop" in shot
        else:
            assert width * screen["height"] == height * screen["width"]


def test_card_design_shows_each_app_s_themes() -> None:
    """docs/card-design.md shows the rich card as each view of the tests shows it (AnkiDroid
    light, Dark and Black; Anki desktop light and dark), from files the script writes."""
    page = (ROOT / "docs" / "card-design.md").read_text(encoding="utf-8")
    shots = re.findall(r"\]\((screenshots/rich-[\w-]+\.png)\)", page)
    assert shots == [f"screenshots/rich-{view}.png" for view in VIEWS]
    for shot in shots:
        assert (ROOT / "docs" / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# A question with every key that trains an answer (issue 31), with what tends to break a
# layout: a long word, a right-to-left line, code, a long link, in its key points, hint,
# follow-ups and reverse card.
TRAINING_BANK = f"""\
role: Stress Tester
deck: Stress
questions:
  - id: training-kinds
    difficulty: hard
    question: How do you make a payment API safe to retry, {LONG_WORD[:60]}?
    answer: |-
      The client sends an idempotency key; the server stores the first response.

      ```python
      responses[key] = handle(request)  # {LONG_WORD}
      ```
    key_points:
      - the client sends an *idempotency key* with `POST /payments`
      - "{LONG_WORD}"
      - "{RTL[:40]}"
      - a link typed as text {LONG_URL[:120]}
    hint: |-
      Think about what the client can send again: {LONG_WORD}.

      {RTL[:30]}
    follow_ups:
      - What if two requests with the same key arrive at the same moment?
      - "{LONG_WORD} and `code` in a follow-up?"
    reverse: true
"""


@pytest.fixture(scope="module")
def training_cards(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str, str]]:
    """Every card of the training bank as a real Anki renders it: (kind, difficulty, front,
    back), the main card's front also with its hint opened."""
    from helpers import Anki, build_deck, write

    folder = tmp_path_factory.mktemp("training-cards")
    src = write(folder / "bank.yaml", TRAINING_BANK)
    package = build_deck(src, output=folder / "deck.apkg").output
    anki = Anki(folder / "collection.anki2")
    try:
        anki.import_package(package)
        cards = [
            (
                f"{note.note_type()['name']} {card.ord + 1}",
                note["Difficulty"],
                card.question(),
                card.answer(),
            )
            for note in anki.notes()
            for card in note.cards()
        ]
    finally:
        anki.close()
    kinds = sorted({kind.rsplit(" ", 1)[0] for kind, *_ in cards})
    assert kinds == ["Interview Extra", "Interview Key Points", "Interview Question"]
    assert len(cards) == 6  # the main card, four key points, the reverse card
    (main,) = [c for c in cards if c[0] == "Interview Question 1"]
    opened = main[2].replace('<details class="iq-hint">', '<details class="iq-hint" open>')
    assert opened != main[2]
    return [*cards, ("Interview Question 1 (hint open)", main[1], opened, main[3])]


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_kind_of_card_fits_and_reads_in_chromium(
    training_cards: list[tuple[str, str, str, str]],
    card_page: CardPage,
    size: str,
    night: bool,
) -> None:
    """The key-point, reverse and main cards with a hint and follow-ups meet the main
    card's rules: no sideways scroll at 360 px or on the desktop, AA contrast in light and
    night mode (the hidden and the shown key point, the hint opened), a worded badge, no
    request."""
    problems: list[str] = []
    for kind, difficulty, front, back in training_cards:
        for side, rendered in (("front", front), ("back", back)):
            card_page.show(card_document(rendered, night=night), VIEWPORTS[size])
            where = f"{kind} {side}"
            measured = card_page.measure()
            problems += problems_in(measured, where)
            assert [b["text"] for b in measured["badges"]] == [difficulty], where
            assert card_page.requests == [PAGE_URL], where
            assert len(measured["texts"]) >= 3, where
    assert problems == []


def test_the_asked_key_point_stands_out_in_both_themes(
    training_cards: list[tuple[str, str, str, str]], card_page: CardPage
) -> None:
    """On a key-point card the [...] and, on the back, the revealed point are bold and in
    the cloze colour, AA on the card in light and night mode; the other points are plain
    text."""
    kind, _difficulty, front, back = next(c for c in training_cards if "Key Points 1" in c[0])
    for night in (False, True):
        for rendered, text in ((front, "[...]"), (back, "the client sends an")):
            card_page.show(card_document(rendered, night=night), PHONE)
            style = card_page.page.evaluate(
                """() => { const c = document.querySelector('.cloze');
                   const i = document.querySelector('.cloze-inactive');
                   return [c.textContent, getComputedStyle(c).fontWeight,
                           getComputedStyle(c).color, getComputedStyle(i).fontWeight]; }"""
            )
            assert style[0].startswith(text), kind
            assert int(style[1]) >= 700
            assert style[2] == ("rgb(121, 192, 255)" if night else "rgb(5, 80, 174)")
            assert int(style[3]) < 700
