"""The renderer's contract (docs/content-format.md, "How text is read"): pulldown-cmark's own
HTML, with our rules where it cannot be configured to apply them. Where no rule applies the
card is pulldown-cmark's HTML (each line break a ``<br />``): on the CommonMark spec
examples and on every field of the shipped bank, the examples and the benchmark's banks.
Where one applies, the rules hold: there, on the rest of the spec examples and on generated
Markdown (Hypothesis)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pyromark
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from exporter.markup.highlight import is_known, plain_reason
from exporter.markup.markdown import (
    _OPTIONS,
    fence_language,
    is_safe_url,
    refused_command,
    scan,
    to_html,
)
from exporter.pipeline import run_load
from helpers import CONTENT, ROOT, examples, hang_guard

SPEC = json.loads((ROOT / "tests/data/commonmark/spec-0.31.2.json").read_text(encoding="utf-8"))
# Spec examples where a rule applies although none of the syntax ``_ruled`` looks for is
# there, with what the rule makes of them.
SPEC_RULES = {
    39: ("a line break in text is shown, also one written &#10;", "<p>foo<br />\n<br />\nbar</p>"),
}

# Tags a card's text may hold, each with the attributes it may carry and what their values
# may be (None: any value; checked further below).
_STYLE = re.compile(r"(?:--iq-[a-z]+:\d+;?)+")
ALLOWED: dict[str, dict[str, re.Pattern[str] | None]] = {
    **{tag: {} for tag in ("p", "br", "em", "strong", "del", "ul", "li", "blockquote", "hr")},
    **{tag: {} for tag in ("h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr")},
    **{tag: {"style": re.compile(r"text-align: (?:left|center|right)")} for tag in ("th", "td")},
    "ol": {"start": re.compile(r"\d+")},
    "code": {"class": re.compile(r"language-\S+")},
    "pre": {"class": re.compile("iq-code"), "data-lang": None, "style": _STYLE},
    "span": {"class": re.compile(r"iq-line|iq-lead|hl-[a-z]+|tex2jax_ignore"), "style": _STYLE},
    "div": {"class": re.compile("iq-math")},
    "a": {"href": None, "title": None},
    "img": {"src": None, "alt": None, "title": None, "data-iq-path": None},
}
_ANKI_SYNTAX = re.compile(r"\[/?(?:sound:|anki:|latex\]|\$\$?\])", re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
# What Anki's MathJax skips (code, and what we mark to ignore), then its delimiters.
_SKIPPED = re.compile(
    r'<pre\b.*?</pre>|<code>.*?</code>|<span class="tex2jax_ignore">\\[(\[]</span>', re.DOTALL
)
_DELIMITER = re.compile(r"\\[()\[\]]")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_rules(text: str, html: str, media: dict[str, str] | None = None) -> None:
    """The rules every card's HTML keeps, whatever the text: no tag or attribute but ours
    (raw HTML is text, no script), no address a card may not follow, images only from the
    bank's media, Anki's own syntax inert, no stand-in left, math only in our formulas
    (each delimiter of MathJax's opens or closes one of them, in pairs), each formula free
    of a refused command when the text passed the content check, and the same HTML twice."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED, (tag, text, html)
        for name, value in attrs.items():
            assert name in ALLOWED[tag], (tag, name, text, html)
            rule = ALLOWED[tag][name]
            assert rule is None or rule.fullmatch(value or ""), (tag, name, value, html)
            assert "<" not in (value or ""), (tag, name, value, html)
        if tag == "a":
            assert is_safe_url(attrs["href"] or ""), (text, html)
        if tag == "img":
            assert attrs["src"] in (media or {}).values(), (text, html)
    assert not _ANKI_SYNTAX.search(html), (text, html)
    assert not _CONTROL.search(html), (text, html)
    tokens = [m.group() for m in _DELIMITER.finditer(_SKIPPED.sub("", html))]
    pairs = list(zip(tokens[::2], tokens[1::2], strict=False))
    assert len(tokens) % 2 == 0, (tokens, text, html)
    assert all(a + b in ("\\(\\)", "\\[\\]") for a, b in pairs), (tokens, text, html)
    if not scan(text).problems:
        formulas = re.findall(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", _SKIPPED.sub("", html))
        assert not [f for f in formulas if refused_command("".join(f))], (text, html)
    assert to_html(text, media) == html


def _ruled(text: str) -> bool:
    """True when one of our rules applies to ``text``: raw HTML (a '<' that may start it),
    math, an image, a link, a code block, or Anki's own syntax."""
    if re.search(r"<[A-Za-z/!?]|\$|\\[(\[]", text) or _ANKI_SYNTAX.search(text):
        return True
    for event in pyromark.events(text, options=_OPTIONS):
        if type(event) is dict:
            tag = event.get("Start")
            if "Html" in event or "InlineHtml" in event:
                return True
            if type(tag) is dict and ("Link" in tag or "Image" in tag or "CodeBlock" in tag):
                return True
    return False


def assert_pulldown_cmark(text: str, html: str) -> None:
    """``html`` is pulldown-cmark's own HTML of ``text``, but for each soft line break,
    which is a ``<br />`` as a hard one is."""
    own = pyromark.html(text, options=_OPTIONS).rstrip("\n")
    assert html.replace("<br />\n", "\n") == own.replace("<br />\n", "\n"), text
    breaks = sum(e in ("SoftBreak", "HardBreak") for e in pyromark.events(text, options=_OPTIONS))
    assert html.count("<br />") == breaks, (text, html)


@pytest.mark.parametrize("example_", SPEC, ids=lambda e: str(e["example"]))
def test_commonmark_spec_examples(example_: dict[str, object]) -> None:
    """Every CommonMark 0.31.2 example (as a field, stripped): pulldown-cmark's own HTML
    where none of our rules applies, our rules everywhere."""
    text = str(example_["markdown"]).strip()
    html = to_html(text)
    assert_rules(text, html)
    if example_["example"] in SPEC_RULES:
        why, expected = SPEC_RULES[int(str(example_["example"]))]
        assert html == expected, why
    elif not _ruled(text):
        assert_pulldown_cmark(text, html)


def test_most_spec_examples_are_pulldown_cmarks_own_html() -> None:
    """The comparison above is not vacuous: over half the examples hold no rule's syntax."""
    plain = [e for e in SPEC if not _ruled(str(e["markdown"]).strip())]
    assert len(plain) > 300


def _synthetic_banks(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The benchmark's synthetic banks: 2,000 realistic questions, and answers with code,
    fences, math and images (bench/synth.py, bench/rich.py)."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    monkeypatch.syspath_prepend(str(ROOT / "tests/render"))
    import rich
    import synth

    banks = [synth.make_bank(folder / "synth", 2000)]
    banks += [
        rich.make_bank(folder / kind, kind, 50) for kind in ("code", "fence", "math", "image")
    ]
    return banks


def test_every_shipped_example_and_synthetic_field_keeps_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped bank, the example banks and the benchmark's synthetic banks: each field,
    images included, keeps the rules, and is pulldown-cmark's own HTML where none applies."""
    folders = [CONTENT, *sorted(p for p in (ROOT / "docs/examples").iterdir() if p.is_dir())]
    folders += _synthetic_banks(tmp_path, monkeypatch)
    count = plain = 0
    for folder in folders:
        for q in run_load([str(folder)]).questions:
            media = q.media_names()
            for text in (q.question, q.answer, q.hint, *q.follow_ups, *q.key_points):
                html = to_html(text, media)
                assert_rules(text, html, media)
                if not _ruled(text.strip()):
                    assert_pulldown_cmark(text.strip(), html)
                    plain += 1
                count += 1
    assert count > 4000
    assert plain > 1000


# Markdown built from the pieces technical answers are made of, hostile ones too, on lines
# that may start blocks: the generated texts mix them the way authors (and attackers) do.
INLINE = st.sampled_from(
    [
        "word",
        "two words",
        "*em*",
        "**strong**",
        "_under_",
        "`code`",
        "``a ` b``",
        "$x^2$",
        "$a_1 + b_1$",
        "$$\\sum_i x_i$$",
        "\\(\\frac{n}{2}\\)",
        "\\[E = mc^2\\]",
        "\\(a*b\\) c*",
        "$\\href{javascript:alert(1)}{x}$",
        "\\(\\style{color:red}{y}\\)",
        "costs $5 and $10",
        "\\$5",
        "[link](https://example.com/a?b=1&c=2)",
        "[t](/x 'title')",
        '[t](/x "two\nlines")',
        "[bad](javascript:alert(1))",
        "[ref][r]",
        "<javascript:alert(1)>",
        "![alt](img/a.png)",
        "![web](https://example.com/x.png)",
        "![bad](javascript:x)",
        "![d](data:image/png;base64,AAAA)",
        "<https://example.com>",
        "<me@example.com>",
        "<b>bold</b>",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        'x](<b onclick="go()">)',
        "a < b > c & d",
        '"quoted"',
        "~~gone~~",
        "snake_case_name",
        "2 * 3 * 4",
        "[sound:x.mp3]",
        "[anki:tts lang=en_US]x[/anki:tts]",
        "[latex]x[/latex]",
        "[$]x[/$]",
        "[$$]y[/$$]",
        "\\\\(literal",
        "\\*",
        "&amp; &copy; &#91; &#10;",
        "ünïcödé 👩🏽‍💻",
        "",
    ]
)
LINE_START = st.sampled_from(
    ["", "", "", "- ", "* ", "1. ", "2) ", "> ", "# ", "### ", "    ", "  ", "+ "]
)
BLOCK = st.one_of(
    st.builds(
        lambda start, parts: start + " ".join(parts), LINE_START, st.lists(INLINE, max_size=4)
    ),
    st.sampled_from(
        [
            "```python\ndef f(x):\n    return x < 2\n```",
            "```sql\nSELECT * FROM t WHERE a > 1;\n```",
            "```\nplain <code> [sound:x.mp3] \\(x\\)\n```",
            "~~~yaml\nkey: value\n~~~",
            "```nosuchlang\nx\n```",
            "$$\nx = \\frac{a}{b}\n$$",
            "$$\n\\begin{aligned}\na &= b \\\\\nc &= d\n\\end{aligned}\n$$",
            "\\[\na + b\n\\]",
            "| a | b |\n|---|:-:|\n| 1 | 2 |\n",
            "| left | right |\n|:--|--:|\n| `x` | *y* |\n",
            "---",
            "Title\n===",
            "<div>\nhtml block\n</div>",
            "<!-- comment -->",
            "<script>\nalert(1)\n</script>",
            "[r]: javascript:alert(1)",
            "[r]: <https://example.com/ok>",
        ]
    ),
)
MARKDOWN = st.lists(st.tuples(BLOCK, st.sampled_from(["\n", "\n\n"])), min_size=1, max_size=8).map(
    lambda blocks: "".join(b + sep for b, sep in blocks)
)
MEDIA = {"img/a.png": "a-1234.png"}


@settings(max_examples=examples(1500), deadline=None)
@given(MARKDOWN)
@example("text\n$$\na\n=\nb\n$$\nmore")
@example("- a\n- $$x$$\n\n1. q")
@example("\\(a*b*\\) and *c*")
@example("[bad][r]\n\n[r]: javascript:alert(1)")
@example("x](<img src=x onerror=alert(1)>)")
def test_generated_markdown_keeps_the_rules(text: str) -> None:
    """Generated answers (lists, quotes, headings, fences, math, links, images, tables, raw
    HTML, unsafe addresses, Anki's syntax) keep the rules."""
    assert_rules(text, to_html(text, MEDIA), MEDIA)


# Each rule on an example: (text, card HTML, the rule).
RULES = [
    ("a\nb", "<p>a<br />\nb</p>", "a line break stays a line break"),
    ("<b>x</b> & <i>", "<p>&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;</p>", "raw HTML is text"),
    ("$x$5 and $y$", "<p>$x$5 and \\(y\\)</p>", "a closing $ before a digit closes nothing"),
    ("costs $5 and $10", "<p>costs $5 and $10</p>", "prices are text (pandoc's rule)"),
    (
        "costs $5 and $10 [$]x[/$]",
        "<p>costs $5 and $10 &#91;$]x&#91;/$]</p>",
        "the '$' of Anki's [$]…[/$] never closes a formula, and Anki's syntax is inert",
    ),
    ("\\(a*b\\) c*", "<p>\\(a*b\\) c*</p>", "a formula's TeX never reaches Markdown"),
    (
        "costs $5; `x=$HOME`",
        "<p>costs $5; <code>x=$HOME</code></p>",
        "a $ pair around inline code, an autolink or a link's '](' is no formula",
    ),
    ("x**$10** y", "<p>x<strong>$10</strong> y</p>", "a $ of no formula reads like a letter"),
    (
        "Before\n$$\nx = 1\n$$\nafter",
        '<p>Before</p>\n<div class="iq-math">\\[x = 1\\]</div>\n<p>after</p>',
        "a display formula alone on its lines is a block of its own",
    ),
    (
        "- item\n- $$x$$",
        '<ul>\n<li>item</li>\n<li>\n<div class="iq-math">\\[x\\]</div>\n</li>\n</ul>',
        "so in a list item too",
    ),
    ("# a $$x$$", "<h1>a \\[x\\]</h1>", "in a heading it stays in the line"),
    (
        "[j](javascript:alert(1)) <javascript:x>",
        "<p>[j](javascript:alert(1)) &lt;javascript:x&gt;</p>",
        "a link to an address no card may follow is text",
    ),
    (
        "![a](https://e.test/x.png)",
        '<p><a href="https://e.test/x.png">a</a></p>',
        "an image from the web is a link, never loaded",
    ),
    (
        "![a](img/a.png)",
        '<p><img src="a-1234.png" alt="a" data-iq-path="img/a.png" /></p>',
        "an image of the bank is shown from the package, its path kept for pull",
    ),
    (
        "| a | b |\n|:-|-:|\n| 1 | 2 |",
        '<table><thead><tr><th style="text-align: left">a</th><th style="text-align: right">'
        'b</th></tr></thead><tbody>\n<tr><td style="text-align: left">1</td><td style='
        '"text-align: right">2</td></tr>\n</tbody></table>',
        "tables are pulldown-cmark's, alignment and all",
    ),
    ("a\n\n---\n\n~~b~~", "<p>a</p>\n<hr />\n<p><del>b</del></p>", "rules and strikethrough"),
    (
        '[a](u "t\nx")',
        '<p><a href="u" title="t&#10;x">a</a></p>',
        "a title's line break stays the title's",
    ),
]


@pytest.mark.parametrize(("text", "expected", "rule"), RULES, ids=[r[2] for r in RULES])
def test_each_rule_on_an_example(text: str, expected: str, rule: str) -> None:
    """Each rule docs/content-format.md states, on one example."""
    assert to_html(text, MEDIA) == expected, rule


FENCED = st.lists(
    st.sampled_from(
        [
            "```python",
            "```",
            "~~~sql",
            "```nosuchlang",
            "    ```x",
            "> ```py",
            "- ```py",
            "x = 1",
            "",
            "text *em*",
            "1. item",
            "<b>",
            "`code`",
            "````",
            "  ~~~",
        ]
    ),
    min_size=1,
    max_size=12,
).map("\n".join)


@settings(max_examples=examples(400), deadline=None)
@given(FENCED)
def test_fence_findings_are_the_blocks_the_card_shows(text: str) -> None:
    """The content check warns at the line of each fence whose language the card cannot
    highlight, as pulldown-cmark reads the fences (raw HTML read as text, as the card shows
    it); each block is one ``<pre>``."""
    stripped = text.strip().replace("<", "\x01")
    lead = text[: len(text) - len(stripped)].count("\n")
    data = stripped.encode()
    expected = []
    blocks = 0
    code: list[str] = []
    for event, span in pyromark.events_with_range(stripped, options=_OPTIONS):
        start = event.get("Start") if type(event) is dict else None
        if type(start) is dict and "CodeBlock" in start:
            blocks += 1
            info = start["CodeBlock"]
            language = fence_language(info["Fenced"]) if type(info) is dict else ""
            line = lead + data[: span["start"]].count(b"\n")
            code = []
        elif type(event) is dict and "Text" in event:
            code.append(event["Text"])
        elif type(event) is dict and event.get("End") == "CodeBlock" and language:
            plain = plain_reason("".join(code), language) is not None
            expected += [line] if plain or not is_known(language) else []
    assert [w.line for w in scan(text).warnings] == expected
    assert to_html(text).count("<pre") == blocks


def test_links_nested_past_the_passes_are_text_at_once() -> None:
    """Unsafe links nested so that each one made text lets the next one form (3,000 deep):
    after ``MAX_PASSES`` parses no bracket opens a link, and the card shows the text."""
    text = "[" * 3000 + "x" + "".join(f"](javascript:{i})" for i in range(3000))
    with hang_guard(60):
        shown = to_html(text)
    assert shown == f"<p>{text}</p>"
    assert_rules(text, shown)


def test_a_block_ending_the_text_is_warned_of_as_the_card_shows_it() -> None:
    """An unclosed fence whose last line ends the text: the card adds that line's break
    (6,000 characters become 6,001, over the limit), and so does the check: it warns
    exactly when the card shows the block plain."""
    code = "x = 1\n" * 999 + "x = 12"  # 6,000 characters without a final line break
    for text in (f"```python\n{code}", f"```python\n{code[:-1]}"):
        plain = 'class="iq-code"' not in to_html(text)
        assert bool(scan(text).warnings) is plain
    assert 'class="iq-code"' not in to_html(f"```python\n{code}")
