"""Technical answers read well on a 360-px phone and on a desktop, light and night, in real
Anki renders shown in Chromium with Anki's MathJax typesetting: wrapped code hangs under its
own line and copies as the source, no formula is cut off, tables fit or scroll in their own
box, and the page never scrolls sideways."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from browser import (
    CODE_LINES_JS,
    FORMULAS_JS,
    PHONE,
    SELECT_JS,
    VIEWS,
    CardPage,
    card_document,
    need_mathjax,
    view_document,
)
from exporter.markup.highlight import indent_columns
from exporter.pipeline import run_load
from exporter.render.notes import notes_for
from exporter.render.notetype import note_type
from exporter.render.preview import card_view
from helpers import CONTENT, ROOT, RenderedCard, build_deck, problems_in, rendered_cards, write

EXAMPLE = ROOT / "docs" / "examples"

PYTHON = '''\
import numpy as np


class DriftMonitor:
    """Population stability of every feature, against a baseline taken at training time, over quantile buckets."""

    def psi(self, expected: np.ndarray, actual: np.ndarray, buckets: int = 10, floor: float = 1e-6) -> float:
        edges = np.quantile(expected, np.linspace(0, 1, buckets + 1))  # the baseline's quantiles, both ends included
        if len(edges) != len(set(edges)):
            raise ValueError(f"feature has only {len(set(edges))} distinct quantiles; use fewer buckets than {buckets}")
        return float(np.sum((actual - expected) * np.log(np.clip(actual, floor, None) / np.clip(expected, floor, None))))
'''
SQL = """\
SELECT f.feature_name, date_trunc('day', f.observed_at) AS day, percentile_cont(0.5) WITHIN GROUP (ORDER BY f.value) AS median_value
FROM feature_observations AS f
    JOIN model_versions AS m ON m.model_id = f.model_id AND m.deployed_at <= f.observed_at AND (m.retired_at IS NULL OR m.retired_at > f.observed_at)
WHERE f.observed_at >= now() - interval '30 days'
    AND f.feature_name IN ('account_age_days', 'transactions_last_7_days', 'average_basket_value_eur')
GROUP BY 1, 2
ORDER BY 1, 2;
"""
YAML = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: model-server
          image: registry.example.com/ml/fraud-detector:2025-11-27-a1b2c3d4e5f6-with-a-long-tag
          args: ["--model-uri", "s3://models/fraud-detector/production/2025-11-27/model.onnx", "--workers", "4"]
          resources:
            limits: {cpu: "2", memory: 4Gi, nvidia.com/gpu: "1", ephemeral-storage: 10Gi, hugepages-2Mi: 512Mi}
"""
GO = (
    "func (m *Monitor) Check(ctx context.Context, feature string) (float64, error) {\n"
    "\tif err := m.store.Load(ctx, feature, &m.baseline, &m.live, WithTimeout(5*time.Second)); "
    "err != nil {\n"
    '\t\treturn 0, fmt.Errorf("loading %s for the drift check failed: %w", feature, err)\n'
    "\t}\n"
    "\treturn psi(m.baseline, m.live), nil\n"
    "}\n"
)
PLAIN = (
    "$ kubectl rollout undo deployment/model-server --to-revision=41 --namespace fraud-detection\n"
    "    deployment.apps/model-server rolled back to revision 41 of the fraud detection service\n"
)
INDENTED = "    make retrain FEATURES=account_age_days,transactions_last_7_days,basket_value\n"
CODE = {"python": PYTHON, "sql": SQL, "yaml": YAML, "go": GO, "": PLAIN}

