"""One text value's Markdown checked where it stands in its YAML file: unclosed math and
unknown code languages at their own line, and the images to resolve."""

from __future__ import annotations

from dataclasses import dataclass

from yaml.nodes import Node, ScalarNode

from exporter.content.media import is_remote
from exporter.content.model import Image
from exporter.content.yamlnodes import line_of
from exporter.errors import ContentError, ContentWarning
from exporter.markup.markdown import NOTHING, scan


def _warning_code(message: str) -> str:
    """The code of a warning ``markdown.scan`` gives, by the kind its message names."""
    code = "code-language-unknown" if message.startswith("unknown code") else "code-block-long"
    return code


@dataclass(frozen=True)
class CheckedMarkup:
    """The images a text shows (not resolved yet) and its problems and warnings."""

    images: tuple[Image, ...] = ()
    errors: tuple[ContentError, ...] = ()
    warnings: tuple[ContentWarning, ...] = ()


def check_markup(text: str, node: Node, key_node: Node, display_path: str) -> CheckedMarkup:
    """Scan ``text`` (the value of ``node`` under ``key_node``) and place what it finds: line
    for line in a literal block (``|``), at the key's line for any other style of text."""
    found = scan(text)
    if found is NOTHING:
        return CheckedMarkup()
    base = line_of(node) + 1 if isinstance(node, ScalarNode) and node.style == "|" else 0

    def line(offset: int) -> int:
        return base + offset if base else line_of(key_node)

    return CheckedMarkup(
        images=tuple(Image(src, line(n)) for src, n in found.images if not is_remote(src)),
        errors=tuple(
            ContentError(display_path, line(p.line), 0, p.message, code=p.code)
            for p in found.problems
        ),
        warnings=tuple(
            ContentWarning(
                display_path,
                line(w.line),
                w.message,
                code=w.code if w.code == "math-splits-mark" else _warning_code(w.message),
            )
            for w in found.warnings
        ),
    )
