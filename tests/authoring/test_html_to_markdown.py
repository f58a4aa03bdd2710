"""A field's HTML as Anki's editor leaves it -> house Markdown that shows on the rebuilt card
what the edited card showed: blocks stay apart, a person's plain text comes back as a
person writes it (escapes only where the renderer would read syntax), line breaks in the
HTML source are the spaces a card shows."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import example, given, settings

from exporter.authoring.html_to_markdown import html_to_markdown
from exporter.markup.markdown import to_html
from helpers import markdown_literal
from strategies import TEXT


def convert(field_html: str) -> str:
    converted = html_to_markdown(field_html, lambda src, path: path)
    assert not converted.problems
    return converted.markdown


@pytest.mark.parametrize(
    "block",
    [
        "<ul><li>a</li><li>b</li></ul>",
        "<ol><li>a</li><li>b</li></ol>",
        "<ul><li>a<ul><li>b</li></ul></li></ul>",
        "<blockquote>a quote</blockquote>",
        "<ul><li>a</li></ul><br>",
    ],
    ids=["bullets", "numbers", "nested", "quote", "list-and-br"],
)
@pytest.mark.parametrize(
    "wrap", ["<div>{}</div><div>{}</div>", "<div>{}</div>{}", "<div>{}<div>{}</div></div>"]
)
def test_a_line_after_a_block_stays_outside_it(block: str, wrap: str) -> None:
    """Anki's editor wraps a list (or quote) in a <div> and puts the next line in its own:
    the line stays a paragraph after the block, in the YAML and on the rebuilt card."""
    markdown = convert(wrap.format(block, "Then I page the owner."))
    rendered = to_html(markdown)
    assert rendered.endswith("<p>Then I page the owner.</p>"), (markdown, rendered)


@pytest.mark.parametrize(
    "text",
    [
        "model_v2_final",
        "2 * 3 = 6",
        "costs $5",
        "$5 and $10",
        "a_b_c and x*y",
        "C:\\Users\\me",
        "1+1 = 2 - 0",
        "wait... really?! (yes) #1 & more ~ hmm",
        "snake_case_name_here",
        "50% off, 3 > 2, a < b",
    ],
)
def test_plain_text_comes_back_as_a_person_writes_it(text: str) -> None:
    """Text that could be no syntax where it stands comes back without a backslash."""
    assert convert(html.escape(text, quote=False)) == text
    assert convert(to_html(markdown_literal(text))) == text


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("*not emphasis*", "\\*not emphasis*"),
        ("_not emphasis_", "\\_not emphasis_"),
        ("`not code`", "\\`not code`"),
        ("$x$ is not math", "\\$x$ is not math"),
        ("1. not a list", "1\\. not a list"),
        ("# not a heading", "\\# not a heading"),
        ("- not a bullet", "\\- not a bullet"),
        ("[a](b) is not a link", "&#91;a](b) is not a link"),
        ("\\(not math\\)", "\\\\(not math\\\\)"),
    ],
)
def test_an_escape_stays_where_the_renderer_would_read_syntax(text: str, markdown: str) -> None:
    """Where the plain text would be syntax, the one escape that prevents it stays (the
    card shows the text literally: what the renderer made of it, escaped)."""
    assert convert(to_html(markdown_literal(text))) == markdown


def _spaced(field_html: str) -> str:
    """HTML with its white space as a browser shows it: runs as one, none at a line's ends."""
    return re.sub(r" *(\n|<br>|<p>|</p>) *", r"\1", re.sub(r"[ \t]+", " ", field_html))


_ESCAPE = re.compile(r"\\[!-/:-@\[-`{-~]|&#91;")


@settings(max_examples=150, deadline=None)
@given(TEXT.filter(lambda t: t.strip() != ""))
@example("model_v2_final 2 * 3 $5 and $10")
@example("**a** _b_ `c` $d$ [e](f) <g> &amp; \\(h\\)")
def test_every_escape_left_is_needed(text: str) -> None:
    """Any text shown literally on a card comes back as Markdown that shows it the same
    (runs of spaces aside, which HTML shows as one), and each escape in it is needed:
    without it, the card would show something else."""
    shown = to_html(markdown_literal(text))
    markdown = convert(shown)
    rendered = to_html(markdown)
    assert _spaced(rendered) == _spaced(shown)
    for match in _ESCAPE.finditer(markdown):
        plain = "[" if match[0] == "&#91;" else match[0][1:]
        without = markdown[: match.start()] + plain + markdown[match.end() :]
        assert to_html(without) != rendered, (markdown, match.start())


@pytest.mark.parametrize("line_end", ["\r", "\r\n", "\n"], ids=["CR", "CRLF", "LF"])
@pytest.mark.parametrize(
    "wrap",
    ["{}", "<div>{}</div>", "<b>{}</b>", "<code>{}</code>", "<i>x</i> {}", "<li>{}</li>"],
)
def test_a_line_break_in_the_html_source_is_a_space(line_end: str, wrap: str) -> None:
    """A raw CR, CRLF or LF inside a field's text is white space, as the card shows it:
    the words on either side stay two words on one line."""
    source = wrap.format(f"Alpha{line_end}Beta")
    rendered = to_html(convert(source))
    assert re.search(r"Alpha\s+Beta|Alpha</\w+> <\w+>Beta", rendered), rendered
    assert "<br>" not in rendered


