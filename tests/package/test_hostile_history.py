"""Hostile input, the history cannot be poisoned: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    BANK_TEXT,
    EPOCH,
    TERMINAL_CONTROLS,
    Builder,
    assert_terminal_safe,
    bank,
    make_bank,
    one_error,
    question,
    run_cli,
    write,
)


def test_out_of_range_mods_and_ids_are_damage(build: Builder, tmp_path: Path) -> None:
    """A lock with a mod past year 9999 or an id past 2**53 is refused as damaged."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    lock = build(src, output=out).history
    data = json.loads(lock.read_text())
    data["notes"]["one"]["mod"] = 10**13
    lock.write_text(json.dumps(data))
    assert "build history is damaged" in one_error(run_cli(["build", str(src), "-o", str(out)]))
    data["notes"]["one"]["mod"] = EPOCH
    data["notes"]["one"]["id"] = 2**53
    lock.write_text(json.dumps(data))
    assert "build history is damaged" in one_error(run_cli(["build", str(src), "-o", str(out)]))


def test_a_history_from_the_future_is_reported_with_the_fix(build: Builder, tmp_path: Path) -> None:
    """A build once made with SOURCE_DATE_EPOCH in 2100 makes the next changed build stop
    and say how to go on, instead of stamping every change in 2100."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    build(src, output=out, epoch=4_102_444_800)  # 2100-01-01
    write(src, BANK_TEXT.replace("Because.", "Because, edited."))
    message = one_error(run_cli(["build", str(src), "-o", str(out)]))
    assert "ahead of this build's clock" in message
    assert "SOURCE_DATE_EPOCH=4102444801" in message
    ok = run_cli(["build", str(src), "-o", str(out)], env={"SOURCE_DATE_EPOCH": "4102444801"})
    assert ok.exit_code == 0


def test_a_history_from_the_future_is_reported_when_the_note_type_changes_too(
    build: Builder, tmp_path: Path
) -> None:
    """A history from 2100 and a build whose note type differs from its own (--tts): the
    same one-line problem (no traceback) and nothing written; with a content problem in the
    bank too, the content problem is what is reported."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    built = build(src, output=out, epoch=4_102_444_800)  # 2100-01-01
    before = out.read_bytes(), built.history.read_bytes()
    message = one_error(run_cli(["build", str(src), "-o", str(out), "--tts", "en_US"]))
    assert "ahead of this build's clock" in message
    write(src.parent / "bad.yaml", "role: Other\nquestions: []\n")
    message = one_error(run_cli(["build", str(src.parent), "-o", str(out), "--tts", "en_US"]))
    assert message.startswith(f"{src.parent / 'bad.yaml'}:")
    assert (out.read_bytes(), built.history.read_bytes()) == before


def test_a_history_of_another_bank_is_refused(build: Builder, tmp_path: Path) -> None:
    """A lock copied from a bank with no id in common is refused, not adopted."""
    out = tmp_path / "d" / "deck.apkg"
    build(bank(tmp_path / "c"), output=out)
    other = make_bank(tmp_path / "other", [question("zz-1")])
    message = one_error(run_cli(["build", str(other), "-o", str(out)]))
    assert "no question in common with the bank being built" in message


