"""A card field's HTML, as Anki's editor leaves it -> the house Markdown of a content file.

The general case (``<div>``, ``<br>``, ``&nbsp;``, ``<b>``, ``<i>``, lists, links, pasted
spans with inline styles) goes through markdownify; our own constructs come back by our own
rules, because the renderer marked them for the way back:

- math ``\\(…\\)`` / ``\\[…\\]`` (and ``<div class="iq-math">``) -> ``$…$`` / ``$$…$$`` with
  the TeX untouched (``\\(…\\)`` where a dollar would not read back as math);
- ``<pre class="iq-code" data-lang="X">`` (or ``<code class="language-X">``) -> a fence
  with its language and the code text;
- ``<img src="MEDIA" data-iq-path="P">`` -> ``![alt](P)`` when ``P`` still names the file
  ``MEDIA`` was made from; any other image is a problem the caller reports, never a guess.

Text is escaped so that it reads back as the same text: ``*``, ``_``, `````, ``$``, a
backslash before punctuation, what would start a heading, list, quote or link.

Any field converts in work linear in its length, with a stack bounded by a constant: a
field over ``MAX_FIELD_CHARS`` is a problem; a '<' that starts no well-formed tag is text
before html.parser sees it (which rescans, or raises, on such input on older Pythons); no
scan restarts at each of many openers; and a field nested deeper than ``MAX_DEPTH``
elements (counted along the parsed tree) is a problem before markdownify recurses into it.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup
from bs4.builder import HTMLTreeBuilder
from bs4.element import CData, NavigableString, Tag
from markdownify import MarkdownConverter

from exporter.markup.markdown import dollar_math_reads_back, to_html
from exporter.reading.exports import without_tags

MAX_FIELD_CHARS = 1_000_000  # a field's HTML pull converts; a longer one is a problem
MAX_DEPTH = 64  # elements nested in a field pull converts (markdownify recurses per level)

# Each (opener, closer) pair is found as the regex "opener(.*?)closer" (re.S) would, but
# in linear work (see _pairs). Math as the renderer writes it, outside code; TeX may hold
# '&amp;' and the editor's tags.
_Pair = tuple[re.Pattern[str], re.Pattern[str]]
_MATH: tuple[_Pair, ...] = (
    (re.compile(r'<div class="iq-math">\s*\\\['), re.compile(r"\\\]\s*</div>")),
    (re.compile(r"\\\["), re.compile(r"\\\]")),
    (re.compile(r"\\\("), re.compile(r"\\\)")),
)
_CODE: tuple[_Pair, ...] = (
    (re.compile(r"<pre\b", re.I), re.compile(r"</pre>", re.I)),
    (re.compile(r"<code\b", re.I), re.compile(r"</code>", re.I)),
)
_LITERAL_DELIMITER = re.compile(r'<span class="tex2jax_ignore">\\([(\[])</span>')
_LINE_START = re.compile(r"(^|\n)([ ]?)(#{1,6}(?=\s|$)|[-+=]+(?=\s|$)|>)")
_NUMBERED = re.compile(r"(^|\n)([ ]?\d{1,9})([.)])(?=\s|$)")
_CLOSING_HASHES = re.compile(r"(^|[ \t])(#+)$")  # what ends an ATX heading, if left bare
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# An email autolink's '<': no '<' can stand between it and the '@' (nor rescan from each).
_AUTOLINK = re.compile(r"<(?=[A-Za-z][A-Za-z0-9+.-]*:|[^\s>@<]+@)")
_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
# A line's leading space: never shown ('<' ends the scan, so none restarts at each '<br').
_AFTER_BREAK = re.compile(r"(<br\b[^<>]*>)\s+", re.I)

# Markup that html.parser reads the same way on every Python version, in linear work: a
# start tag (a name, then attributes after white space: a name, perhaps '=' and a value,
# quoted or bare), an end tag, a comment or a doctype without '<' or '>' inside. Any
# other '<' is text, as is a start tag that never ends and a '&#' that starts no
# character reference: html.parser as Python 3.11.7 ships it rescans to the end from each
# unclosed '<a ', '<!--' or '<br' (newer releases fixed that: CVE-2025-6069), raises on
# '<![', and reads everything after a bad '&#' as text.
_SPACE = "[ \t\n\r\f]"
_TAG_NAME = re.compile("[A-Za-z][A-Za-z0-9:_.-]*")
_ATTRIBUTE = (  # a '<' in an attribute's name, as browsers read it: <b c="d" <i> is a <b>
    f"{_SPACE}+[^\\s\"'>/=`]+(?:{_SPACE}*={_SPACE}*(?:\"[^\"]*\"|'[^']*'|[^\\s\"'<>=`]+))?"
)
_BAD_CHARREF = "&#(?![0-9]+[^0-9a-fA-F]|[xX][0-9a-fA-F]+[^0-9a-fA-F])"
_MARKUP = re.compile(
    f"(?P<start><{_TAG_NAME.pattern}(?:{_ATTRIBUTE})*+)(?P<end>{_SPACE}*/?>)?"
    f"|</{_TAG_NAME.pattern}{_SPACE}*>|<!--[^<>]*-->|<!(?i:doctype)[^<>]*>"
    f"|{_BAD_CHARREF}|<"
)
_BAD_CHARREFS = re.compile(_BAD_CHARREF)
# Written <br />: bs4 keeps a list of each void element not closed so, and looks an end tag
# up in it (work quadratic in a field of many <br> and end tags).
_VOID = frozenset(HTMLTreeBuilder.DEFAULT_EMPTY_ELEMENT_TAGS or ())
# Blocks that a following line would continue (a list item, a quote, a table row).
_BLOCKS = ["ul", "ol", "blockquote", "table", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr"]

# Marks (private-use characters) around the cells and rows of a table being converted.
_CELL, _END_CELL, _ROW, _END_ROW = "\ue000", "\ue001", "\ue002", "\ue003"
_ROWS = re.compile(f"{_ROW}([^{_ROW}{_END_ROW}]*){_END_ROW}")  # no rescan from each mark
_CELLS = re.compile(f"{_CELL}([^{_CELL}{_END_CELL}]*){_END_CELL}")
_MARKS = re.compile("[\ue000-\ue003]")
_ALIGN = {"left": ":---", "center": ":---:", "right": "---:"}
_CELL_BLOCKS = ["ul", "ol", "blockquote", "pre", "table", "hr", "h1", "h2", "h3", "h4", "h5"]


def _alignment(cell: Any) -> str:
    """A cell's text alignment: its style's ``text-align``, else its ``align``."""
    style = re.search(r"text-align\s*:\s*([a-z]+)", str(cell.attrs.get("style") or ""), re.I)
    return (style[1] if style else str(cell.attrs.get("align") or "")).lower()


def _cell_problem(cell: Any) -> str:
    """What a table cell holds that a pipe table cannot (``''``: nothing)."""
    for name in ("colspan", "rowspan"):
        if str(cell.attrs.get(name, "1")).strip() not in ("", "1"):
            return "merged cells (colspan or rowspan)"
    block = cell.find([*_CELL_BLOCKS, "h6"])
    if block is not None:
        return (
            "a table inside a table"
            if block.name == "table"
            else (
                "a list in a cell" if block.name in ("ul", "ol") else f"a <{block.name}> in a cell"
            )
        )
    lines = [c for c in cell.find_all(["div", "p"]) if c.get_text(strip=True)]
    if len(lines) > 1 or _text_after_a_break(cell):
        return "several lines in a cell"
    return ""


def _text_after_a_break(cell: Any) -> bool:
    """True when text follows a ``<br>`` inside ``cell`` (a trailing ``<br>`` is no new
    line): one walk of the cell."""
    broken = False
    for node in cell.descendants:
        if isinstance(node, Tag):
            broken = broken or node.name == "br"
        elif broken and node.strip():
            return True
    return False


# (media name in src, data-iq-path or None) -> the path to write, or None: cannot map it.
ImageMapper = Callable[[str, "str | None"], "str | None"]


@dataclass
class Converted:
    """The Markdown, the images it shows (path -> media name) and what could not come back."""

    markdown: str
    images: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    tables: int = 0  # pipe tables written
    struck: int = 0  # ~~struck~~ runs written
    table_problem: str = ""  # why a table cannot be written (once per field)


class _Converter(MarkdownConverter):
    def __init__(self, mapper: ImageMapper, result: Converted) -> None:
        super().__init__(
            heading_style="atx",
            bullets="-",
            escape_asterisks=False,  # our escape() does it all
            escape_underscores=False,
            escape_misc=False,
            newline_style="spaces",
            wrap=True,  # a line break in the HTML source is a space, as a card shows it
            wrap_width=None,  # ...and no line is ever wrapped
        )
        self.mapper = mapper
        self.result = result
        self.numbers: dict[int, dict[int, int]] = {}  # id(<ol>) -> id(<li>) -> its place

    def escape(self, text: str, parent_tags: Any) -> str:
        text = re.sub(" {2,}", " ", text.replace("\xa0", " "))
        text = _BACKSLASH.sub(r"\\\\", text)
        for ch in "*_`$~|":  # each escape stays only where it is needed (_fewest_escapes)
            text = text.replace(ch, "\\" + ch)
        text = _ENTITY.sub(r"\\&", text)
        text = _escape_link_openers(text)
        text = _AUTOLINK.sub(r"\\<", text)
        text = _NUMBERED.sub(r"\1\2\\\3", text)
        return _LINE_START.sub(lambda m: m[1] + m[2] + "\\" + m[3], text)

    def convert_hN(self, n: int, el: Any, text: str, parent_tags: Any) -> str:
        """A heading whose text ends in '#'s after a space: escaped, or CommonMark would take
        them for the heading's optional closing sequence and drop them."""
        text = _CLOSING_HASHES.sub(lambda m: m[1] + "\\" + m[2], text.rstrip())
        return str(super().convert_hN(n, el, text, parent_tags))  # type: ignore[misc]

    def convert_div(self, el: Any, text: str, parent_tags: Any) -> str:
        """The editor's lines: one ``<div>`` a line, an empty one a blank line; a ``<div>``
        holding a block (a list, a quote...) is a block of its own, so that the next line
        does not become part of it (CommonMark's lazy continuation)."""
        if "_inline" in parent_tags:
            return " " + text.strip() + " "
        text = text.strip()
        if text and el.find(_BLOCKS) is not None:
            return f"\n\n{text}\n\n"
        return f"\n{text}\n" if text else "\n\n"

    def convert_s(self, el: Any, text: str, parent_tags: Any) -> str:
        """Struck text (``<s>``, ``<del>``, ``<strike>``): GFM's ``~~x~~``."""
        inner = text.strip()
        if not inner:
            return text
        self.result.struck += 1
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        return f"{lead}~~{inner}~~{trail}"

    convert_del = convert_s
    convert_strike = convert_s

    def convert_td(self, el: Any, text: str, parent_tags: Any) -> str:
        """One cell, marked for ``convert_table``; what a pipe table cannot hold is a problem."""
        why = _cell_problem(el)
        if why:
            self.refuse_table(why)
        cell = " ".join(text.split()).replace("|", "\\|")
        cell = _MARKS.sub(lambda m: f"&#x{ord(m[0]):X};", cell)  # typed: text, never a mark
        return f"{_CELL}{cell}{_END_CELL}"

    convert_th = convert_td

    def convert_tr(self, el: Any, text: str, parent_tags: Any) -> str:
        return f"{_ROW}{text}{_END_ROW}"

    def convert_table(self, el: Any, text: str, parent_tags: Any) -> str:
        """A GFM pipe table: the first row its header, each column's alignment from its
        first cell's ``style="text-align:…"`` (or ``align``)."""
        if el.find("table") is not None:
            self.refuse_table("a table inside a table")
        rows = [_CELLS.findall(r) for r in _ROWS.findall(text)]
        rows = [r for r in rows if r]
        if not rows or self.result.table_problem:
            return "\n\n" + _MARKS.sub(" ", text).strip() + "\n\n"
        width = max(len(r) for r in rows)
        first = el.find("tr")
        cells = first.find_all(["td", "th"], recursive=False) if first is not None else []
        rule = [_ALIGN.get(_alignment(c), "---") for c in cells]
        rule += ["---"] * (width - len(rule))
        lines = [r + [""] * (width - len(r)) for r in rows]
        out = ["| " + " | ".join(c or " " for c in line) + " |" for line in lines]
        out.insert(1, "| " + " | ".join(rule) + " |")
        self.result.tables += 1
        return "\n\n" + "\n".join(o.replace("|  |", "| |") for o in out) + "\n\n"

    def refuse_table(self, why: str) -> None:
        if not self.result.table_problem:
            self.result.table_problem = why
            self.result.problems.append(
                f"a table with {why} cannot be written as a Markdown table (a pipe table "
                "holds one line of text per cell, no merged cells); simplify the table in "
                "Anki, or write it in the YAML"
            )

    def convert_img(self, el: Any, text: str, parent_tags: Any) -> str:
        src = str(el.attrs.get("src") or "")
        path = el.attrs.get("data-iq-path")
        alt = str(el.attrs.get("alt") or "")
        written = self.mapper(src, None if path is None else str(path))
        if written is None:
            shown = f"'{path}' (shown as '{src}')" if path else f"'{src}'"
            self.result.problems.append(
                f"image {shown} does not map to an image file of the bank; add the file to "
                "the content folder and write ![alt](its/path.png) in the YAML"
            )
            return alt
        self.result.images[written] = src
        alt_md = alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        title = str(el.attrs.get("title") or "")
        title_md = ' "' + title.replace('"', '\\"') + '"' if title else ""
        return f"![{alt_md}]({_destination(written)}{title_md})"

    def convert_code(self, el: Any, text: str, parent_tags: Any) -> str:
        if "_noformat" not in parent_tags and text and not text.strip():
            return text  # a code span of spaces: keep the space
        return str(super().convert_code(el, text, parent_tags))  # type: ignore[misc]

    def convert_li(self, el: Any, text: str, parent_tags: Any) -> str:
        """A list item, as markdownify writes it (bullets '-'), its number in an ``<ol>``
        counted once per list (markdownify counts the items before each item again) from
        a ``start`` of at most nine digits (CommonMark's limit; any other start is 1)."""
        text = (text or "").strip()
        if not text:
            return "\n"
        parent = el.parent
        bullet = "- "
        if parent is not None and parent.name == "ol":
            start = str(parent.get("start") or "")
            first = int(start) if re.fullmatch("[0-9]{1,9}", start) else 1
            bullet = f"{first + self.place(parent, el)}. "
        pad = " " * len(bullet)
        text = "\n".join(pad + line if line else "" for line in text.split("\n"))
        return bullet + text[len(bullet) :] + "\n"

    def place(self, ol: Any, li: Any) -> int:
        """How many ``<li>`` come before ``li`` among ``ol``'s children."""
        places = self.numbers.get(id(ol))
        if places is None:
            items = ol.find_all("li", recursive=False)
            places = self.numbers[id(ol)] = {id(item): i for i, item in enumerate(items)}
        return places.get(id(li), 0)

    def convert_pre(self, el: Any, text: str, parent_tags: Any) -> str:
        code = _pre_text(el).removesuffix("\n")
        language = str(el.attrs.get("data-lang") or "")
        inner = el.find("code")
        if not language and inner is not None:
            classes = inner.attrs.get("class") or []
            language = next((c[9:] for c in classes if c.startswith("language-")), "")
        longest = max((len(m) for m in re.findall(r"^`{3,}", code, re.M)), default=2)
        fence = "`" * (longest + 1)
        return f"\n\n{fence}{language}\n{code}\n{fence}\n\n"


