"""Slices and order: --difficulty, --role and --tag build exactly the matching notes and say
what they left out (nothing left is an error), --order sets the order new cards come in,
and `stats` counts the same bank by role, difficulty and tag."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import Anki, Builder, make_bank, question, run_cli


def slice_bank(folder: Path) -> Path:
    """Two roles, three questions each, mixed difficulties and tags."""
    make_bank(
        folder,
        [
            question("b-easy", tags=["api"]),
            question("b-hard", "hard", tags=["db"]),
            question("b-med", "medium", tags=["api", "db"]),
        ],
        role="Backend Engineer",
        filename="backend.yaml",
    )
    make_bank(
        folder,
        [
            question("d-hard", "hard", tags=["stats"]),
            question("d-easy"),
            question("d-hard-2", "hard", tags=["api"]),
        ],
        role="Data Scientist",
        filename="data.yaml",
    )
    return folder


@pytest.mark.parametrize(
    ("flags", "expected", "left_out"),
    [
        (["--difficulty", "hard"], {"b-hard", "d-hard", "d-hard-2"}, 3),
        (["--difficulty", "easy", "--difficulty", "medium"], {"b-easy", "b-med", "d-easy"}, 3),
        (["--role", "data-scientist"], {"d-hard", "d-easy", "d-hard-2"}, 3),
        (["--role", "Backend Engineer", "--tag", "db"], {"b-hard", "b-med"}, 4),
        (["--tag", "api", "--difficulty", "hard"], {"d-hard-2"}, 5),
    ],
)
def test_slices_reach_the_collection(
    build: Builder,
    anki: Anki,
    tmp_path: Path,
    flags: list[str],
    expected: set[str],
    left_out: int,
) -> None:
    """Filtered builds hold exactly the matching notes and say what they left out."""
    built = build(slice_bank(tmp_path / "bank"), output=tmp_path / "slice.apkg", extra=flags)
    assert f"Left out {left_out} questions not matching" in built.stdout
    anki.import_package(built.output)
    assert {n["ID"] for n in anki.notes()} == expected


def test_a_slice_that_leaves_nothing_fails(build: Builder, tmp_path: Path) -> None:
    """Filters that match nothing are an error, and nothing is written."""
    out = tmp_path / "none.apkg"
    result = build(
        slice_bank(tmp_path / "bank"), output=out, extra=["--tag", "nope"], expect="failed"
    )
    assert result.exit_code == 1
    assert "error: the filters leave no questions to build" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("file", ["b-easy", "b-hard", "b-med", "d-hard", "d-easy", "d-hard-2"]),
        ("difficulty", ["b-easy", "d-easy", "b-med", "b-hard", "d-hard", "d-hard-2"]),
    ],
)
def test_new_card_order(
    build: Builder, anki: Anki, tmp_path: Path, order: str, expected: list[str]
) -> None:
    """--order sets the order Anki introduces new cards in: file order, or easy to hard."""
    anki.import_package(build(slice_bank(tmp_path / "bank"), extra=["--order", order]).output)
    rows = anki.col.db.all(
        "select n.flds, c.due from cards c join notes n on n.id = c.nid "
        "where c.type = 0 order by c.due"
    )
    assert [flds.split("\x1f")[4] for flds, _ in rows] == expected


def test_stats_json_matches_the_bank(tmp_path: Path) -> None:
    """stats --json counts roles x difficulties, totals and tags as the files say."""
    result = run_cli(["stats", "--json", str(slice_bank(tmp_path / "bank"))])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "roles": {
            "Backend Engineer": {"easy": 1, "medium": 1, "hard": 1, "total": 3},
            "Data Scientist": {"easy": 1, "medium": 0, "hard": 2, "total": 3},
        },
        "totals": {"easy": 2, "medium": 1, "hard": 3, "total": 6},
        "tags": [
            {"tag": "api", "count": 3},
            {"tag": "db", "count": 2},
            {"tag": "stats", "count": 1},
        ],
        "images": {"files": 0, "bytes": 0},
        "cards": {"question": 6, "key-points": 0, "reverse": 0, "total": 6},
    }
    table = run_cli(["stats", str(tmp_path / "bank")]).stdout
    assert "Cards:" not in table
    assert re.search(r"Backend Engineer\s+1\s+1\s+1\s+3", table)
    assert re.search(r"Total\s+2\s+1\s+3\s+6", table)
    assert "Most used tags: api (3), db (2), stats (1)" in table


def trained_bank(folder: Path) -> Path:
    """Two roles; some questions with key points or a reverse card."""
    from exporter.content.model import Question

    def with_keys(
        qid: str, difficulty: str, points: int, reverse: bool, tags: list[str]
    ) -> Question:
        q = question(qid, difficulty, tags=tags)  # type: ignore[arg-type]
        return Question(
            q.id,
            q.difficulty,
            q.question,
            q.answer,
            q.tags,
            key_points=tuple(f"point {i} of {qid}" for i in range(1, points + 1)),
            reverse=reverse,
        )

    make_bank(
        folder,
        [with_keys("b-easy", "easy", 2, False, ["api"]), with_keys("b-hard", "hard", 3, True, [])],
        role="Backend Engineer",
        filename="backend.yaml",
    )
    make_bank(
        folder,
        [with_keys("d-easy", "easy", 0, True, ["api"]), question("d-med", "medium")],
        role="Data Scientist",
        filename="data.yaml",
    )
    return folder


def test_stats_count_cards_by_kind(tmp_path: Path) -> None:
    """stats counts the cards a build makes: one a question, one a key point, one a
    reverse card."""
    bank = trained_bank(tmp_path / "bank")
    data = json.loads(run_cli(["stats", "--json", str(bank)]).stdout)
    assert data["cards"] == {"question": 4, "key-points": 5, "reverse": 2, "total": 11}
    table = run_cli(["stats", str(bank)]).stdout
    assert "Cards: 11 (4 question, 5 key point, 2 reverse)" in table


def test_a_slice_takes_the_key_points_and_reverse_cards_of_its_questions(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """--tag api builds b-easy with its two key points and d-easy with its reverse card,
    nothing of the others; each question's cards come in together, in --order."""
    built = build(trained_bank(tmp_path / "bank"), extra=["--tag", "api", "--order", "difficulty"])
    assert "Left out 2 questions not matching --tag api" in built.stdout
    anki.import_package(built.output)
    rows = anki.col.db.all(
        "select n.flds, c.due, c.ord from cards c join notes n on n.id = c.nid "
        "where c.type = 0 order by c.due, n.id, c.ord"
    )
    cards = [(flds.split("\x1f")[-1], due) for flds, due, _ord in rows]
    assert cards == [("b-easy", 1), ("b-easy", 1), ("b-easy", 1), ("d-easy", 2), ("d-easy", 2)]
