"""Question and answer text -> the HTML that goes into a card field.

Text is escaped, so nothing in a content file can add markup or script to a card; blank
lines separate paragraphs and a single line break stays a line break.
"""

from __future__ import annotations

import html
import re

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def to_html(text: str) -> str:
    """Render content text as card HTML: escaped paragraphs."""
    paragraphs = _PARAGRAPH_BREAK.split(text.strip().replace("\r\n", "\n"))
    return "\n".join(
        "<p>"
        + "<br>\n".join(html.escape(line.strip(), quote=False) for line in p.split("\n"))
        + "</p>"
        for p in paragraphs
    )
