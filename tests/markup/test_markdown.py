"""Card text: question and answer are CommonMark (lists, code, links), raw HTML and markup
characters show literally, and plain prose renders as simple paragraphs."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exporter.markup.markdown import to_html
from exporter.pipeline import run_load
from exporter.render.mathjax import has_math
from helpers import CONTENT, Anki, Builder, examples, make_bank, question

# Prose with no Markdown syntax: words of letters, digits and punctuation that starts
# nothing (no list marker, heading rule, emphasis, code, link, entity or math), in lines
# and paragraphs.
WORD = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("abcXYZ0123456789,;:?'\"/%@^{}")),
        st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd", "So")),
    ),
    min_size=1,
    max_size=8,
)
LINE = st.lists(WORD, min_size=1, max_size=6).map(" ".join)
PROSE = st.lists(
    st.tuples(LINE, st.sampled_from(["\n", "\n\n", "\n\n\n"])), min_size=1, max_size=6
).map(lambda lines: "".join(line + sep for line, sep in lines))


def _paragraphs(text: str) -> str:
    """Text without syntax as a card shows it: escaped paragraphs, each line on its own."""
    paragraphs = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
    lines = [
        "<br />\n".join(html.escape(line, quote=False) for line in p.split("\n"))
        for p in paragraphs
    ]
    return "\n".join(f"<p>{p}</p>" for p in lines)


@settings(max_examples=examples(600), deadline=None)
@given(PROSE)
def test_plain_prose_renders_as_plain_paragraphs(text: str) -> None:
    """Prose holding no Markdown syntax is its paragraphs and lines on the card, escaped
    (import-text keeps such text as it is)."""
    assert to_html(text) == _paragraphs(text)


def test_plain_text_cases() -> None:
    """Hand-picked edges: quotes, numbers, dashes, blank-line runs, unicode."""
    for text in [
        'He said "ship it" – it’s fine.',
        "Line one\nLine two\n\n\n\nNext paragraph",
        "3 + 4 = 7, 1) not a list here",
        "مرحبا 👩🏽‍💻 שלום",
        "a < b & c > d",
    ]:
        assert to_html(text) == _paragraphs(text), text


def test_text_with_markup_characters_shows_literally(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """'<' and '&' in content show as typed; blank lines make paragraphs."""
    lt_amp = question(
        "lt-amp",
        text="Is 1 < 2 & 3 > 2?",
        answer="First <b>paragraph</b>.\n\nSecond & last.\n",
    )
    anki.import_package(build(make_bank(tmp_path / "c", [lt_amp], filename="x.yaml")).output)
    (note,) = anki.notes()
    assert note["Question"] == "<p>Is 1 &lt; 2 &amp; 3 &gt; 2?</p>"
    assert note["Answer"] == "<p>First &lt;b&gt;paragraph&lt;/b&gt;.</p>\n<p>Second &amp; last.</p>"
    assert anki.col.decks.by_name("Interview Questions::Tester") is not None


MARKDOWN_ANSWER = """\
It rolls back. Steps:

- check the **history**
- undo to a *revision*

```bash
kubectl rollout undo deploy/model --to-revision=2 && echo "<done>"
```

