"""Invalid content never makes a deck: every problem is reported at PATH:LINE (sorted, then
a count), exit 1, nothing written and nothing executed.

Each case in ``tests/data/invalid`` is ``<case>.expected`` (the exact stderr) next to
``<case>.yaml`` or a folder ``<case>/`` (checked with ``validate``), or ``<case>.args`` (the
command line to run instead). Each case runs in a copy of what it reads (its files and the
shared ``_`` ones, helpers.case_folder), so paths are relative.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import CASES, EPOCH, INVALID, case_args, case_folder, run_cli, write


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_there_are_enough_cases() -> None:
    """The folder covers the documented failure cases (at least 30 of them)."""
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_invalid_case_reports_exactly(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each invalid case exits 1 with exactly its expected PATH:LINE messages and writes nothing."""
    work = case_folder(case, tmp_path / "invalid")
    before = snapshot(work)
    monkeypatch.chdir(work)
    result = run_cli(case_args(case), env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    expected = (INVALID / f"{case}.expected").read_text(encoding="utf-8")
    assert result.stderr == expected
    assert result.stdout == ""
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert snapshot(work) == before  # nothing written, nothing executed (no 'executed' file)


def test_problems_are_sorted_by_path_and_line() -> None:
    """Every expected output lists its PATH:LINE problems in sorted order, then a count."""
    for case in CASES:
        lines = (INVALID / f"{case}.expected").read_text(encoding="utf-8").splitlines()
        if lines[0].startswith("error: "):
            assert len(lines) == 1, case
            continue
        problems, count = lines[:-1], lines[-1]
        n = len(problems)
        assert count == f"{n} problem{'s' if n != 1 else ''} found.", case
        keys = []
        for line in problems:
            path, rest = line.split(":", 1)
            numbers = rest.split(":")
            keys.append((path, int(numbers[0]) if numbers[0].isdigit() else 0))
        assert keys == sorted(keys), case


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    """A file saved with a UTF-8 byte order mark validates like one without."""
    src = tmp_path / "bom.yaml"
    src.write_bytes(
        b"\xef\xbb\xbfrole: R\nquestions:\n  - id: a\n    difficulty: easy\n"
        b"    question: Q\n    answer: A\n"
    )
    result = run_cli(["validate", str(src)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "OK: 1 question in 1 file.\n"


def test_python_tag_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A '!!python/object/apply' tag is refused without calling anything."""
    calls: list[object] = []

    def system(*args: object) -> int:
        calls.append(args)
        return 0

    monkeypatch.setattr(os, "system", system)
    src = write(
        tmp_path / "evil.yaml",
        "role: !!python/object/apply:os.system ['echo pwned']\nquestions: []\n",
    )
    result = run_cli(["validate", str(src)])
    assert result.exit_code == 1
    assert "YAML tag '!!python/object/apply:os.system' is not allowed" in result.stderr
    assert calls == []


def test_validate_reports_typo_at_file_and_line(tmp_path: Path) -> None:
    """A misspelt key is reported as PATH:LINE with a hint, exit 1."""
    src = write(
        tmp_path / "bad.yaml",
        (
            "role: R\nquestions:\n  - id: one\n    difficulty: easy\n    question: Q?\n    anwser: A\n"
        ),
    )
    result = run_cli(["validate", str(src)])
    assert result.exit_code == 1
    assert f"{src}:6: unknown key 'anwser' in a question: did you mean 'answer'?" in result.stderr
    assert "missing required key 'answer'" in result.stderr
