"""A note's fields as Anki holds them -> the parts ``pull`` brings home: the Question field's
question and hint, the Answer field's answer and follow-up questions, a key-points note's
points by cloze number.

The parts are found by the markup the build writes around them
(``exporter.render.notes``): a ``<details class="iq-hint">`` element, a
``<div class="iq-follow-ups">`` with a list, ``{{cN::…}}`` clozes. Anki's editor keeps
that markup, and may add line breaks or attributes around it; anything a user typed
outside it belongs to the question or the answer. Every scan is one pass over the field
with bounded patterns (no backtracking on the input's depth).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

# A tag ends at its '>' and never runs past the next '<' (attribute values hold none: the
# renderer and Anki escape them), so a field of unclosed '<' is read in one pass.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>")
_CLASS = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_HINT_OPEN = re.compile(r"<details\b[^<>]*>")
_FOLLOW_UPS_OPEN = re.compile(r"<div\b[^<>]*>")
_SUMMARY = re.compile(r"\A\s*<summary\b[^>]*>.*?</summary\s*>", re.DOTALL | re.IGNORECASE)
_CLOZE_MARK = re.compile(r"\{\{c(\d{1,6})::|\}\}")


@dataclass(frozen=True)
class Split:
    """A field's own part (the question or the answer), and the part found after it: the
    hint's HTML (``None``: no hint in the field) or each follow-up's HTML (``None``: no
    follow-ups in the field)."""

    main: str
    extra: str | tuple[str, ...] | None
    lost: str = ""  # HTML of the block that is none of its parts (pull reports its words)


def _classes(tag: str) -> set[str]:
    found = _CLASS.search(tag)
    if found is None:
        return set()
    return set(next(g for g in found.groups() if g is not None).split())


def _element(html: str, opener: re.Pattern[str], name: str, cls: str) -> tuple[int, int] | None:
    """The span (start, end) of the last top-level ``<name class="… cls …">`` element of
    ``html`` with its content, or ``None``."""
    depth = 0
    found: tuple[int, int] | None = None
    start = -1
    for match in _TAG.finditer(html):
        closing, tag = match.group(1) == "/", match.group(2).lower()
        if tag != name:
            continue
        if not closing:
            if depth == 0 and opener.match(match.group(0)) and cls in _classes(match.group(0)):
                start = match.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0 and start >= 0:
                found, start = (start, match.end()), -1
    return found


def _inner(html: str, span: tuple[int, int]) -> str:
    """The content of the element at ``span`` (between its start and end tags)."""
    element = html[span[0] : span[1]]
    return element[element.index(">") + 1 : element.rindex("<")]


def _unwrap(html: str, cls: str) -> str:
    """``html`` without the one top-level ``<div class="… cls …">`` around all of it."""
    text = html.strip()
    span = _element(text, _FOLLOW_UPS_OPEN, "div", cls)
    if span is not None and span == (0, len(text)):
        return _inner(text, span).strip()
    return text


def split_question(html: str) -> Split:
    """The Question field -> the question and the hint (``None`` when it has none)."""
    span = _element(html, _HINT_OPEN, "details", "iq-hint")
    if span is None:
        return Split(html, None)
    inner = _inner(html, span)
    summary = _SUMMARY.match(inner)
    label = summary.group() if summary else ""
    main = (html[: span[0]] + html[span[1] :]).strip()
    lost = "" if _text(label) in ("", "Hint") else label  # the summary is the build's label
    return Split(main, _unwrap(inner[len(label) :], "iq-hint-text"), lost)


def split_answer(html: str) -> Split:
    """The Answer field -> the answer and the follow-up questions (``None`` when it has
    none): each item of the block's list, in order."""
    span = _element(html, _FOLLOW_UPS_OPEN, "div", "iq-follow-ups")
    if span is None:
        return Split(html, None)
    main = (html[: span[0]] + html[span[1] :]).strip()
    items, lost = _items(_inner(html, span))
    return Split(main, items, lost)


