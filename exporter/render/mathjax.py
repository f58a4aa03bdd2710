"""The MathJax that typesets formulas in the preview page: the version Anki desktop and
AnkiDroid ship (3.2.2), with Anki's configuration, carried in this package
(``mathjax-3.2.2/``) and inlined into the page, so the page still loads nothing. The page
adds MathJax's own "safe" extension (``ui/safe``), which Anki does not load: should a
formula with ``\\href`` or ``\\style`` ever reach the page (the loader refuses them), it
gets no ``javascript:`` link and no style of its author's.

Cards never carry MathJax: Anki brings its own.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

VERSION = "3.2.2"
FOLDER = Path(__file__).with_name(f"mathjax-{VERSION}")


def anki_options() -> dict[str, Any]:
    """MathJax's configuration as Anki 25.9 and 26.9 set it for their reviewer (and AnkiDroid,
    which loads the same ``js/mathjax.js``): \\(…\\) inline (MathJax's default), \\[…\\]
    display, no $, no escapes, environments or \\ref outside math, the ``noerrors`` and
    ``mathtools`` extensions and not ``textmacros``. Where MathJax is loaded from and who
    starts typesetting are the page's own (tests/render/test_preview.py compares the rest
    with the aqt wheel's file)."""
    packages = ["noerrors", "mathtools"]
    return {
        "tex": {
            "displayMath": [["\\[", "\\]"]],
            "processEscapes": False,
            "processEnvironments": False,
            "processRefs": False,
            "packages": {"[+]": packages, "[-]": ["textmacros"]},
        },
        "loader": {"load": [f"[tex]/{name}" for name in packages]},
        "startup": {"typeset": True},
    }


# A formula in card HTML, as Anki's MathJax finds it (not a literal one the author escaped).
_FORMULA = re.compile(r'(?<!tex2jax_ignore">)\\[(\[]')


def has_math(markup: str) -> bool:
    """True when ``markup`` (card HTML) holds a formula for MathJax to typeset."""
    return bool(_FORMULA.search(markup))


@cache
def script() -> str:
    """MathJax 3.2.2 (``tex-chtml-full.js``) as the text of a ``<script>`` element."""
    text = gzip.decompress((FOLDER / "tex-chtml-full.js.gz").read_bytes()).decode("utf-8")
    if "</script" in text.lower():  # would end the inline <script> early
        raise ValueError("MathJax's code holds '</script'; it cannot be inlined")
    return text


@cache
def safe_script() -> str:
    """MathJax 3.2.2's ``ui/safe`` extension (``safe.js``), as the body of a function."""
    text = gzip.decompress((FOLDER / "safe.js.gz").read_bytes()).decode("utf-8")
    if "</script" in text.lower():
        raise ValueError("MathJax's code holds '</script'; it cannot be inlined")
    return text


@cache
def fonts() -> dict[str, str]:
    """MathJax's CommonHTML fonts: file name -> base64 of the WOFF file."""
    return {
        path.name: base64.b64encode(path.read_bytes()).decode("ascii")
        for path in sorted((FOLDER / "fonts").glob("*.woff"))
    }


def page_config(selector: str) -> str:
    """The script that configures MathJax before it loads: Anki's options, typesetting only
    the elements matching ``selector``, with its fonts taken from ``data:`` URIs rather than
    fetched from beside the script (the page may load nothing), and the safe extension."""
    return (
        f"var IQ_FONTS = {json.dumps(fonts(), sort_keys=True)};\n"
        f"function IQ_SAFE() {{\n{safe_script()}\n}}\n"
        f"window.MathJax = {json.dumps(anki_options(), sort_keys=True)};\n"
        f"MathJax.startup.elements = {json.dumps([selector])};\n" + _READY
    )


# Before MathJax makes its first style sheet, point each @font-face at the inlined font;
# before it makes its document handler, add the safe extension (as its loader would).
_READY = """MathJax.startup.ready = function () {
  IQ_SAFE();
  var faces = MathJax._.output.chtml.fonts.tex_ts.TeXFont.defaultFonts;
  Object.keys(faces).forEach(function (key) {
    var name = (faces[key].src.match(/MathJax_[\\w-]+\\.woff/) || [""])[0];
    if (IQ_FONTS[name]) {
      faces[key].src = 'url("data:font/woff;base64,' + IQ_FONTS[name] + '") format("woff")';
    }
  });
  MathJax.startup.defaultReady();
};
"""
