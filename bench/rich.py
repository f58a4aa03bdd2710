"""What math, highlighted code and images cost a build (writes its section of BENCHMARKS.md).

    .venv/bin/python bench/rich.py [--questions 1000] [--repeat 5]

Two measurements. Per field, in-process: rendering 1,000 answers that each hold one
12-line fenced Python block (highlighted), the same blocks with no language (not
highlighted), and 1,000 answers with two formulas each, against plain prose of the same
length. Per build, whole processes, medians: a bank of N questions whose every answer holds
a highlighted block and a formula, a bank whose every question shows its own image, and the
same bank as plain prose.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
BEGIN, END = "<!-- rich:begin -->", "<!-- rich:end -->"

CODE = """def psi(expected, actual, buckets=10):
    # Population stability index between two samples (question {i}).
    edges = np.quantile(expected, np.linspace(0, 1, buckets + 1))
    e = np.histogram(expected, edges)[0] / len(expected)
    a = np.histogram(actual, edges)[0] / len(actual)
    e, a = np.clip(e, 1e-6, None), np.clip(a, 1e-6, None)
    total = 0.0
    for share_e, share_a in zip(e, a):
        total += (share_a - share_e) * np.log(share_a / share_e)
    if total > 0.25:
        print("significant shift", total)
    return float(total)
"""
PROSE = "Compare the live distribution with the training baseline over the same buckets. "


def answer(kind: str, i: int) -> str:
    head = f"Answer {i}: " + PROSE * 2
    code = CODE.replace("{i}", str(i))  # every block differs, as in a real bank
    if kind == "code":
        return f"{head}\n\n```python\n{code}```\n\nAbove \\(0.25\\) is a shift: $PSI_{i}$."
    if kind == "fence":
        return f"{head}\n\n```\n{code}```\n\nAbove 0.25 is a shift."
    if kind == "math":
        return f"{head}\n\n$$PSI = \\sum_i (a_i - e_i) \\ln \\frac{{a_i}}{{e_i}}$$ and $x_{i}$."
    if kind == "image":
        return f"{head}\n\n![diagram {i}](img/d{i}.png)"
    return f"{head}\n\n" + PROSE * 6


def per_field(n: int) -> list[str]:
    from exporter.markup.highlight import highlight
    from exporter.markup.markdown import to_html

    rows = []
    base = None
    for kind, label in (
        ("prose", "plain prose of similar length"),
        ("fence", "a 12-line fence, no language"),
        ("code", "a 12-line Python fence, highlighted, + 2 formulas"),
        ("math", "a display formula + an inline one"),
    ):
        texts = [answer(kind, i) for i in range(n)]
        to_html(texts[0])  # imports and caches, untimed
        times = []
        for _ in range(3):
            highlight.cache_clear()  # each block is new to the build, as in a real one
            start = time.perf_counter()
            for text in texts:
                to_html(text)
            times.append(time.perf_counter() - start)
        best = min(times)
        base = base if base is not None else best
        rows.append(f"| {label} | {best:.3f} | {best - base:+.3f} |")
    return [
        f"### Rendering {n:,} answers (best of 3, in-process)",
        "",
        "| each answer holds | s | s over prose |",
        "| --- | ---: | ---: |",
        *rows,
        "",
    ]


def make_bank(folder: Path, kind: str, n: int) -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "render"))
    from test_rich_content import png

    folder.mkdir(parents=True, exist_ok=True)
    lines = ["role: Bench", "questions:"]
    for i in range(n):
        body = "\n".join("      " + line if line else "" for line in answer(kind, i).split("\n"))
        lines += [
            f"  - id: q-{i}",
            "    difficulty: medium",
            f"    question: What is question {i} about?",
            "    answer: |",
            body,
        ]
        if kind == "image":
            (folder / "img").mkdir(exist_ok=True)
            (folder / "img" / f"d{i}.png").write_bytes(png(64, 32, (i % 256, 80, 160)))
    (folder / "bank.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def timed(argv: list[str], before: Callable[[], None], repeat: int) -> float:
    times = []
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764201600"}
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_build(n: int, repeat: int, work: Path) -> list[str]:
    deck = str(Path(sys.executable).parent / "interview-deck")
    rows = []
    base = None
    for kind, label in (
        ("prose", "plain prose"),
        ("code", "a highlighted 12-line block + 2 formulas in every answer"),
        ("image", "one 64x32 PNG per question"),
    ):
        bank = make_bank(work / kind, kind, n)
        out = work / f"{kind}.apkg"

        def fresh(out: Path = out) -> None:
            out.unlink(missing_ok=True)
            out.with_name(out.stem + ".lock.json").unlink(missing_ok=True)

        seconds = timed([deck, "build", str(bank), "-o", str(out), "--no-cache"], fresh, repeat)
        base = base if base is not None else seconds
        size = out.stat().st_size / 2**20
        rows.append(f"| {label} | {seconds:.2f} | {seconds - base:+.2f} | {size:.1f} |")
    return [
        f"### Full builds of {n:,} questions (median of {repeat}, whole processes)",
        "",
        "| every question holds | s | s over prose | package MiB |",
        "| --- | ---: | ---: | ---: |",
        *rows,
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "rich")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    body = ["## Math, highlighted code and images", ""]
    body += [f"Made by `bench/rich.py` on {os.cpu_count()} cores, Python {sys.version.split()[0]}."]
    body += [
        "",
        "Math costs nothing measurable (pulldown-cmark's math events, no typesetting at build",
        "time: Anki's MathJax does that on the device). Images cost reading and hashing each",
        "file once. The cost is highlighting: Pygments' regex lexer takes about 1 ms for a",
        "12-line block, so **about 1 s per 1,000 distinct highlighted blocks** in a first",
        "build (one process). A block repeated in a build is highlighted once (the last 4,096",
        "distinct blocks are remembered), and the field cache keeps notes with code, so a",
        "rebuild highlights only the notes whose text changed.",
        "",
    ]
    body += per_field(args.questions)
    body += per_build(args.questions, args.repeat, args.work)
    print("\n".join(body))
    text = args.report.read_text(encoding="utf-8")
    block = "\n".join([BEGIN, *body, END])
    if BEGIN in text:
        head, _, rest = text.partition(BEGIN)
        text = head + block + rest.partition(END)[2]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    args.report.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
