"""Hostile input, inputs are bounded: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    bank,
    hang_guard,
    make_bank,
    make_special,
    one_error,
    question,
    run_cli,
)


def test_endless_and_huge_inputs_fail_in_a_moment(tmp_path: Path) -> None:
    """/dev/zero, a FIFO with no writer, and a 10 GB sparse file (to validate, and to build,
    whose build record digests each file first): one line, exit 1, fast, and no memory
    grows (nothing is read)."""
    fifo = make_special(tmp_path / "q.yaml", "fifo")
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(10 * 2**30)
    page_fifo = make_special(tmp_path / "page.txt", "fifo")
    cases = [
        (["validate", "/dev/zero"], "not a file"),
        (["validate", str(fifo)], "not a file"),
        (["validate", str(huge)], "the limit is 64 MiB"),
        (["build", str(huge), "-o", str(tmp_path / "out" / "d.apkg")], "the limit is 64 MiB"),
        (["inspect", "/dev/zero"], "not a package file"),
        (["inspect", str(fifo)], "not a package file"),
        (["import-text", str(page_fifo), "-o", str(tmp_path / "x.yaml")], "not a regular file"),
    ]
    for args, expected in cases:
        with hang_guard():
            result = run_cli(args)
        assert expected in one_error(result), args


def test_history_and_existing_output_are_read_bounded(tmp_path: Path) -> None:
    """A history that is a FIFO, or a huge sparse one, is refused without being read."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    out.parent.mkdir()
    history = out.with_name("deck.lock.json")
    with history.open("wb") as f:
        f.truncate(200 * 2**20)
    assert "the limit is 64 MiB" in one_error(run_cli(["build", str(src), "-o", str(out)]))


