"""Hypothesis strategies the property tests share: text YAML can carry, and ids."""

from __future__ import annotations

from hypothesis import strategies as st

from exporter.content.spec import SLUG_RE

# Printable text YAML can carry: no controls, surrogates, private-use or unassigned code points,
# and no whitespace except ' ' and '\n' (the renderer's own rules cover those two).
CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co", "Zs", "Zl", "Zp")).filter(
    lambda c: c != "\ufeff"
)
SPECIALS = [
    "🚀",
    "👩🏽‍💻",
    "مرحبا بكم",
    "שלום",
    "\u202e",
    "Donaudampfschifffahrtsgesellschaftskapitän" * 3,
    "<script>alert(1)</script>",
    "&amp;",
    "\n\n",
    " \n  \n",
]
TEXT = (
    st.lists(
        st.one_of(
            CHARS, st.sampled_from(list(" \n<>&\"'#:-*!|%@`{}[]")), st.sampled_from(SPECIALS)
        ),
        min_size=1,
        max_size=40,
    )
    .map("".join)
    .filter(lambda t: t.strip() != "")
)
SLUG = st.from_regex(SLUG_RE, fullmatch=True).filter(lambda s: len(s) <= 40)
