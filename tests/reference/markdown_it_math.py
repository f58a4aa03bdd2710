"""Math in content text, as a markdown-it plugin: TeX reaches the card untouched by Markdown.

Delimiters (the rule is pandoc's ``tex_math_dollars`` plus LaTeX's own):

- inline: ``$…$`` and ``\\(…\\)``. A ``$`` opens only when the next character is not white
  space, and the next ``$`` (not counting TeX's ``\\$``) closes only when the character
  before it is not white space and the one after it is not a digit; otherwise the first
  ``$`` is text. So "costs $5 and $10" stays text; ``\\$`` is always a literal dollar.
- display: ``$$…$$`` and ``\\[…\\]``, inside a paragraph or as a block of their own lines.

Everything between the delimiters is TeX: no emphasis, no escapes, no line breaks. It is
written out as Anki's MathJax delimiters ``\\(…\\)`` / ``\\[…\\]`` with only ``&``, ``<``
and ``>`` escaped (the browser turns them back before MathJax reads the text), and line
breaks inside an expression become spaces. An opening ``$$``, ``\\(`` or ``\\[`` that is
never closed is a problem (recorded in ``env["math_problems"]``), never a broken card.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from exporter.markup.markdown import tex_html, unclosed_message

PROBLEMS = "math_problems"  # env key: list of (source text, offset, message)
_LAST = "math_last_closer"  # env key: memo of the last closer in a run of text
MAX_BLOCK_LINES = 100  # a display formula on lines of its own closes within this many
_DOLLARS_CLOSED = re.compile(r"\$\$?\]")
_PAIRS = {"$$": "$$", "\\[": "\\]", "\\(": "\\)"}
_DISPLAY = ("$$", "\\[")


def math_plugin(md: MarkdownIt) -> None:
    """Add math parsing and rendering to ``md``."""
    md.inline.ruler.before("escape", "math_inline", _inline)
    md.block.ruler.before(
        "fence", "math_block", _block, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )
    if hasattr(md.inline, "add_terminator_char"):  # markdown-it-py >= 4: '$' stops plain text
        md.inline.add_terminator_char("$")
    md.add_render_rule("math_inline", _render_inline)
    md.add_render_rule("math_display", _render_inline)
    md.add_render_rule("math_block", _render_block)


def _problem(env: Any, src: str, pos: int, message: str) -> None:
    if isinstance(env, dict):
        env.setdefault(PROBLEMS, []).append((src, pos, message))


def _inline(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    dollars = _anki_dollars(src, pos)
    if dollars:  # Anki's own [$]…[/$] and [$$]…[/$$]: text, never our math
        if not silent:
            state.pending += src[pos : pos + dollars]
        state.pos += dollars
        return True
    opener = next((o for o in ("$$", "\\[", "\\(") if src.startswith(o, pos)), None)
    if opener is None:
        return _dollar(state, silent) if src[pos] == "$" else False
    closer = _PAIRS[opener]
    start = pos + len(opener)
    # The last closer in this run of text, looked up once: a text of many unclosed openers
    # is then linear, not quadratic, to reject.
    last = _last(state, closer)
    end = src.find(closer, start, state.posMax) if last >= start else -1
    if end < 0:
        if not silent:
            _problem(state.env, src, pos, unclosed_message(opener))
        return False
    if not src[start:end].strip():
        return False
    if not silent:
        kind = "math_display" if opener in _DISPLAY else "math_inline"
        token = state.push(kind, "math", 0)
        token.content = src[start:end]
        token.markup = opener
    state.pos = end + len(closer)
    return True


def _anki_dollars(src: str, pos: int) -> int:
    """How many ``$`` at ``pos`` belong to Anki's ``[$]``, ``[$$]``, ``[/$]`` or ``[/$$]``."""
    match = _DOLLARS_CLOSED.match(src, pos)
    if match is None:
        return 0
    before = src[max(pos - 2, 0) : pos]
    return match.end() - pos - 1 if before.endswith("[") or before == "[/" else 0


def _last(state: StateInline, closer: str) -> int:
    memo = state.env.setdefault(_LAST, {}) if isinstance(state.env, dict) else {}
    key = (id(state.src), closer, state.posMax)
    if key not in memo:
        memo[key] = state.src.rfind(closer, 0, state.posMax)
    return int(memo[key])


def _dollar(state: StateInline, silent: bool) -> bool:
    """``$…$`` by pandoc's rule; a ``$`` that opens nothing is plain text."""
    src, start, limit = state.src, state.pos + 1, state.posMax
    if start >= limit or src[start].isspace():
        return False
    end = start
    while True:  # the first dollar that is not TeX's own \$ must close, or nothing opens
        end = src.find("$", end + 1, limit)
        if end < 0:
            return False
        if src[end - 1] != "\\":
            break
    after = src[end + 1] if end + 1 < limit else ""
    if src[end - 1].isspace() or after.isdigit():
        return False
    if not silent:
        token = state.push("math_inline", "math", 0)
        token.content = src[start:end]
        token.markup = "$"
    state.pos = end + 1
    return True


def _block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Display math on lines of its own: ``$$`` or ``\\[`` first on the line, closed on the
    same or a later line; the lines between are TeX, not Markdown."""
    if state.is_code_block(start_line):
        return False
    begin = state.bMarks[start_line] + state.tShift[start_line]
    first = state.src[begin : state.eMarks[start_line]]
    opener = next((o for o in _DISPLAY if first.startswith(o)), None)
    if opener is None:
        return False
    closer = _PAIRS[opener]
    rest = first[len(opener) :]
    lines = []
    line = start_line
    if closer in rest:
        body, after = rest.split(closer, 1)
        if after.strip():
            return False  # text after the closer: an inline formula in a paragraph
        lines.append(body)
    else:
        lines.append(rest)
        while True:
            line += 1
            if line >= min(end_line, start_line + MAX_BLOCK_LINES):
                return False  # never closed: the inline rule reports it in its paragraph
            text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
            if closer in text:
                body, after = text.split(closer, 1)
                if after.strip():
                    return False
                lines.append(body)
                break
            lines.append(text)
    tex = "\n".join(lines).strip("\n")
    if not tex.strip():
        return False
    if silent:
        return True
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = tex
    token.markup = opener
    token.map = [start_line, line + 1]
    state.line = line + 1
    return True


def _render_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    return tex_html(token.content, token.type == "math_display")


def _render_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f'<div class="iq-math">{tex_html(tokens[idx].content, True)}</div>\n'
