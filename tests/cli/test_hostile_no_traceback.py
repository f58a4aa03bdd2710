"""Hostile input, no traceback on any input: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    CONTENT,
    EPOCH,
    bank,
    one_error,
    run_cli,
    run_exporter,
)


def damaged_package(tmp_path: Path, name: str, decks: str = "{}") -> Path:
    """A package whose collection is a legacy one with ``decks`` as its decks JSON."""
    import sqlite3

    db = tmp_path / f"{name}.sqlite"
    con = sqlite3.connect(db)
    con.execute("create table col (decks text, models text)")
    con.execute("create table notes (tags text, mod int)")
    con.execute("create table cards (did int, nid int)")
    con.execute("insert into col values (?, ?)", (decks, "{}"))
    con.commit()
    con.close()
    package = tmp_path / f"{name}.apkg"
    with zipfile.ZipFile(package, "w") as z:
        z.write(db, "collection.anki2")
    return package


def test_inspect_never_shows_a_traceback(tmp_path: Path) -> None:
    """Encrypted entries, garbage zstd, a decks list, deeply nested JSON: one line each."""
    encrypted = tmp_path / "enc.apkg"
    with zipfile.ZipFile(encrypted, "w") as z:
        z.writestr("collection.anki2", b"x" * 100)
    data = bytearray(encrypted.read_bytes())
    data[data.find(b"PK\x03\x04") + 6] |= 1
    data[data.find(b"PK\x01\x02") + 8] |= 1
    encrypted.write_bytes(bytes(data))
    garbage = tmp_path / "garbage.apkg"
    with zipfile.ZipFile(garbage, "w") as z:
        z.writestr("collection.anki21b", b"not zstd" * 50)
    cases = {
        encrypted: "encrypted",
        garbage: "damaged collection",
        damaged_package(tmp_path, "list", "[]"): "damaged collection",
        damaged_package(tmp_path, "deep", "[" * 100_000 + "]" * 100_000): "nested too deeply",
    }
    for package, expected in cases.items():
        assert expected in one_error(run_cli(["inspect", str(package)])), package


def test_build_with_a_deeply_nested_history_is_clean(tmp_path: Path) -> None:
    """A history file of deeply nested JSON is 'damaged', not a RecursionError."""
    src = bank(tmp_path / "c")
    out = tmp_path / "deck.apkg"
    out.with_name("deck.lock.json").write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in one_error(run_cli(["build", str(src), "-o", str(out)]))


def test_unreadable_folder_and_long_names_are_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that cannot be listed (PermissionError) and a source name over 255 bytes."""
    src = tmp_path / "c"
    bank(src / "locked")
    real = os.scandir

    def scandir(path: Any) -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run_cli(["validate", str(src)])
    assert one_error(result) == f"{src / 'locked'}: cannot read this folder (Permission denied)"
    monkeypatch.undo()
    long_name = str(tmp_path / ("x" * 300 + ".yaml"))
    result = run_cli(["validate", long_name])
    assert one_error(result).endswith("the name is too long for this file system")


def test_output_name_the_terminal_cannot_print(tmp_path: Path) -> None:
    """With an ASCII-only terminal the files are written and success is reported (escaped)."""
    out = tmp_path / "dëck-😀.apkg"
    done = run_exporter(
        "build",
        str(CONTENT),
        "-o",
        str(out),
        env={"PYTHONIOENCODING": "ascii", "SOURCE_DATE_EPOCH": str(EPOCH)},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert out.exists()
    assert "\\xeb" in done.stdout or "ë" in done.stdout
