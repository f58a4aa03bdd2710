"""Hostile input, inputs are bounded: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from helpers import (
    bank,
    hang_guard,
    make_special,
    one_error,
    run_cli,
)


def test_endless_and_huge_inputs_fail_in_a_moment(tmp_path: Path) -> None:
    """/dev/zero, a FIFO with no writer, and a 10 GB sparse file: one line, exit 1, fast,
    and no memory grows (nothing is read)."""
    fifo = make_special(tmp_path / "q.yaml", "fifo")
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(10 * 2**30)
    page_fifo = make_special(tmp_path / "page.txt", "fifo")
    cases = [
        (["validate", "/dev/zero"], "not a file"),
        (["validate", str(fifo)], "not a file"),
        (["validate", str(huge)], "the limit is 64 MiB"),
        (["inspect", "/dev/zero"], "not a package file"),
        (["inspect", str(fifo)], "not a package file"),
        (["import-text", str(page_fifo), "-o", str(tmp_path / "x.yaml")], "not a regular file"),
    ]
    for args, expected in cases:
        with hang_guard():
            result = run_cli(args)
        assert expected in one_error(result), args


def test_history_and_existing_output_are_read_bounded(tmp_path: Path) -> None:
    """A history that is a FIFO, or a huge sparse one, is refused without being read."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    out.parent.mkdir()
    history = out.with_name("deck.lock.json")
    with history.open("wb") as f:
        f.truncate(200 * 2**20)
    assert "the limit is 64 MiB" in one_error(run_cli(["build", str(src), "-o", str(out)]))


def test_inspect_refuses_a_zip_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package whose collection inflates past the cap is refused, whether the zip says so
    up front or not, zip or zstd, without the collection in memory."""
    import zstandard

    from exporter.reading import packagefile as packageinfo

    monkeypatch.setattr(packageinfo, "COLLECTION_CAP", 2 * 2**20)
    zeros = bytes(3 * 2**20)
    honest = tmp_path / "honest.apkg"
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("collection.anki2", zeros)
    hidden = tmp_path / "zstd.apkg"
    compressor = zstandard.ZstdCompressor(write_content_size=False)
    with zipfile.ZipFile(hidden, "w") as z:
        z.writestr("collection.anki21b", compressor.compress(zeros))
    for package in (honest, hidden):
        assert "inflates past 2 MiB" in one_error(run_cli(["inspect", str(package)]))
