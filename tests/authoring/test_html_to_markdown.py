"""A field's HTML as Anki's editor leaves it -> house Markdown that shows on the rebuilt card
what the edited card showed: blocks stay apart, a person's plain text comes back as a
person writes it (escapes only where the renderer would read syntax), line breaks in the
HTML source are the spaces a card shows."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from types import FrameType

import pytest
from hypothesis import example, given, settings

from exporter.authoring.html_to_markdown import html_to_markdown
from exporter.markup.markdown import to_html
from helpers import ROOT, examples, hang_guard, markdown_literal
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


@settings(max_examples=examples(150), deadline=None)
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


# Hostile fields: many openers with no closer, many entities, many tags, deep nesting.


def _shown(rendered: str) -> str:
    """The text a card shows for rendered HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", rendered))


# (field made of n units, the text its card shows, n for the large case). At the large n,
# a scan that restarts at each opener (or a tree walk per tag) took minutes to hours.
Make = Callable[[int], str]
CRAFTED: dict[str, tuple[Make, Make, int]] = {
    "brackets": (lambda n: "[" * n, lambda n: "[" * n, 200_000),
    "bracket-links": (lambda n: "[" * n + "](x)", lambda n: "[" * n + "](x)", 200_000),
    "entities": (lambda n: "&lt;" * n, lambda n: "<" * n, 200_000),
    "entities-at": (lambda n: "&lt;a" * n + "@b", lambda n: "<a" * n + "@b", 60_000),
    "code-openers": (lambda n: "x<code" * n, lambda n: "x<code" * n, 60_000),
    "pre-openers": (lambda n: "x<pre" * n + "</code>", lambda n: "x<pre" * n, 20_000),
    "break-openers": (lambda n: "<br" * n, lambda n: "<br" * n, 100_000),
    "tag-openers": (lambda n: "<a " * n, lambda n: "<a " * n, 20_000),
    "open-quotes": (lambda n: '<a b="x' * n, lambda n: '<a b="x' * n, 20_000),
    "comments": (lambda n: "<!--" * n, lambda n: "<!--" * n, 100_000),
    "marked-sections": (lambda n: "<![" * n, lambda n: "<![" * n, 20_000),
    "display-math": (lambda n: "\\[" * n, lambda n: "\\[" * n, 50_000),
    "inline-math": (lambda n: "\\(" * n, lambda n: "\\(" * n, 50_000),
    "math-boxes": (
        lambda n: '<div class="iq-math">\\[x</div>' * n,
        lambda n: "\\[x" * n,
        20_000,
    ),
    "breaks-then-ends": (
        lambda n: "x" + "<br>" * n + "</b>" * n + "y",
        lambda n: "xy",
        100_000,
    ),
    "numbered-items": (
        lambda n: "<ol>" + "<li>x</li>" * n + "</ol>",
        lambda n: "x" * n,
        20_000,
    ),
    "code-lines": (lambda n: "<pre>" + "x<br>" * n + "</pre>", lambda n: "x" * n, 20_000),
    "cell-breaks": (
        lambda n: "<table><tr><td>a" + "<br>" * n + "</td></tr></table>" + "<i>x</i> " * n,
        lambda n: "a" + "x" * n,
        5_000,
    ),
    "table-marks": (
        lambda n: "<table><tr><td>a\ue001b</td></tr>" + "\ue002" * n + "</table>",
        lambda n: "a\ue001b",  # text in a table outside its cells is dropped, as before
        100_000,
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_crafted_field_comes_back_as_the_text_its_card_shows(case: str) -> None:
    """Many openers with no closer, many entities or many tags: a small field of the kind
    comes back as the text its card shows."""
    field, text, _large = CRAFTED[case]
    converted = html_to_markdown(field(40), lambda src, path: path)
    assert not converted.problems, converted.problems
    shown = _shown(to_html(converted.markdown, converted.images))
    assert "".join(shown.split()) == "".join(text(40).split())


@pytest.mark.slow  # large inputs: the full tier
@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_crafted_field_converts_in_linear_work(case: str) -> None:
    """Linear work on any field: many openers with no closer, many entities or many tags
    never make a scan restart at each of them. A large field of the kind (which took
    minutes to hours) ends well inside a generous hang guard."""
    field, _text, large = CRAFTED[case]
    with hang_guard(60):
        converted = html_to_markdown(field(large), lambda src, path: path)
    assert not converted.problems, converted.problems


NESTED = {
    "divs": "<div>" * 500 + "x" + "</div>" * 500,
    "bold": "<b>" * 400 + "x",
    "lists": "<ul><li>" * 200 + "x",
    "numbered-lists": "<ol><li>" * 200 + "x",
    "tables": "<table><tr><td>" * 100 + "x",
    "quotes": "<blockquote>" * 300 + "x",
    "spans": "<span>" * 3000 + "x",
    "mixed": "<div><b><i><span>" * 150 + "x",
    "code": "<pre>" + "<code>" * 500 + "x",
}


@pytest.mark.parametrize("case", list(NESTED))
def test_a_field_nested_past_the_limit_is_a_problem_not_a_recursion_error(case: str) -> None:
    """No recursion on input depth: a field nested deeper than MAX_DEPTH elements (hundreds
    of <div>, <b>, list levels, tables, quotes) is a problem pull names the note with, found
    by counting the parsed tree (no recursion) before markdownify walks it."""
    converted = html_to_markdown(NESTED[case], lambda src, path: path)
    assert converted.markdown == ""
    (problem,) = converted.problems
    assert problem.startswith("its HTML nests ")
    assert "levels pull converts; flatten it in Anki" in problem


def test_a_field_nested_to_the_limit_converts_within_a_fixed_stack() -> None:
    """A field nested exactly MAX_DEPTH elements deep converts within 300 frames of stack
    (under a third of Python's default limit, room for any caller): the recursion is
    bounded by the limit, never by the field."""
    import sys

    from exporter.authoring.html_to_markdown import MAX_DEPTH

    levels = MAX_DEPTH // 2
    field = "<ul><li>" * levels + "deep" + "</li></ul>" * levels
    limit = sys.getrecursionlimit()
    frame: FrameType | None = sys._getframe()
    here = 0
    while frame is not None:
        frame, here = frame.f_back, here + 1
    sys.setrecursionlimit(here + 300)  # markdownify: 3 frames a level
    try:
        converted = html_to_markdown(field, lambda src, path: path)
    finally:
        sys.setrecursionlimit(limit)
    assert not converted.problems
    assert converted.markdown.endswith("- deep")


@pytest.mark.parametrize(
    "field",
    ["IQMATH5X", "IQLITERAL7X", "IQMATH0X and \\(x\\)", "IQLITERAL0X \\[y\\]"],
)
def test_text_that_looks_like_the_converters_placeholders_stays_text(field: str) -> None:
    """The converter's placeholders for math are named after the field's own digest: a
    person's text that looks like one stays text (never an IndexError, never someone
    else's formula)."""
    markdown = convert(field)
    assert markdown.split()[0] == field.split()[0]


@pytest.mark.parametrize(
    ("start", "first"), [("3", "3."), ("²", "1."), ("9" * 5000, "1."), ("", "1.")]
)
def test_a_numbered_lists_start_is_read_as_digits_or_not_at_all(start: str, first: str) -> None:
    """An <ol start> of at most nine ASCII digits numbers the list; any other (a superscript
    digit, 5,000 digits: a ValueError in markdownify) numbers it from 1."""
    markdown = convert(f'<ol start="{start}"><li>a</li><li>b</li></ol>')
    assert markdown.startswith(f"{first} a\n")


def test_a_field_longer_than_pull_converts_is_a_problem() -> None:
    """A field's HTML longer than MAX_FIELD_CHARS is a problem pull names the note with,
    found before any parsing."""
    from exporter.authoring.html_to_markdown import MAX_FIELD_CHARS

    converted = html_to_markdown("x" * (MAX_FIELD_CHARS + 1), lambda src, path: path)
    assert converted.markdown == ""
    (problem,) = converted.problems
    assert f"more than the {MAX_FIELD_CHARS:,} pull converts" in problem


@pytest.mark.parametrize("n", [20_000, 80_000])
def test_escapes_are_tried_within_a_budget_of_rendered_characters(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each escape tried renders the whole field: a field of n escapes renders at most
    MAX_TRIAL_CHARS characters in trials, plus the few renders any field needs, at any n
    (linear work; an escape left is only less tidy)."""
    import exporter.authoring.html_to_markdown as converter

    rendered: list[int] = []

    def counted(text: str, media: Mapping[str, str] | None = None) -> str:
        rendered.append(len(text))
        return to_html(text, media)

    monkeypatch.setattr(converter, "to_html", counted)
    converted = html_to_markdown("[" * n + "](x)", lambda src, path: path)
    assert sum(rendered) <= converter.MAX_TRIAL_CHARS + 2 * len(converted.markdown)
    assert _shown(to_html(converted.markdown)) == "[" * n + "](x)"


@pytest.mark.parametrize(
    ("field", "markdown"),
    [
        ("a &#x <b>x</b> <i>y</i>", "a &#x **x** *y*"),
        ("<![ x ]]> <b>b</b>", "<![ x ]]> **b**"),
        ('a<b c="d <i>e</i>', 'a<b c="d *e*'),
        ('a<b c="d" <i>e</i>', "a**e**"),
    ],
    ids=["bad-reference", "marked-section", "unended-tag", "lt-in-attribute-name"],
)
def test_malformed_markup_is_text_and_what_follows_still_html(field: str, markdown: str) -> None:
    """A '&#' that starts no reference, a '<![' or a tag that never ends is text, and the
    HTML after it is read as HTML, on every Python version (html.parser of Python 3.11.7
    read all that follows a bad '&#' as text, and raised on '<!['); a '<' in an
    attribute's name is read as browsers read it."""
    assert convert(field) == markdown


@pytest.mark.parametrize(
    "text",
    [
        "see IQMATH0X here",
        "IQMATH7X",
        "IQLITERAL5X",
        "IQMATH" + "9" * 5_000 + "X",
        "IQ<b>MATH</b>0X",
    ],
)
def test_text_like_the_converters_own_markers_is_text(text: str) -> None:
    """A field whose text looks like the marker the converter puts in place of a formula
    (or of a number of thousands of digits) comes back as that text: no formula put in its
    place, no IndexError or int() limit."""
    field = f"\\(x\\) {text}"
    markdown = convert(field)
    shown = re.sub(r"<[^>]+>", "", to_html(markdown))
    assert html.unescape(shown) == html.unescape(re.sub(r"<[^>]+>", "", field))


LAYOUT_0_7 = json.loads((ROOT / "tests/data/golden/layout-0.7.json").read_text("utf-8"))


@pytest.mark.parametrize("layout", ["0.7", "now"])
def test_cards_of_either_layout_come_back_as_the_same_card(layout: str) -> None:
    """A field as 0.7 wrote it (markdown-it's layout: ``<br>``, ``<s>``, ``&quot;``,
    ``text-align:left``, recorded in tests/data/golden for 140 texts: the shipped bank, the
    examples, every construct) or as the renderer writes it now reads back to Markdown whose
    card is the card its text renders to now: pull takes a package built by either version
    without inventing an edit. (A no-break space reads back as a space, in both.)"""
    for field in LAYOUT_0_7["fields"]:
        card = to_html(field["markdown"], field["media"])
        shown = field["html"] if layout == "0.7" else card
        converted = html_to_markdown(shown, lambda src, path: path)
        assert not converted.problems, field["markdown"]
        again = to_html(converted.markdown, converted.images)
        assert again == card.replace("\xa0", " "), (field["markdown"], converted.markdown)
