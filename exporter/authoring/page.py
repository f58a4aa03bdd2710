"""A published question page (plain text) -> questions, with ``PAGE:LINE`` problems.

The format, as published::

    Back to all roles            (optional navigation line)
    MLOps Engineer               (the role)
    Interview questions for …    (optional description, up to the count line)
    10 questions
    Question 1
    Difficulty: medium
    <question text>
    Sample answer
    <answer paragraphs>
    Question 2
    …
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from exporter.content.model import DIFFICULTIES, Difficulty, forbidden_char, slugify
from exporter.errors import ContentError, ContentErrors

_NAV = "Back to all roles"
_COUNT = re.compile(r"(\d+) questions?\Z")
_QUESTION = re.compile(r"Question (\d+)\Z")
_DIFFICULTY = re.compile(r"Difficulty:\s*(.*)\Z")
_ANSWER = "Sample answer"
_DIFFICULTY_OF: dict[str, Difficulty] = {d: d for d in DIFFICULTIES}
# No page holds a billion questions; and int() refuses (and is quadratic on) longer text.
_MAX_DIGITS = 9
_SHOWN = 60  # characters of a header quoted in a message


def _number(digits: str) -> int | None:
    """The number ``digits`` (any Unicode decimal digits) names, ``None`` past 9 digits."""
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= _MAX_DIGITS else None


def _shown(text: str) -> str:
    """``text`` for a message: at most ``_SHOWN`` characters, so it stays one short line."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


@dataclass(frozen=True)
class PageQuestion:
    """One question as the page gives it."""

    number: int
    difficulty: Difficulty
    question: str
    answer: str
    line: int
    question_line: int = 0  # where the question's text starts on the page
    answer_line: int = 0  # and where its answer's does


@dataclass(frozen=True)
class Page:
    """A parsed page: role, description and questions in page order."""

    role: str
    description: str
    questions: tuple[PageQuestion, ...]
    role_line: int = 0
    description_line: int = 0


def _paragraphs(lines: list[tuple[int, str]]) -> str:
    """Lines -> text with paragraphs separated by one blank line."""
    out: list[list[str]] = [[]]
    for _, text in lines:
        if text.strip():
            out[-1].append(text.strip())
        elif out[-1]:
            out.append([])
    return "\n\n".join("\n".join(p) for p in out if p)


def parse_page(text: str, display_path: str) -> Page:
    """Parse a question page; raise ``ContentErrors`` listing every problem."""
    # Only '\n' ends a line (as editors count them), not Unicode's other line separators.
    raw_lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [(i + 1, line.rstrip()) for i, line in enumerate(raw_lines)]
    errors: list[ContentError] = []

    def err(line: int, code: str, message: str) -> None:
        errors.append(ContentError(display_path, line, 0, message, code=code))

    body = [(n, t) for n, t in lines if t.strip()]
    if body and body[0][1].strip() == _NAV:
        body = body[1:]
    if not body:
        raise ContentErrors(
            [ContentError(display_path, 1, 0, "the page is empty", code="page-empty")]
        )
    role_line, role = body[0][0], body[0][1].strip()
    if _QUESTION.match(role):
        err(
            role_line, "page-no-title", "the page has no title: the first line should name the role"
        )
    elif not slugify(role):
        err(
            role_line,
            "page-title-without-letters",
            f"the title '{role}' must name the role in letters or digits",
        )
    for where, line_text in lines:
        bad = forbidden_char(line_text)
        if bad:
            err(
                where,
                "page-control-character",
                f"the control character {bad} cannot go on a card; remove it",
            )
    starts = [i for i, (_, t) in enumerate(body) if _QUESTION.match(t.strip())]
    head = body[1 : starts[0]] if starts else body[1:]
    count_at = [(n, _number(m.group(1))) for n, t in head if (m := _COUNT.match(t.strip()))]
    described = [(n, t) for n, t in head if not _COUNT.match(t.strip())]
    description = _paragraphs(described)
    if not starts:
        err(role_line, "page-no-questions", "no 'Question N' blocks found")
        raise ContentErrors(errors)

    questions: list[PageQuestion] = []
    expected = 1
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(body)
        q = _block(lines, body, start, end, expected, err)
        if q is not None:
            questions.append(q)
        # Number the next from this header, so one slip is one message, not a cascade.
        header = _QUESTION.match(body[start][1].strip())
        number = _number(header.group(1)) if header else None
        expected = (expected if number is None else number) + 1
    if count_at:
        line, declared = count_at[0]
        if declared != len(starts):
            says = f"{declared}" if declared is not None else f"over {_MAX_DIGITS} digits of"
            err(
                line,
                "page-count-mismatch",
                f"the page says {says} questions but has {len(starts)}",
            )
    if errors:
        raise ContentErrors(errors)
    return Page(
        role=role,
        description=description,
        questions=tuple(questions),
        role_line=role_line,
        description_line=_first(described) if description else 0,
    )


def _block(
    lines: list[tuple[int, str]],
    body: list[tuple[int, str]],
    start: int,
    end: int,
    expected: int,
    report: Callable[[int, str, str], None],
) -> PageQuestion | None:
    head_line, head = body[start][0], body[start][1].strip()
    match = _QUESTION.match(head)
    assert match is not None
    number = _number(match.group(1))
    head = _shown(head)
    ok = True
    if number != expected:
        report(head_line, "page-numbering", f"expected 'Question {expected}', found '{head}'")
        ok = False
    # Work on all lines (blank ones too) between this header and the next.
    first = head_line
    last = body[end][0] if end < len(body) else len(lines) + 1
    block = lines[first : last - 1]  # lines[i] is line i + 1: the lines after the header
    content = [(n, t) for n, t in block if t.strip()]
    if not content or not _DIFFICULTY.match(content[0][1].strip()):
        where = content[0][0] if content else head_line
        report(
            where,
            "page-difficulty-missing",
            f"'Difficulty: <{'|'.join(DIFFICULTIES)}>' must follow '{head}'",
        )
        return None
    diff_line, diff_text = content[0]
    dmatch = _DIFFICULTY.match(diff_text.strip())
    assert dmatch is not None
    difficulty = _DIFFICULTY_OF.get(dmatch.group(1).strip().lower())
    if difficulty is None:
        report(
            diff_line,
            "page-difficulty-unknown",
            f"unknown difficulty '{dmatch.group(1).strip()}': use one of {', '.join(DIFFICULTIES)}",
        )
        ok = False
    marks = [n for n, t in block if t.strip() == _ANSWER]
    if not marks:
        report(head_line, "page-answer-missing", f"'{head}' has no '{_ANSWER}' line")
        return None
    asked = [(n, t) for n, t in block if diff_line < n < marks[0]]
    answered = [(n, t) for n, t in block if n > marks[0]]
    question, answer = _paragraphs(asked), _paragraphs(answered)
    if not question:
        report(marks[0], "page-question-empty", f"'{head}' has no question text before '{_ANSWER}'")
        ok = False
    if not answer:
        report(marks[0], "page-answer-empty", f"'{head}' has no answer text after '{_ANSWER}'")
        ok = False
    if not ok or difficulty is None or number is None:
        return None
    return PageQuestion(
        number, difficulty, question, answer, head_line, _first(asked), _first(answered)
    )


def _first(lines: list[tuple[int, str]]) -> int:
    """The number of the first line with text (``lines`` has one)."""
    return next(n for n, t in lines if t.strip())