def _pre_text(pre: Any) -> str:
    """A ``<pre>``'s text as ``get_text()`` gives it, each ``<br>`` a line break: one walk
    (replacing each ``<br>`` first would look each up among its siblings)."""
    wanted = getattr(pre, "interesting_string_types", None) or (NavigableString, CData)
    parts = []
    for node in pre.descendants:
        if isinstance(node, Tag):
            if node.name == "br":
                parts.append("\n")
        elif type(node) in wanted:
            parts.append(str(node))
    return "".join(parts)


def _escape_link_openers(text: str) -> str:
    """Each '[' whose next ']' is followed by '(', '[' or ':' (where a link could start)
    written '&#91;': one pass over the ']'s (a lookahead from each '[' rescans to the
    next ']', quadratic in a run of '[')."""
    if "[" not in text or "]" not in text:
        return text
    parts = text.split("]")
    for i in range(len(parts) - 1):
        if parts[i + 1][:1] in ("(", "[", ":"):
            parts[i] = parts[i].replace("[", "&#91;")
    return "]".join(parts)


def _pairs(text: str, pairs: Sequence[_Pair]) -> Iterator[tuple[int, int, int, int, int]]:
    """Each ``opener … closer`` of ``text``: (which pair, start, inner start, inner end,
    end), as ``re.finditer`` finds ``o0(.*?)c0|o1(.*?)c1|…`` (``re.S``), in linear work.
    When a closer follows no opener of its pair, none follows a later one either: the
    pair is dropped, where the regex would scan to the end again from each later opener.
    Openers match one way only (nothing to backtrack into)."""
    ahead: dict[int, re.Match[str] | None] = {}
    live = list(range(len(pairs)))
    pos = 0
    while live:
        best: tuple[int, re.Match[str]] | None = None
        for k in list(live):
            found = ahead.get(k)
            if k not in ahead or (found is not None and found.start() < pos):
                found = ahead[k] = pairs[k][0].search(text, pos)
            if found is None:
                live.remove(k)
            elif best is None or found.start() < best[1].start():
                best = (k, found)
        if best is None:
            return
        k, opener = best
        closer = pairs[k][1].search(text, opener.end())
        if closer is None:
            live.remove(k)
            continue
        yield k, opener.start(), opener.end(), closer.start(), closer.end()
        pos = closer.end()


