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

import contextlib
import html
import os
import re
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

# Pygments' regex lexers can take seconds on crafted input: their expressions rescan a run
# of one character, a line or the rest of the block from every position, so the work grows
# with the square or the cube of the text (a systemd comment indented 2,400 spaces: 40 s).
# A block is highlighted only within limits that bound that work, decided by the block's
# shape alone, never a clock: every machine writes the same package. Past them it is shown
# plain, with a warning. docs/BENCHMARKS.md ("Highlighting limits") has the measurements of
# every lexer within these limits; bench/lexers.py makes them again.
MAX_HIGHLIGHT_CHARS = 6_000  # ~150 lines
MAX_HIGHLIGHT_LINE = 1_000  # characters in one line
MAX_HIGHLIGHT_RUN = 80  # one character repeated (all white space counts as one character)
# Lexers (by name) whose work still grows faster than the text within those limits: their
# own limit on a block's size, where their worst case measured about 0.4 s; 0: never
# highlighted (work that can grow exponentially, or a lexer that guesses others).
SLOW_LEXERS: dict[str, int] = {
    "Systemd": 800,  # '([^=]+)([ \t]*)=' tried at each position rescans the rest
    "MCFunction": 200,  # 1.4 ms a character on a run of digits
    "X++": 600,
    "Zeek": 900,
    "Nit": 1_600,
    "Ragel": 3_000,
    "Devicetree": 3_700,
    "tiddler": 4_100,
    "PEG": 4_200,
    "Org Mode": 4_700,
    "MoinMoin/Trac Wiki markup": 5_200,
    "Fantom": 5_500,
    "Perl6": 5_500,
    "Ragel in C Host": 4_500,  # its strings rescan the block from each '"'
    "Ragel in CPP Host": 4_500,
    "Ragel in D Host": 4_500,
    "Ragel in Java Host": 4_500,
    "Ragel in Objective C Host": 4_500,
    "Ragel in Ruby Host": 4_500,
    "Embedded Ragel": 4_500,
    "cplint": 4_800,
    "Sed": 5_400,
    "POVRay": 5_400,
    "Evoque": 5_500,
    "HTML+Evoque": 5_500,
    "XML+Evoque": 5_500,
    "Prolog": 5_500,
    "reg": 0,  # '"(?:\\"|\\\\|[^"])+"': two ways to read each '\\' pair, 30 s at 40
    "UrbiScript": 0,  # the same in its strings
    "Notmuch": 0,  # guesses the lexer of a message's body from its text: any lexer at all
}
# Lexers whose method-declaration expression ('(Type\s+)+? name (') is tried at each line
# and rescans every word that follows, across lines, while only white space separates
# them: at most this many such words in a row (C#: 6.7 s on 6,000 characters of 'a' lines).
WORD_CHAIN_LEXERS = frozenset(
    {
        "Java",
        "C#",
        "AspectJ",
        "Groovy",
        "Nemerle",
        "Thrift",
        "SARL",
        "Ragel in Java Host",
        "Gosu",
        "Ceylon",
        "Xtend",
    }
)
MAX_WORD_CHAIN = 64
# Built-in lexers (by name) that look another lexer up by a name, MIME type or guess read
# from the code: a Markdown or reST code block, HTTP's and MIME's Content-Type, PostgreSQL's
# LANGUAGE, Wikitext's <syntaxhighlight lang=...>, ... A block in one is held to the limits
# of the lexers it names too (``plain_reason``). tests/markup/test_highlight.py finds them
# in Pygments' source.
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
MAX_TOKENS_PER_CHAR = 10  # a lexer caught in a loop of empty tokens is stopped by this
_LONG_RUN = re.compile(rf"(\S)\1{{{MAX_HIGHLIGHT_RUN}}}|\s{{{MAX_HIGHLIGHT_RUN + 1}}}")
_NOT_TYPE = re.compile(r"[^\w.$<>\[\]\s]+")  # what ends a chain of type-like words
_NAME = re.compile(r"[\w+#./-]+")  # a lexer's alias or MIME type as a text may name it

# Pygments token type (by its top-level name path) -> our class; the most specific wins.
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
    if not _may_declare_lexers():
        return ()
    from importlib.metadata import entry_points

    return tuple(sorted(f"{e.name}={e.value}" for e in entry_points(group="pygments.lexers")))


def _may_declare_lexers() -> bool:
    """False only when no distribution in a folder on ``sys.path`` names Pygments' lexer
    entry point: reading their ``entry_points.txt`` costs ~1 ms, importing
    ``importlib.metadata`` (email, socket, ...) ~30 ms of a small build's CPU. A zip or an
    egg on the path, or an import hook that finds distributions of its own, is a maybe."""
    from importlib.machinery import PathFinder

    if any(hasattr(f, "find_distributions") for f in sys.meta_path if f is not PathFinder):
        return True
    for entry in sys.path:
        folder = Path(entry or ".")
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return True
        except OSError:
            continue
        for name in names:
            if name.endswith((".egg", ".zip")):
                return True
            if name.endswith("-info"):
                with contextlib.suppress(OSError):
                    if b"pygments.lexers" in (folder / name / "entry_points.txt").read_bytes():
                        return True
    return False


