"""Plain text, as a published page shows it -> content Markdown whose card shows that same
text: no emphasis, list, heading, code, link, image, entity or formula the page did not mean.

Text the renderer already shows as written stays as it is (``costs $5 and $10``, ``a < b``,
``model_v2``); other text has its ASCII punctuation backslash-escaped — but ``(`` and ``[``,
since ``\\(`` and ``\\[`` open formulas here: ``[`` is written ``&#91;`` and ``(`` needs
nothing once no ``[`` opens a link — and then each escape the card does not need is taken
out again, within a budget of renders, so the file stays readable.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from exporter.markup.markdown import scan, to_html

_PUNCTUATION = re.compile(r"([!-')-/:-@\\\]-`{-~])")  # ASCII punctuation but '(' and '['
_DELIMITER = re.compile(r"\\[(\[]")  # where Anki's MathJax starts a formula in a card's text
_ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]|&#91;")
# Renders spent taking escapes out again, in characters: a text of 10,000 characters gets
# 100 tries; past the budget an escape stays (the card is the same, the file less tidy).
RENDER_BUDGET = 1_000_000


def literal_markdown(text: str) -> str | None:
    """Markdown whose card shows exactly ``text`` (paragraphs split by a blank line, lines
    by a newline), or ``None`` when no such Markdown was found."""
    if not text or shows(text, text):
        return text
    escaped = _PUNCTUATION.sub(r"\\\1", text).replace("[", "&#91;")
    if not shows(escaped, text):
        return None
    return _fewest_escapes(escaped)


def shows(markdown: str, text: str) -> bool:
    """True when the card of ``markdown`` shows ``text`` and nothing else, and the content
    check finds no problem in it (an unclosed formula renders as text, but is refused)."""
    return visible_text(to_html(markdown)) == text and not scan(markdown).problems


def _fewest_escapes(markdown: str) -> str:
    """``markdown`` without each escape the card does not need, from the end, while the
    budget lasts: an escape goes when the card's HTML stays the same without it."""
    target = to_html(markdown)
    budget = RENDER_BUDGET
    for match in reversed(list(_ESCAPED.finditer(markdown))):
        budget -= len(markdown)
        if budget < 0:
            break
        plain = "[" if match[0] == "&#91;" else match[0][1]
        candidate = markdown[: match.start()] + plain + markdown[match.end() :]
        if to_html(candidate) == target and not scan(candidate).problems:
            markdown = candidate
    return markdown


class _Visible(HTMLParser):
    """The text of card HTML made only of paragraphs, line breaks and text; ``plain`` turns
    false at any other element (emphasis, a link, code, a formula's markup, ...) and at a
    ``\\(`` or ``\\[`` that Anki's MathJax would typeset (one it is told to ignore is text)."""

    _QUIET = frozenset({"span"})  # the renderer's tex2jax_ignore around a literal '\('

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.plain = True
        self.paragraphs = 0
        self.after_break = False
        self.ignored = 0  # inside the renderer's tex2jax_ignore span

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            if self.paragraphs:
                self.parts.append("\n\n")
            self.paragraphs += 1
        elif tag == "br":
            self.parts.append("\n")
            self.after_break = True
            return
        elif tag in self._QUIET and attrs == [("class", "tex2jax_ignore")]:
            self.ignored += 1
        else:
            self.plain = False
        self.after_break = False

    def handle_endtag(self, tag: str) -> None:
        if tag in self._QUIET and self.ignored:
            self.ignored -= 1
        elif tag != "p":
            self.plain = False

    def handle_data(self, data: str) -> None:
        if self.after_break and data.startswith("\n"):
            data = data[1:]  # the renderer's newline after <br>
        self.after_break = False
        if not self.ignored and _DELIMITER.search(data):
            self.plain = False
        if data.strip("\n") or not self.paragraphs:
            self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        self.plain = False

    def handle_decl(self, decl: str) -> None:
        self.plain = False

    def handle_pi(self, data: str) -> None:
        self.plain = False


def visible_text(card_html: str) -> str | None:
    """The text a card shows for ``card_html`` (paragraphs split by a blank line, line
    breaks as newlines), or ``None`` when it holds anything but paragraphs, breaks and text."""
    parser = _Visible()
    parser.feed(card_html)
    parser.close()
    return "".join(parser.parts) if parser.plain else None
