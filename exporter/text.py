"""Question and answer text (CommonMark) -> the HTML that goes into a card field.

Markdown gives paragraphs, lists, emphasis, inline code, fenced code blocks and links. Raw
HTML is never passed through: it is escaped, so nothing in a content file can add markup or
script to a card. Images are turned into plain links, so a card never loads anything from
the network. A single line break stays a line break.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# Text with none of these can hold no Markdown syntax: it renders as plain paragraphs, and
# rendering it directly is ~30x faster than parsing it (most of a large build otherwise).
# White space other than ' ' and newline (tabs, no-break and ideographic spaces, odd line
# breaks) is trimmed by CommonMark where plain splitting would not: leave it to the parser.
_OTHER_SPACE = "\t\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPECIAL_CHAR = re.compile("[\\\\`*_\\[\\]!<>&#~|\\x00" + _OTHER_SPACE + "]")
_SPECIAL_START = re.compile(r"[-+= ]|\d+[.)]")  # a list, heading rule or indented line
_SPECIAL_LINE = re.compile(r"\n(?:[-+= ]|\d+[.)])| \n")


def _image_as_link(self: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    from markdown_it.common.utils import escapeHtml

    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or token.attrGet("src")
    return f'<a href="{escapeHtml(str(token.attrGet("src")))}">{escapeHtml(alt)}</a>'


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # ~30 ms to import: only when some text needs it

    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "xhtmlOut": False})
    md.add_render_rule("image", _image_as_link)
    return md


def _plain(text: str) -> str:
    """What CommonMark makes of text without syntax: paragraphs, line breaks, '"' escaped."""
    text = text.replace('"', "&quot;")
    paragraphs = re.split(r"\n{2,}", text) if "\n\n\n" in text else text.split("\n\n")
    return "\n".join("<p>" + p.replace("\n", "<br>\n") + "</p>" for p in paragraphs)


def to_html(text: str) -> str:
    """Render content text as card HTML (CommonMark, raw HTML escaped)."""
    text = text.strip()
    if (
        text
        and not _SPECIAL_CHAR.search(text)
        and not _SPECIAL_LINE.search(text)
        and not _SPECIAL_START.match(text)
    ):
        return _plain(text)
    return str(_markdown().render(text)).rstrip("\n")


def to_html_by_parsing(text: str) -> str:
    """``to_html`` always through the Markdown parser (tests compare the shortcut with it)."""
    return str(_markdown().render(text.strip())).rstrip("\n")
