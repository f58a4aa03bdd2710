"""Hostile input, no traceback on any input: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    CONTENT,
    EPOCH,
    ROOT,
    bank,
    build_deck,
    child_env,
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


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")  # (the lock names the last pid)
    }


def _limited(n: int) -> Any:
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))

    return limit


@pytest.mark.slow  # ~14 processes a command: the full tier
@pytest.mark.parametrize(
    "command",
    ["build", "build --no-cache", "validate", "preview", "inspect", "pull"],
)
def test_too_few_open_files_is_one_line(tmp_path: Path, command: str) -> None:
    """Under `ulimit -n N` for N from 3 up: each command works or says so in one line, exit
    1, no traceback; its scratch folders are gone from TMPDIR and the output folder is as
    it was (a limit too low for Python itself to start is Python's own message)."""
    src = bank(tmp_path / "c")
    dist = tmp_path / "dist"
    package = dist / "deck.apkg"
    build_deck(src, output=package)
    src.write_text(src.read_text("utf-8").replace("?", "? (changed)"), "utf-8")
    before = _snapshot(dist)
    temp = tmp_path / "tmp"
    temp.mkdir()
    args = {
        "build": ["build", src, "-o", package],
        "build --no-cache": ["build", "--no-cache", src, "-o", package],
        "validate": ["validate", src],
        "preview": ["preview", src, "-o", dist / "preview.html"],
        "inspect": ["inspect", package],
        "pull": ["pull", package, src, "-o", package],
    }[command]
    env = child_env({"TMPDIR": str(temp), "SOURCE_DATE_EPOCH": str(EPOCH)})
    worked = []
    for n in (*range(3, 13), 16, 20):
        done = subprocess.run(
            [sys.executable, "-m", "exporter", *map(str, args)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=_limited(n),
            check=False,
        )
        if "Fatal Python error" in done.stderr or done.returncode == 127:
            continue  # Python itself cannot start with so few
        assert "Traceback" not in done.stderr, (n, done.stderr)
        assert list(temp.iterdir()) == [], n
        if done.returncode == 0 or (command == "pull" and "open files" not in done.stderr):
            worked.append(n)  # (pull exits 1 when there is something to pull)
            continue
        assert done.returncode == 1, (n, done.stderr)
        assert len(done.stderr.splitlines()) == 1, (n, done.stderr)
        assert "too many open files" in done.stderr.lower(), (n, done.stderr)
        assert _snapshot(dist) == before, n
    assert worked[-1:] == [20], worked


@pytest.mark.parametrize("workers", [0, 2], ids=["one process", "workers"])
def test_out_of_memory_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Memory that runs out while a file is made (here, or in a worker, which passes it on):
    one line naming it, exit 1, no traceback, nothing written."""
    import exporter.pipeline
    import exporter.state.units

    src = bank(tmp_path / "c")
    out = tmp_path / "dist" / "deck.apkg"

    def no_memory(*args: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(exporter.state.units, "make_unit", no_memory)
    monkeypatch.setattr(exporter.pipeline, "worker_count", lambda *args: workers)
    result = run_cli(["build", str(src), "-o", str(out)])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: out of memory: the machine (or this process's limit) gave no more; free some, "
        "or build fewer files at once, and run again"
    ]
    assert not out.parent.exists()