def test_a_held_build_lock_is_a_clear_message(build: Builder, tmp_path: Path) -> None:
    """While another build holds the output's lock, a second build says so and writes
    nothing."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    built = build(src, output=out)
    before = out.read_bytes(), built.history.read_bytes()
    lock = out.parent / ".interview-deck-cache" / "deck.apkg.lock"
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, b"4242\n", 0)
        write(src, BANK_TEXT.replace("Because.", "Because, edited."))
        message = one_error(run_cli(["build", str(src), "-o", str(out), "--no-cache"]))
    finally:
        os.close(fd)
    assert message.endswith(
        "another build (pid 4242) is writing it now; wait for it to finish, then build again"
    )
    assert (out.read_bytes(), built.history.read_bytes()) == before


def test_a_failed_first_build_removes_its_lock_while_it_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first build that fails removes the folders and the lock file it made, still
    holding the lock as it does: a build that took the lock meanwhile would hold a file
    that is gone, and a third would take a new one (two builds writing one output)."""
    bad = write(tmp_path / "c" / "bank.yaml", "role: Tester\nquestions: []\n")
    out = tmp_path / "d" / "deck.apkg"
    held = []
    real = os.unlink

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if str(path).endswith(".apkg.lock"):
            fd = os.open(path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(False)
            except BlockingIOError:
                held.append(True)
            finally:
                os.close(fd)
        real(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    assert "questions" in one_error(run_cli(["build", str(bad), "-o", str(out)]))
    assert held == [True]
    assert not out.parent.exists()


def test_a_history_with_a_bom_is_read(build: Builder, tmp_path: Path) -> None:
    """A lock saved by an editor that adds a UTF-8 BOM still reads."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    lock = build(src, output=out).history
    lock.write_bytes(b"\xef\xbb\xbf" + lock.read_bytes())
    build(src, output=out, fresh=True)


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_deck_name_in_the_history_reaches_the_terminal_escaped(
    build: Builder, tmp_path: Path, fmt: str
) -> None:
    """A committed history whose deck names carry terminal control sequences: `build` names
    the move escaped, in every format (JSON keeps the name whole in its own escapes)."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    lock = build(src, output=out).history
    data = json.loads(lock.read_text())
    data["notes"]["one"]["deck"] = f"Old{TERMINAL_CONTROLS}"
    lock.write_text(json.dumps(data))
    result = run_cli(["build", str(src), "-o", str(out), "--no-cache", "--format", fmt])
    assert result.exit_code == 0, result.stderr
    assert_terminal_safe(result.stdout_bytes, result.stderr_bytes)
    if fmt == "json":
        summary = json.loads(result.stdout)["summary"]
        assert any(f"from Old{TERMINAL_CONTROLS} to" in line for line in summary)
    else:
        assert "from Old\\x1b]0;owned\\x07" in result.stdout


def test_damaged_key_point_numbers_are_damage(build: Builder, tmp_path: Path) -> None:
    """A history whose key-point numbers are not numbers from 1, give one number to two
    points, or are not lists is refused as damaged, one line, nothing written."""
    src = write(
        tmp_path / "c" / "bank.yaml",
        BANK_TEXT + "    key_points:\n      - one point\n      - another point\n",
    )
    out = tmp_path / "d" / "deck.apkg"
    lock = build(src, output=out).history
    good = json.loads(lock.read_text())
    entry = good["clozes"]["one::key-points"]
    for damage in (
        {**entry, "points": [[0, "x"], [2, "y"]]},
        {**entry, "points": [[1, "x"], [1, "y"]]},
        {**entry, "points": "1, 2"},
        {**entry, "points": [[1, 5]]},
        {**entry, "highest": -1},
        {**entry, "cards": [[1, 2**53]]},
    ):
        lock.write_text(json.dumps({**good, "clozes": {"one::key-points": damage}}))
        before = out.read_bytes()
        message = one_error(run_cli(["build", str(src), "-o", str(out)]))
        assert "build history is damaged" in message, damage
        assert out.read_bytes() == before


@pytest.mark.parametrize("mod", ["9" * 5_000, "9" * 4_000, "1e999", "-1e999"])
def test_a_number_of_thousands_of_digits_is_damage(
    build: Builder, tmp_path: Path, mod: str
) -> None:
    """A mod of thousands of digits (past int()'s limit, or just under it) or an infinite
    one: the history is damaged, said in one short line."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    lock = build(src, output=out).history
    text = lock.read_text()
    lock.write_text(text.replace(f'"mod": {EPOCH}', f'"mod": {mod}', 1))
    assert lock.read_text() != text
    message = one_error(run_cli(["build", str(src), "-o", str(out)]))
    assert "build history is damaged" in message
    assert len(message) < 300
    assert "set_int_max_str_digits" not in message
