"""The plain-text shortcut in exporter.text renders exactly what the Markdown parser would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.text import to_html, to_html_by_parsing

PLAIN_ISH = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("abc XYZ 0123456789.,;:?'\"()/%@$^{}=+-\n\n\n ")),
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=80,
)


@settings(max_examples=600, deadline=None)
@given(PLAIN_ISH)
def test_shortcut_equals_the_parser(text: str) -> None:
    """For any text, the fast path (when taken) and markdown-it give the same HTML."""
    assert to_html(text) == to_html_by_parsing(text)


def test_shortcut_cases() -> None:
    """Hand-picked edges: quotes, numbers, dashes, blank-line runs, unicode."""
    for text in [
        'He said "ship it" – it’s fine.',
        "Line one\nLine two\n\n\n\nNext paragraph",
        "3 + 4 = 7, 1) not a list here",
        "- a list\n- of two",
        "1. first\n2. second",
        "Title\n===",
        "x\n---",
        "مرحبا 👩🏽‍💻 שלום",
        "a\u00a0b",
        "trailing two  \nspaces",
    ]:
        assert to_html(text) == to_html_by_parsing(text), text
