"""The reference renderer: markdown-it-py with our math plugin, as interview-deck 0.5 rendered
fields. Tests compare exporter.markup.markdown (pyromark) with it.

Question and answer text (CommonMark + math) -> the HTML that goes into a card field.

Markdown gives paragraphs, lists, emphasis, inline code, fenced code blocks and links; math
between ``$…$``, ``\\(…\\)``, ``$$…$$`` or ``\\[…\\]`` reaches Anki's MathJax untouched
(``exporter.markup.math``); a fence with a language is highlighted (``exporter.markup.highlight``);
an image whose path was resolved to a media file (``exporter.content.media``) is shown from the
package, any other image is a plain link, so a card never loads anything from the network.
Raw HTML is never passed through: it is escaped. A single line break stays a line break.

``scan`` finds, without rendering, what the loader must check: image paths, unclosed math
and unknown code languages, each with its line in the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from exporter.markup.markdown import (
    NOTHING,
    Finding,
    Scan,
    inert_anki_syntax,
    is_plain,
    plain_html,
)

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

_RICH = re.compile(r"\$|\\[(\[]|!\[|```|~~~")


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # imported only when some text needs it

    from reference.markdown_it_math import math_plugin

    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "xhtmlOut": False})
    md.enable(["table", "strikethrough"])
    md.use(math_plugin)
    md.add_render_rule("image", _image)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_block", _fence)
    md.add_render_rule("text", _text)
    return md


_LITERAL_DELIMITER = re.compile(r"\\[(\[]")


def _text(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Text, escaped; a literal ``\\(`` or ``\\[`` the author wrote (as ``\\\\(``) is kept
    from Anki's MathJax, which would otherwise take it for the start of a formula."""
    from markdown_it.common.utils import escapeHtml

    text = escapeHtml(tokens[idx].content)
    if "\\" not in text:
        return text
    return _LITERAL_DELIMITER.sub(
        lambda m: f'<span class="tex2jax_ignore">{m.group()}</span>', text
    )


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    from markdown_it.common.utils import escapeHtml

    token = tokens[idx]
    src = str(token.attrGet("src"))
    alt = self.renderInlineAsText(token.children or [], options, env)
    name = env.get("media", {}).get(src) if isinstance(env, dict) else None
    if name is None:  # not a file of the bank (a web address): a link, never loaded
        return f'<a href="{escapeHtml(src)}">{escapeHtml(alt or src)}</a>'
    title = token.attrGet("title")
    extra = f' title="{escapeHtml(str(title))}"' if title else ""
    # The path as written, for the way back to YAML. Not "data-src": Anki's media scan before
    # 24.x takes the last attribute ending in "src" and would miss the image.
    return (
        f'<img src="{escapeHtml(name)}" alt="{escapeHtml(alt)}"{extra} '
        f'data-iq-path="{escapeHtml(src)}">'
    )


def _fence(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    from exporter.markup.highlight import code_block_html

    token = tokens[idx]
    language = fence_language(token.info)
    return code_block_html(token.content, language) + "\n"


def fence_language(info: str) -> str:
    """The language a fence names: the first word of its info string, unescaped as
    CommonMark does (so the scan and the renderer agree)."""
    from markdown_it.common.utils import unescapeAll

    words = unescapeAll(info).split(maxsplit=1)
    return words[0] if words else ""


def to_html(text: str, media: Mapping[str, str] | None = None) -> str:
    """Render content text as card HTML; ``media`` maps image paths as written (after
    Markdown's URL normalisation) to the media file names they are shown from."""
    if is_plain(text.strip()):
        return plain_html(text.strip())
    return inert_anki_syntax(str(_markdown().render(text, {"media": media or {}})).rstrip("\n"))


def to_html_by_parsing(text: str, media: Mapping[str, str] | None = None) -> str:
    """``to_html`` always through the Markdown parser (tests compare the shortcut with it)."""
    return inert_anki_syntax(
        str(_markdown().render(text.strip(), {"media": media or {}})).rstrip("\n")
    )


def scan(text: str) -> Scan:
    """Find images, unclosed math and unknown code languages in ``text``."""
    if not _RICH.search(text):
        return NOTHING
    from exporter.markup.highlight import is_known, plain_reason
    from reference.markdown_it_math import PROBLEMS

    stripped = text.strip()
    lead = text[: len(text) - len(text.lstrip())].count("\n")
    env: dict[str, Any] = {}
    tokens = (
        _markdown().parse(stripped, env)
        if _INLINE_RICH.search(text)
        else _blocks(stripped, env)  # fences only: they are blocks, the inline pass can wait
    )
    images: list[tuple[str, int]] = []
    warnings: list[Finding] = []
    inline_line: dict[int, int] = {}
    for token in tokens:
        first = lead + (token.map[0] if token.map else 0)
        if token.type == "inline":
            inline_line[id(token.content)] = first
            images += [(src, first + n) for src, n in _images(token.children or [])]
        elif token.type == "fence":
            language = fence_language(token.info)
            why = plain_reason(token.content, language) if language else None
            if why is not None:
                warnings.append(Finding(first, why))
            elif language and not is_known(language):
                warnings.append(
                    Finding(
                        first,
                        f"unknown code language '{language}': the block is shown without "
                        "highlighting (use a Pygments name such as python, sql, bash, yaml)",
                    )
                )
    problems = [
        Finding(inline_line.get(id(src), lead) + src.count("\n", 0, pos), message)
        for src, pos, message in env.get(PROBLEMS, [])
    ]
    return Scan(tuple(images), tuple(problems), tuple(warnings))


_INLINE_RICH = re.compile(r"\$|\\[(\[]|!\[")  # math and images: found by the inline pass


def _blocks(text: str, env: dict[str, Any]) -> list[Token]:
    """The block tokens of ``text``, as ``parse`` makes them before its inline pass (a
    quarter of the time): fences are found, inline tokens have no children yet."""
    from markdown_it.rules_core import block, normalize
    from markdown_it.rules_core.state_core import StateCore

    state = StateCore(text, _markdown(), env)
    normalize(state)
    block(state)
    return state.tokens


def _images(children: Sequence[Token]) -> list[tuple[str, int]]:
    """Each image's path and its line within the inline run (counted by line breaks)."""
    found: list[tuple[str, int]] = []
    line = 0
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type.startswith("math"):
            line += child.content.count("\n")
        elif child.type == "image":
            found.append((str(child.attrGet("src")), line))
    return found
