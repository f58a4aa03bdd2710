"""Question and answer text (CommonMark) -> the HTML that goes into a card field.

Markdown gives paragraphs, lists, emphasis, inline code, fenced code blocks and links. Raw
HTML is never passed through: it is escaped, so nothing in a content file can add markup or
script to a card. Images are turned into plain links, so a card never loads anything from
the network. A single line break stays a line break.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml


def _image_as_link(self: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or token.attrGet("src")
    return f'<a href="{escapeHtml(str(token.attrGet("src")))}">{escapeHtml(alt)}</a>'


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "xhtmlOut": False})
    md.add_render_rule("image", _image_as_link)
    return md


def to_html(text: str) -> str:
    """Render content text as card HTML (CommonMark, raw HTML escaped)."""
    return str(_markdown().render(text.strip())).rstrip("\n")
