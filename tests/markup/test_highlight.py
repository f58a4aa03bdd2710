"""Code blocks as the card shows them: one span per source line, tokens coloured, the text
exactly the source (the browser tests check how it wraps and copies)."""

from __future__ import annotations

import html
import re

from exporter.markup.highlight import code_block_html, deepest_indent, highlight, indent_columns


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