# Tall formulas: fractions, big delimiters, limits, matrices, nested scripts and rules.
TALL = [
    r"\frac{n}{2} + \left( \frac{a}{b} \right)^2",
    r"\sum_{i=1}^{n} i = \frac{n(n+1)}{2}",
    r"\lim_{n \to \infty} \left(1 + \frac{1}{n}\right)^n = e",
    r"\begin{pmatrix} a & b \\ c & d \end{pmatrix} \begin{bmatrix} \frac{1}{2} \\ -\frac{\sqrt{3}}{2} \end{bmatrix}",
    r"f(x) = \begin{cases} 0 & x < 0 \\ \frac{x}{2} & x \ge 0 \end{cases}",
    r"\cfrac{1}{1 + \cfrac{1}{1 + \cfrac{1}{x}}}",
    r"y_{i_{j_{k}}}^{a^{b^{c}}} \; \underline{\underline{y}} \; \overline{\overline{x}}",
    r"\underbrace{a + b}_{\text{sum}} \overbrace{c + d}^{\text{top}}",
    r"\sum_{\substack{i=1 \\ j \ne i}}^{N} \prod_{m} \int\limits_{-\infty}^{\infty} e^{-x^2}\,dx",
    r"\left. \frac{\partial^2 f}{\partial x^2} \right|_{x = x_0}",
    r"\left\{ \begin{array}{ll} a & b \\ c & d \\ e & f \end{array} \right.",
    r"\mathrm{KL}(P \parallel Q) = \sum_{x \in \mathcal{X}} P(x) \log \frac{P(x)}{Q(x)}"
    r" = \sum_{x \in \mathcal{X}} P(x) \log P(x) - \sum_{x \in \mathcal{X}} P(x) \log Q(x)",
]


def _block(text: str, indent: str = "      ") -> str:
    return "".join(indent + line if line else "\n" for line in text.splitlines(keepends=True))


def technical_bank(folder: Path) -> Path:
    """A bank whose answers hold long Python, SQL, YAML, Go (tabs) and shell lines, an
    indented code block, tall formulas (display and inline) and GFM tables."""
    fences = "\n".join(
        f"      ```{language}\n{_block(code)}      ```\n" for language, code in CODE.items()
    )
    formulas = "\n".join(
        f"      $${tex}$$\n\n      Inline, \\({tex}\\), in a sentence.\n" for tex in TALL
    )
    text = (
        "role: Technical\nquestions:\n"
        "  - id: long-code\n    difficulty: hard\n    question: Show the code.\n"
        f"    answer: |\n      Code:\n\n{fences}\n      Then:\n\n{_block(INDENTED)}\n"
        "  - id: tall-math\n    difficulty: medium\n    question: Show the math.\n"
        f"    answer: |\n{formulas}"
        "  - id: tables\n    difficulty: easy\n    question: Show the tables.\n"
        f"    answer: |\n      Narrow:\n\n{_block(NARROW)}\n      Prose, ~~one line~~ wrapped:\n\n"
        f"{_block(PROSE)}\n"
        f"      Wide:\n\n{_block(WIDE)}"
    )
    write(folder / "technical.yaml", text)
    return folder


@pytest.fixture(scope="module")
def technical_cards(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[RenderedCard], dict[str, bytes]]:
    """The technical bank and the documented example, rendered by a real Anki."""
    folder = tmp_path_factory.mktemp("technical")
    bank = technical_bank(folder / "content")
    package = build_deck(bank, EXAMPLE, output=folder / "deck.apkg").output
    cards, media = rendered_cards(package, folder / "collection.anki2")
    assert sorted(c.question_id for c in cards) == [
        "detect-data-drift-psi",
        "long-code",
        "safe-payment-retries",  # the training example (its main card)
        "tables",
        "tall-math",
    ]
    return cards, media


