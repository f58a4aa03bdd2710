"""Answers as engineers write them: math reaches Anki's MathJax untouched, fenced code is
highlighted at build time, images travel in the package as media, in real Anki and in
Chromium with MathJax actually typesetting."""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from browser import VIEWS, CardPage, need_mathjax, view_document
from exporter.markup.highlight import MAX_HIGHLIGHT_CHARS
from exporter.markup.markdown import scan, to_html
from helpers import EPOCH, ROOT, Anki, RenderedCard, problems_in, rendered_cards, run_cli, write

EXAMPLE = ROOT / "docs" / "examples" / "ml-monitoring"
TEX = r"PSI = \sum_{i=1}^{k} (a_i - e_i) \ln \frac{a_i}{e_i}"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real, minimal PNG of one colour (no imaging library needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


RICH = """role: ML Engineer
questions:
  - id: psi-drift
    difficulty: medium
    question: How do you compute the $PSI$ of a feature?
    answer: |
      Bucket both, then sum:

      $${tex}$$

      ```python
      def psi(expected, actual, buckets=10):
          return sum((a - e) * log(a / e) for a, e in zip(actual, expected))
      ```

      Above \\(0.25\\) it is a shift; it costs $5 and $10 a day, or \\$20.

      ![drift monitor](diagrams/drift.png)
  - id: plain-one
    difficulty: easy
    question: What is a canary?
    answer: A small share of traffic on the new model first. Write \\\\( for a literal one.
"""


def one_question(path: Path, answer_yaml: str) -> Path:
    """A content file at ``path`` with one easy question 'a' whose ``answer:`` lines (YAML,
    from the key on, line 6 of the file) are ``answer_yaml``."""
    head = "role: R\nquestions:\n  - id: a\n    difficulty: easy\n    question: Q?\n"
    return write(path, head + answer_yaml)


def rich_bank(folder: Path, colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    """A bank with math, highlighted code and one image in ``folder``."""
    write(folder / "ml.yaml", RICH.replace("{tex}", TEX))
    (folder / "diagrams").mkdir(parents=True, exist_ok=True)
    (folder / "diagrams" / "drift.png").write_bytes(png(40, 20, colour))
    return folder


def build_to(src: Path, out: Path, epoch: int = EPOCH, *extra: str) -> Any:
    result = run_cli(
        ["build", str(src), "-o", str(out), "--no-cache", *extra],
        env={"SOURCE_DATE_EPOCH": str(epoch)},
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Wrote "), result.stdout
    return result


def media_files(anki: Anki) -> dict[str, bytes]:
    folder = Path(anki.col.media.dir())
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_math_code_and_image_reach_real_anki(anki: Anki, tmp_path: Path) -> None:
    """The image is in the collection's media folder with its bytes and the card shows it;
    TeX survives exactly inside Anki's MathJax delimiters; code carries highlight classes."""
    src = rich_bank(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_to(src, out)
    log = anki.import_package(out)
    assert len(log.new) == 2
    image = (src / "diagrams" / "drift.png").read_bytes()
    name = f"drift-{hashlib.sha256(image).hexdigest()[:16]}.png"
    assert media_files(anki) == {name: image}
    note = anki.note_by_id_field("psi-drift")
    card = note.cards()[0]
    back = card.answer()
    assert f'<img src="{name}" alt="drift monitor" data-iq-path="diagrams/drift.png" />' in back
    assert f"\\[{TEX}\\]" in back
    assert "\\(0.25\\)" in back
    assert "\\(PSI\\)" in card.question()
    assert "costs $5 and $10 a day, or $20." in back
    assert '<pre class="iq-code" data-lang="python" style="--iq-deepest:4">' in back
    assert '<span class="hl-k">def</span> <span class="hl-f">psi</span>' in back
    assert '<span class="hl-b">zip</span>' in back
    # Anki's own renderer found the media reference (what "Check Media" relies on).
    assert anki.col.media.files_in_str(note.mid, note.joined_fields()) == [name]


def test_changed_image_updates_the_note_in_place(anki: Anki, tmp_path: Path) -> None:
    """Changing only the image gives it a new media name and the note a newer mod: the
    re-import updates the note in place, keeps its review, and the card shows the new one."""
    src = rich_bank(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_to(src, out)
    anki.import_package(out)
    note = anki.note_by_id_field("psi-drift")
    card = note.cards()[0]
    card.start_timer()
    anki.col.sched.answerCard(card, 3)
    reviewed = anki.col.get_card(card.id)
    assert reviewed.reps == 1

    (src / "diagrams" / "drift.png").write_bytes(png(40, 20, (20, 120, 200)))
    build_to(src, out, EPOCH + 86_400)
    log = anki.import_package(out)
    assert [n.id.nid for n in log.updated] == [note.id]
    assert not log.new
    assert not log.conflicting

    after = anki.note_by_id_field("psi-drift")
    assert after.id == note.id
    again = anki.col.get_card(card.id)
    assert (again.ivl, again.due, again.reps) == (reviewed.ivl, reviewed.due, reviewed.reps)
    assert anki.col.db.scalar("select count() from revlog where cid = ?", card.id) == 1
    new_image = (src / "diagrams" / "drift.png").read_bytes()
    new_name = f"drift-{hashlib.sha256(new_image).hexdigest()[:16]}.png"
    assert media_files(anki)[new_name] == new_image
    assert f'<img src="{new_name}"' in again.answer()
    assert len(anki.notetypes()) == 1


def test_media_in_the_package_are_numbered_in_name_order(tmp_path: Path) -> None:
    """The zip holds the collection, one entry per image numbered by sorted name, then the
    media index; two files with one name in different folders never collide."""
    src = rich_bank(tmp_path / "content")
    (src / "other").mkdir()
    (src / "other" / "drift.png").write_bytes(png(8, 8, (0, 0, 0)))
    text = (src / "ml.yaml").read_text()
    (src / "ml.yaml").write_text(
        text.replace("new model first.", "new model first ![other drift](other/drift.png).")
    )
    out = tmp_path / "deck.apkg"
    build_to(src, out)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        index = archive.read("media").decode()
        entries = {n: archive.read(n) for n in names}
    assert names == ["collection.anki2", "0", "1", "media"]
    mapping = dict(re.findall(r'"(\d)": "([^"]+)"', index))
    assert sorted(mapping.values()) == list(mapping.values())
    assert len(set(mapping.values())) == 2
    for number, name in mapping.items():
        assert hashlib.sha256(entries[number]).hexdigest()[:16] in name


def test_media_builds_are_byte_identical(tmp_path: Path) -> None:
    """Same content and history give the same bytes, media included, whatever the folder."""
    first = rich_bank(tmp_path / "a" / "content")
    second = tmp_path / "b" / "elsewhere"
    shutil.copytree(first, second)
    out1, out2 = tmp_path / "a" / "deck.apkg", tmp_path / "b" / "deck.apkg"
    build_to(first, out1)
    build_to(second, out2)
    assert out1.read_bytes() == out2.read_bytes()


def test_unknown_code_language_is_a_warning(tmp_path: Path) -> None:
    """An unknown fence language is reported at PATH:LINE as a warning; the build succeeds
    and the block renders plain."""
    bank = one_question(
        tmp_path / "c" / "q.yaml",
        "    answer: |\n      Like this:\n\n      ```klingon\n      qapla'\n      ```\n",
    )
    result = run_cli(["validate", str(bank)])
    assert result.exit_code == 0
    assert result.stderr == (
        f"{bank}:9: warning: unknown code language 'klingon': the block is shown without "
        "highlighting (use a Pygments name such as python, sql, bash, yaml)\n"
    )
    built = run_cli(["build", str(bank), "-o", str(tmp_path / "d.apkg")])
    assert built.exit_code == 0
    assert f"{bank}:9: warning: unknown code language 'klingon'" in built.stderr
    assert to_html("```klingon\nqapla'\n```") == (
        '<pre><code class="language-klingon"><span class="iq-line">qapla\'</span>\n</code></pre>'
    )


def test_remote_images_stay_links(tmp_path: Path, anki: Anki) -> None:
    """An image from the web is a link on the card, never loaded, never in the package."""
    bank = one_question(
        tmp_path / "c" / "q.yaml",
        "    answer: See ![the chart](https://example.com/chart.png).\n",
    )
    out = tmp_path / "d.apkg"
    build_to(bank, out)
    anki.import_package(out)
    back = anki.notes()[0].cards()[0].answer()
    assert '<a href="https://example.com/chart.png">the chart</a>' in back
    assert "<img" not in back
    assert media_files(anki) == {}


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_symlink_out_of_the_content_folder_is_refused(tmp_path: Path) -> None:
    """An image path that is a link to a file outside the content folder is an error."""
    outside = tmp_path / "secret.png"
    outside.write_bytes(png(2, 2, (0, 0, 0)))
    src = tmp_path / "content"
    one_question(
        src / "q.yaml",
        "    answer: |\n      ![x](link.png)\n",
    )
    (src / "link.png").symlink_to(outside)
    result = run_cli(["validate", str(src)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{src / 'q.yaml'}:7: image 'link.png' is outside")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("costs $5 and $10", "<p>costs $5 and $10</p>"),
        (r"a literal \$x\$", "<p>a literal $x$</p>"),
        ("$x_1 * y_2$", r"<p>\(x_1 * y_2\)</p>"),
        ("$a < b & c$", r"<p>\(a &lt; b &amp; c\)</p>"),
        (r"\(\alpha_{*}\) and \[ \beta \]", r"<p>\(\alpha_{*}\) and \[ \beta \]</p>"),
        ("`$x$` in code", "<p><code>$x$</code> in code</p>"),
        ("$$\na_1\n- b\n$$", '<div class="iq-math">\\[a_1 - b\\]</div>'),
        ("$ 5 and 6$", "<p>$ 5 and 6$</p>"),
        ("$5$10", "<p>$5$10</p>"),
    ],
)
def test_math_delimiters(text: str, shown: str) -> None:
    """TeX is never touched by Markdown; dollars that are prices stay text (pandoc's rule)."""
    assert to_html(text) == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "It rose from $5 to **$10** a month.",
            "<p>It rose from $5 to <strong>$10</strong> a month.</p>",
        ),
        ("$5 or *$3*", "<p>$5 or <em>$3</em></p>"),
        ("$5 and `$3.99`", "<p>$5 and <code>$3.99</code></p>"),
        (
            "[$5 ](https://x.test) and [$6](https://y.test)",
            '<p><a href="https://x.test">$5 </a> and <a href="https://y.test">$6</a></p>',
        ),
        (
            "**$10**, *$20*, ~~$30~~ and [$40](https://x.test)",
            "<p><strong>$10</strong>, <em>$20</em>, <del>$30</del> and "
            '<a href="https://x.test">$40</a></p>',
        ),
        ("US$5 or US$6 **now**", "<p>US$5 or US$6 <strong>now</strong></p>"),
        ("$a$1 and *b*", "<p>$a$1 and <em>b</em></p>"),
        ("costs $5; `x=$HOME`", "<p>costs $5; <code>x=$HOME</code></p>"),
        ("Set $PATH and `$HOME`", "<p>Set $PATH and <code>$HOME</code></p>"),
        (
            "It costs $5 (see <https://a.test/$x>)",
            '<p>It costs $5 (see <a href="https://a.test/$x">https://a.test/$x</a>)</p>',
        ),
        ("$1+1$ is $2$, not $3", "<p>\\(1+1\\) is \\(2\\), not $3</p>"),
        ("$\\text{a $b$}$ and $5", "<p>\\(\\text{a $b$}\\) and $5</p>"),
        ("$$x$$ and `$y`", "<p>\\[x\\] and <code>$y</code></p>"),
        ("$5 `a` $x$", "<p>$5 <code>a</code> \\(x\\)</p>"),
    ],
)
def test_prices_stay_text_and_the_markdown_around_them_renders(text: str, shown: str) -> None:
    """A ``$`` that opens no formula is text, and a ``$`` pair that is no formula never
    swallows the emphasis, inline code or links between the prices: a formula never holds
    inline code or an autolink, and a closing ``$`` before a digit closes nothing."""
    assert to_html(text) == shown


def test_rich_example_builds_and_imports(anki: Anki, tmp_path: Path) -> None:
    """The documented example (docs/examples/) builds cleanly and its diagram reaches Anki."""
    result = run_cli(["validate", str(EXAMPLE)])
    assert (result.exit_code, result.stderr) == (0, "")
    out = tmp_path / "example.apkg"
    build_to(EXAMPLE, out)
    anki.import_package(out)
    (note,) = anki.notes()
    back = note.cards()[0].answer()
    svg = (EXAMPLE / "diagrams" / "drift-monitor.svg").read_bytes()
    name = f"drift-monitor-{hashlib.sha256(svg).hexdigest()[:16]}.svg"
    assert media_files(anki) == {name: svg}
    assert f'src="{name}"' in back
    assert html.escape("\\[PSI = \\sum_{i=1}^{k}", quote=False) in back


LONG_TEX = r"\mathrm{KL}(P \parallel Q) = \sum_{x \in \mathcal{X}} P(x) \log \frac{P(x)}{Q(x)}"


@pytest.fixture(scope="module")
def rich_cards(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[RenderedCard], dict[str, bytes]]:
    """The documented example and the test bank (plus a card with a long formula and a long
    code line), rendered by a real Anki; with the media files Anki stored."""
    folder = tmp_path_factory.mktemp("rich")
    src = rich_bank(folder / "content")
    long_line = "kubectl rollout undo deployment/model-server --to-revision=" + "9" * 120
    write(
        src / "wide.yaml",
        "role: Wide\nquestions:\n  - id: wide\n    difficulty: hard\n"
        f"    question: How does $${LONG_TEX} + {LONG_TEX}$$ fit?\n"
        f"    answer: |\n      ```bash\n      {long_line}\n      ```\n",
    )
    out = folder / "rich.apkg"
    build_to(EXAMPLE, out.with_name("example.apkg"))
    build_to(src, out)
    cards, media = rendered_cards(out.with_name("example.apkg"), folder / "collection.anki2", out)
    assert len(cards) == 4
    return cards, media


@pytest.mark.parametrize("view", list(VIEWS))
def test_rich_cards_typeset_and_fit_in_chromium(
    rich_cards: tuple[list[RenderedCard], dict[str, bytes]],
    card_page: CardPage,
    view: str,
) -> None:
    """With Anki's MathJax really typesetting (Anki's own configuration, in each app's page):
    every formula renders (no TeX error), the card never scrolls sideways, code tokens and
    text keep AA contrast, images load inside the card's width, and nothing is fetched from
    outside."""
    need_mathjax()
    cards, media = rich_cards
    viewport = VIEWS[view][0]
    problems: list[str] = []
    token_classes: set[str] = set()
    for card in cards:
        for side, rendered in (("front", card.question), ("back", card.answer)):
            where = f"{card.question_id} {side}"
            card_page.show(view_document(rendered, view, mathjax=True), viewport, media)
            measured = card_page.measure()
            problems += problems_in(measured, where)
            token_classes |= {t["cls"] for t in measured["texts"] if t["cls"].startswith("hl-")}
            formulas = len(re.findall(r'(?<!tex2jax_ignore">)\\[(\[]', rendered))
            math = card_page.page.evaluate(
                """() => [document.querySelectorAll('mjx-container').length,
                          document.querySelectorAll('mjx-merror').length]"""
            )
            assert math == [formulas, 0], where
            for natural, left, right, width in card_page.page.evaluate(
                """() => [...document.images].map(i => {
                     const r = i.getBoundingClientRect();
                     return [i.naturalWidth, r.left, r.right, document.body.clientWidth]; })"""
            ):
                assert natural > 0, where
                assert left >= 0
                assert right <= width + 0.5, where
            assert card_page.outside_requests() == [], where
    assert problems == []
    assert {"hl-k", "hl-f", "hl-m", "hl-c", "hl-b"} <= token_classes


def test_record_notices_every_image_change(tmp_path: Path) -> None:
    """The local record that skips unchanged builds re-checks every image path: a change to
    one of two identical files, or a link pointed at another file, means a full build."""
    src = rich_bank(tmp_path / "content")
    (src / "copy").mkdir()
    shutil.copy(src / "diagrams" / "drift.png", src / "copy" / "drift.png")
    (src / "diagrams" / "v2.png").write_bytes(png(10, 10, (1, 2, 3)))
    (src / "link.png").symlink_to(src / "diagrams" / "drift.png")
    text = (src / "ml.yaml").read_text()
    text = text.replace(
        "new model first.", "new model first ![copy](copy/drift.png) ![link](link.png)."
    )
    (src / "ml.yaml").write_text(text)
    out = tmp_path / "deck.apkg"

    def build() -> str:
        result = run_cli(["build", str(src), "-o", str(out)], env={"SOURCE_DATE_EPOCH": str(EPOCH)})
        assert result.exit_code == 0, result.stderr
        return str(result.stdout)

    assert build().startswith("Wrote")
    assert "is up to date" in build()
    (src / "copy" / "drift.png").write_bytes(png(40, 20, (9, 9, 9)))  # the copy only
    assert build().startswith("Wrote")
    assert "is up to date" in build()
    (src / "link.png").unlink()
    (src / "link.png").symlink_to(src / "diagrams" / "v2.png")  # same path, other file
    assert build().startswith("Wrote")


def test_warnings_are_repeated_when_the_build_is_skipped(tmp_path: Path) -> None:
    """A build skipped by the local record says the same warnings as the full build did."""
    bank = one_question(
        tmp_path / "c" / "q.yaml",
        "    answer: |\n      ```pythn\n      x = 1\n      ```\n",
    )
    out = tmp_path / "d.apkg"
    first = run_cli(["build", str(bank), "-o", str(out)])
    second = run_cli(["build", str(bank), "-o", str(out)])
    assert "is up to date" in second.stdout
    assert "warning: unknown code language 'pythn'" in first.stderr
    assert second.stderr == first.stderr


@pytest.mark.parametrize(
    ("fence", "warned", "highlighted"),
    [
        ("```c\\+\\+", False, True),  # CommonMark unescapes the info string: 'c++'
        ("```&#112;ython", False, True),  # an entity: 'python'
        ("```nosuch", True, False),
    ],
)
def test_scan_and_render_agree_on_the_language(fence: str, warned: bool, highlighted: bool) -> None:
    """The load-time warning and the card agree on whether a fence is highlighted; the
    warning carries its code from the scan."""
    text = f"{fence}\nint x = 1;\n```"
    assert [w.code for w in scan(text).warnings] == ["code-language-unknown"] * warned
    assert ('class="iq-code"' in to_html(text)) == highlighted


def test_a_very_long_code_block_is_shown_plain_with_a_warning() -> None:
    """A block past the highlighting limit renders plain (Pygments can be slow on such
    input) and the author is told why, under the code the scan gives it."""
    code = "x = 1\n" * (MAX_HIGHLIGHT_CHARS // 6 + 10)
    text = f"```python\n{code}```"
    (warning,) = scan(text).warnings
    assert "shown without highlighting" in warning.message
    assert warning.code == "code-block-long"
    assert to_html(text).startswith(
        '<pre><code class="language-python"><span class="iq-line">x = 1'
    )


def test_a_windows_path_is_an_error_not_a_link(tmp_path: Path) -> None:
    """``C:\\x.png`` is a drive path (refused as absolute), not a web address."""
    bank = one_question(
        tmp_path / "c" / "q.yaml",
        "    answer: '![a](C:\\x.png)'\n",
    )
    result = run_cli(["validate", str(bank)])
    assert result.exit_code == 1
    assert "is absolute; write it relative to the content file" in result.stderr


def test_a_literal_math_delimiter_stays_text() -> None:
    """``\\\\(`` in content is a literal '\\(' that Anki's MathJax is told to leave alone."""
    html_out = to_html(r"write \\(x\\) for a formula")
    assert html_out == ('<p>write <span class="tex2jax_ignore">\\(</span>x\\) for a formula</p>')


def test_the_widest_content_folder_given_decides_where_images_may_live(tmp_path: Path) -> None:
    """A file named on its own and again through its folder may use images anywhere in that
    folder, whichever comes first on the command line."""
    src = tmp_path / "content"
    (src / "img").mkdir(parents=True)
    (src / "img" / "a.png").write_bytes(png(2, 2, (0, 0, 0)))
    bank = one_question(
        src / "sub" / "q.yaml",
        "    answer: |\n      ![a](../img/a.png)\n",
    )
    assert run_cli(["validate", str(bank), str(src)]).exit_code == 0
    assert run_cli(["validate", str(src), str(bank)]).exit_code == 0
    alone = run_cli(["validate", str(bank)])
    assert alone.exit_code == 1
    assert "is outside the content folder" in alone.stderr


def test_inspect_lists_the_media(tmp_path: Path) -> None:
    """inspect names each media file of a package with its size."""
    out = tmp_path / "deck.apkg"
    build_to(rich_bank(tmp_path / "content"), out)
    result = run_cli(["inspect", str(out)])
    lines = result.stdout.splitlines()
    assert lines[-2].startswith("Media: 1 file, ")
    assert re.fullmatch(r"  drift-[0-9a-f]{16}\.png: \d+ bytes", lines[-1])


def test_every_highlight_class_has_a_colour_in_both_themes() -> None:
    """Each class the highlighter emits is coloured by the note type's CSS, through a
    variable the light and the night palette both set."""
    from exporter.markup.highlight import CLASS_NAMES
    from exporter.render.notetype import note_type

    css = note_type().css
    for name in CLASS_NAMES:
        assert f".hl-{name} {{ color: var(--iq-hl-{name})" in css
        assert css.count(f"--iq-hl-{name}:") == 2  # light and night
