"""The one pass over YAML events (``exporter.content.events``) loads what the node walk loads:
the same role files, values and line numbers, the same warnings; on anything else it steps
aside, so every problem is the node walk's (same file:line, code and text). Checked on the
shipped bank, the examples, the invalid cases, the benchmark's banks and generated files."""

from __future__ import annotations

import gc
import json
import shutil
from pathlib import Path
from unittest.mock import patch

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from exporter.content import load
from exporter.content.check import check_file
from exporter.content.events import one_pass
from exporter.content.load import LoadedFile, check_bytes, collector_paused
from exporter.content.model import DIFFICULTIES
from exporter.content.sources import SourceFile, decode
from exporter.content.spec import QUESTION_KEYS
from exporter.content.yamlnodes import compose
from helpers import CONTENT, INVALID, ROOT, examples
from strategies import TEXT

Outcome = tuple[object, ...]


def outcome(loaded: LoadedFile) -> Outcome:
    """All a load says, codes included (they take no part in a problem's equality)."""
    return (
        loaded.role_file,
        loaded.ids,
        [(e, e.code) for e in loaded.errors],
        [(w, w.code) for w in loaded.warnings],
    )


def both_ways(path: Path, raw: bytes) -> tuple[Outcome, Outcome, bool]:
    """The load of ``raw`` as the file ``path`` with the one pass and with the node walk
    alone, and whether the one pass took the file."""
    source = SourceFile(path, path.name, path.parent)
    fast = outcome(check_bytes(source, raw))
    with patch.object(load, "one_pass", return_value=None):
        slow = outcome(check_bytes(source, raw))
    text, err = decode(raw, path.name)
    return fast, slow, err is None and one_pass(text, path.name) is not None


