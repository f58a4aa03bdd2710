"""Question and answer text (CommonMark + GFM tables and strikethrough + math) -> the HTML
that goes into a card field.

The card is pulldown-cmark's own HTML (through ``pyromark``, compiled), with the rules
CommonMark does not have applied where pulldown-cmark cannot be configured to apply them
(docs/content-format.md lists them; tests/markup/test_rules.py holds them):

- Raw HTML is never passed through: it is text, escaped (``<div>`` starts no HTML block).
- Math between ``$…$`` (pandoc's rule: "costs $5 and $10" stays text; a closing ``$``
  followed by a digit closes nothing), ``$$…$$``, ``\\(…\\)`` or ``\\[…\\]`` reaches
  Anki's MathJax untouched as ``\\(…\\)`` / ``\\[…\\]``; a display formula alone on its
  lines is a block (``<div class="iq-math">``) and its lines are TeX, never Markdown. An
  opener never closed in its paragraph is a problem, never a broken card.
- A fence with a language is highlighted (``exporter.markup.highlight``).
- An image whose path was resolved to a media file (``exporter.content.media``) is shown
  from the package; any other image is a plain link, so a card never loads from the network.
- A link or image to an address no card may follow (``javascript:``…) is text, as written.
- A single line break stays a line break; Anki's own ``[sound:…]``-style syntax is made inert.

``scan`` finds, without rendering, what the loader must check: image paths, unclosed math,
refused TeX commands and unknown code languages, each with its line in the text.
"""

from __future__ import annotations

import html as htmllib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, cast

import pyromark

from exporter.markup.highlight import code_block_html, is_known, plain_reason

_OPTIONS_WITHOUT_MATH = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
_OPTIONS = pyromark.Options.ENABLE_MATH | _OPTIONS_WITHOUT_MATH
# Stand-ins written into the text before parsing, one byte for one so offsets hold, and
# turned back after: YAML cannot carry these control characters, so no author types them.
_LT = "\x01"  # a '<' that starts no HTML: raw HTML is text
_NL = "\x02"  # a line break inside a display formula of its own lines: its lines are TeX
_DOLLAR = "\x03"  # the '$' of Anki's own [$]…[/$]: text, never our math
_MARK = "\x04"  # the backslash of our own formula delimiters until the HTML is complete
_STAND_INS = re.compile("[\x01-\x06]")  # (and \x05, \x06: see rendering)

# What ``scan`` looks for: math, images and fences. Text without any needs no parse.
_RICH = re.compile(r"\$|\\[(\[]|!\[|```|~~~")

# A '<' that CommonMark reads as a link even with HTML off: an autolink, an email autolink,
# a link destination in pointy brackets.
_KEEP_LT = re.compile(
    r"(?P<lt><)(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>]*>"
    r"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*>)"
    r"|\]\((?P<lt2><)"
    r"|\]:[ \t]*+(?:\n[ \t]*+)?(?P<lt3><)"
)
_ANKI_DOLLARS = re.compile(r"\[/?(\$\$?)\]")
# A display formula on lines of its own starts with ``$$`` or ``\\[`` first on a line (after
# white space or list markers), and closes at the end of a later line, within 100 lines.
# Possessive repeats: each run of white space is taken whole, once (with ``[ \t]+`` then
# ``[ \t]*`` a line of 20 markers and spaces could be split 3**20 ways before failing).
_DISPLAY_OPENER = re.compile(r"^[ \t]*+(?:(?:[-+*]|\d{1,9}[.)])[ \t]++)*+(\$\$|\\\[)", re.M)
MAX_BLOCK_LINES = 100
_PAIRS = {"$$": "$$", "\\[": "\\]", "\\(": "\\)"}
_DANGEROUS_URL = re.compile(r"^(?:vbscript|javascript|file|data):")
_SAFE_DATA_URL = re.compile(r"^data:image/(?:gif|png|jpeg|webp);")
_URL_SAFE = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789;/?:@&=+$,-_.!~*'()#"
)
_URL_UNSAFE = re.compile(r"[^A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]")
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")


