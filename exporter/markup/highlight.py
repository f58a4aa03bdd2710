"""Fenced code with a language -> HTML spans coloured by the note type's CSS (Pygments).

Highlighting happens at build time, so no script runs on the card. Every token is put in
one of a few classes (``hl-k`` keyword, ``hl-s`` string, …), each given a colour per theme
in ``templates/style.css``; a token type outside them stays the text colour.
"""

from __future__ import annotations

import html
from functools import cache, lru_cache
from typing import Any

# Pygments token type (by its top-level name path) -> our class; the most specific wins.
# Pygments' regex lexers can take seconds on pathological input (time grows faster than the
# text): a longer block is shown plain, with a warning. 6,000 characters is ~150 lines.
MAX_HIGHLIGHT_CHARS = 6_000
_CLASSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Comment",), "c"),
    (("Keyword",), "k"),
    (("Operator", "Word"), "k"),
    (("String",), "s"),
    (("Literal", "String"), "s"),
    (("Number",), "m"),
    (("Literal", "Number"), "m"),
    (("Name", "Function"), "f"),
    (("Name", "Class"), "f"),
    (("Name", "Decorator"), "f"),
    (("Name", "Builtin"), "b"),
    (("Name", "Tag"), "k"),
    (("Name", "Attribute"), "b"),
    (("Name", "Variable"), "v"),
    (("Name", "Constant"), "m"),
    (("Generic", "Deleted"), "d"),
    (("Generic", "Inserted"), "i"),
    (("Generic", "Heading"), "k"),
    (("Generic", "Subheading"), "k"),
    (("Generic", "Prompt"), "c"),
)
CLASS_NAMES = tuple(sorted({c for _path, c in _CLASSES}))


@cache
def _lexer(language: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@cache
def plugin_lexers() -> tuple[str, ...]:
    """The Pygments lexers installed as plugins (entry points), which change what a fence
    renders as without changing Pygments itself: part of the rendering code's identity."""
    from importlib.metadata import entry_points

    return tuple(sorted(f"{e.name}={e.value}" for e in entry_points(group="pygments.lexers")))


@cache
def is_known(language: str) -> bool:
    """True when Pygments has a lexer for this fence language (``python``, ``sql``, …),
    found without making one (a lexer compiles its regular expressions when first made)."""
    from pygments.lexers import find_lexer_class_by_name
    from pygments.util import ClassNotFound

    try:
        find_lexer_class_by_name(language.lower())
    except ClassNotFound:
        return False
    return True


@cache
def _class_of(ttype: Any) -> str | None:
    path = tuple(ttype)
    best: tuple[int, str | None] = (0, None)
    for prefix, name in _CLASSES:
        if path[: len(prefix)] == prefix and len(prefix) > best[0]:
            best = (len(prefix), name)
    return best[1]


# Banks repeat code blocks (a snippet shown in several answers): Pygments' regex lexers are
# most of highlighting's cost, so the last few thousand blocks are remembered.
@lru_cache(maxsize=4096)
def highlight(code: str, language: str) -> str | None:
    """``code`` as escaped HTML with ``<span class="hl-X">`` around coloured tokens, or
    ``None`` when the language is unknown."""
    lexer = _lexer(language.lower())
    if lexer is None:
        return None
    out: list[str] = []
    pending: list[str] = []
    current: str | None = None
    for ttype, value in lexer.get_tokens(code):
        name = _class_of(ttype) if value.strip() else None
        if name != current:
            _flush(out, pending, current)
            pending, current = [], name
        pending.append(value)
    _flush(out, pending, current)
    return "".join(out)


def _flush(out: list[str], pending: list[str], name: str | None) -> None:
    if not pending:
        return
    text = html.escape("".join(pending), quote=False)
    out.append(f'<span class="hl-{name}">{text}</span>' if name else text)


def code_block_html(source: str, language: str) -> str:
    """A code block as card HTML: highlighted when ``language`` has a lexer and the block is
    not over ``MAX_HIGHLIGHT_CHARS``, else plain (its language still named)."""
    long = len(source) > MAX_HIGHLIGHT_CHARS
    body = highlight(source, language) if language and not long else None
    lang = html.escape(language)
    if body is None:
        attr = f' class="language-{lang}"' if language else ""
        return f"<pre><code{attr}>{html.escape(source, quote=False)}</code></pre>"
    return (
        f'<pre class="iq-code" data-lang="{lang}"><code class="language-{lang}">{body}</code></pre>'
    )