def _well_formed(field_html: str) -> str:
    """``field_html`` with each '<' that starts no well-formed tag, comment or doctype (and
    each '&#' that starts no character reference) written as text, and each void element
    closed (``<br />``): what html.parser then reads in linear work, the same way on every
    Python version. The HTML Anki's editor writes passes unchanged, but for ``<br />``."""

    def one(match: re.Match[str]) -> str:
        start = match["start"]
        if start is None:
            return {"<": "&lt;", "&#": "&amp;#"}.get(match[0], match[0])
        if match["end"] is None:  # a start tag that never ends: all of it is text
            return "&lt;" + _BAD_CHARREFS.sub("&amp;#", start[1:]).replace("<", "&lt;")
        name = _TAG_NAME.match(start, 1)
        if name is not None and name[0].lower() in _VOID:
            return start + " />"
        return match[0]

    return _MARKUP.sub(one, field_html)


def _depth(soup: Any) -> int:
    """How many elements deep ``soup`` nests, counted along its elements (no recursion)."""
    depths = {id(soup): 0}
    deepest = 0
    for node in soup.descendants:
        if isinstance(node, Tag):
            depth = depths[id(node)] = depths[id(node.parent)] + 1
            deepest = max(deepest, depth)
    return deepest


def _destination(path: str) -> str:
    """An image path as a link destination: in ``<…>`` when it has spaces or parentheses."""
    if re.search(r"[\s()<>]", path):
        return "<" + path.replace("<", "%3C").replace(">", "%3E") + ">"
    return path