@pytest.mark.parametrize("line_end", ["\r", "\r\n"], ids=["CR", "CRLF"])
def test_a_line_break_in_a_code_block_stays_a_line_break(line_end: str) -> None:
    """Inside <pre>, CR and CRLF end a line, as LF does (never a control character)."""
    markdown = convert(f"<pre>first{line_end}second</pre>")
    assert "\r" not in markdown
    assert markdown == "```\nfirst\nsecond\n```"


# Tables and strikethrough: GFM pipe tables (alignment from style="text-align:…") and ~~x~~.


TABLE = "| Metric | Alert at | Owner |\n| :--- | :---: | ---: |\n| p99 | 300 ms | `sre` |\n| drift \\| PSI | 0.2 | **ml** |"


def test_a_table_the_renderer_made_comes_back_as_the_same_table() -> None:
    """Our own table's HTML (alignment, inline code, bold, an escaped pipe) comes back as a
    GFM pipe table that renders the same HTML."""
    rendered = to_html(TABLE)
    assert "<table" in rendered
    markdown = convert(rendered)
    assert to_html(markdown) == rendered
    assert markdown.splitlines()[1].replace(" ", "") == "|:---|:---:|---:|"


def test_a_pasted_table_becomes_a_pipe_table() -> None:
    """A table pasted into Anki's editor (no header row, alignment in styles, a trailing
    <br> in a cell, text after it in a <div>) becomes a pipe table, the first row its
    header, and the line after it stays a paragraph."""
    pasted = (
        '<div><table><tbody><tr><td style="text-align: center;">a</td><td>b<br></td></tr>'
        '<tr><td style="text-align: center;">c</td><td><div>d</div></td></tr></tbody>'
        "</table></div><div>After the table.</div>"
    )
    markdown = convert(pasted)
    assert markdown == "| a | b |\n| :---: | --- |\n| c | d |\n\nAfter the table."
    assert to_html(markdown).endswith("<p>After the table.</p>")


@pytest.mark.parametrize("tag", ["s", "del", "strike"])
def test_struck_text_becomes_tildes(tag: str) -> None:
    """<s>, <del> and <strike> become ~~x~~, which the renderer shows struck through."""
    markdown = convert(f"it is <{tag}>wrong</{tag}> right")
    assert markdown == "it is ~~wrong~~ right"
    assert "wrong</" in to_html(markdown)
    assert to_html(markdown) != to_html("it is wrong right")


def test_literal_tildes_and_pipes_stay_text() -> None:
    """Tildes and pipes a person typed stay text: escaped only where they would be syntax."""
    for text in ("~~not struck~~", "a | b\n--- | ---", "~5 minutes", "x | y"):
        shown = to_html(markdown_literal(text))
        assert to_html(convert(shown)) == shown, text


@pytest.mark.parametrize(
    ("table", "why"),
    [
        ("<table><tr><td colspan=2>a</td></tr><tr><td>b</td><td>c</td></tr></table>", "merged"),
        ("<table><tr><td rowspan=2>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "merged"),
        ("<table><tr><td><ul><li>a</li></ul></td></tr></table>", "a list"),
        ("<table><tr><td>a<br>b</td></tr></table>", "several lines"),
        ("<table><tr><td><div>a</div><div>b</div></td></tr></table>", "several lines"),
        ("<table><tr><td><table><tr><td>a</td></tr></table></td></tr></table>", "a table"),
    ],
    ids=["colspan", "rowspan", "list", "br", "two-lines", "nested"],
)
def test_what_a_pipe_table_cannot_carry_is_refused(table: str, why: str) -> None:
    """Merged cells, block content in a cell and nested tables have no pipe-table form: a
    problem (pull names the note and its question), never a guess."""
    converted = html_to_markdown(table, lambda src, path: path)
    assert len(converted.problems) == 1, converted.problems
    assert why in converted.problems[0]
    assert "cannot be written as a Markdown table" in converted.problems[0]


def test_what_the_renderer_would_show_as_text_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each converted table and struck phrase is checked against the renderer: where it
    would show one as literal pipes or tildes, the change is refused, never written as text
    the card would show as a jumble."""
    import exporter.authoring.html_to_markdown as converter
    from exporter.markup.markdown import escape

    monkeypatch.setattr(converter, "to_html", lambda text, media=None: f"<p>{escape(text)}</p>")
    converted = html_to_markdown("<table><tr><td>a</td></tr></table> <s>b</s>", lambda s, p: p)
    assert len(converted.problems) == 2, converted.problems
    assert "a table would be shown as literal text" in converted.problems[0]
    assert "shown as literal '~~'" in converted.problems[1]


@pytest.mark.parametrize(
    "text",
    ["see IQMATH0X here", "IQMATH7X", "IQLITERAL5X", "IQMATH" + "9" * 5_000 + "X", "IQ<b>MATH</b>0X"],
)
def test_text_like_the_converters_own_markers_is_text(text: str) -> None:
    """A field whose text looks like the marker the converter puts in place of a formula
    (or of a number of thousands of digits) comes back as that text: no formula put in its
    place, no IndexError or int() limit."""
    field = f"\\(x\\) {text}"
    markdown = convert(field)
    shown = re.sub(r"<[^>]+>", "", to_html(markdown))
    assert html.unescape(shown) == html.unescape(re.sub(r"<[^>]+>", "", field))
