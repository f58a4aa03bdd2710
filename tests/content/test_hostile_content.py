"""Hostile content: nothing in a content file can put live markup on a card (role, question
and answer are escaped) or exhaust the machine (a YAML alias bomb fails fast, in little
memory)."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import (
    ROOT,
    Anki,
    Builder,
    child_env,
    exporter_command,
    hang_guard,
    make_bank,
    one_error,
    question,
    run_cli,
    write,
)

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & <b onclick=go()>hi</b>'
TEMPLATE_TAGS = {"div", "span", "h2", "hr", "p", "br", "style"}  # our templates and text.py


class Tags(HTMLParser):
    """Collects every start tag and its attribute names."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [name for name, _value in attrs]))


def live_tags(card_html: str) -> list[tuple[str, list[str]]]:
    """Every tag a browser would create from ``card_html``, with its attribute names."""
    parser = Tags()
    parser.feed(card_html)
    return parser.tags


def test_markup_in_content_shows_as_text_on_the_card(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """HTML in role, question and answer is escaped: Anki renders it as text, never as tags."""
    src = make_bank(
        tmp_path / "c",
        [question("hostile", text=HOSTILE, answer=HOSTILE)],
        role="R&D <img src=x onerror=alert(2)>",
        filename="x.yaml",
    )
    anki.import_package(build(src).output)
    (note,) = anki.notes()
    card = note.cards()[0]
    for shown in (card.question(), card.answer()):
        tags = live_tags(shown)
        assert {tag for tag, _attrs in tags} <= TEMPLATE_TAGS, tags
        assert not [a for _tag, attrs in tags for a in attrs if a.startswith("on")]
        assert "<script" not in shown
        assert "<img" not in shown
        assert "<b " not in shown
        assert '&lt;script&gt;alert("x")&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;' in shown
        assert "R&amp;D &lt;img src=x onerror=alert(2)&gt;" in shown
    assert "&lt;b onclick=go()&gt;hi&lt;/b&gt;" in card.answer()


def billion_laughs(levels: int = 12, width: int = 10) -> str:
    """The classic entity-expansion bomb, in YAML aliases: width**levels values if expanded."""
    lines = ["role: Laughs", 'l0: &l0 "lol"']
    lines.extend(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels + 1))
    lines.append(f"questions: *l{levels}")
    return "\n".join(lines) + "\n"


# The child runs under a CPU-time limit (what an expansion would burn, whatever else the
# machine is doing) and reports its peak memory; no wall clock is read.
MEASURE = """
import resource, subprocess, sys
def limit():
    resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, preexec_fn=limit)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(done.returncode, usage.ru_maxrss)
sys.stderr.write(done.stderr)
"""


def test_billion_laughs_fails_fast_in_little_memory(tmp_path: Path) -> None:
    """A YAML alias bomb (10**12 values) is refused at its first alias, within a CPU-time
    limit and under 100 MB: nothing is expanded."""
    bomb = write(tmp_path / "bomb.yaml", billion_laughs())
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *exporter_command("validate", bomb)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    code, peak_kib = done.stdout.split()
    assert int(code) == 1
    assert f"{bomb}:3:" in done.stderr
    assert "YAML alias '*l0' is not supported" in done.stderr
    assert "Traceback" not in done.stderr
    assert int(peak_kib) < 100 * 1024  # ru_maxrss is in KiB on Linux


# The child runs under an address-space limit (what rendering may take, whatever the
# machine has) and a CPU-time limit; it reports its exit code.
LIMITED = """
import resource, subprocess, sys
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, preexec_fn=limit)
print(done.returncode)
sys.stderr.write(done.stderr)
"""