See [the docs](https://kubernetes.io/docs/).
<script>alert("x")</script>
"""


def test_markdown_answer_renders_lists_and_code_in_anki(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """A Markdown list and code block reach the card as <ul> and <pre><code>; <script> stays text."""
    md = question(
        "md-answer",
        "medium",
        text="What does `kubectl rollout undo` do?",
        answer=MARKDOWN_ANSWER,
    )
    src = make_bank(tmp_path / "c", [md], role="Markdown", filename="md.yaml")
    anki.import_package(build(src).output)
    (note,) = anki.notes()
    back = note.cards()[0].answer()
    assert "<ul>\n<li>check the <strong>history</strong></li>" in back
    assert (
        '<pre class="iq-code" data-lang="bash"><code class="language-bash">'
        '<span class="iq-line">kubectl'
    ) in back
    assert '<span class="hl-b">echo</span>' in back
    assert "&lt;done&gt;" in back
    assert '<a href="https://kubernetes.io/docs/">the docs</a>' in back
    assert "<code>kubectl rollout undo</code>" in note.cards()[0].question()
    assert "<script" not in back
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in back


def _plain_paragraphs(text: str) -> str:
    """How plain prose rendered before Markdown: escaped paragraphs."""
    return "\n".join(f"<p>{html.escape(p.strip(), quote=False)}</p>" for p in text.split("\n\n"))


def test_plain_prose_renders_as_before() -> None:
    """The shipped bank's plain prose renders as simple paragraphs, no stray markup."""
    for q in run_load([str(CONTENT)]).questions:
        assert to_html(q.answer) == _plain_paragraphs(q.answer)
        assert to_html(q.question) == _plain_paragraphs(q.question)


def test_images_become_plain_links_with_escaped_text() -> None:
    """A Markdown image is a link (a card loads nothing), its alt text escaped, else its URL."""
    text = 'See ![a <b> & c](https://e.com/x.png?a=1&b="2") and ![](https://e.com/y.png)'
    assert to_html(text) == (
        '<p>See <a href="https://e.com/x.png?a=1&amp;b=%222%22">a &lt;b&gt; &amp; c</a> and '
        '<a href="https://e.com/y.png">https://e.com/y.png</a></p>'
    )


# What answers about costs are made of: prices, dollars in code, links and addresses, and
# the Markdown around them.
PRICE_PIECES = st.sampled_from(
    [
        "$5", "$10", "$3.99", "US$5", "($5)", "$", "5$", "$ 5", "$x", "a$", "$-1", "$5,",
        "**$10**", "*$3*", "_$3_", "~~$30~~", "`$3.99`", "`x=$HOME`", "``$a`b``", "`",
        "[$5 ](https://x.test)", "[a](https://x.test/$y)", "<https://a.test/$x>",
        "![$1](https://x.test/i.png)", "word", "**strong**", "*em*", "`code`", "{", "}",
        "\\\\", "&amp;", "\n", "\n\n", "# ", "> ", "- ", "| a |",
    ]
)  # fmt: skip
PRICES = st.lists(
    st.tuples(PRICE_PIECES, st.sampled_from(["", " ", " ", " and "])), max_size=14
).map(lambda parts: "".join(piece + sep for piece, sep in parts))


@settings(max_examples=examples(1500), deadline=None)
@given(PRICES)
def test_a_dollar_that_opens_no_formula_is_text_like_a_letter(text: str) -> None:
    """Text in which no ``$`` opens a formula renders as it would with each ``$`` another
    letter (but for that letter): prices never change the Markdown around them."""
    shown = to_html(text)
    assume(not has_math(shown))
    letter = next(c for c in "QZXJVK" if c not in text)
    assert shown == to_html(text.replace("$", letter)).replace(letter, "$")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # Hypothesis' example: the '$' of an address paired with the '$' after the link
            "[a](https://x.test/$y)$_$3_",
            '<p><a href="https://x.test/$y">a</a>$_$3_</p>',
        ),
        (
            "[a](https://x.test/$y)5$`$3.99`",
            '<p><a href="https://x.test/$y">a</a>5$<code>$3.99</code></p>',
        ),
        ('[a](u "t$z")$_$3_', '<p><a href="u" title="t$z">a</a>$_$3_</p>'),  # a title's
        ("[a](<u$>)$_$3_", '<p><a href="u$">a</a>$_$3_</p>'),  # a pointy address's
        (
            "![a](https://x.test/$y.png)$_$3_",
            '<p><a href="https://x.test/$y.png">a</a>$_$3_</p>',
        ),
        (  # a backtick in an address opens no code span
            "[a](x`y)**$10**`$3.99`",
            '<p><a href="x%60y">a</a><strong>$10</strong><code>$3.99</code></p>',
        ),
        (  # a reference label's
            "[a][r$f]$_$3_\n\n[r$f]: https://x.test",
            '<p><a href="https://x.test">a</a>$_$3_</p>',
        ),
        (  # a '$' read as text in a link's label still finds the label's definition
            "[r$f] costs $5\n\n[r$f]: https://x.test/$",
            '<p><a href="https://x.test/$">r$f</a> costs $5</p>',
        ),
        (  # inline HTML's ('](<' keeps its '<': it may open an address)
            '_$](<b title="$x">_$',
            '<p>_$](&lt;b title="$x"&gt;_$</p>',
        ),
        (  # formulas beside a link's '$' still pair
            "$x$ [a](https://x.test/$y) $z$",
            '<p>\\(x\\) <a href="https://x.test/$y">a</a> \\(z\\)</p>',
        ),
    ],
)
def test_a_dollar_the_parser_never_meets_pairs_with_none(text: str, expected: str) -> None:
    """A '$' in what the parser takes whole (a link's address, title or label, inline HTML)
    opens no formula: a '$' after it that opens none either reads like a letter."""
    assert to_html(text) == expected
    if not has_math(expected):
        assert expected == to_html(text.replace("$", "Q")).replace("Q", "$")
