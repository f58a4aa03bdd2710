"""Code blocks as the card shows them: one span per source line, tokens coloured, the text
exactly the source (the browser tests check how it wraps and copies)."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.markup.highlight import (
    code_block_html,
    deepest_indent,
    highlight,
    indent_columns,
    plain_reason,
)
from exporter.markup.markdown import scan
from helpers import first_fast


def test_code_lines_keep_the_source_and_the_tokens() -> None:
    """Each source line is one ``iq-line`` holding exactly that line's text; highlighted,
    each token keeps its class on every line it spans; the indent given is the line's own
    (tabs to the next stop, rounded on a line with a tab so that its tab stops hold)."""
    source = 'def f(x):\n    """Doc\n    more"""\n\n\tif x:  # c\n        return "a"\n'
    out = code_block_html(source, "python")
    assert out.startswith(
        '<pre class="iq-code" data-lang="python" style="--iq-deepest:8">'
        '<code class="language-python">'
    )
    opening = re.match(r"<pre[^>]*><code[^>]*>", out)
    assert opening is not None
    body = out[opening.end() :].removesuffix("</code></pre>")
    lines = re.findall(r'<span class="iq-line"(?: style="--iq-indent:(\d+)")?>(.*?)</span>\n', body)
    assert [html.unescape(re.sub(r"<[^>]+>", "", text)) for _, text in lines] == source.split("\n")[
        :-1
    ]
    assert [int(i or 0) for i, _ in lines] == [0, 4, 4, 0, 6, 8]
    assert '<span class="hl-s">"""Doc</span>' in lines[1][1]
    assert '<span class="hl-s">    more"""</span>' in lines[2][1]
    assert highlight(source, "python") == body
    # An indented line's indent and first word are one span (the CSS lets it break anywhere).
    assert lines[5][1] == (
        '<span class="iq-lead">        <span class="hl-k">return</span></span> '
        '<span class="hl-s">"a"</span>'
    )
    assert lines[4][1].startswith('<span class="iq-lead">\t<span class="hl-k">if</span></span> ')
    assert "iq-lead" not in lines[0][1] + lines[3][1]  # not indented, blank
    assert (
        code_block_html("a < b", None)
        == '<pre><code><span class="iq-line">a &lt; b</span></code></pre>'
    )
    assert code_block_html("x\n", "nosuch").startswith('<pre><code class="language-nosuch">')
    assert code_block_html("", None) == "<pre><code></code></pre>"
    assert code_block_html("  ab cd", None) == (
        '<pre style="--iq-deepest:2"><code><span class="iq-line" style="--iq-indent:2">'
        '<span class="iq-lead">  ab</span> cd</span></code></pre>'
    )
    assert deepest_indent("a\n\t\tb\n      c") == 10  # the tab line rounded: 8 -> 10
    assert indent_columns("  \tx") == 4
    assert indent_columns("   ") == 0


# Blocks that make a Pygments lexer's work grow faster than the text (its regular
# expressions rescan a run of spaces, or the rest of the block, from every position): the
# issue's systemd comment indented 2,400 spaces took over 40 s. Each is shown plain.
CRAFTED = {
    "systemd indent": ("systemd", " " * 2_400 + "# x\n"),
    "systemd lines": ("systemd", (" " * 60 + "x\n") * 60),
    "systemd text": ("systemd", ("a " * 40 + "\n") * 40),
    "ini spaces": ("ini", " " * 3_000 + "x\n"),
    "toml quotes": ("toml", '"' * 3_000 + "\n"),
    "yaml spaces": ("yaml", "a:" + " " * 3_000 + "b\n"),
    "python backslashes": ("python", "\\" * 3_000 + "\n"),
    "bash spaces": ("bash", "\t" * 3_000 + "#\n"),
    "c blank lines": ("c", " \n" * 2_000),
    "autohotkey blank lines": ("autohotkey", " \n" * 2_000),
    "sql line": ("sql", "a" * 5_000 + "\n"),
    "markdown fence": ("markdown", "```systemd\n" + " " * 2_400 + "# x\n```\n"),
    "registry backslashes": ("registry", '"' + "\\" * 60 + "\n"),  # exponential
    "urbiscript backslashes": ("urbiscript", 'x = "' + "\\" * 60 + "\n"),
    "markdown holding registry": ("markdown", '```registry\n"' + "\\" * 60 + "\n```\n"),
    "rst holding systemd": (
        "rst",
        ".. code-block:: systemd\n\n" + ("   " + " " * 60 + "x\n") * 20,
    ),
    "csharp words": ("csharp", "a\n" * 2_500),  # 6.7 s at 6,000 characters
    "java words": ("java", "a b\n" * 1_400),
    "mcfunction digits": ("mcfunction", ("1" * 80 + "x\n") * 40),
    "notmuch": ("notmuch", "message{ id:1 depth:0\nbody{\nx\nbody}\nmessage}\n"),
}


def _render_in_a_child(code: str, language: str) -> bytes:
    """The block's HTML as a fresh process renders it (no cache shared with this one)."""
    program = (
        "import sys; from exporter.markup.highlight import code_block_html; "
        "sys.stdout.buffer.write(code_block_html(sys.stdin.read(), sys.argv[1]).encode())"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, language],
        input=code.encode(),
        capture_output=True,
        check=True,
        timeout=60,  # a hang guard only: the bound is on the work, by the block's shape
    )
    return done.stdout