def hang_problems(pres: list[dict[str, Any]], where: str) -> tuple[list[str], int]:
    """What is wrong with the wrapped code of one page, and how many lines wrapped.

    Per block, with ``ch`` the code font's column and ``col`` the width one column of
    indentation is drawn at: each line's text starts on the line's own first row, at
    ``indent × col`` from the block's left (``col`` is ``ch``, or less, the same for every
    line, only when the deepest line would leave fewer than 10 columns); every further row
    starts right of that first character and leaves at least 8 columns; blank lines keep a
    line's height; the block does not scroll sideways."""
    problems, wrapped = [], 0
    for n, pre in enumerate(pres):
        if pre["scrollWidth"] > pre["clientWidth"]:
            problems.append(f"{where} pre {n}: scrolls sideways")
        texts = [line for line in pre["lines"] if line["first"] >= 0]
        if not texts:
            continue
        ch = texts[0]["charWidth"]
        deepest = max(texts, key=lambda line: indent_columns(line["text"]))
        depth = indent_columns(deepest["text"])
        col = (deepest["firstLeft"] - pre["contentLeft"]) / depth if depth else ch
        if depth + 10 <= pre["contentWidth"] / ch + 0.01 and abs(col - ch) > 0.05:
            problems.append(f"{where} pre {n}: indents drawn {col:.2f}px a column, not {ch:.2f}")
        if col > ch + 0.05:
            problems.append(f"{where} pre {n}: indents drawn wider than a column")
        for line in pre["lines"]:
            what = f"{where} pre {n}: {line['text'][:30]!r}"
            if line["first"] < 0:  # blank: it keeps a line's height
                if abs(line["height"] - line["lineHeight"]) > 1 and line["height"] > 0:
                    problems.append(f"{what} (blank) is {line['height']}px high")
                continue
            expected = pre["contentLeft"] + indent_columns(line["text"]) * col
            if abs(line["firstLeft"] - expected) > 1:
                problems.append(f"{what} starts at {line['firstLeft']:.1f}, not {expected:.1f}")
            # Its text starts on its own first row, never one row down under the spaces.
            if line["firstTop"] - line["top"] > line["lineHeight"] / 2:
                problems.append(f"{what} starts a row down")
            rows = line["rows"]
            wrapped += len(rows) > 1
            right = pre["contentLeft"] + pre["contentWidth"]
            for left in rows[1:]:
                if left <= line["firstLeft"] + 0.5:
                    problems.append(f"{what} continues at {left:.1f}, not right of its text")
                if right - left < 8 * ch - 1:
                    problems.append(f"{what} continues at {left:.1f}, with under 8 columns")
    return problems, wrapped


@pytest.mark.parametrize("view", list(VIEWS))
def test_wrapped_code_hangs_under_its_own_line(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]],
    card_page: CardPage,
    view: str,
) -> None:
    """Every wrapped row of a code line starts right of that line's first non-space
    character, the first row keeps its indentation, blank lines keep their height, no block
    or card scrolls sideways, and every token keeps AA contrast."""
    cards, media = technical_cards
    problems: list[str] = []
    wrapped = 0
    for card in cards:
        card_page.show(view_document(card.answer, view), VIEWS[view][0], media)
        where = f"{card.question_id} {view}"
        found, count = hang_problems(card_page.page.evaluate(CODE_LINES_JS), where)
        problems += found + problems_in(card_page.measure(), where)
        wrapped += count
    assert problems == []
    # Not vacuous: long lines did wrap (many on a phone, the longest even on a desktop).
    assert wrapped >= (20 if view.startswith("phone") else 5)


# Lines that wrap badly on a 360-px phone: a first word too long for the row after its
# indent (the issue's `self.items.move_to_end(key)` after an `if`), long identifiers, tabs,
# wide characters (CJK, emoji); and a block whose deepest lines go past the row.
NESTED = """\
class LRU:
    def get(self, key):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
    a_very_long_identifier_without_any_place_to_break_it_at_all = 1
\tif err := m.store.Load(ctx, feature, &m.baseline); err != nil {
\t\treturn_value_with_a_long_name = fmt.Errorf("x")
  \tmixed = 1  # a space, then a tab
        名前 = "日本語の文字列はとても長いのでこの行は折り返されるはずです、まだ続きます"
        rockets = "🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀"
"""
DEEP = """\
def outer():
                        deeply_nested_call_with_a_long_name(argument_one, argument_two)
                              x = compute(alpha, beta, gamma, delta)
                                    y = z
\t\t\t\t\t\t\ttabbed_deep = 1
    back = 1
"""


@pytest.mark.parametrize("view", ["phone-light", "desktop-light"])
@pytest.mark.parametrize("language", ["python", ""])
def test_awkward_lines_never_look_nested(card_page: CardPage, view: str, language: str) -> None:
    """On a 360-px phone (AnkiDroid's page) and a desktop: every code line's text starts on
    its own first row at its indent, every continuation starts right of that line's first
    character with room to read, and selecting a block gives its source exactly."""
    (note, *_) = notes_for(run_load([str(CONTENT)]))
    answer = "".join(f"Code:\n\n```{language}\n{code}```\n\n" for code in (NESTED, DEEP))
    notetype = note_type()
    back = card_view(notetype, replace(note, question=note.question._replace(answer=answer))).back
    card_page.show(view_document(f"<style>{notetype.css}</style>{back}", view), VIEWS[view][0])
    pres = card_page.page.evaluate(CODE_LINES_JS)
    problems, wrapped = hang_problems(pres, view)
    assert problems == []
    assert wrapped >= (8 if view.startswith("phone") else 0)
    for index, code in enumerate((NESTED, DEEP)):
        assert card_page.page.evaluate(SELECT_JS, [index, None, None]) == code.removesuffix("\n")
        assert pres[index]["innerText"] == code


