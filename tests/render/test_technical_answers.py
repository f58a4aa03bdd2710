"""Technical answers read well on a 360-px phone and on a desktop, light and night, in real
Anki renders shown in Chromium with Anki's MathJax typesetting: wrapped code hangs under its
own line and copies as the source, no formula is cut off, tables fit or scroll in their own
box, and the page never scrolls sideways."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from browser import (
    CODE_LINES_JS,
    DESKTOP,
    FORMULAS_JS,
    PHONE,
    SELECT_JS,
    CardPage,
    card_document,
    need_mathjax,
)
from exporter.markup.highlight import indent_columns
from helpers import ROOT, RenderedCard, build_deck, problems_in, rendered_cards, write

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
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
    """What is wrong with the wrapped code of one page, and how many lines wrapped."""
    problems, wrapped = [], 0
    for n, pre in enumerate(pres):
        if pre["scrollWidth"] > pre["clientWidth"]:
            problems.append(f"{where} pre {n}: scrolls sideways")
        for line in pre["lines"]:
            if line["first"] < 0:  # blank: it keeps a line's height
                if abs(line["height"] - line["lineHeight"]) > 1 and line["height"] > 0:
                    problems.append(f"{where} pre {n}: a blank line is {line['height']}px")
                continue
            # The first row keeps the line's indentation, every further row starts right
            # of the line's first non-space character.
            indent = indent_columns(line["text"])
            expected = pre["contentLeft"] + indent * line["charWidth"]
            if abs(line["firstLeft"] - expected) > 1:
                problems.append(
                    f"{where} pre {n}: {line['text'][:30]!r} starts at {line['firstLeft']:.1f}, "
                    f"not {expected:.1f}"
                )
            rows = line["rows"]
            wrapped += len(rows) > 1
            problems.extend(
                f"{where} pre {n}: {line['text'][:30]!r} continues at {left:.1f}, not right "
                f"of {line['firstLeft']:.1f}"
                for left in rows[1:]
                if left <= line["firstLeft"] + 0.5
            )
    return problems, wrapped


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_wrapped_code_hangs_under_its_own_line(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]],
    card_page: CardPage,
    size: str,
    night: bool,
) -> None:
    """Every wrapped row of a code line starts right of that line's first non-space
    character, the first row keeps its indentation, blank lines keep their height, no block
    or card scrolls sideways, and every token keeps AA contrast."""
    cards, media = technical_cards
    problems: list[str] = []
    wrapped = 0
    for card in cards:
        card_page.show(card_document(card.answer, night=night), VIEWPORTS[size], media)
        where = f"{card.question_id} {size}"
        found, count = hang_problems(card_page.page.evaluate(CODE_LINES_JS), where)
        problems += found + problems_in(card_page.measure(), where)
        wrapped += count
    assert problems == []
    # Not vacuous: long lines did wrap (many on a phone, the longest even on a desktop).
    assert wrapped >= (20 if size == "phone" else 5)


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


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_no_formula_is_cut_off(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]],
    card_page: CardPage,
    size: str,
    night: bool,
) -> None:
    """With Anki's MathJax typesetting, every formula, display or inline, holds all of its
    drawing: nothing scrolls or sticks out vertically; a wider one scrolls sideways inside
    its own box, never the card; no TeX error."""
    need_mathjax()
    cards, media = technical_cards
    problems: list[str] = []
    for card in cards:
        where = f"{card.question_id} {size}"
        card_page.show(
            card_document(card.answer, night=night, mathjax=True), VIEWPORTS[size], media
        )
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
  const opaque = (e) => { for (; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor; if (parse(c)[3] !== 0) return c; } };
  return [...document.querySelectorAll("table")].map((t) => {
    const rows = [...t.querySelectorAll("tbody tr")].map((r) => opaque(r));
    const cells = [...t.querySelectorAll("th, td")].map((c) => {
      const s = getComputedStyle(c);
      return ratio(s.borderBottomColor, opaque(c));
    });
    const box = t.getBoundingClientRect();
    return {scrollWidth: t.scrollWidth, clientWidth: t.clientWidth, width: box.width,
            right: box.right, cardRight: card.right, rows, minRule: Math.min(...cells)};
  });
}
"""


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_tables_fit_or_scroll_in_their_own_box(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]],
    card_page: CardPage,
    size: str,
    night: bool,
) -> None:
    """A narrow table fits, a table of prose wraps its cells to fit, a wide one scrolls
    inside its own box (bare or in a wrapper) and never the card; zebra rows, rules with 3:1
    contrast on every row colour, and AA text, in both themes."""
    cards, _ = technical_cards
    card = next(c for c in cards if c.question_id == "tables")
    assert card.answer.count("<table>") == 3
    wide = card.answer[card.answer.rindex("<table>") : card.answer.rindex("</table>") + 8]
    head, tail = card.answer.rsplit("</div>\n</div>", 1)  # the answer's end
    wrapped = f'{head}<div class="iq-table">{wide}</div></div>\n</div>{tail}'
    card_page.show(card_document(wrapped, night=night), VIEWPORTS[size])
    assert problems_in(card_page.measure(), f"tables {size}") == []
    narrow, prose, wide_box, wrapped_box = card_page.page.evaluate(TABLE_JS)
    assert narrow["scrollWidth"] <= narrow["clientWidth"]
    assert narrow["width"] < 300  # as wide as its content, not the card
    assert prose["scrollWidth"] <= prose["clientWidth"]
    for scrolling in (wide_box, wrapped_box):
        if size == "phone":
            assert scrolling["scrollWidth"] > scrolling["clientWidth"]
        assert scrolling["right"] <= scrolling["cardRight"]
    for t in (narrow, prose, wide_box, wrapped_box):
        assert t["minRule"] >= 3
        assert len(set(t["rows"][0::2])) == len(set(t["rows"][1::2])) == 1
        assert t["rows"][0] != t["rows"][1]  # zebra


def test_struck_text_and_aligned_columns_reach_the_card(
    technical_cards: tuple[list[RenderedCard], dict[str, bytes]], card_page: CardPage
) -> None:
    """GFM strikethrough and column alignment, as Anki renders the card: the text is struck
    through and the right-aligned column is right-aligned on the page."""
    cards, _ = technical_cards
    card = next(c for c in cards if c.question_id == "tables")
    assert "<s>one line</s>" in card.answer
    card_page.show(card_document(card.answer, night=False), PHONE)
    struck, align = card_page.page.evaluate(
        """() => [getComputedStyle(document.querySelector("s")).textDecorationLine,
                  getComputedStyle(document.querySelector("table td:last-child")).textAlign]"""
    )
    assert struck == "line-through"
    assert align == "right"