def _synthetic_banks(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The benchmark's banks: realistic and plain prose over several files, and answers
    with code, fences, math and images (bench/synth.py, bench/rich.py)."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import rich
    import synth

    banks = [synth.make_bank(folder / "synth", 600), synth.make_bank(folder / "p", 300)]
    banks += [synth.make_bank(folder / "plain", 200, realistic=False, files=3)]
    kinds = ("code", "fence", "math", "image")
    return banks + [rich.make_bank(folder / kind, kind, 30) for kind in kinds]


def test_every_good_file_takes_the_one_pass_and_loads_as_the_node_walk_loads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped bank, the examples and the benchmark's banks: each file is read in one
    pass, to the role file (values, lines, images), ids and warnings of the node walk."""
    folders = [CONTENT, *sorted(p for p in (ROOT / "docs/examples").iterdir() if p.is_dir())]
    files = [p for f in folders + _synthetic_banks(tmp_path, monkeypatch) for p in f.glob("*.yaml")]
    assert len(files) >= 10
    for path in files:
        fast, slow, taken = both_ways(path, path.read_bytes())
        assert taken, path
        assert fast == slow, path
        assert fast[0] is not None, path


def test_every_invalid_case_loads_as_the_node_walk_loads_it() -> None:
    """The invalid cases (tests/data/invalid): the one pass steps aside, so each file's
    problems are the node walk's, word for word and code for code."""
    files = sorted(INVALID.rglob("*.yaml"))
    assert len(files) >= 50
    for path in files:
        fast, slow, _taken = both_ways(path, path.read_bytes())
        assert fast == slow, path


LONG = "a point of " + "many words " * 20  # past KEY_POINT_MAX: a warning
EVERY_KEY = f"""\
role: Trainer
description: >
  Drills,
  folded.
deck: Training::Drills
questions:
  - id: every-key
    difficulty: hard
    question: |
      What does this show?

      ![diagram](pic.svg)
    answer: |-
      Text with $x$ math,

      ```klingon
      qapla
      ```
    key_points:
      - "the first point"
      - |-
        a point in a block
      - {LONG}
    hint: "Look at ![hint](pic.svg)"
    follow_ups:
      - "And ![then](pic.svg)?"
      - Why?
    reverse: yes
    tags: [a, b-c]
    guid: "abc!def"
  - {{id: flow, difficulty: easy, question: 'Q?', answer: "A.", reverse: Off, tags: []}}
  -   id: indented
      difficulty: medium
      question: "Where is ![it](pic.svg)?"
      answer: 'Here.'
      reverse: NO
"""
# Files the one pass reads: every key, and the ways YAML writes them.
GOOD = {
    "every key": EVERY_KEY,
    "CRLF line ends": EVERY_KEY.replace("\n", "\r\n"),
    "a BOM and document marks": "\ufeff---\n" + EVERY_KEY + "...\n",
    "a line break YAML reads in text": EVERY_KEY.replace("Why?", '"Why\u2028now?"'),
    "an image not found": EVERY_KEY.replace("Where is ![it](pic.svg)", "![it](gone.png)"),
    "comments and flow style": "# top\n{role: R, questions: [{id: x, difficulty: easy, "
    "question: Q, answer: A}]}  # end\n",
}
# Files it leaves to the node walk: each is a problem but for the anchor, which the walk
# takes (and the '!!str' tag, which it takes too).
ASIDE = {
    "a tag twice": EVERY_KEY.replace("[a, b-c]", "[a, a]"),
    "a number for a tag": EVERY_KEY.replace("[a, b-c]", "[a, 12]"),
    "reverse as text": EVERY_KEY.replace("reverse: yes", "reverse: 'yes'"),
    "math left open in a hint": EVERY_KEY.replace("Look at", "Look at $$"),
    "a follow-up twice": EVERY_KEY.replace("Why?", "'And ![then](pic.svg)?'"),
    "a key point that is a list": EVERY_KEY.replace("the first point", "- a\\n- b"),
    "a guid with a space": EVERY_KEY.replace("abc!def", "abc def"),
    "an empty deck part": EVERY_KEY.replace("Training::Drills", "Training::"),
    "an unknown key": EVERY_KEY.replace("hint:", "hnit:"),
    "a key twice": EVERY_KEY.replace("hint:", "answer:"),
    "an anchor": EVERY_KEY.replace("Why?", "&why Why?"),
    "an alias": EVERY_KEY.replace("Why?", "*why"),
    "a '!!str' tag": EVERY_KEY.replace("Why?", "!!str Why?"),
    "an unknown tag": EVERY_KEY.replace("Why?", "!why Why?"),
    "a second document": EVERY_KEY + "---\nrole: B\n",
    "a syntax error": EVERY_KEY.replace("Why?", "Why: this?"),
    "nothing": "",
    "a list": "- role: R\n",
}


@pytest.mark.parametrize("case", [*GOOD, *ASIDE])
def test_each_kind_of_file_loads_as_the_node_walk_loads_it(case: str, tmp_path: Path) -> None:
    """Each key, each way of writing it, and each thing the one pass steps aside for: the
    good files are read in one pass, to what the node walk reads, images resolved."""
    shutil.copy(
        ROOT / "docs/examples/ml-monitoring/diagrams/drift-monitor.svg", tmp_path / "pic.svg"
    )
    fast, slow, taken = both_ways(
        tmp_path / "bank.yaml", GOOD.get(case, ASIDE.get(case, "")).encode()
    )
    assert fast == slow
    assert taken == (case in GOOD)


# A scalar as YAML may hold it: text, what YAML reads as other types, what Markdown checks
# (images, math, code languages), what a content file may not hold, and YAML's own marks.
_WORDS = [
    *DIFFICULTIES,
    "Easy",
    " hard",
    "true",
    "no",
    "~",
    "null",
    "",
    "12",
    "1.5",
    "2024-01-01",
    "<<",
    "=",
    "x\u2028y",
    "tab\there",
    "bell\x07",
    "\u0085",
    "![pic](pic.png)",
    "![far](https://example.com/a.png)",
    "$x^2$ and \\(y\\)",
    "$$ unclosed",
    "\\[ never closed",
    "$\\href{x}{y}$",
    "```python\nprint(1)\n```",
    "```klingon\nqapla\n```",
    "- a list\n- of two",
    "# heading",
    "a" * 210,
]
SLUG = st.from_regex(r"[a-z][a-z0-9]{0,7}(?:-[a-z0-9]{1,8}){0,2}", fullmatch=True)
SCALAR = st.one_of(TEXT, SLUG, st.sampled_from(_WORDS))
_ODD = st.sampled_from(["", "", "", "", "&a ", "*a", "!!str ", "! ", "!x ", "&b "])
# What a good file holds besides plain text: Markdown the loader checks (an image, code
# languages, math, a key point too long), and now and then one flaw (an anchor or a tag).
_RICH = ["![pic](pic.png)", "```klingon\nqapla\n```", "```python\nx = 1\n```", "$x$ and \\(y\\)"]
CLEAN = st.one_of(TEXT, TEXT, st.sampled_from([*_RICH, "- a\n- b", "word " * 45]))
_FLAW = st.sampled_from([""] * 24 + ["&a ", "!!str ", "!x ", "!!int ", "! "])
POINT = st.one_of(SLUG, SLUG, st.sampled_from(["long " * 45, "$x$ inline", "![pic](pic.png)"]))
_LISTS = ("tags", "key_points", "follow_ups")


@st.composite
def yaml_scalar(draw: st.DrawFn, indent: int, clean: bool) -> str:
    """A scalar written in one of YAML's styles (not always valid YAML unless ``clean``)."""
    value = draw(CLEAN if clean else SCALAR)
    styles = ["double", "literal"] if clean else ["plain", "double", "single", "literal", "folded"]
    style = draw(st.sampled_from(styles))
    if clean and "\n " in "\n" + value:
        style = "double"  # (a block's first line sets its indentation)
    odd = draw(_FLAW if clean else _ODD)
    if odd == "*a":
        return odd
    if style == "plain":
        return odd + value
    if style == "double":
        return odd + json.dumps(value, ensure_ascii=False)
    if style == "single":
        return odd + "'" + value.replace("'", "''") + "'"
    pad = " " * (indent + 2)
    body = "\n".join(pad + line if line.strip() else "" for line in value.split("\n"))
    chomp = draw(st.sampled_from(["", "-", "+"]))
    return f"{odd}{'|' if style == 'literal' else '>'}{chomp}\n{body}"


@st.composite
def yaml_value(draw: st.DrawFn, key: str, indent: int, clean: bool) -> str:
    """A value for ``key``: what it should hold when ``clean``, else mostly so."""
    pad = " " * (indent + 2)
    if key in ("tags", "guid") and clean:
        words = draw(st.lists(SLUG, min_size=key == "guid", max_size=3, unique=True))
        words += words[:1] if not draw(st.integers(0, 10)) else []  # a tag twice
        return words[0] if key == "guid" else "[" + ", ".join(words) + "]"
    if key == "key_points" and clean:
        points = draw(st.lists(POINT, min_size=1, max_size=3, unique=True))
        return "".join(f"\n{pad}- {draw(_FLAW)}{json.dumps(p)}" for p in points)
    if key in _LISTS and (clean or draw(st.integers(0, 5))):
        item = yaml_scalar(indent + 2, clean)
        items = draw(st.lists(item, min_size=clean, max_size=4, unique_by=str.strip))
        if draw(st.booleans()) and not clean:
            return "[" + ", ".join(i.replace("\n", " ") for i in items) + "]"
        return "".join(f"\n{pad}- {item}" for item in items) or "[]"
    if key == "reverse" and (clean or draw(st.booleans())):
        return draw(
            st.sampled_from(["true", "false", "yes", "Off", "'true'", "1"][: 6 - 2 * clean])
        )
    if key == "id" and (clean or draw(st.integers(0, 3))):
        return draw(SLUG)
    if key == "difficulty" and (clean or draw(st.integers(0, 3))):
        return draw(st.sampled_from(DIFFICULTIES))
    if not clean and not draw(st.integers(0, 20)):
        return draw(st.sampled_from(["[a, b]", "{a: b}", "", "\n" + pad + "- x"]))
    return draw(yaml_scalar(indent, clean))


@st.composite
def role_files(draw: st.DrawFn) -> str:
    """A content file: half of them made to be good, the others with what can go wrong."""
    clean = draw(st.booleans())
    extra = list(QUESTION_KEYS[4:]) if clean else [*QUESTION_KEYS, "answr", "id"]
    questions = []
    for _ in range(draw(st.integers(clean, 3))):
        keys = ["id", "difficulty", "question", "answer"]
        keys += draw(st.lists(st.sampled_from(extra), max_size=4, unique=clean))
        lines = [f"{key}: {draw(yaml_value(key, 4, clean))}" for key in draw(st.permutations(keys))]
        questions.append("  - " + "\n    ".join(lines))
    role = "Role " + draw(SLUG) if clean else draw(yaml_value("role", 0, clean))
    top = [f"role: {role}", "questions:" + "".join("\n" + q for q in questions)]
    decks = ["description: A role", "deck: A::B"] + ([] if clean else ["deck: X::"])
    top += draw(st.lists(st.sampled_from(decks), unique=clean))
    text = "\n".join(draw(st.permutations(top))) + "\n"
    if not clean and not draw(st.integers(0, 5)):  # a random edit: YAML's own errors
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([*"\t:-'\"[{*&!#%|>\n", "---\n"])) + text[at:]
    return text


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=role_files())
def test_generated_files_load_as_the_node_walk_loads_them(text: str) -> None:
    """Generated files, good and bad: the same role file, ids, warnings and problems with
    the one pass as with the node walk alone."""
    path = Path("/nonexistent/bank.yaml")
    fast, slow, taken = both_ways(path, text.encode("utf-8", "surrogatepass"))
    event("taken" if taken else "not taken")
    assert fast == slow


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=role_files())
def test_a_file_the_node_walk_takes_without_a_problem_takes_the_one_pass(text: str) -> None:
    """The one pass steps aside only for a problem or an anchor, alias or tag: every other
    file the node walk takes is read in one pass (so the fast path is the usual one)."""
    root, err = compose(text, "bank.yaml")
    walk = check_file(root, "bank.yaml") if err is None and root is not None else None
    if walk is None or walk.errors or walk.repeated or walk.result is None:
        return
    if any(getattr(e, "anchor", None) or getattr(e, "tag", None) for e in yaml.parse(text)):
        return
    event("taken")
    assert one_pass(text, "bank.yaml") is not None


def test_the_one_pass_leaves_no_garbage_cycle() -> None:
    """Loading runs with the cyclic collector paused (``collector_paused``): a reference
    cycle left by the pass would keep each file's parser and text until the end of the
    load (100,000 questions: 361 MiB at the peak instead of 248)."""
    text = EVERY_KEY.replace("pic.svg", "https://example.com/a.png")
    one_pass(text, "bank.yaml")  # first use's one-time garbage (importlib.metadata's lookups)
    gc.collect()
    with collector_paused():
        walk = one_pass(text, "bank.yaml")
        assert walk is not None
        assert walk.result is not None
        assert one_pass(text + "---\n", "bank.yaml") is None  # (stepping aside, too)
        assert gc.collect() == 0
