"""A code block -> the ``<pre>`` a card shows: one span per source line, tokens coloured by
the note type's CSS (Pygments) when the fence names a known language.

Highlighting happens at build time, so no script runs on the card. Every token is put in
one of a few classes (``hl-k`` keyword, ``hl-s`` string, …), each given a colour per theme
in ``templates/style.css``; a token type outside them stays the text colour.

Each source line is a ``<span class="iq-line">`` carrying its indent in columns
(``style="--iq-indent:4"``), so the CSS can wrap a long line with a hanging indent: its
continuation starts right of the line's first non-space character, not at the block's
edge. The newlines stay in the text between the spans, so the block's text (copied,
selected, or read back by ``pull``) is the source exactly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
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


# Built-in lexers (by name) that look another lexer up by a name, MIME type or guess read
# from the code: a Markdown or reST code block, HTTP's and MIME's Content-Type, PostgreSQL's
# LANGUAGE, Wikitext's <syntaxhighlight lang=...>, ... That lookup reaches plugin lexers too.
# tests/render/test_render_revision.py finds them in Pygments' source; a Pygments newer than
# CHECKED_PYGMENTS is not trusted (a lexer it adds may look others up).
DELEGATING_LEXERS = frozenset(
    {
        "Arturo",
        "E-mail",
        "HTTP",
        "MIME",
        "Markdown",
        "Notmuch",
        "PL/pgSQL",
        "PostgreSQL SQL dialect",
        "PostgreSQL console (psql)",
        "Wikitext",
        "reStructuredText",
        "tiddler",
    }
)
CHECKED_PYGMENTS = (2, 21)


@cache
def plugin_free_languages() -> frozenset[str]:
    """Every alias of a built-in Pygments lexer whose output no plugin lexer can change:
    built-ins win Pygments' lookup, and these look no other lexer up (the plugins' entry
    points are not read). Empty for a Pygments newer than ``CHECKED_PYGMENTS``."""
    import pygments
    from pygments.lexers import get_all_lexers

    major, minor = (int(n) for n in re.findall(r"\d+", pygments.__version__)[:2])
    if (major, minor) > CHECKED_PYGMENTS:
        return frozenset()
    lexers = list(get_all_lexers(plugins=False))
    # An alias two lexers share is out if either looks others up (either may be found).
    delegating = {a for name, aliases, *_ in lexers if name in DELEGATING_LEXERS for a in aliases}
    return frozenset(a for _name, aliases, *_ in lexers for a in aliases) - delegating


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
    """``code`` as escaped HTML, one ``iq-line`` span per line with ``<span class="hl-X">``
    around coloured tokens, or ``None`` when the language is unknown."""
    lexer = _lexer(language.lower())
    if lexer is None:
        return None
    runs: list[tuple[str | None, str]] = []
    pending: list[str] = []
    current: str | None = None
    for ttype, value in lexer.get_tokens(code):
        name = _class_of(ttype) if value.strip() else None
        if name != current:
            if pending:
                runs.append((current, "".join(pending)))
            pending, current = [], name
        pending.append(value)
    if pending:
        runs.append((current, "".join(pending)))
    return _lines(runs)


def code_block_html(source: str, language: str | None) -> str:
    """The whole ``<pre>`` of a fenced or indented code block: highlighted when ``language``
    is known to Pygments and the block is short enough, else plain; lines as ``iq-line``
    spans either way."""
    lang = language or ""
    long = len(source) > MAX_HIGHLIGHT_CHARS
    body = highlight(source, lang) if lang and not long else None
    name = html.escape(lang)
    deepest = deepest_indent(source)
    style = f' style="--iq-deepest:{deepest}"' if deepest else ""
    if body is not None:
        return (
            f'<pre class="iq-code" data-lang="{name}"{style}><code class="language-{name}">'
            f"{body}</code></pre>"
        )
    attrs = f' class="language-{name}"' if lang else ""
    return f"<pre{style}><code{attrs}>{_lines([(None, source)])}</code></pre>"


TAB_SIZE = 4  # as ``tab-size`` in the note type's CSS
HANG = 2  # columns a wrapped line's continuation starts past its indent, as in the CSS


def indent_columns(line: str) -> int:
    """How many columns the leading spaces and tabs of ``line`` take (tab stops every
    ``TAB_SIZE``); 0 for a line of white space only (it has no text to hang under)."""
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += TAB_SIZE - column % TAB_SIZE
        else:
            return column
    return 0


def _indent(text: str) -> int:
    """The ``--iq-indent`` of a source line: its indent in columns, for a line with a tab
    rounded up so that its hang is a whole number of tab stops (the browser measures tab
    stops from where continuations start, not from where the line does)."""
    indent = indent_columns(text)
    if "\t" in text:
        indent += -(indent + HANG) % TAB_SIZE
    return indent


def deepest_indent(source: str) -> int:
    """The largest ``--iq-indent`` of the lines of a code block: a block whose deepest line
    would leave a phone too few columns draws every indent narrower (the CSS)."""
    return max((_indent(line) for line in source.split("\n")), default=0)


def _line_html(pieces: list[tuple[str | None, str]]) -> str:
    """One source line's pieces of (class or None, text) as the HTML of its ``iq-line``
    span. An indented line's indent and first word are one ``iq-lead`` span, which the CSS
    lets break anywhere: a first word too long for the row after the indent then starts on
    the line's own row instead of a row down."""
    text = "".join(piece for _name, piece in pieces)
    indent = _indent(text)
    lead = len(text) - len(text.lstrip(" \t"))
    if lead and lead < len(text):
        while lead < len(text) and text[lead] not in " \t":
            lead += 1
    else:
        lead = 0  # not indented, or blank: no lead
    out: list[str] = []
    offset = 0
    for name, piece in pieces:
        cuts = [piece]
        if offset < lead < offset + len(piece):  # the lead ends inside this piece
            cuts = [piece[: lead - offset], piece[lead - offset :]]
        for cut in cuts:
            if lead and offset == 0:
                out.append('<span class="iq-lead">')
            escaped = html.escape(cut, quote=False)
            out.append(f'<span class="hl-{name}">{escaped}</span>' if name else escaped)
            offset += len(cut)
            if lead and offset == lead:
                out.append("</span>")
    style = f' style="--iq-indent:{indent}"' if indent else ""
    return f'<span class="iq-line"{style}>{"".join(out)}</span>'


def _lines(runs: Iterable[tuple[str | None, str]]) -> str:
    """Runs of (class or None, text) as escaped HTML, one ``iq-line`` span per source line;
    a token that spans lines is split, each part keeping its class. The newlines are kept
    between the spans; a last line without one gets none."""
    out: list[str] = []
    pieces: list[tuple[str | None, str]] = []  # the current line's
    for name, text in runs:
        for n, piece in enumerate(text.split("\n")):
            if n:
                out.append(_line_html(pieces) + "\n")
                pieces = []
            if piece:
                pieces.append((name, piece))
    if pieces:
        out.append(_line_html(pieces))
    return "".join(out)