def escape(text: str) -> str:
    """Text as HTML: ``&``, ``<``, ``>`` and ``"`` escaped."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def _formula_html(tex: str, display: bool) -> str:
    """TeX as it goes into a card field, inside Anki's MathJax delimiters: line breaks become
    spaces, and only ``&``, ``<`` and ``>`` are escaped (the browser turns them back). The
    delimiters' backslashes are ``_MARK`` until ``inert_math_delimiters`` has made every
    other delimiter text."""
    body = " ".join(tex.split("\n")).replace("&", "&amp;").replace("<", "&lt;")
    body = body.replace(">", "&gt;")
    return f"{_MARK}[{body}{_MARK}]" if display else f"{_MARK}({body}{_MARK})"


# What Anki's MathJax reads in card HTML: tags, which it does not; code, which it skips
# (``pre`` and ``code`` are among its skipHtmlTags); our formulas; and a delimiter.
_DELIMITER_CONTEXT = re.compile(
    r"<(/?)(?:(code|pre)\b)?[^<>]*+>|\x04[(\[]|\x04[)\]]|\\[(\[]", re.IGNORECASE
)


def inert_math_delimiters(html: str) -> str:
    """``html`` with each ``\\(`` and ``\\[`` that opens none of our formulas (one the author
    wrote as text, however it reached the HTML) in its own ``tex2jax_ignore`` span: MathJax
    finds a formula only within one run of text, so a lone opener starts none. Our formulas
    (their delimiters marked ``_MARK``), tags and code are left as they are."""
    if "\\" not in html:
        return html
    out: list[str] = []
    last = code = 0
    formula = False
    for match in _DELIMITER_CONTEXT.finditer(html):
        found = match.group()
        if found[0] == "<":
            if match.group(2):
                code = max(code + (-1 if match.group(1) else 1), 0)
        elif found[0] == _MARK:
            formula = found[1] in "(["
        elif not code and not formula:
            out += (html[last : match.start()], f'<span class="tex2jax_ignore">{found}</span>')
            last = match.end()
    out.append(html[last:])
    return "".join(out)


def normalize_url(url: str) -> str:
    """A link or image address as it is written into HTML: percent-encoded where a URL may
    not hold the character, existing ``%XX`` kept (as markdown-it's ``normalizeLink``)."""
    if url.isascii() and not _URL_UNSAFE.search(url):
        return url
    out: list[str] = []
    raw = url.encode("utf-8", "surrogatepass")
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x25 and _PERCENT.match(raw, i, i + 3):
            out.append(raw[i : i + 3].decode())
            i += 3
            continue
        out.append(chr(byte) if byte in _URL_SAFE else f"%{byte:02X}")
        i += 1
    return "".join(out)


def is_safe_url(url: str) -> bool:
    """False for addresses no card may follow (``javascript:`` and the like), which CommonMark
    renderers leave as text."""
    url = url.strip().lower()
    return bool(_SAFE_DATA_URL.match(url)) if _DANGEROUS_URL.match(url) else True


def fence_language(info: str) -> str:
    """The language a fence names: the first word of its info string."""
    words = info.split(maxsplit=1)
    return words[0] if words else ""


# --- reading: the parser's events, with our math resolved ---------------------------------


def _prepare(text: str) -> str:
    """``text`` with the stand-ins written in: '<' that would start HTML, line breaks of
    display formulas on lines of their own, the '$' of Anki's syntax (all one byte for one)."""
    if (
        "\x01" in text
        or "\x02" in text
        or "\x03" in text
        or "\x04" in text
        or (
            "\x05" in text or "\x06" in text  # (beats a regex)
        )
    ):
        text = _STAND_INS.sub(" ", text)
    if "<" in text:
        text = _html_off(text)
    if "[" in text and "$]" in text:
        text = _ANKI_DOLLARS.sub(lambda m: m.group().replace("$", _DOLLAR), text)
    if "\n" in text and ("$$" in text or "\\[" in text):
        text = _join_display_blocks(text)
    return text


def _html_off(text: str) -> str:
    """``text`` with each '<' that could start HTML written as ``_LT``; kept: autolinks,
    pointy link destinations and escaped ``\\<``."""
    angles = list(_ANGLE.finditer(text))
    if not angles:
        return text
    kept = {m.start(group) for m in _KEEP_LT.finditer(text) for group in ("lt", "lt2", "lt3")}
    out: list[str] = []
    last = 0
    for match in angles:
        i = j = match.start()
        while j and text[j - 1] == "\\":
            j -= 1
        if i not in kept and (i - j) % 2 == 0:
            out += (text[last:i], _LT)
            last = i + 1
    out.append(text[last:])
    return "".join(out)


_ANGLE = re.compile(r"<(?=[A-Za-z/!?])")  # only these start HTML


def _join_display_blocks(text: str) -> str:
    """Display formulas on lines of their own, each made one line (``_NL`` for its line
    breaks) so that no TeX line is read as a list, heading or rule. Not inside code."""
    spans = []
    breaks = [m.start() for m in _NEWLINE.finditer(text)]
    closers: dict[str, int] = {}  # the next closer of each kind at or after an opener
    for match in _DISPLAY_OPENER.finditer(text):
        span = _display_span(text, match.end(), _PAIRS[match.group(1)], breaks, closers)
        if span and not _quoted(text, match.start(), span):
            spans.append((match.start(), span))
    if not spans:
        return text
    code = _code_ranges(text)
    out = list(text)
    last = -1
    j = 0  # spans and code ranges both run in text order: one walk over each
    for start, end in spans:
        while j < len(code) and code[j][1] <= start:
            j += 1
        if start < last or (j < len(code) and code[j][0] < end):
            continue
        for i in range(start, end):
            if out[i] == "\n":
                out[i] = _NL
        last = end
    return "".join(out)


_NEWLINE = re.compile("\n")


def _display_span(
    text: str, begin: int, closer: str, breaks: list[int], closers: dict[str, int]
) -> int | None:
    """Where a display formula opened at ``begin`` (just after its opener) ends, when it
    closes at the end of a later line, at most ``MAX_BLOCK_LINES - 1`` lines on (as
    markdown-it's block rule read it); else None. ``breaks``: the text's line breaks;
    ``closers``: the next closer found so far, so that no opener rescans the text."""
    at = closers.get(closer, -1)
    if at < begin:
        at = closers[closer] = text.find(closer, begin) % (len(text) + 1)  # -1: none
    line = bisect_right(breaks, begin - 1)  # the opener's line
    if line == len(breaks) or at == len(text) or at < breaks[line]:
        return None  # the last line, no closer, or one line: the parser's own inline formula
    if bisect_right(breaks, at - 1) - line >= MAX_BLOCK_LINES:
        return None
    end = at + len(closer)
    line_end = text.find("\n", end)
    return None if text[end : len(text) if line_end < 0 else line_end].strip() else end


def _quoted(text: str, start: int, end: int) -> bool:
    """True when a line of the span is inside a block quote (its '>' would become TeX)."""
    return any(line.lstrip().startswith(">") for line in text[start:end].split("\n")[1:])


def _code_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of code blocks and code spans (a display formula is never there), in
    text order; byte offsets become character offsets in one walk."""
    data = text.encode()
    found = []
    byte = char = 0
    for event, span in pyromark.events_with_range(text, options=_OPTIONS):
        start = event.get("Start") if type(event) is dict else None
        if (type(event) is dict and "Code" in event) or (
            type(start) is dict and "CodeBlock" in start
        ):
            pair = []
            for offset in (span["start"], span["end"]):
                char += len(data[byte:offset].decode())
                byte = offset
                pair.append(char)
            found.append((pair[0], pair[1]))
    return found


# --- dollars: which '$' delimit a formula ---------------------------------------------------
#
# pulldown-cmark pairs '$' as pandoc does but for two rules, which are ours: a closing '$'
# before a digit closes nothing ("$5 to **$10**"), and a '$…$' formula holds no inline code,
# no autolink and no link's '](' ("costs $5; `x=$HOME`"). The parser cannot be told either,
# so before it reads a text each '$' is classified here as it would pair them with those
# rules (its own order: left to right, the first code span, autolink or formula met wins;
# a formula's braces balanced), and every '$' that delimits no formula becomes the
# stand-in ``_DOLLAR``: text, which the parser never pairs (it reads like a letter around
# emphasis), turned back after.

# What the parser's first pass reads around a '$': an escape (a backslash before ASCII
# punctuation; before backticks it starts a run whose first backtick is escaped), a run of
# backticks, a dollar, a link's '](', a brace, a '<' (an autolink?), a line break.
_DOLLAR_SYNTAX = re.compile(rb"\\(`+)|\\[!-/:-@\[-_{-~]|`+|\$|\]\(|[{}<\n]")
_AUTOLINK = re.compile(
    rb"<(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\x00-\x20<>]*+"
    rb"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]++@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    rb"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*+)>"
)
_ASCII_SPACE = frozenset(b" \t\n\r\x0b\x0c")
_LINE_PREFIX = frozenset(b" \t>")  # indentation and quote markers before a line's text
_INLINE = frozenset(("Emphasis", "Strong", "Strikethrough", "Link", "Image"))


def _inline_runs(text: str) -> Iterator[tuple[int, int, list[tuple[int, int]], list[int]]]:
    """The byte ranges of the text's runs of inline content (a paragraph's, a heading's, a
    cell's, a tight item's), each from its first inline event to its last, with the ranges
    of its text as the parser reads it without math (not code, not an address) and the
    ranges it takes whole when it meets their first byte (a link's or image's tail: its ']',
    address, title or reference label; inline HTML). Code blocks and block markup are
    outside every run."""
    start = end = -1
    texts: list[tuple[int, int]] = []
    taken: list[int] = []  # the ranges taken whole, as pairs of bytes (start, end)
    in_code = False
    links: list[int] = []  # per open link: where its text's events end so far (-1: autolink)
    autolinks = 0  # how many open links are autolinks (their text is an address)
    events = cast(Any, pyromark.events_with_range(text, options=_OPTIONS_WITHOUT_MATH))
    for event, span in events:
        kind = ""
        if type(event) is dict:
            tag = event.get("Start", event.get("End"))
            if tag is None:
                inline = not in_code and "Html" not in event
                if inline and "Text" in event and not autolinks:
                    texts.append((span["start"], span["end"]))
                elif "InlineHtml" in event:
                    taken += (span["start"], span["end"])
            else:
                kind = tag if type(tag) is str else next(iter(tag))
                inline = kind in _INLINE
                if kind == "CodeBlock":
                    in_code = "Start" in event
        else:
            inline = event != "Rule"
        if kind in _LINKS and "End" in event:
            text_end = links.pop()
            if text_end < 0:
                autolinks -= 1
            else:  # its tail: from the ']' after its text's events
                taken += (text_end, span["end"])
        elif links and links[-1] >= 0:
            links[-1] = max(links[-1], span["end"])
        if kind in _LINKS and "Start" in event:
            if event["Start"][kind]["link_type"] in ("Autolink", "Email"):
                autolinks += 1
                links.append(-1)
            else:  # its text starts after its '[' (an image's '![')
                links.append(span["start"] + (2 if kind == "Image" else 1))
        if inline:
            start = span["start"] if start < 0 else start
            end = max(end, span["end"])
        elif start >= 0:
            yield start, end, texts, taken
            start = end = -1
            texts = []
            taken = []
    if start >= 0:
        yield start, end, texts, taken


_LINKS = ("Link", "Image")


def _resolve_dollars(text: str) -> tuple[str, list[int]]:
    """``text`` with each '$' that delimits no formula written as ``_DOLLAR`` (one byte for
    one) where the parser reads it as text (a link's address keeps its '$': the parser never
    pairs one there, and an address holds no control character); and the bytes where a
    ``$$`` opens and is never closed (a problem unless it is inside a ``\\(…\\)`` formula)."""
    data = text.encode()
    out = bytearray(data)
    unclosed: list[int] = []
    for start, end, texts, taken in _inline_runs(text):
        if data.find(b"$", start, end) < 0:
            continue
        j = 0
        for at in _text_dollars(data, start, end, taken, unclosed):
            while j < len(texts) and texts[j][1] <= at:
                j += 1
            if j < len(texts) and texts[j][0] <= at:
                out[at] = 0x03  # _DOLLAR
    return out.decode(), unclosed


def _text_dollars(
    data: bytes, start: int, end: int, taken: list[int], unclosed: list[int]
) -> list[int]:
    """The '$' of ``data[start:end]`` (one run of inline content) that delimit no formula;
    where a ``$$`` opens no formula, its byte goes to ``unclosed``. ``taken``: the ranges
    the parser takes whole when it meets them (a link's tail, inline HTML), as pairs of
    bytes in text order: no '$' or backticks there open anything (the parser never meets
    them), but a '$' or backticks before may close there."""
    # The tokens, as the parser's first pass makes them: runs of backticks (position, length,
    # length as an opener), dollars (position, can open, can close, brace context), autolinks
    # (position, end), a link's '](' (position).
    kinds: list[str] = []
    tokens: list[tuple[int, int, int, int]] = []
    stack: list[int] = []  # brace contexts, from the first '$' on; the root's changes at '}'
    fresh = 0
    line_start = start
    t = 0  # the first range taken whole that ends after the token at hand
    while start and data[start - 1] == 0x5C:  # the run's first event may follow an escape
        start -= 1
    for match in _DOLLAR_SYNTAX.finditer(data, start, end):
        at = match.start()
        first = data[at]
        while t < len(taken) and taken[t + 1] <= at:
            t += 2
        met = t == len(taken) or at < taken[t]  # (else the parser never meets it)
        if match.group(1) is not None:
            run = len(match.group(1))
            kinds.append("`")
            tokens.append((match.start(1), run, run - 1 if met else 0, 0))
        elif first == 0x5C:
            continue
        elif first == 0x60:
            run = match.end() - at
            kinds.append("`")
            tokens.append((at, run, run if met else 0, 0))
        elif first == 0x24:
            after = data[at + 1] if at + 1 < len(data) else 0x20
            before = data[at - 1]
            if not stack:
                stack.append(-1)
            kinds.append("$")
            tokens.append(
                (
                    at,
                    met and after not in _ASCII_SPACE,
                    at > line_start and before not in _ASCII_SPACE and not 0x30 <= after <= 0x39,
                    stack[-1],
                )
            )
        elif first == 0x7B:
            if stack:
                stack.append(fresh)
                fresh += 1
        elif first == 0x7D:
            if len(stack) == 1:
                stack[0] -= 1  # an unbalanced '}': a new root, no formula spans it
            elif stack:
                stack.pop()
        elif first == 0x3C:
            link = _AUTOLINK.match(data, at, end) if met else None
            if link:
                kinds.append("<")
                tokens.append((at, link.end(), 0, 0))
        elif first == 0x5D:
            kinds.append("]")
            tokens.append((at, 0, 0, 0))
        else:  # a line break: the next line's text starts after its indent and markers
            line_start = at + 1
            while line_start < end and data[line_start] in _LINE_PREFIX:
                line_start += 1
    count = len(tokens)
    # For each run of backticks, the nearest later run it closes a code span with; for each
    # dollar, the next dollar of its brace context; how many code span openers and autolinks
    # come before each token.
    pair: dict[int, int] = {}
    nearest: dict[int, int] = {}
    following: list[int] = [count] * count
    next_in: dict[int, int] = {}
    for k in range(count - 1, -1, -1):
        if kinds[k] == "`":
            opener = tokens[k][2]
            if opener > 0 and opener in nearest:
                pair[k] = nearest[opener]
            nearest[tokens[k][1]] = k
        elif kinds[k] == "$":
            following[k] = next_in.get(tokens[k][3], count)
            next_in[tokens[k][3]] = k
    barriers = [0]
    for k in range(count):
        barriers.append(barriers[-1] + (k in pair or kinds[k] in "<]"))
    text_dollars: list[int] = []
    k = 0
    while k < count:
        kind, token = kinds[k], tokens[k]
        if kind == "`":
            k = pair[k] + 1 if k in pair else k + 1  # a code span: nothing in it counts
            continue
        if kind == "<":
            while k < count and tokens[k][0] < token[1]:
                k += 1
            continue
        if kind == "]":
            k += 1
            continue
        at = token[0]
        display = k + 1 < count and kinds[k + 1] == "$" and tokens[k + 1][0] == at + 1
        if not token[1]:
            text_dollars.append(at)
            k += 1
            continue
        closer = following[k + 1 if display and following[k] == k + 1 else k]
        if display:
            found = (
                closer + 1 < count
                and kinds[closer + 1] == "$"
                and tokens[closer + 1][0] == tokens[closer][0] + 1
            )
            if found:
                k = closer + 2
                continue
            if at == 0 or data[at - 1] != 0x24:
                unclosed.append(at)
        elif closer < count and tokens[closer][2] and barriers[closer] == barriers[k + 1]:
            k = closer + 1
            continue
        text_dollars.append(at)
        k += 1
    return text_dollars


# The start of an autolink ('<' and a scheme, or an e-mail address's '@').
_AUTOLINK_START = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]++@)"
)


def dollar_math_reads_back(tex: str) -> bool:
    """True when ``$tex$`` in a paragraph reads back as the formula ``tex`` (wherever it
    stands, but before a digit): not empty, no white space at its ends, no '$', no final
    backslash, nothing that stops a '$' formula (a backtick, a link's '](', an autolink)."""
    return bool(
        tex
        and tex == tex.strip()
        and "$" not in tex
        and not tex.endswith("\\")
        and "`" not in tex
        and "](" not in tex
        and not ("<" in tex and _AUTOLINK_START.search(tex))
    )


class Finding(NamedTuple):
    """Something at ``line`` (0-based, in the text as given) worth telling the author;
    ``code`` says which kind (``exporter.errors.CODES``)."""

    line: int
    message: str
    code: str


class Scan(NamedTuple):
    """What a text holds that the loader checks: images (path as rendered, line), problems
    that stop a build, and warnings that do not."""

    images: tuple[tuple[str, int], ...] = ()
    problems: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()


NOTHING = Scan()

_Event = Any  # a pyromark event: a str ('SoftBreak') or a one-key dict
_Span = dict[str, int]  # "start" and "end": byte offsets into the prepared text


class _Reader:
    """The events of one text, with math resolved: ``\\(…\\)`` and ``\\[…\\]`` (which
    CommonMark reads as escaped brackets) become math events, a ``$…$`` that pandoc's rule
    rejects becomes text, and unclosed openers are recorded in ``problems`` (byte, message)."""

    def __init__(self, text: str) -> None:
        self.text = _prepare(text)
        self.problems: list[tuple[int, str, str]] = []  # (byte, message, code)
        self._unclosed: list[int] = []  # bytes where a '$$' opens no formula
        if "$" in self.text:
            self.text, self._unclosed = _resolve_dollars(self.text)
        self.data = self.text.encode()
        # The \\(…\\) and \\[…\\] formulas found: (start byte, end byte, display, TeX).
        self.formulas: list[tuple[int, int, bool, str]] = []
        self._last: dict[tuple[bytes, int], int] = {}
        self.defined = self._definition if _DOLLAR in self.text else None
        self._definitions: dict[str, tuple[str, str]] | None = None

    def source(self) -> str:
        """The text for pulldown-cmark's writer: each ``\\(…\\)`` or ``\\[…\\]`` formula
        (``formulas``) replaced by ``%\\x06N\\x06%`` (N: its index), which Markdown reads
        as text beside which emphasis opens and closes as beside the formula's own
        punctuation; the TeX never reaches Markdown."""
        if b"\\(" not in self.data and b"\\[" not in self.data:
            return self.text
        for _event in self.events():
            pass
        out: list[bytes] = []
        last = 0
        for i, (start, end, _display, _tex) in enumerate(self.formulas):
            out += (self.data[last:start], b"%%\x06%d\x06%%" % i)
            last = end
        out.append(self.data[last:])
        return b"".join(out).decode()

    def _definition(self, link: Any) -> tuple[str, str] | None:
        """The address and title of a reference link whose label holds a text '$' (written
        ``_DOLLAR`` in the link's text, not in its definition): its label's definition."""
        label = link["reference"]
        if _DOLLAR not in label:
            return None
        if self._definitions is None:
            found = pyromark.reference_definitions(self.text, options=_OPTIONS)
            self._definitions = {
                key.casefold(): (value["dest"], value["title"] or "")
                for key, value in found.items()
            }
        return self._definitions.get(label.replace(_DOLLAR, "$").casefold())

    def events(self) -> Iterator[tuple[_Event, _Span]]:
        """The events, with their byte offsets and the math resolved."""
        data = self.data
        math_brackets = b"\\(" in data or b"\\[" in data
        containers: list[int] = []  # end offsets of the open inline containers
        stream: Iterator[tuple[_Event, _Span]] = iter(
            cast(
                Any,
                pyromark.events_with_range(
                    self.text, options=_OPTIONS, broken_link_callback=self.defined
                ),
            )
        )
        pending: tuple[_Event, _Span] | None = None
        in_code = False
        drop_ends = 0  # End events whose Start a formula swallowed
        depth = 0  # nesting since the last swallow
        while True:
            item, pending = (pending, None) if pending is not None else (next(stream, None), None)
            if item is None:
                return
            event, span = item
            start, end = span["start"], span["end"]
            if type(event) is dict:
                if "Start" in event:
                    if _is_container(event["Start"]):
                        containers.append(end)
                    elif type(event["Start"]) is dict and "CodeBlock" in event["Start"]:
                        in_code = True
                    depth += 1
                elif "End" in event:
                    if drop_ends and depth == 0:
                        drop_ends -= 1
                        continue
                    depth = max(depth - 1, 0)
                    if _is_container(event["End"]):
                        containers.pop()
                    in_code = in_code and event["End"] != "CodeBlock"
                elif "Text" in event and not in_code:
                    if math_brackets and start and data[start - 1] == 0x5C:
                        opened = self._bracket_math(event["Text"], start, containers)
                        if opened is not None:
                            math, close = opened
                            self._check_tex(math[0], start - 1)
                            ((kind, tex),) = math[0].items()
                            self.formulas.append((start - 1, close, kind == "DisplayMath", tex))
                            yield math
                            pending, swallowed = self._skip(stream, close)
                            drop_ends += swallowed
                            depth = 0
                            continue
                    if self._unclosed:
                        self._report_unclosed(start, end)
                elif "InlineMath" in event or "DisplayMath" in event:
                    self._check_tex(event, start)
            yield event, span

    def _check_tex(self, math: dict[str, str], start: int) -> None:
        """Record a problem when the formula ``math`` (an event) uses a refused command."""
        found = refused_command(next(iter(math.values())))
        if found is not None:
            self._problem(start, found, code="math-command-refused")

    def _problem(self, start: int, message: str, *, code: str) -> None:
        self.problems.append((start, message, code))

    def _report_unclosed(self, start: int, end: int) -> None:
        """A problem for each ``$$`` opening no formula in this text (bytes start to end)."""
        for at in self._unclosed[bisect_left(self._unclosed, start) :]:
            if at >= end:
                break
            self._problem(at, unclosed_message("$$"), code="math-unclosed")

    def _bracket_math(
        self, text: str, start: int, containers: list[int]
    ) -> tuple[tuple[_Event, _Span], int] | None:
        """A ``\\(`` or ``\\[`` escape at ``start - 1`` as a formula: (event, closer end)."""
        if text[:1] not in "([":
            return None
        backslashes, i = 0, start - 1
        while i >= 0 and self.data[i] == 0x5C:
            backslashes, i = backslashes + 1, i - 1
        if backslashes % 2 == 0:
            return None  # '\\(' is a literal backslash before '('
        opener = "\\" + text[0]
        closer = _PAIRS[opener].encode()
        limit = containers[-1] if containers else len(self.data)
        # The last closer before the container's end, found once: many unclosed openers
        # are then linear, not quadratic, to reject.
        last = self._last.get((closer, limit))
        if last is None:
            last = self._last[closer, limit] = self.data.rfind(closer, 0, limit)
        close = self.data.find(closer, start + 1, limit) if last > start else -1
        if close < 0:
            self._problem(start - 1, unclosed_message(opener), code="math-unclosed")
            return None
        tex = self.data[start + 1 : close].decode()
        if not tex.strip():
            return None
        kind = "DisplayMath" if opener == "\\[" else "InlineMath"
        return ({kind: tex}, {"start": start - 1, "end": close + 2}), close + 2

    def _skip(
        self, stream: Iterator[tuple[_Event, _Span]], until: int
    ) -> tuple[tuple[_Event, _Span] | None, int]:
        """Drop the events a formula covers (up to byte ``until``): the first event after it
        (the text after the formula, when an event straddles it), and how many Starts were
        dropped unclosed."""
        opened = 0
        for event, span in stream:
            start, end = span["start"], span["end"]
            if type(event) is dict and "End" in event:
                if end > until or opened == 0:
                    return (event, span), opened  # a container that outlives the formula
                opened -= 1
                continue
            if start >= until:
                return (event, span), opened
            if type(event) is dict and "Start" in event:
                opened += 1
            elif type(event) is dict and "Text" in event and end > until:
                return (
                    {"Text": self.data[until:end].decode()},
                    {"start": until, "end": end},
                ), opened
        return None, opened


def _is_container(tag: Any) -> bool:
    """True for the blocks that hold a run of inline content (a formula stays inside one)."""
    return tag in ("Paragraph", "Item", "TableCell") or (type(tag) is dict and "Heading" in tag)


# TeX commands no formula may use, each with what Anki's MathJax (desktop and AnkiDroid, which
# load no "safe" extension) would do with it on every card the deck reaches.
_REFUSED_TEX = {
    name.lower(): why
    for why, names in (
        (
            "Anki's MathJax turns into a link, a class, an id, a style or data on the card (a "
            "'javascript:' link runs code when tapped; a style can cover the card)",
            ("href", "class", "cssId", "style", "data", "mmlToken", "bbox", "unicode", "url"),
        ),
        ("loads or configures parts of Anki's MathJax", ("require", "setOptions")),
        (
            "defines a command (a command defined in a formula could stand for \\href or "
            "\\style)",
            (
                "def", "gdef", "edef", "xdef", "let", "futurelet", "newcommand",
                "renewcommand", "providecommand", "newenvironment", "renewenvironment",
                "DeclareMathOperator", "Newextarrow", "csname",
            ),
        ),
    )
    for name in names
}  # fmt: skip
_CONTROL_SEQUENCE = re.compile(r"\\(?:([A-Za-z]+)|.)", re.DOTALL)  # as MathJax reads one


def refused_command(tex: str) -> str | None:
    """The problem of a formula whose TeX uses a command no card may carry (``\\href``,
    ``\\style``, a command that defines commands...), in any case; else ``None``."""
    if "\\" not in tex:
        return None
    for match in _CONTROL_SEQUENCE.finditer(tex):
        name = match.group(1)
        if name and name.lower() in _REFUSED_TEX:
            return (
                f"this formula uses {match.group()}, which {_REFUSED_TEX[name.lower()]}: "
                "write the formula without it"
            )
    return None


def unclosed_message(opener: str) -> str:
    """The problem of a formula opened with ``opener`` and never closed in its paragraph."""
    closer = _PAIRS[opener]
    hint = {
        "$$": "write \\$ for a literal dollar sign",
        "\\[": "write [ alone for a literal bracket",
        "\\(": "write ( alone for a literal parenthesis",
    }[opener]
    return (
        f"math opened with {opener} is never closed with {closer} in the same paragraph; "
        f"close it (a blank line ends a paragraph), or {hint}"
    )


# --- rendering: pulldown-cmark's own HTML, then our rules ---------------------------------
#
# pulldown-cmark's writer gets the text as the reader prepared it (stand-ins for a '<' that
# would start HTML, a '$' that delimits no formula, the lines of a display formula; each
# \(…\) or \[…\] formula a placeholder), and each code block goes through its highlight
# hook. What it cannot be told is done on its output, where every '<' starts a tag the
# writer wrote: text is escaped, and no raw HTML reaches it (``_as_text``).

_CODE = "\x05"  # where a code block goes (the hook's blocks, in order)
_FORMULA = "\x06"  # around the number of a \(…\) or \[…\] formula's placeholder
_RESTORE = ((_LT, "&lt;"), (_NL, "\n"), (_DOLLAR, "$"), (_MARK, "\\"))
_UNSAFE_URL = re.compile(r'<(?:a href|img src)="(?i:vbscript|javascript|file|data):')
_IMAGE = re.compile(r'<img src="([^"]*)" alt="([^"]*)"( title="[^"]*")? />')
_TITLE = re.compile(r' title="[^"]*"')
_PLACEHOLDER = re.compile("%\x06(\\d+)\x06%")
_MATH = re.compile(r'<span class="math math-(i|d)[a-z]*">([^<]*)</span>|%\x06(\d+)\x06%')
# A line break the writer wrote for its layout, after or before a block's tag, stays; any
# other is a soft break in text, which a card shows as a line break. (After a list's start
# tag, '<ol start="N">' too, comes its first item.)
_SOFT_BREAK = re.compile(
    "\n"
    + "".join(
        f"(?<!{tag}\n)"
        for tag in (
            *("</p>", "</h\\d>", "</li>", "</ul>", "</ol>", "</tr>", "</table>"),
            *("</blockquote>", "<blockquote>", "<ul>", "<ol>", "<tbody>", "<hr />", "<br />"),
            _CODE,
        )
    )
    + r"(?!<(?:p|h\d|blockquote|[ou]l|li|hr|table|tr)\b|</(?:blockquote|[ou]l|li|tbody)>|\x05)"
)
_BR = "<br />\n"
# A paragraph's or a tight list item's text, up to its end or the item's next block (it
# never runs past the next paragraph or item: linear work).
_RUN = re.compile(
    r"(<p>|<li>)((?:[^<\n\x05]|<br />\n|<(?!/?(?:p|li)>|table>))*+)(</p>|</li>|\n|<table>|\x05)?"
)
_DISPLAY = re.compile("\x04\\[[^\x04]*\x04\\]")


def to_html(text: str, media: Mapping[str, str] | None = None) -> str:
    """Render content text as card HTML: pulldown-cmark's own HTML with our rules
    (docs/content-format.md); ``media`` maps image paths as written (after URL
    normalisation) to the media file names they are shown from."""
    reader = _Reader(text.strip())
    source = reader.source()
    if ("](" in source or "]:" in source) and _ANGLE.search(source):
        source = _as_text(source, reader)
    html, blocks = _write(source, reader)
    if _UNSAFE_URL.search(html):
        html, blocks = _write(_as_text(source, reader), reader)
    if "<img " in html:
        html = _IMAGE.sub(lambda m: _image(m, media or {}), html)
    if "math math-" in html or _FORMULA in html:
        html = _MATH.sub(lambda m: _formula(m, reader.formulas), html)
    if ' title="' in html:  # a title's line breaks are the attribute's, not the card's
        html = _TITLE.sub(lambda m: m.group().replace("\n", "&#10;"), html)
    html = _SOFT_BREAK.sub(_BR, html.rstrip("\n"))
    if "\x04[" in html:
        html = _RUN.sub(_display_blocks, html)
    html = inert_math_delimiters(html)  # (code blocks are not in yet: MathJax skips them)
    for stand_in, shown in _RESTORE:
        if stand_in in html:
            html = html.replace(stand_in, shown)
    if blocks:
        parts = html.split(_CODE)
        html = "".join(part + block for part, block in zip(parts, [*blocks, ""], strict=True))
    return inert_anki_syntax(html)


def _write(source: str, reader: _Reader) -> tuple[str, list[str]]:
    """pulldown-cmark's HTML of ``source``, each code block ``_CODE``; and the blocks."""
    blocks: list[str] = []

    def code_block(language: str | None, code: str) -> str:
        blocks.append(code_block_html(_code_text(code), language or ""))
        return _CODE

    html = pyromark.html(
        source, options=_OPTIONS, broken_link_callback=reader.defined, highlight=code_block
    )
    return html, blocks


def _code_text(code: str) -> str:
    """A code block's text as the parser gives it -> as the card shows it: stand-ins turned
    back, and its last line ending with its line break as every other does."""
    if code and code[-1] != "\n":
        code += "\n"  # (the last line of the text)
    if _LT in code or _DOLLAR in code:
        code = code.replace(_LT, "<").replace(_DOLLAR, "$")
    return code


MAX_PASSES = 4  # parses that make unsafe links text (see _as_text)


def _as_text(text: str, reader: _Reader) -> str:
    """``text`` with what must show as written made text: a '<' the writer reads as HTML
    (one ``_html_off`` kept for a link's address in pointy brackets where no link forms)
    becomes ``_LT``; a link or image to an address no card may follow (``javascript:`` and
    the like) loses its opening '[' (written ``&#91;``) or an autolink's '<'. (A bracket
    made text can let an outer one open a link: after ``MAX_PASSES`` no bracket opens one.)"""
    for _pass in range(MAX_PASSES):
        data = text.encode()
        edits: dict[int, bytes] = {}
        events = pyromark.events_with_range(
            text, options=_OPTIONS, broken_link_callback=reader.defined
        )
        for event, span in cast(Any, events):
            if type(event) is not dict:
                continue
            start = event.get("Start")
            link = start if type(start) is dict and ("Link" in start or "Image" in start) else {}
            if "Html" in event or "InlineHtml" in event:
                at = data.find(b"<", span["start"], span["end"])
                while at >= 0:
                    edits[at] = _LT.encode()
                    at = data.find(b"<", at + 1, span["end"])
            elif link and not is_safe_url(next(iter(link.values()))["dest_url"]):
                at = span["start"] + (data[span["start"]] == 0x21)  # after an image's '!'
                edits[at] = _LT.encode() if data[at] == 0x3C else b"&#91;"
        if not edits:
            return text
        out = bytearray()
        last = 0
        for at in sorted(edits):
            out += data[last:at] + edits[at]
            last = at + 1
        text = (out + data[last:]).decode()
    return text.replace("[", "&#91;").replace("<", _LT)


def _image(match: re.Match[str], media: Mapping[str, str]) -> str:
    """An image of the bank's media shown from the package (with its path as written, for
    ``pull``); any other is a link, never loaded."""
    src, alt, title = match.group(1), _PLACEHOLDER.sub("", match.group(2)), match.group(3)
    path = normalize_url(htmllib.unescape(src))
    name = media.get(path)
    if name is None:
        return f'<a href="{src}">{alt or src}</a>'
    # Not "data-src": Anki's media scan before 24.x takes the last attribute ending in "src".
    return f'<img src="{escape(name)}" alt="{alt}"{title or ""} data-iq-path="{escape(path)}" />'


def _formula(match: re.Match[str], formulas: list[tuple[int, int, bool, str]]) -> str:
    """pulldown-cmark's math span, or a formula's placeholder -> our formula."""
    if match.group(3) is not None:
        display, tex = formulas[int(match.group(3))][2:]
    else:
        display, tex = match.group(1) == "d", htmllib.unescape(match.group(2))
    tex = _tex_lines(tex)
    return _formula_html(tex.strip("\n") if display else tex, display)


def _display_blocks(match: re.Match[str]) -> str:
    """A paragraph's or a tight item's text with each display formula alone on its lines
    made a block of its own (``<div class="iq-math">``), the text around it split."""
    opening, run, end = match.groups()
    if "\x04[" not in run or end is None:
        return match.group()
    blocks: list[str] = []
    lines: list[str] = []
    for line in [*run.split(_BR), None]:
        if line is not None and not _DISPLAY.fullmatch(line):
            lines.append(line)
            continue
        if lines:
            text = _BR.join(lines)
            blocks.append(f"<p>{text}</p>" if opening == "<p>" else text)
            lines = []
        if line is not None:
            blocks.append(f'<div class="iq-math">{line}</div>')
    html = "\n".join(blocks)
    if opening == "<p>":
        return html
    first = "\n" if blocks[0].startswith("<div") else ""
    last = "\n" if blocks[-1].startswith("<div") and end != "\n" else ""
    return f"<li>{first}{html}{last}{end}"


def _tex_lines(tex: str) -> str:
    """A formula's TeX with its line breaks back, each line's indent removed."""
    if _NL not in tex:
        return tex
    first, *rest = tex.split(_NL)
    return "\n".join([first, *(line.lstrip(" \t") for line in rest)])


# Anki's own bracket syntax, which it would act on inside a field: a play button
# ([sound:…]), text to speech ([anki:tts …]), LaTeX images ([latex], [$], [$$]).
_ANKI_SYNTAX = re.compile(r"\[(?=/?(?:sound:|anki:|latex\]|\$\$?\]))", re.IGNORECASE)


def inert_anki_syntax(html: str) -> str:
    """``html`` with the ``[`` of Anki's own syntax written as ``&#91;``: the card shows the
    same text, and Anki finds nothing to play, speak or typeset."""
    return _ANKI_SYNTAX.sub("&#91;", html) if "[" in html else html


_LINE_BREAKS = re.compile(rb"\n|\x02")  # a line of the text (a display formula's too)


def scan(text: str) -> Scan:
    """Find images, unclosed math and unknown code languages in ``text``."""
    if not _RICH.search(text):
        return NOTHING
    stripped = text.strip()
    lead = text[: len(text) - len(text.lstrip())].count("\n")
    reader = _Reader(stripped)
    data = reader.data
    breaks = [m.start() for m in _LINE_BREAKS.finditer(data)]

    def line(offset: int) -> int:
        return lead + bisect_right(breaks, offset - 1)

    images: list[tuple[str, int]] = []
    warnings: list[Finding] = []
    code_start = -1
    code: list[str] = []
    language = ""
    for event, span in reader.events():
        if type(event) is not dict:
            continue
        start = event.get("Start")
        if type(start) is dict:
            if "Image" in start:
                dest = start["Image"]["dest_url"].replace(_LT, "<").replace(_DOLLAR, "$")
                images.append((normalize_url(dest), line(span["start"])))
            elif "CodeBlock" in start:
                value = start["CodeBlock"]
                language = fence_language(value["Fenced"]) if type(value) is dict else ""
                code_start, code = span["start"], []
        elif "Text" in event and code_start >= 0:
            code.append(event["Text"])
        elif event.get("End") == "CodeBlock":
            why = plain_reason(_code_text("".join(code)), language) if language else None
            if why is not None:
                warnings.append(Finding(line(code_start), why, code="code-block-long"))
            elif language and not is_known(language):
                warnings.append(
                    Finding(
                        line(code_start),
                        f"unknown code language '{language}': the block is shown without "
                        "highlighting (use a Pygments name such as python, sql, bash, yaml)",
                        code="code-language-unknown",
                    )
                )
            code_start = -1
    found = sorted(reader.problems, key=lambda problem: problem[0])  # in text order
    problems = [Finding(line(offset), message, code=code) for offset, message, code in found]
    return Scan(tuple(images), tuple(problems), tuple(warnings))