def _math_markdown(tex: str, display: bool) -> str:
    tex = without_tags(re.sub(r"<br\s*/?>", " ", tex, flags=re.I))
    tex = html.unescape(tex).replace("\xa0", " ")
    if display:
        return f"$${tex}$$" if "$$" not in tex else f"\\[{tex}\\]"
    return f"${tex}$" if dollar_math_reads_back(tex) else f"\\({tex}\\)"


def html_to_markdown(field_html: str, mapper: ImageMapper) -> Converted:
    """The house Markdown for a field's HTML; problems (unmappable images, a field too long
    or nested too deep to convert) in the result. Work linear in the field's length."""
    if len(field_html) > MAX_FIELD_CHARS:
        return Converted(
            "",
            problems=[
                f"it is {len(field_html):,} characters of HTML, more than the "
                f"{MAX_FIELD_CHARS:,} pull converts; shorten it in Anki, or write it in the YAML"
            ],
        )
    # Placeholders no field holds by chance: named after the field's own digest.
    nonce = hashlib.sha256(field_html.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    token, literal = f"IQMATH{nonce}N{{}}X", f"IQLITERAL{nonce}N{{}}X"
    maths: list[str] = []

    def stash_maths(text: str) -> str:
        out, last = [], 0
        for kind, start, inner, inner_end, end in _pairs(text, _MATH):
            maths.append(_math_markdown(text[inner:inner_end], kind != 2))
            placeholder = token.format(len(maths) - 1)
            out += [text[last:start], f"<div>{placeholder}</div>" if kind == 0 else placeholder]
            last = end
        return "".join([*out, text[last:]])

    def outside_code(text: str) -> str:
        return _AFTER_BREAK.sub(r"\1", stash_maths(text))

    # HTML's own input rule: CR and CRLF are line breaks (then white space, outside <pre>).
    field_html = _well_formed(field_html.replace("\r\n", "\n").replace("\r", "\n"))
    # A delimiter the renderer kept from MathJax is literal text: not the start of math.
    field_html = _LITERAL_DELIMITER.sub(lambda m: literal.format("([".index(m[1])), field_html)
    parts, last = [], 0
    for _kind, start, _inner, _inner_end, end in _pairs(field_html, _CODE):
        parts += [outside_code(field_html[last:start]), field_html[start:end]]
        last = end
    source = "".join([*parts, outside_code(field_html[last:])])
    soup = BeautifulSoup(source, "html.parser")
    depth = _depth(soup)
    if depth > MAX_DEPTH:
        return Converted(
            "",
            problems=[
                f"its HTML nests {depth} elements deep, more than the {MAX_DEPTH} levels pull "
                "converts; flatten it in Anki (fewer lists in lists, boxes in boxes)"
            ],
        )
    result = Converted("")
    markdown = _Converter(mapper, result).convert_soup(soup)
    markdown = _tidy(markdown)

    def unstash(match: re.Match[str]) -> str:
        math = maths[int(match[1])]
        after = markdown[match.end() : match.end() + 1]
        if math.startswith("$") and not math.startswith("$$") and after.isdigit():
            return "\\(" + math[1:-1] + "\\)"  # '$x$5' would not close: pandoc's rule
        return math

    markdown = re.sub(f"IQMATH{nonce}N([0-9]+)X", unstash, markdown)
    markdown = re.sub(f"IQLITERAL{nonce}N([01])X", lambda m: "\\\\" + "(["[int(m[1])], markdown)
    result.markdown = _fewest_escapes(markdown, result.images)
    _carried(result)
    return result


def _carried(result: Converted) -> None:
    """A problem when the renderer would show a table or struck text as literal text."""
    if not (result.tables or result.struck) or result.table_problem:
        return
    rendered = to_html(result.markdown, result.images)
    if result.tables > rendered.count("<table"):
        result.problems.append(
            "a table would be shown as literal text by the renderer (it does not read it as a "
            "table where it stands); remove the table in Anki"
        )
    if result.struck > rendered.count("<del>"):
        result.problems.append(
            "struck-through text would be shown as literal '~~' by the renderer where it "
            "stands; remove the strikethrough in Anki"
        )


_ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]|&#91;")
MAX_TRIALS = 400  # renders per field; past that an escape stays (safe, only less tidy)
MAX_TRIAL_CHARS = 1_000_000  # characters rendered per field in trials: linear work