def _items(html: str) -> tuple[tuple[str, ...], str]:
    """The HTML of each top-level ``<li>`` of the lists in ``html``, in order, and the HTML
    outside them but for the block's first ``<h3>`` (the build's heading)."""
    items: list[str] = []
    rest: list[str] = []
    lists = 0
    start = -1
    kept = 0  # where the HTML not yet given to an item or ``rest`` starts
    heading = -1  # the heading's start while inside it; -2 once passed
    for match in _TAG.finditer(html):
        closing, tag = match.group(1) == "/", match.group(2).lower()
        if tag == "h3" and heading != -2 and lists == 0 and start < 0:
            if not closing and heading == -1:
                rest.append(html[kept : match.start()])
                heading = kept = match.start()
            elif closing and heading >= 0:
                heading, kept = -2, match.end()
        elif heading >= 0:
            continue
        elif tag in ("ol", "ul"):
            lists += -1 if closing else 1
            if lists == 0 and start >= 0:  # an item left open when its list closed
                items.append(html[start : match.start()].strip())
                start, kept = -1, match.start()
        elif tag == "li" and lists == 1:
            if start >= 0:  # an item ends at its end tag, or at the next item's start
                items.append(html[start : match.start()].strip())
                start, kept = -1, match.start() if not closing else match.end()
            if not closing:
                rest.append(html[kept : match.start()])
                start = match.end()
    rest.append(html[kept:] if start < 0 else "")
    if start >= 0:
        items.append(html[start:].strip())
    return tuple(items), "".join(rest)


def _text(html: str) -> str:
    """The words of ``html``: its tags dropped, its entities decoded, trimmed."""
    return unescape(_TAG.sub(" ", html)).replace("\xa0", " ").strip()


def cloze_points(text: str) -> tuple[tuple[int, str], ...]:
    """A key-points note's Text field -> each cloze's number and HTML, in the field's order
    (a cloze's own hint, after ``::``, is left out; a number written twice counts once, at
    its first place)."""
    found: dict[int, str] = {}
    opened: re.Match[str] | None = None
    for mark in _CLOZE_MARK.finditer(text):  # each opening and the first closing after it
        if mark.group(1) is not None:
            opened = opened or mark
        elif opened is not None:
            number = int(opened.group(1))
            if number and number not in found:
                found[number] = text[opened.end() : mark.start()].split("::", 1)[0]
            opened = None
    return tuple(found.items())


def cloze_problems(text: str) -> tuple[str, ...]:
    """What of a key-points note's Text field ``cloze_points`` cannot bring home into the
    YAML's points: words outside every cloze, a cloze's own hint, a cloze inside a cloze, a
    number written twice or 0, a cloze left open (one pass, as ``cloze_points``)."""
    problems: dict[str, None] = {}
    rest: list[str] = []
    kept = 0
    seen: set[int] = set()
    opened: re.Match[str] | None = None
    for mark in _CLOZE_MARK.finditer(text):
        if mark.group(1) is not None:
            if opened is not None:
                problems["a cloze inside another cloze"] = None
                continue
            rest.append(text[kept : mark.start()])
            opened = mark
        elif opened is not None:
            number = int(opened.group(1))
            if "::" in text[opened.end() : mark.start()]:
                problems["a cloze with its own hint (after '::'), which no key holds"] = None
            if number == 0 or number in seen:
                problems[
                    f"the cloze number {number} {'twice' if number else '(Anki starts at 1)'}"
                ] = None
            seen.add(number)
            kept, opened = mark.end(), None
    if opened is not None:
        problems["a cloze left open (no '}}')"] = None
    else:
        rest.append(text[kept:])
    words = _text("".join(rest))
    if words:
        shown = words if len(words) <= 40 else words[:39] + "…"
        problems[f"words outside every cloze ('{shown}')"] = None
    return tuple(problems)
