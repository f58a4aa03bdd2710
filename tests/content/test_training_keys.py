"""The keys that train an answer (issue 31): key_points, hint, follow_ups, reverse load as
written; a question without them is the question it always was; every wrong form is a
problem at its own line with a code (the cases are in tests/data/invalid/key-points-*)."""

from __future__ import annotations

from pathlib import Path

from exporter.content.check import key_point_problem
from exporter.content.model import Question
from exporter.content.spec import KEY_POINT_MAX
from exporter.pipeline import run_load
from helpers import write

EVERY_KEY = """\
role: Tester
questions:
  - id: idempotency
    difficulty: medium
    question: How do you make a payment API safe to retry?
    answer: With an idempotency key.
    key_points:
      - the client sends an *idempotency key*
      - the server stores the first response and replays it
    hint: Think about what the client can send again on a retry.
    follow_ups:
      - What if two requests with the same key arrive at the same moment?
      - |
        How long do you keep the keys?

        And where?
    reverse: true
  - id: plain
    difficulty: easy
    question: Why?
    answer: Because.
"""


def test_every_training_key_loads(tmp_path: Path) -> None:
    """A question with every new key holds each as written; one without holds the defaults."""
    bank = run_load([str(write(tmp_path / "bank.yaml", EVERY_KEY))])
    full, plain = bank.questions
    assert full.key_points == (
        "the client sends an *idempotency key*",
        "the server stores the first response and replays it",
    )
    assert full.hint == "Think about what the client can send again on a retry."
    assert full.follow_ups == (
        "What if two requests with the same key arrive at the same moment?",
        "How long do you keep the keys?\n\nAnd where?\n",
    )
    assert full.reverse is True
    assert (plain.key_points, plain.hint, plain.follow_ups, plain.reverse) == ((), "", (), False)


def test_reverse_false_is_no_reverse_card(tmp_path: Path) -> None:
    """'reverse: false' is the same as leaving the key out."""
    text = EVERY_KEY.replace("reverse: true", "reverse: false")
    (full, _plain) = run_load([str(write(tmp_path / "bank.yaml", text))]).questions
    assert full.reverse is False


def test_a_key_point_is_one_short_line_of_inline_text() -> None:
    """Inline Markdown of any kind is a key point; a block, a display formula, an image or
    more than KEY_POINT_MAX characters as shown is not (a long link address does not count)."""
    fine = [
        "plain words",
        "*emphasis*, `code` and $O(n \\log n)$",
        "a line  \nbreak",
        "`\\[not math in code\\]`",
        f"[a link](https://example.com/{'x' * 300})",
        "x" * KEY_POINT_MAX,
        "{{c1::not a cloze}} a::b }}",
    ]
    for text in fine:
        assert key_point_problem(text) is None, text
    blocks = ["two\n\nparagraphs", "- a list", "# heading", "```\ncode\n```", "> quote"]
    blocks += ["$$x$$", "text \\[x\\] text", "![image](a.png)", "| a |\n|---|\n| 1 |"]
    for text in blocks:
        problem = key_point_problem(text)
        assert problem is not None, text
        assert problem[0] == "key-point-not-inline", text
    long = key_point_problem("y" * (KEY_POINT_MAX + 1))
    assert long is not None
    assert long[0] == "key-point-long"


def test_a_long_key_point_is_a_warning_and_the_bank_builds(tmp_path: Path) -> None:
    """A key point over KEY_POINT_MAX characters makes a working card, but not one fact to
    recall: validate says so at its line (code key-point-long) and exits 0."""
    from helpers import run_cli

    long_point = "the server stores the first response " * 7
    text = EVERY_KEY.replace(
        "      - the server stores", f"      - {long_point}\n      - the server stores"
    )
    bank = write(tmp_path / "bank.yaml", text)
    result = run_cli(["validate", str(bank)])
    assert result.exit_code == 0, result.stderr
    assert f"{bank}:9: warning: this key point is {len(long_point.strip())} characters long" in (
        result.stderr
    )
    found = run_cli(["validate", "--format", "github", str(bank)]).stdout
    assert "key-point-long" in found


def test_a_list_of_over_a_hundred_key_points_is_one_problem(tmp_path: Path) -> None:
    """101 key points (or follow-ups) on one question: one line at the key, not a card
    each."""
    from helpers import make_bank, one_error, run_cli

    points = tuple(f"point number {n}" for n in range(101))
    src = make_bank(tmp_path / "c", [Question("kp", "easy", "Kp?", "Kp.", key_points=points)])
    line = one_error(run_cli(["validate", str(src)]))
    assert "'key_points' lists 101 items; a question takes at most 100" in line