@cache
def _lexer_name(language: str) -> str | None:
    """The name of Pygments' lexer for a fence language (``python``, ``sql``, …), found
    without making one (a lexer compiles its regular expressions when first made)."""
    from pygments.lexers import find_lexer_class_by_name
    from pygments.util import ClassNotFound

    try:
        return str(find_lexer_class_by_name(language.lower()).name)
    except ClassNotFound:
        return None


def is_known(language: str) -> bool:
    """True when Pygments has a lexer for this fence language."""
    return _lexer_name(language) is not None


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
    around coloured tokens, or ``None`` when the language is unknown (or its lexer loops)."""
    lexer = _lexer(language.lower())
    if lexer is None:
        return None
    runs: list[tuple[str | None, str]] = []
    pending: list[str] = []
    current: str | None = None
    # A lexer caught in a loop (MCSchema on '<!--' yields empty tokens without end) is shown
    # plain: none makes more than a couple of tokens a character on any text we measured.
    budget = MAX_TOKENS_PER_CHAR * len(code) + 100
    for ttype, value in lexer.get_tokens(code):
        budget -= 1
        if budget < 0:
            return None
        name = _class_of(ttype) if value.strip() else None
        if name != current:
            if pending:
                runs.append((current, "".join(pending)))
            pending, current = [], name
        pending.append(value)
    if pending:
        runs.append((current, "".join(pending)))
    return _lines(runs)


def plain_reason(source: str, language: str) -> str | None:
    """Why a block in ``language`` is shown without highlighting although its language is
    known (its size, a line, a run of one character, its lexer's own limits), or ``None``."""
    size = len(source)
    if size > MAX_HIGHLIGHT_CHARS:
        return (
            f"this code block has {size:,} characters; blocks over "
            f"{MAX_HIGHLIGHT_CHARS:,} are shown without highlighting"
        )
    name = _lexer_name(language) if language else None
    if name is None:
        return None
    # A lexer that looks others up by a name, MIME type or LANGUAGE the text holds (a
    # Markdown fence, a reST directive, HTTP's Content-Type) is held to their limits too.
    names = [name, *_named_in(source)] if name in DELEGATING_LEXERS else [name]
    for lexer in names:
        cap = SLOW_LEXERS.get(lexer)
        held = "" if lexer == name else f"it holds {lexer} code, and "
        if cap == 0:
            return f"{held}{lexer} code is shown without highlighting (its highlighter can hang)"
        if cap is not None and size > cap:
            return (
                f"this code block has {size:,} characters; {held}{lexer} blocks over {cap:,} "
                "are shown without highlighting (its highlighter slows down faster than the "
                "text grows)"
            )
    longest = max(map(len, source.split("\n")))
    if longest > MAX_HIGHLIGHT_LINE:
        return (
            f"a line of this code block has {longest:,} characters; blocks with a line over "
            f"{MAX_HIGHLIGHT_LINE:,} are shown without highlighting"
        )
    run = _LONG_RUN.search(source)
    if run is not None:
        what = "white space" if run[0][0].isspace() else f"'{run[0][0]}'"
        return (
            f"this code block has {what} repeated over {MAX_HIGHLIGHT_RUN} times in a row "
            f"(line {source.count(chr(10), 0, run.start()) + 1} of the block); such blocks "
            "are shown without highlighting"
        )
    if any(lexer in WORD_CHAIN_LEXERS for lexer in names):
        chain = max(len(part.split()) for part in _NOT_TYPE.split(source))
        if chain > MAX_WORD_CHAIN:
            return (
                f"this code block has {chain:,} words in a row with nothing but white space "
                f"between them; {name} blocks with over {MAX_WORD_CHAIN} are shown without "
                "highlighting"
            )
    return None


def _named_in(source: str) -> list[str]:
    """The lexers with limits of their own that ``source`` names (sorted)."""
    names = _limited_names()
    return sorted({names[word] for word in _NAME.findall(source.lower()) if word in names})


@cache
def _limited_names() -> dict[str, str]:
    """Every alias (as PostgreSQL's LANGUAGE may write it too: 'plX', 'Xu', 'plXu') and MIME
    type of a built-in lexer with limits of its own -> its name."""
    from pygments.lexers import get_all_lexers

    out: dict[str, str] = {}
    for name, aliases, _files, mimetypes in get_all_lexers(plugins=False):
        if name in SLOW_LEXERS or name in WORD_CHAIN_LEXERS:
            for alias in (a.lower() for a in aliases):
                out.update(dict.fromkeys((alias, f"pl{alias}", f"{alias}u", f"pl{alias}u"), name))
            out.update((m.lower(), name) for m in mimetypes)
    return out


def code_block_html(source: str, language: str | None) -> str:
    """The whole ``<pre>`` of a fenced or indented code block: highlighted when ``language``
    is known to Pygments and ``plain_reason`` finds nothing, else plain; lines as
    ``iq-line`` spans either way."""
    lang = language or ""
    long = bool(lang) and plain_reason(source, lang) is not None
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
