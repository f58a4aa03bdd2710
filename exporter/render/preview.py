"""Notes + the note type -> one self-contained HTML page showing every card, front and back.

The cards are rendered from the very templates and CSS that go into the package, with the
template features they use: ``{{Field}}`` (the field's HTML, as Anki inserts it),
``{{FrontSide}}`` (the rendered front), ``{{#Field}}…{{/Field}}`` (shown when the field is
not empty) and ``{{cloze:Field}}`` (one card per cloze number, marked up as Anki marks it
up). Anything else in a template is refused rather than guessed at, so the preview cannot
quietly differ from what Anki shows. The page's own CSS
styles only its own ``pv-`` elements, never a card's, and formulas are typeset by the
MathJax Anki ships (``exporter.render.mathjax``).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from exporter.render import mathjax
from exporter.render.notes import NoteSpec
from exporter.render.notetype import NoteKind, NoteType, note_types

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SECTION = re.compile(r"\{\{#([^{}]+?)\}\}(.*?)\{\{/\1\}\}", re.DOTALL)
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.DOTALL)
FRONT_SIDE = "FrontSide"


class TemplateError(ValueError):
    """A template uses something this renderer does not implement."""


@dataclass(frozen=True)
class CardView:
    """One card as Anki renders it: the markup of its front and of its back."""

    question_id: str
    deck: str
    tags: tuple[str, ...]
    front: str
    back: str
    kind: NoteKind = "question"
    number: int = 0  # a key point's cloze number (0 for the other kinds)

    @property
    def anchor(self) -> str:
        """The card's own name in the page (its question id, then its kind and number)."""
        if self.kind == "question":
            return self.question_id
        return f"{self.question_id}-{self.kind}" + (f"-{self.number}" if self.number else "")


def render_template(
    template: str, fields: Mapping[str, str], *, cloze: int = 0, answer: bool = False
) -> str:
    """Substitute ``{{Name}}`` with ``fields[Name]``, keep ``{{#Name}}…{{/Name}}`` when the
    field is not empty, and render ``{{cloze:Name}}`` for the card of cloze number ``cloze``
    (its question side, or its ``answer`` side); any other tag raises ``TemplateError``."""

    def section(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in fields:
            raise TemplateError(f"unsupported template tag {{{{#{name}}}}}")
        return match.group(2) if fields[name].strip() else ""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.startswith("cloze:") and name[6:] in fields and cloze:
            return cloze_html(fields[name[6:]], cloze, answer=answer)
        if name not in fields:
            raise TemplateError(f"unsupported template tag {match.group(0)!r}")
        return fields[name]

    return _TAG.sub(substitute, _SECTION.sub(section, template))


def cloze_html(text: str, number: int, *, answer: bool) -> str:
    """A cloze field as Anki shows the card of ``number``: that cloze hidden (``[...]``) on
    the question side and shown on the answer side, each other cloze's text shown."""

    def one(match: re.Match[str]) -> str:
        ordinal, inner = int(match.group(1)), match.group(2)
        if ordinal != number:
            return f'<span class="cloze-inactive" data-ordinal="{ordinal}">{inner}</span>'
        if answer:
            return f'<span class="cloze" data-ordinal="{ordinal}">{inner}</span>'
        hidden = "".join(map(_attribute_char, inner))
        return f'<span class="cloze" data-cloze="{hidden}" data-ordinal="{ordinal}">[...]</span>'

    return _CLOZE.sub(one, text)


_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _attribute_char(char: str) -> str:
    """One character as Anki writes it into an attribute (the ``htmlescape`` crate's
    ``encode_attribute``): ASCII letters and digits as they are, ``&<>"`` by name, any
    other character below U+0100 as a hexadecimal reference, the rest as they are."""
    if char.isascii() and char.isalnum():
        return char
    if char in _NAMED:
        return _NAMED[char]
    return f"&#x{ord(char):X};" if ord(char) < 0x100 else char


def card_views(notetype: NoteType, note: NoteSpec) -> list[CardView]:
    """The front and back of each of ``note``'s cards, as Anki renders the templates."""
    fields = dict(zip(notetype.fields, note.fields, strict=True))
    views = []
    for number in note.clozes if notetype.cloze else (0,):
        front = render_template(notetype.front, fields, cloze=number)
        back = render_template(
            notetype.back, {**fields, FRONT_SIDE: front}, cloze=number, answer=True
        )
        views.append(
            CardView(note.question_id, note.deck, note.tags, front, back, note.kind, number)
        )
    return views


def card_view(notetype: NoteType, note: NoteSpec) -> CardView:
    """The front and back of ``note``'s (first) card, exactly as Anki renders them."""
    return card_views(notetype, note)[0]


def card_frame(markup: str, *, qid: str, side: str) -> str:
    """A card's markup in the elements that stand in for Anki's ``<body class="card">`` and
    the two an app's card page puts around it (AnkiDroid's ``#content`` and ``#qa``)."""
    return (
        f'<div class="card card1" data-card="{html.escape(qid)}" data-side="{side}">'
        f'<div class="pv-content"><div class="pv-qa">{markup}</div></div></div>'
    )


def with_inline_media(markup: str, media: Mapping[str, bytes]) -> str:
    """``markup`` with each ``<img src="NAME">`` of a known media file as a ``data:`` URI, so
    the page needs no folder beside it."""
    for name, data in media.items():
        kind = _MIME.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
        uri = f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
        markup = markup.replace(f'<img src="{name}"', f'<img src="{uri}"')
    return markup


_MIME = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}


