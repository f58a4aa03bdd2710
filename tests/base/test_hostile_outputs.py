"""Hostile input, outputs are regular files or nothing: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import (
    bank,
    make_special,
    one_error,
    run_cli,
    write,
)

KINDS = ["fifo", "socket"] + (["chardev"] if os.geteuid() == 0 else [])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["direct", "symlink", "history"])
def test_build_refuses_an_output_that_is_not_a_regular_file(
    tmp_path: Path, kind: str, how: str
) -> None:
    """build -o (or the history beside it) naming a device, FIFO or socket, or a link to
    one, is refused before anything is read or written; the special file is untouched."""
    special = make_special(tmp_path / f"special-{kind}", kind)
    out = tmp_path / "deck.apkg"
    if how == "direct":
        out = special
    elif how == "symlink":
        out.symlink_to(special)
    else:
        (tmp_path / "deck.lock.json").symlink_to(special)
    before = os.lstat(special)
    result = run_cli(["build", str(bank(tmp_path / "c")), "-o", str(out)])
    assert "not a regular file" in one_error(result)
    after = os.lstat(special)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (
        before.st_mode,
        before.st_ino,
        before.st_rdev,
    )


def test_outputs_into_proc_and_content_are_refused(tmp_path: Path) -> None:
    """A link to /proc/self/fd/*, an output named .yaml, or one inside a content folder."""
    src = bank(tmp_path / "c")
    link = tmp_path / "fd.apkg"
    link.symlink_to("/proc/self/fd/1")
    assert "is a link to /proc/" in one_error(run_cli(["build", str(src), "-o", str(link)]))
    named = run_cli(["build", str(src), "-o", str(tmp_path / "deck.yaml")])
    assert "named like a content file" in one_error(named)
    inside = run_cli(["build", str(src.parent), "-o", str(src.parent / "deck.apkg")])
    assert "lies inside the content folder" in one_error(inside)


def test_preview_and_import_text_refuse_special_outputs(tmp_path: Path) -> None:
    """preview -o and import-text -o refuse a FIFO too (nothing blocks, nothing written)."""
    fifo = make_special(tmp_path / "out.fifo", "fifo")
    result = run_cli(["preview", str(bank(tmp_path / "c")), "-o", str(fifo)])
    assert "FIFO" in one_error(result)
    page = write(
        tmp_path / "page.txt", "Role\n\nQuestion 1\nDifficulty: easy\nQ?\nSample answer\nA.\n"
    )
    result = run_cli(["import-text", str(page), "-o", str(fifo)])
    assert "FIFO" in one_error(result)


COLLECTION_NAMES = ["collection.apkg", "Collection.APKG", "deck.colpkg", "deck.ColPkg"]


@pytest.mark.parametrize("name", COLLECTION_NAMES)
def test_an_output_named_like_a_whole_collection_is_refused(tmp_path: Path, name: str) -> None:
    """build, preview and import-text refuse an output named collection.apkg or *.colpkg (any
    case): AnkiDroid offers such a file as a replacement of the whole collection; nothing
    is written."""
    src = bank(tmp_path / "c")
    out = tmp_path / "out" / name
    page = write(
        tmp_path / "page.txt", "Role\n\nQuestion 1\nDifficulty: easy\nQ?\nSample answer\nA.\n"
    )
    for args in (
        ["build", str(src), "-o", str(out)],
        ["preview", str(src), "-o", str(out)],
        ["import-text", str(page), "-o", str(out)],
    ):
        line = one_error(run_cli(args))
        assert "AnkiDroid offers" in line, line
        assert "whole collection" in line, line
        assert line.startswith(f"error: {out}: "), line
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["collection.apkg", "deck.COLPKG"])
def test_push_refuses_a_collection_name_before_asking_anki(tmp_path: Path, name: str) -> None:
    """push -o collection.apkg is refused before Anki is asked anything or a file written."""
    from ankiconnect_server import answering, serving

    handler = answering(200, b'{"result": 6, "error": null}')
    with serving(handler) as url:
        out = tmp_path / "out" / name
        result = run_cli(["push", str(bank(tmp_path / "c")), "-o", str(out), "--anki-url", url])
    line = one_error(result)
    assert "AnkiDroid offers" in line, line
    assert "whole collection" in line, line
    assert handler.asked == []
    assert not (tmp_path / "out").exists()
