"""One text value's Markdown checked where it stands in its YAML file: unclosed math and
unknown code languages at their own line, and the images to resolve."""

from __future__ import annotations

from typing import NamedTuple

from exporter.content.media import is_remote
from exporter.content.model import Image
from exporter.errors import ContentError, ContentWarning
from exporter.markup.markdown import NOTHING, scan


class CheckedMarkup(NamedTuple):
    """The images a text shows (not resolved yet) and its problems and warnings."""

    images: tuple[Image, ...] = ()
    errors: tuple[ContentError, ...] = ()
    warnings: tuple[ContentWarning, ...] = ()


CLEAN = CheckedMarkup()  # (most texts: one object, not one a text)


def check_markup(text: str, display_path: str, *, line: int, block: int = 0) -> CheckedMarkup:
    """Scan ``text`` and place what it finds: line for line in a literal block (``|``) whose
    first line is ``block``, else at ``line`` (its key's)."""
    found = scan(text)
    if found is NOTHING:
        return CLEAN

    def at(offset: int) -> int:
        return block + offset if block else line

    return CheckedMarkup(
        images=tuple(Image(src, at(n)) for src, n in found.images if not is_remote(src)),
        errors=tuple(
            ContentError(display_path, at(p.line), 0, p.message, code=p.code)
            for p in found.problems
        ),
        warnings=tuple(
            ContentWarning(display_path, at(w.line), w.message, code=w.code) for w in found.warnings
        ),
    )