@pytest.mark.slow  # large inputs: the full tier
def test_a_huge_answer_is_refused_before_rendering(tmp_path: Path) -> None:
    """A 16 MB answer of ``*a* *a* …`` (rendering takes ~100 bytes a byte) is refused at its
    line before anything renders it: under a 1 GiB address-space limit, validate and build
    print one line and exit 1, write nothing and leave no scratch folder behind."""
    huge = "*a* " * (4 * 2**20)
    src = write(
        tmp_path / "c" / "bank.yaml",
        "role: R\nquestions:\n  - id: small\n    difficulty: easy\n    question: Q?\n"
        "    answer: A.\n  - id: huge\n    difficulty: easy\n    question: Q?\n"
        f"    answer: |-\n      {huge}\n",
    )
    line = 10
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "d" / "deck.apkg"
    env = child_env({"TMPDIR": str(scratch), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    commands: list[list[str | Path]] = [["validate", src], ["build", src, "-o", out]]
    for args in commands:
        done = subprocess.run(
            [sys.executable, "-c", LIMITED, *exporter_command(*args)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
        assert done.stdout.split() == ["1"], done.stderr[-2000:]
        assert done.stderr.splitlines() == [
            f"{src}:{line}: 'answer' is 16,384 KiB of text; the limit is 256 KiB a question "
            "or answer: split it into several questions",
            "1 problem found.",
        ]
        assert list(scratch.iterdir()) == []
    assert not out.parent.exists()


def test_the_longest_text_allowed_still_builds(tmp_path: Path) -> None:
    """An answer just under the limit builds (the limit refuses no real answer)."""
    from exporter.content.check import MAX_TEXT_BYTES

    answer = ("word " * (MAX_TEXT_BYTES // 5))[: MAX_TEXT_BYTES - 8]
    src = make_bank(tmp_path / "c", [question("long", answer=answer)])
    assert Builder(tmp_path / "out.apkg")(src).status == "written"


# Formulas Anki's MathJax would turn into a live link, a class, an id or a style on the card,
# or that define commands (which could build one): each refused at its own line. Spellings:
# spaces, another case, entities in the address, every delimiter, every place text goes.
CODE_RUNNING_FORMULAS = [
    ("$\\href{javascript:alert(1)}{x}$", "\\href"),
    ("$\\href {javascript:alert(1)} {x}$", "\\href"),
    ("$\\href{ JAVAS&#67;RIPT:alert(1)}{x}$", "\\href"),
    ("\\(\\style{position:fixed;top:0;left:0;width:100%;height:100%}{x}\\)", "\\style"),
    ("\\[\\class{pv-bar}{x}\\]", "\\class"),
    ("$$\\cssId{answer}{x}$$", "\\cssId"),
    ("$\\data{x=1}{y}$", "\\data"),
    ("$\\HREF{javascript:alert(1)}{x}$", "\\HREF"),
    ("$$\n\\href{javascript:alert(1)}{x}\n$$", "\\href"),
    ("| a | $\\href{javascript:alert(1)}{x}$ |\n|---|---|\n| 1 | 2 |", "\\href"),
    ("## \\(\\mmlToken{mi}[href='javascript:alert(1)']{x}\\)", "\\mmlToken"),
    ("- item $\\bbox[position:fixed]{x}$", "\\bbox"),
    ("$\\text{\\href{javascript:alert(1)}{x}}$", "\\href"),
    ("$\\unicode[fixed]{x41}$", "\\unicode"),
    ("$\\require{setoptions}$", "\\require"),
    ("$\\def\\h{\\mathrm{x}}\\h$", "\\def"),
    ("$\\newcommand{\\h}{x}\\h$", "\\newcommand"),
    ("$\\let\\h=\\alpha \\h$", "\\let"),
    ("[a link $\\style{color:red}{x}$](https://example.com)", "\\style"),
]


def test_formulas_that_could_run_code_are_refused_at_their_line(tmp_path: Path) -> None:
    """``\\href``, ``\\style``, ``\\class``, ``\\cssId``, ``\\data`` (and ``\\mmlToken``,
    ``\\bbox``, ``\\unicode``, ``\\require``, and the commands that define commands) in a
    formula of a question or an answer, whatever its delimiters and wherever it stands, are
    each a problem at their line with their own code; nothing is built."""
    lines = ["role: R", "questions:"]
    expected = []
    for i, (formula, command) in enumerate(CODE_RUNNING_FORMULAS):
        in_question = i % 3 == 0
        lines += [f"  - id: q{i}", "    difficulty: easy"]
        if in_question:
            lines += ["    question: |", "      Before?", ""]
        else:
            lines += ["    question: Q?", "    answer: |", "      Before.", ""]
        expected.append((len(lines) + 1, command))
        lines += ["      " + line for line in formula.split("\n")]
        if in_question:
            lines += ["    answer: A."]
    src = write(tmp_path / "c" / "bank.yaml", "\n".join(lines) + "\n")
    out = tmp_path / "d" / "deck.apkg"
    result = run_cli(["build", str(src), "-o", str(out), "--format", "json"])
    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)["problems"]
    assert [(p["line"], p["code"]) for p in problems] == [
        (line, "math-command-refused") for line, _ in expected
    ]
    for problem, (_, command) in zip(problems, expected, strict=True):
        assert f"uses {command}" in problem["message"]
    assert not out.parent.exists()


def test_a_long_list_of_tags_is_checked_in_linear_work(tmp_path: Path) -> None:
    """200,000 tags with the first repeated at the end (each tag was once compared with
    every tag before it): the one problem is found at once, at the repeat's line."""
    tags = "".join(f"\n      - t{i}" for i in range(200_000))
    text = f"role: R\nquestions:\n  - id: a\n    difficulty: easy\n    question: Q\n    answer: A\n    tags:{tags}\n      - t0\n"
    with hang_guard(60):
        result = run_cli(["validate", str(write(tmp_path / "tags.yaml", text))])
    assert "tags.yaml:200008: tag 't0' is listed twice" in one_error(result)