def render_page(
    notetypes: NoteType | Mapping[NoteKind, NoteType],
    notes: Sequence[NoteSpec],
    *,
    title: str,
    media: Mapping[str, bytes] | None = None,
) -> str:
    """The preview page: every card's front and back, decks sorted by name, cards in bank
    order, with theme and width switches, images inlined from ``media`` (name -> bytes).
    Self-contained: no request leaves the page. When a card holds math, MathJax 3.2.2 (as
    Anki ships it) is inlined to typeset it, about 1.8 MB; a page without math goes without."""
    types = dict(note_types())
    if isinstance(notetypes, NoteType):
        types["question"] = notetypes
    else:
        types.update(notetypes)
    notetype = types["question"]
    decks: dict[str, list[CardView]] = {}
    for note in notes:
        for view in card_views(types[note.kind], note):
            decks.setdefault(view.deck, []).append(view)
    total = sum(len(v) for v in decks.values())
    math = any(mathjax.has_math(v.back) for views in decks.values() for v in views)
    typeset = f" Formulas are typeset by MathJax {mathjax.VERSION}, as in Anki." if math else ""
    parts = [
        "<!DOCTYPE html>",
        "<html>",  # no language: a card inherits none in Anki either (it picks fonts by it)
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # The page may run its own inline script and styles, and load nothing at all.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; font-src data:\">",
        f"<title>{html.escape(title)}</title>",
        f'<style id="card-css">\n{notetype.css}</style>',
        f'<style id="page-css">{_PAGE_CSS}</style>',
        f'<style id="app-css">{_APP_CSS}</style>',
    ]
    if math:
        parts += [
            f"<script>{mathjax.page_config(_CARD)}</script>",
            f'<script id="mathjax">{mathjax.script()}</script>',
        ]
    parts += [
        "</head>",
        '<body class="pv-page">',
        '<header class="pv-bar" lang="en">',
        f'<h1 class="pv-title">{html.escape(title)}</h1>',
        f'<p class="pv-count">{total} card{"s" if total != 1 else ""} in {len(decks)} '
        f"deck{'s' if len(decks) != 1 else ''}, rendered with the package's templates and CSS."
        f"{typeset}</p>",
        '<div class="pv-controls">',
        '<button type="button" class="pv-button" id="pv-theme" aria-pressed="false">'
        "Dark cards</button>",
        '<button type="button" class="pv-button" id="pv-width" aria-pressed="false">'
        "Phone width</button>",
        "</div>",
        "</header>",
        '<main class="pv-main">',
    ]
    for deck, views in sorted(decks.items()):  # as Anki's deck list orders them
        parts.append('<section class="pv-deck">')
        parts.append(
            f'<h2 class="pv-deck-name">{html.escape(deck)} '
            f'<small class="pv-deck-count">({len(views)})</small></h2>'
        )
        for view in views:
            parts.append(f'<article class="pv-note" id="card-{html.escape(view.anchor)}">')
            tags = " ".join(view.tags)
            kind = "" if view.kind == "question" else f" <span>{_KIND_LABEL[view.kind]}"
            kind += f" {view.number}</span>" if view.number else ("</span>" if kind else "")
            parts.append(
                f'<p class="pv-caption"><code class="pv-id">{html.escape(view.question_id)}'
                f"</code>{kind} <span>{html.escape(tags)}</span></p>"
            )
            parts.append('<div class="pv-sides">')
            for side, markup in (("front", view.front), ("back", view.back)):
                parts.append(
                    f'<figure class="pv-side"><figcaption class="pv-label">{side.title()}'
                    '</figcaption><div class="pv-screen">'
                )
                markup = with_inline_media(markup, media or {})
                parts.append(card_frame(markup, qid=view.anchor, side=side))
                parts.append("</div></figure>")
            parts.append("</div>")
            parts.append("</article>")
        parts.append("</section>")
    parts += ["</main>", f"<script>{_PAGE_SCRIPT}</script>", "</body>", "</html>", ""]
    return "\n".join(parts)


