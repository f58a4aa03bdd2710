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
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markdownify import MarkdownConverter

from exporter.markup.markdown import to_html

# Math as the renderer writes it, outside code; TeX may hold '&amp;' and the editor's tags.
_MATH = re.compile(
    r'<div class="iq-math">\s*\\\[(.*?)\\\]\s*</div>|\\\[(.*?)\\\]|\\\((.*?)\\\)', re.S
)
_CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.S | re.I)
# Markers put in place of a formula (``{c}M{n}{c}``) or a literal delimiter (``{c}L{n}{c}``)
# while the rest is converted, ``c`` a private-use character the field does not hold: the
# converter writes only the field's own characters and Markdown's ASCII, so no text of the
# field can pass for a marker (a field once saying 'IQMATH0X' got a formula put there).
_PRIVATE_USE = (range(0xE000, 0xF900), range(0xF0000, 0xFFFFE))
_LITERAL_DELIMITER = re.compile(r'<span class="tex2jax_ignore">\\([(\[])</span>')
_LINE_START = re.compile(r"(^|\n)([ ]?)(#{1,6}(?=\s|$)|[-+=]+(?=\s|$)|>)")
_NUMBERED = re.compile(r"(^|\n)([ ]?\d{1,9})([.)])(?=\s|$)")
_CLOSING_HASHES = re.compile(r"(^|[ \t])(#+)$")  # what ends an ATX heading, if left bare
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LINK_OPEN = re.compile(r"\[(?=[^\]]*\][(\[:])")
_AUTOLINK = re.compile(r"<(?=[A-Za-z][A-Za-z0-9+.-]*:|[^\s>@]+@)")
_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_AFTER_BREAK = re.compile(r"(<br\b[^>]*>)\s+", re.I)  # a line's leading space: never shown
# Blocks that a following line would continue (a list item, a quote, a table row).
_BLOCKS = ["ul", "ol", "blockquote", "table", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr"]

# Marks (private-use characters) around the cells and rows of a table being converted.
_CELL, _END_CELL, _ROW, _END_ROW = "\ue000", "\ue001", "\ue002", "\ue003"
_ROWS = re.compile(f"{_ROW}(.*?){_END_ROW}", re.S)
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
    if len(lines) > 1 or any(_text_after(br, cell) for br in cell.find_all("br")):
        return "several lines in a cell"
    return ""


def _text_after(tag: Any, cell: Any) -> bool:
    """True when text follows ``tag`` inside ``cell`` (a trailing ``<br>`` is no new line)."""
    return any(t.strip() for t in tag.find_all_next(string=True) if cell in t.parents)


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

    def escape(self, text: str, parent_tags: Any) -> str:
        text = re.sub(" {2,}", " ", text.replace("\xa0", " "))
        text = _BACKSLASH.sub(r"\\\\", text)
        for ch in "*_`$~|":  # each escape stays only where it is needed (_fewest_escapes)
            text = text.replace(ch, "\\" + ch)
        text = _ENTITY.sub(r"\\&", text)
        text = _LINK_OPEN.sub("&#91;", text)
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
        return f"{_CELL}{cell}{_END_CELL}"

    convert_th = convert_td

    def convert_tr(self, el: Any, text: str, parent_tags: Any) -> str:
        return f"{_ROW}{text}{_END_ROW}"

    def convert_table(self, el: Any, text: str, parent_tags: Any) -> str:
        """A GFM pipe table: the first row its header, each column's alignment from its
        first cell's ``style="text-align:…"`` (or ``align``)."""
        if el.find("table") is not None:
            self.refuse_table("a table inside a table")
        rows = [re.findall(f"{_CELL}(.*?){_END_CELL}", r, re.S) for r in _ROWS.findall(text)]
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

    def convert_pre(self, el: Any, text: str, parent_tags: Any) -> str:
        for br in el.find_all("br"):
            br.replace_with("\n")
        code = el.get_text().removesuffix("\n")
        language = str(el.attrs.get("data-lang") or "")
        inner = el.find("code")
        if not language and inner is not None:
            classes = inner.attrs.get("class") or []
            language = next((c[9:] for c in classes if c.startswith("language-")), "")
        longest = max((len(m) for m in re.findall(r"^`{3,}", code, re.M)), default=2)
        fence = "`" * (longest + 1)
        return f"\n\n{fence}{language}\n{code}\n{fence}\n\n"


def _destination(path: str) -> str:
    """An image path as a link destination: in ``<…>`` when it has spaces or parentheses."""
    if re.search(r"[\s()<>]", path):
        return "<" + path.replace("<", "%3C").replace(">", "%3E") + ">"
    return path


def _math_markdown(tex: str, display: bool) -> str:
    tex = re.sub(r"<[^>]*>", "", re.sub(r"<br\s*/?>", " ", tex, flags=re.I))
    tex = html.unescape(tex).replace("\xa0", " ")
    if display:
        return f"$${tex}$$" if "$$" not in tex else f"\\[{tex}\\]"
    dollar_safe = tex and tex == tex.strip() and "$" not in tex and not tex.endswith("\\")
    return f"${tex}$" if dollar_safe else f"\\({tex}\\)"


def html_to_markdown(field_html: str, mapper: ImageMapper) -> Converted:
    """The house Markdown for a field's HTML; problems (unmappable images) in the result."""
    maths: list[str] = []
    held = set(field_html) | set(html.unescape(field_html))
    mark = next(chr(c) for r in _PRIVATE_USE for c in r if chr(c) not in held)
    token_re = re.compile(f"{mark}M([0-9]+){mark}")
    literal_re = re.compile(f"{mark}L([01]){mark}")

    def stash(match: re.Match[str]) -> str:
        block, display, inline = match.groups()
        maths.append(
            _math_markdown(block if block is not None else display or inline or "", inline is None)
        )
        token = f"{mark}M{len(maths) - 1}{mark}"
        return f"<div>{token}</div>" if block is not None else token

    # HTML's own input rule: CR and CRLF are line breaks (then white space, outside <pre>).
    field_html = field_html.replace("\r\n", "\n").replace("\r", "\n")
    # A delimiter the renderer kept from MathJax is literal text: not the start of math.
    field_html = _LITERAL_DELIMITER.sub(lambda m: f"{mark}L{'(['.index(m[1])}{mark}", field_html)
    parts = _CODE.split(field_html)
    source = "".join(
        p if i % 2 else _AFTER_BREAK.sub(r"\1", _MATH.sub(stash, p)) for i, p in enumerate(parts)
    )
    result = Converted("")
    markdown = _Converter(mapper, result).convert(source)
    markdown = _tidy(markdown)

    def unstash(match: re.Match[str]) -> str:
        math = maths[int(match[1])]
        after = markdown[match.end() : match.end() + 1]
        if math.startswith("$") and not math.startswith("$$") and after.isdigit():
            return "\\(" + math[1:-1] + "\\)"  # '$x$5' would not close: pandoc's rule
        return math

    markdown = token_re.sub(unstash, markdown)
    markdown = literal_re.sub(lambda m: "\\\\" + "(["[int(m[1])], markdown)
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
    if result.struck > rendered.count("<del>") + rendered.count("<s>"):
        result.problems.append(
            "struck-through text would be shown as literal '~~' by the renderer where it "
            "stands; remove the strikethrough in Anki"
        )


_ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]|&#91;")
MAX_TRIALS = 400  # renders per field; past that an escape stays (safe, only less tidy)


def _fewest_escapes(markdown: str, images: Mapping[str, str]) -> str:
    """``markdown`` without each escape the renderer does not need: one at a time, from the
    end, an escape goes when the card HTML stays the same without it (``model_v2_final``,
    ``2 * 3`` and ``$5`` are text where they stand; ``*a*`` keeps the escape of its opener)."""
    if not _ESCAPED.search(markdown):
        return markdown
    target = to_html(markdown, images)
    trials, changed = 0, True
    while changed and trials < MAX_TRIALS:  # again while a removal may free another
        changed = False
        for match in reversed(list(_ESCAPED.finditer(markdown))):
            if trials >= MAX_TRIALS:
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