def test_copying_code_gives_the_source(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]], card_page: CardPage
) -> None:
    """Selecting a code block, or part of it across wrapped rows, gives exactly the source
    text: no character is added at a wrap or between lines, none is lost."""
    cards, media = technical_cards
    card = next(c for c in cards if c.question_id == "long-code")
    card_page.show(card_document(card.answer, night=False), PHONE, media)
    sources = [*CODE.values(), INDENTED.removeprefix("    ")]
    pres = card_page.page.evaluate(CODE_LINES_JS)
    assert [p["innerText"] for p in pres] == sources
    for index, source in enumerate(sources):
        # A whole block, as the browser copies it (without the block's last newline).
        whole = card_page.page.evaluate(SELECT_JS, [index, None, None])
        assert whole == source.removesuffix("\n")
        start, end = len(source) // 5, len(source) * 4 // 5  # across several wrapped rows
        assert card_page.page.evaluate(SELECT_JS, [index, start, end]) == source[start:end]


@pytest.mark.parametrize("view", list(VIEWS))
def test_no_formula_is_cut_off(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]],
    card_page: CardPage,
    view: str,
) -> None:
    """With Anki's MathJax typesetting, every formula, display or inline, holds all of its
    drawing: nothing scrolls or sticks out vertically; a wider one scrolls sideways inside
    its own box, never the card; no TeX error."""
    need_mathjax()
    cards, media = technical_cards
    problems: list[str] = []
    for card in cards:
        where = f"{card.question_id} {view}"
        card_page.show(view_document(card.answer, view, mathjax=True), VIEWS[view][0], media)
        found = card_page.page.evaluate(FORMULAS_JS)
        assert len(found) == len(re.findall(r'(?<!tex2jax_ignore">)\\[(\[]', card.answer)), where
        for n, f in enumerate(found):
            what = f"{where} formula {n} ({f['tex']!r})"
            if f["errors"]:
                problems.append(f"{what}: TeX error")
            if f["scrollHeight"] > f["clientHeight"]:
                problems.append(f"{what}: {f['scrollHeight']} > {f['clientHeight']} high")
            if f["below"] > 0.5 or f["above"] > 0.5:
                problems.append(f"{what}: drawn {f['above']:.1f} above, {f['below']:.1f} below")
        problems += problems_in(card_page.measure(), where)
    assert problems == []


def test_inline_formulas_sit_where_mathjax_puts_them(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]], card_page: CardPage
) -> None:
    """The room a formula's box keeps for its drawing changes no line: each inline formula
    and each paragraph is where it is with MathJax's own layout."""
    need_mathjax()
    cards, media = technical_cards
    card = next(c for c in cards if c.question_id == "detect-data-drift-psi")
    plain = (
        "<style>.iq mjx-container[jax]:not([display]) { display: inline; padding: 0; margin: 0;"
        " overflow: visible; }</style>"
    )
    where = """() => [...document.querySelectorAll("mjx-math, p")].map((e) => {
                 const r = e.getBoundingClientRect(); return [r.left, r.top, r.bottom]; })"""
    boxes = []
    for extra in ("", plain):
        card_page.show(card_document(card.answer + extra, night=False, mathjax=True), PHONE, media)
        boxes.append(card_page.page.evaluate(where))
    assert len(boxes[0]) == len(boxes[1]) > 6
    for ours, theirs in zip(*boxes, strict=True):
        assert ours == pytest.approx(theirs, abs=0.5)


def table(head: list[str], rows: list[list[str]], rule: list[str] | None = None) -> str:
    """A GFM table in Markdown (``rule``: the delimiter row's cells, for alignment)."""
    lines = [head, rule or ["---"] * len(head), *rows]
    return "".join("| " + " | ".join(cells) + " |\n" for cells in lines)


NARROW = table(
    ["Metric", "Alert at"], [["PSI", "0.25"], ["KL", "0.1"], ["Nulls", "5 %"]], [":--", "--:"]
)
PROSE = table(
    ["Rollout", "What happens"],
    [
        ["Canary", "A small share of live traffic goes to the new model first, watched closely"],
        ["Shadow", "The new model sees real traffic, but its answers are thrown away"],
        ["Blue-green", "Two full stacks; the router switches all traffic at once"],
    ],
)
WIDE = table(
    [f"Feature {i}" for i in range(8)],
    [[f"bucket_{i}_{j}: 0.{i}{j}" for i in range(8)] for j in range(5)],
)