_KIND_LABEL = {"key-points": "key point", "reverse": "reverse card"}
_CARD = ".pv-screen > .card"  # the stand-ins for Anki's <body class="card">

# The page's own chrome. Every selector names a pv- class and reaches no further down than
# the frame around a card, so nothing here matches a card's content (a test checks it):
# a card in the page computes the very styles it has in Anki.
_PAGE_CSS = """
.pv-page { margin: 0; background: #eceef1; color: #1f2328;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
.pv-page.pv-dark { background: #0d0e10; color: #e6e8eb; }
.pv-bar { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap;
  align-items: center; gap: 4px 16px; padding: 10px 16px; background: #ffffff;
  border-bottom: 1px solid #d0d7de; }
.pv-dark .pv-bar { background: #1c1d21; border-color: #3d424a; }
.pv-title { margin: 0; font-size: 18px; }
.pv-count { margin: 0; font-size: 14px; flex: 1 1 16em; }
.pv-controls { display: flex; gap: 8px; }
.pv-button { font: inherit; font-size: 14px; padding: 6px 12px; border-radius: 6px;
  border: 1px solid #57606a; background: #ffffff; color: #1f2328; cursor: pointer; }
.pv-button[aria-pressed="true"] { background: #1f2328; color: #ffffff; }
.pv-dark .pv-button { background: #1c1d21; color: #e6e8eb; border-color: #aab1ba; }
.pv-dark .pv-button[aria-pressed="true"] { background: #e6e8eb; color: #1c1d21; }
.pv-main { padding: 8px 16px 48px; }
.pv-deck-name { font-size: 20px; margin: 24px 0 8px; }
.pv-deck-count { font-weight: 400; }
.pv-note { margin: 0 0 28px; }
.pv-caption { margin: 0 0 6px; font-size: 13px; overflow-wrap: anywhere; }
.pv-sides { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.pv-side { margin: 0; flex: 1 1 420px; min-width: 0; max-width: 100%; }
.pv-label { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em;
  margin: 0 0 4px; }
.pv-screen { box-shadow: 0 0 0 1px #d0d7de; }
.pv-dark .pv-screen { box-shadow: 0 0 0 1px #3d424a; }
.pv-phone .pv-side { flex: 0 0 360px; max-width: 100%; }
"""

# What the apps' own page rules do to a card, so that a card here looks as it does there: at
# phone width AnkiDroid's card page (0.5 em around the card; at night white text on black, its
# default night theme), else Anki desktop's reviewer (at night its #2c2c2c window and #fcfcfc
# text). Both align <pre> left and <li> to the start. tests/render/test_preview.py compares
# every computed style with the card in AnkiDroid's page.
_APP_CSS = """
.pv-screen > .card.nightMode { background-color: #2c2c2c; color: #fcfcfc; }
.pv-phone .pv-screen > .card.night_mode { background-color: black; color: white; }
.pv-phone .pv-content { margin: 0.5em; }
.pv-qa pre { text-align: left; }
.pv-qa li { text-align: start; }
"""

# Theme and width switches; remembered for the next visit where storage is allowed.
_PAGE_SCRIPT = """
(function () {
  var night = "nightMode night_mode".split(" ");
  var theme = document.getElementById("pv-theme");
  var width = document.getElementById("pv-width");
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) {} }
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function setTheme(dark) {
    document.querySelectorAll(".pv-screen > .card").forEach(function (card) {
      night.forEach(function (name) { card.classList.toggle(name, dark); });
    });
    document.body.classList.toggle("pv-dark", dark);
    theme.setAttribute("aria-pressed", String(dark));
    store("interview-deck-preview-dark", dark ? "1" : "0");
  }
  function setPhone(phone) {
    document.body.classList.toggle("pv-phone", phone);
    width.setAttribute("aria-pressed", String(phone));
    store("interview-deck-preview-phone", phone ? "1" : "0");
  }
  theme.addEventListener("click", function () {
    setTheme(theme.getAttribute("aria-pressed") !== "true");
  });
  width.addEventListener("click", function () {
    setPhone(width.getAttribute("aria-pressed") !== "true");
  });
  var saved = load("interview-deck-preview-dark");
  setTheme(saved === null
    ? !!(window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches)
    : saved === "1");
  setPhone(load("interview-deck-preview-phone") === "1");
})();
"""