def _fewest_escapes(markdown: str, images: Mapping[str, str]) -> str:
    """``markdown`` without each escape the renderer does not need: one at a time, from the
    end, an escape goes when the card HTML stays the same without it (``model_v2_final``,
    ``2 * 3`` and ``$5`` are text where they stand; ``*a*`` keeps the escape of its opener)."""
    if not _ESCAPED.search(markdown):
        return markdown
    target = to_html(markdown, images)
    budget = min(MAX_TRIALS, MAX_TRIAL_CHARS // len(markdown))  # fewer for a long field
    trials, changed = 0, True
    while changed and trials < budget:  # again while a removal may free another
        changed = False
        for match in reversed(list(_ESCAPED.finditer(markdown))):
            if trials >= budget:
                break
            plain = "[" if match[0] == "&#91;" else match[0][1]
            candidate = markdown[: match.start()] + plain + markdown[match.end() :]
            trials += 1
            if to_html(candidate, images) == target:
                markdown, changed = candidate, True
    return markdown


def _tidy(markdown: str) -> str:
    """Line breaks as the house writes them: a plain newline (the renderer keeps it), no
    trailing spaces, at most one blank line, outside fences only."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opener = _FENCE.match(line)
        if fence is None:
            line = line.rstrip()
            if opener:
                fence = opener[1]
        elif line.strip() == fence:
            fence = None
        out.append(line)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