TABLE_JS = """
() => {
  const parse = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => {
    const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    const [r, g, b] = parse(c);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
                            return (x + 0.05) / (y + 0.05); };
  const card = document.body.getBoundingClientRect();
  // The colour behind an element: its translucent layers over the first opaque one.
  const opaque = (e) => {
    const layers = [];
    for (; e; e = e.parentElement) {
      const [r, g, b, a = 1] = parse(getComputedStyle(e).backgroundColor);
      if (a > 0) layers.push([r, g, b, a]);
      if (a >= 1) break;
    }
    let [r, g, b] = [255, 255, 255];
    for (const [lr, lg, lb, la] of layers.reverse()) {
      [r, g, b] = [lr * la + r * (1 - la), lg * la + g * (1 - la), lb * la + b * (1 - la)];
    }
    return `rgb(${r}, ${g}, ${b})`;
  };
  return [...document.querySelectorAll("table")].map((t) => {
    const rows = [...t.querySelectorAll("tbody tr")].map((r) => opaque(r));
    const cells = [...t.querySelectorAll("th, td")].map((c) => {
      const s = getComputedStyle(c);
      return ratio(s.borderBottomColor, opaque(c));
    });
    const box = t.getBoundingClientRect();
    return {scrollWidth: t.scrollWidth, clientWidth: t.clientWidth, width: box.width,
            right: box.right, cardRight: card.right, rows, minRule: Math.min(...cells),
            stripe: ratio(rows[0], rows[1])};
  });
}
"""


@pytest.mark.parametrize("view", list(VIEWS))
def test_tables_fit_or_scroll_in_their_own_box(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]],
    card_page: CardPage,
    view: str,
) -> None:
    """A narrow table fits, a table of prose wraps its cells to fit, a wide one scrolls
    inside its own box (bare or in a wrapper) and never the card; zebra rows that stand
    apart, rules with 3:1 contrast on every row colour, and AA text, on each app's
    background."""
    cards, _ = technical_cards
    card = next(c for c in cards if c.question_id == "tables")
    assert card.answer.count("<table>") == 3
    wide = card.answer[card.answer.rindex("<table>") : card.answer.rindex("</table>") + 8]
    head, tail = card.answer.rsplit("</div>\n</div>", 1)  # the answer's end
    wrapped = f'{head}<div class="iq-table">{wide}</div></div>\n</div>{tail}'
    card_page.show(view_document(wrapped, view), VIEWS[view][0])
    assert problems_in(card_page.measure(), f"tables {view}") == []
    narrow, prose, wide_box, wrapped_box = card_page.page.evaluate(TABLE_JS)
    assert narrow["scrollWidth"] <= narrow["clientWidth"]
    assert narrow["width"] < 300  # as wide as its content, not the card
    assert prose["scrollWidth"] <= prose["clientWidth"]
    for scrolling in (wide_box, wrapped_box):
        if view.startswith("phone"):
            assert scrolling["scrollWidth"] > scrolling["clientWidth"]
        assert scrolling["right"] <= scrolling["cardRight"]
    for t in (narrow, prose, wide_box, wrapped_box):
        assert t["minRule"] >= 3
        assert len(set(t["rows"][0::2])) == len(set(t["rows"][1::2])) == 1
        assert t["stripe"] >= 1.1, t["rows"][:2]  # zebra: the stripes stand apart


def test_struck_text_and_aligned_columns_reach_the_card(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]], card_page: CardPage
) -> None:
    """GFM strikethrough and column alignment, as Anki renders the card: the text is struck
    through and the right-aligned column is right-aligned on the page."""
    cards, _ = technical_cards
    card = next(c for c in cards if c.question_id == "tables")
    assert "<del>one line</del>" in card.answer
    card_page.show(card_document(card.answer, night=False), PHONE)
    struck, align = card_page.page.evaluate(
        """() => [getComputedStyle(document.querySelector("del")).textDecorationLine,
                  getComputedStyle(document.querySelector("table td:last-child")).textAlign]"""
    )
    assert struck == "line-through"
    assert align == "right"