def test_inspect_refuses_a_zip_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package whose collection inflates past the cap is refused, whether the zip says so
    up front or not, zip or zstd, without the collection in memory."""
    import zstandard

    from exporter.reading import packagefile as packageinfo

    monkeypatch.setattr(packageinfo, "COLLECTION_CAP", 2 * 2**20)
    zeros = bytes(3 * 2**20)
    honest = tmp_path / "honest.apkg"
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("collection.anki2", zeros)
    hidden = tmp_path / "zstd.apkg"
    compressor = zstandard.ZstdCompressor(write_content_size=False)
    with zipfile.ZipFile(hidden, "w") as z:
        z.writestr("collection.anki21b", compressor.compress(zeros))
    for package in (honest, hidden):
        assert "inflates past 2 MiB" in one_error(run_cli(["inspect", str(package)]))


def test_a_display_formula_beside_a_spaced_rule_is_read_at_once(tmp_path: Path) -> None:
    """A ``$$`` formula and a thematic break of 40 ``*`` markers, each followed by spaces
    and tabs (an opener regex once backtracked over every way to split those spaces):
    validate and build end at once, exit 0."""
    rule = "*" + "".join(sep + "*" for sep in ("   ", " \t ", "\t\t") * 13)
    answer = f"$$\nx^2\n$$\n\n{rule}\n\n- {rule}\n\n$$ y $$"
    src = make_bank(tmp_path / "c", [question("a", answer=answer)])
    with hang_guard(60):
        assert run_cli(["validate", str(src)]).exit_code == 0
        result = run_cli(["build", str(src), "-o", str(tmp_path / "d.apkg")])
    assert result.exit_code == 0, result.stderr


# Every regular expression of the stages that read content text (markup, content, render),
# with the calls the code makes of it. A new pattern must be added here, and so be run on
# the hostile texts below: backtracking without bound shows as a hang.
REGEX_CALLS: dict[str, tuple[str, ...]] = {
    "exporter.markup.highlight:_LONG_RUN": ("search",),
    "exporter.markup.highlight:_NAME": ("finditer",),
    "exporter.markup.highlight:_NOT_TYPE": ("sub",),
    "exporter.content.check:_CODE_SPAN": ("sub",),
    "exporter.content.check:_TAGS": ("sub",),
    "exporter.render.notes:_CLOZE_SYNTAX": ("sub",),
    "exporter.render.preview:_CLOZE": ("sub",),
    "exporter.render.preview:_SECTION": ("sub",),
    "exporter.markup.markdown:_STAND_INS": ("sub",),
    "exporter.markup.markdown:_RICH": ("search",),
    "exporter.markup.markdown:_KEEP_LT": ("finditer",),
    "exporter.markup.markdown:_ANKI_DOLLARS": ("sub",),
    "exporter.markup.markdown:_DISPLAY_OPENER": ("finditer",),
    "exporter.markup.markdown:_NEWLINE": ("finditer",),
    "exporter.markup.markdown:_DANGEROUS_URL": ("match",),
    "exporter.markup.markdown:_SAFE_DATA_URL": ("match",),
    "exporter.markup.markdown:_URL_UNSAFE": ("search",),
    "exporter.markup.markdown:_PERCENT": ("match",),
    "exporter.markup.markdown:_UNSAFE_URL": ("search",),
    "exporter.markup.markdown:_IMAGE": ("sub",),
    "exporter.markup.markdown:_PLACEHOLDER": ("sub",),
    "exporter.markup.markdown:_TITLE": ("sub",),
    "exporter.markup.markdown:_MATH": ("sub",),
    "exporter.markup.markdown:_SOFT_BREAK": ("sub",),
    "exporter.markup.markdown:_RUN": ("sub",),
    "exporter.markup.markdown:_DISPLAY": ("fullmatch",),
    "exporter.markup.markdown:_LINE_BREAKS": ("finditer",),
    "exporter.markup.markdown:_DELIMITER_CONTEXT": ("finditer",),
    "exporter.markup.markdown:_CONTROL_SEQUENCE": ("finditer",),
    "exporter.markup.markdown:_DOLLAR_SYNTAX": ("finditer",),
    "exporter.markup.markdown:_AUTOLINK": ("match",),
    "exporter.markup.markdown:_AUTOLINK_START": ("search",),
    "exporter.markup.markdown:_ANGLE": ("finditer",),
    "exporter.markup.markdown:_ANKI_SYNTAX": ("sub",),
    "exporter.content.check:_SLUG_ISH": ("fullmatch",),
    "exporter.content.check:_SLUG_LETTER": ("search",),
    "exporter.content.check:_NOT_SLUG": ("sub",),
    "exporter.content.media:_REMOTE": ("match",),
    "exporter.content.media:_STEM": ("sub",),
    "exporter.content.model:FORBIDDEN_CHARS": ("search", "sub"),
    "exporter.content.spec:SLUG_RE": ("match",),
    "exporter.content.spec:GUID_RE": ("match",),
    "exporter.content.yamlnodes:_YAML_BREAKS": ("finditer",),
    "exporter.content.yamlnodes:_EDITOR_BREAKS": ("finditer", "findall"),
    "exporter.render.mathjax:_FORMULA": ("search",),
    # Run on the package's own templates only, never on content text.
    "exporter.render.preview:_TAG": (),
}

_N = 200_000
# Texts made of what the patterns above repeat: runs of markers and spaces, digits, link
# definitions, autolink and e-mail starts, slugs that fail at their end, delimiters.
HOSTILE_TEXTS = [
    "*   " * (_N // 4),
    "- \t" * (_N // 3),
    " \t" * (_N // 2),
    "1. " * (_N // 3),
    "1" * _N,
    "\n1" * (_N // 2),
    "\n" + " " * _N + "x",
    "]:" + " " * _N,
    "]:" + " \t" * (_N // 2) + "\n" + " " * _N,
    "<a@" + "a." * (_N // 2),
    "<a@" + "a-" * (_N // 2),
    "<a@" + "a" * _N,
    "<" + "a" * _N,
    "<a:" + "b" * _N,
    "a" * _N + "!",
    "a-" * (_N // 2) + "!",
    "a " * (_N // 2) + "!",
    "A." * (_N // 2) + "!",
    "%" * _N,
    "%a" * (_N // 2),
    "$" * _N,
    "$$\n" * (_N // 3),
    "\\" * _N,
    "\\(" * (_N // 2),
    "\\[" * (_N // 2),
    "[" * _N,
    "[$" * (_N // 2),
    "[/" * (_N // 2),
    "{{" * (_N // 2),
    "`" * _N,
    "``" + " " * _N,
    "~" * _N,
    "\n" * _N,
    "\r" * _N,
]


def _patterns() -> dict[str, re.Pattern[Any]]:
    """Every compiled pattern the modules of the markup, content and render stages hold, by
    module and name (one imported from another module is there under both names)."""
    import importlib
    import pkgutil

    import exporter.content
    import exporter.markup
    import exporter.render

    found: dict[str, re.Pattern[Any]] = {}
    for package in (exporter.markup, exporter.content, exporter.render):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if isinstance(value, re.Pattern):
                    found[f"{info.name}:{name}"] = value
    return found


def test_every_regex_of_the_text_stages_is_listed() -> None:
    """The list of patterns run on hostile texts holds every pattern the code defines."""
    patterns = _patterns()
    assert set(REGEX_CALLS) <= set(patterns)
    listed = {id(patterns[name]) for name in REGEX_CALLS}
    assert sorted(name for name, p in patterns.items() if id(p) not in listed) == []


@pytest.mark.slow  # 34 texts of 200,000 characters a pattern: the full tier
@pytest.mark.parametrize("name", sorted(REGEX_CALLS))
def test_no_regex_backtracks_without_bound(name: str) -> None:
    """Each pattern, called as the code calls it, ends at once on texts of 200,000
    characters built to make a pattern backtrack (nested or overlapping repeats)."""
    pattern = _patterns()[name]
    for hostile in HOSTILE_TEXTS:
        text: str | bytes = hostile if isinstance(pattern.pattern, str) else hostile.encode()
        with hang_guard(60):
            for call in REGEX_CALLS[name]:
                if call == "sub":
                    pattern.sub("", text)
                elif call == "finditer":
                    list(pattern.finditer(text))
                else:
                    getattr(pattern, call)(text)


@pytest.mark.slow  # large inputs: the full tier
def test_many_display_formulas_and_code_spans_render_in_linear_work() -> None:
    """40,000 display formulas on lines of their own beside as many code spans, and 40,000
    ``\\[`` lines never closed: each formula is matched against the code once, not against
    every code span, and each opener finds its closer without rescanning the text."""
    from exporter.markup.markdown import scan, to_html

    block = "$$\nx\n$$ `c`"
    unclosed = "\n".join(["\\[ a", "b $$"] * 40_000)
    with hang_guard(60):
        assert to_html("\n\n".join([block] * 40_000)) == "\n".join([to_html(block)] * 40_000)
        assert len(scan(unclosed).problems) == 20_000


@pytest.mark.slow  # large inputs: the full tier
def test_many_dollars_code_spans_and_braces_render_in_linear_work() -> None:
    """Texts of 100,000 prices, dollars in code and autolinks, braces and unclosed ``$$``:
    each '$' is paired (or not) in one walk over the text, never by rescanning it."""
    from exporter.markup.markdown import scan, to_html

    texts = [
        "$5 **$10** `x=$HOME` <https://a.test/$x> ]( {$a} " * 12_000,
        "$a" + "{" * 100_000 + "$",
        "$$ " * 100_000,
        "$x " + "`a` " * 50_000 + "y$",
        "`" + "$a$ " * 50_000,
    ]
    with hang_guard(60):
        for text in texts:
            to_html(text)
            scan(text)