@pytest.mark.parametrize("case", first_fast(CRAFTED))
def test_a_block_that_would_take_highlighting_long_is_shown_plain(case: str) -> None:
    """A block whose shape can make its lexer's work grow faster than its length (a long
    run of one character, a long line, or more text than its lexer handles in linear time)
    is shown plain, with a warning, the same bytes in every process (no clock decides)."""
    language, code = CRAFTED[case]
    assert plain_reason(code, language) is not None
    first = _render_in_a_child(code, language)
    assert first == _render_in_a_child(code, language)
    assert first.startswith(b"<pre")
    classes = set(re.findall(rb'class="([^"]*)"', first))  # no Pygments token class
    assert classes <= {f"language-{language}".encode(), b"iq-line", b"iq-lead"}, classes
    fence = "~~~~" if "```" in code else "```"
    (warning,) = scan(f"{fence}{language}\n{code}{fence}").warnings
    assert "shown without highlighting" in warning.message


NORMAL = {
    "systemd": "[Unit]\nDescription=Model server\n\n[Service]\nExecStart=/usr/bin/serve\n",
    "python": "def f(x):\n    # " + "=" * 70 + "\n    return x  # done\n",
    "yaml": "model:\n  name: drift\n" + "  " * 8 + "deep: true\n",
    "c": "int main(void) {\n" + "\n" * 5 + "    return 0;\n}\n",
    "sql": "SELECT id, name FROM models WHERE drift > 0.2;\n" * 20,
    "bash": 'for f in *.yaml; do\n\techo "$f"\ndone\n',
    "java": (
        "public static final class Monitor {\n"
        + "    private final Map<String, Double> baseline = new HashMap<>();\n" * 60
        + "}\n"
    ),
    "csharp": "public sealed class Drift\n{\n"
    + "    public double Psi { get; set; }\n" * 80
    + "}\n",
    "markdown": "# Title\n\n```python\nx = 1\n```\n\n" + "Some words here, and more.\n" * 100,
}


@pytest.mark.parametrize("language", list(NORMAL))
def test_ordinary_blocks_are_still_highlighted(language: str) -> None:
    """Ordinary code (indented, separator comments, blank lines) is highlighted as before."""
    code = NORMAL[language]
    assert plain_reason(code, language) is None
    assert code_block_html(code, language).startswith('<pre class="iq-code"')


def test_a_lexer_caught_in_a_loop_is_shown_plain() -> None:
    """A lexer that yields empty tokens without end (MCSchema on '<!--') is stopped by a
    cap on its tokens, a number of the text's length: the block is shown plain."""
    first = _render_in_a_child("<!--x\n", "mcschema")
    assert first == _render_in_a_child("<!--x\n", "mcschema")
    assert first.startswith(b'<pre><code class="language-mcschema">')
    assert code_block_html("{}\n", "mcschema").startswith('<pre class="iq-code"')


def test_every_lexer_with_limits_of_its_own_is_named_as_pygments_names_it() -> None:
    """The lexers given limits of their own are found by the name Pygments gives them (a
    misspelt or renamed one would silently lose its limit)."""
    from pygments.lexers import get_all_lexers

    from exporter.markup.highlight import SLOW_LEXERS, WORD_CHAIN_LEXERS

    names = {name for name, *_ in get_all_lexers(plugins=False)}
    assert set(SLOW_LEXERS) | WORD_CHAIN_LEXERS <= names


@pytest.mark.slow  # parses every lexer module of Pygments (~2 s): the full tier
def test_every_lexer_that_looks_others_up_is_held_to_their_limits() -> None:
    """Every built-in Pygments lexer that looks up another lexer by a name, MIME type or
    guess read from the code (or is built on one that does) is in ``DELEGATING_LEXERS``:
    a block in it is held to the limits of the lexers it names (a Markdown block holding
    registry code would otherwise hang its build)."""
    import ast

    import pygments.lexers
    from pygments.lexers import find_lexer_class, get_all_lexers

    from exporter.markup.highlight import DELEGATING_LEXERS

    lookups = {
        "get_lexer_by_name",
        "get_lexer_for_mimetype",
        "get_lexer_for_filename",
        "guess_lexer",
        "guess_lexer_for_filename",
        "find_lexer_class",
        "find_lexer_class_by_name",
        "find_lexer_class_for_filename",
        "find_plugin_lexers",
        "load_lexer_from_file",
    }
    names: dict[str, set[str]] = {}  # class -> every name its body mentions
    looks_up: set[str] = set()
    for path in Path(pygments.lexers.__file__).parent.glob("*.py"):
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef):
                continue
            mentioned = set()
            for node in ast.walk(cls):
                if isinstance(node, ast.Name):
                    mentioned.add(node.id)
                elif isinstance(node, ast.Attribute):
                    mentioned.add(node.attr)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    mentioned.add(node.value)
                if isinstance(node, ast.Call):
                    func = node.func
                    called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                    fixed = node.args and isinstance(node.args[0], ast.Constant)
                    if called in lookups and not fixed:  # a name taken from the code
                        looks_up.add(cls.name)
            names[cls.name] = mentioned - {cls.name}
    reach = set(looks_up)
    while grown := {c for c, used in names.items() if c not in reach and used & reach}:
        reach |= grown  # subclasses, and lexers that run one (``using``, delegating)
    lexers = [(find_lexer_class(n), n) for n, *_ in get_all_lexers(plugins=False)]
    by_class = {cls.__name__: n for cls, n in lexers if cls is not None}
    found = {by_class[c] for c in reach if c in by_class}
    assert {"HTTP", "reStructuredText", "Markdown"} <= found  # the scan sees them
    assert found <= DELEGATING_LEXERS
