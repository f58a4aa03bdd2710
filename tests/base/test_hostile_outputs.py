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


def _tree(folder: Path) -> dict[str, bytes | str]:
    """Every path below ``folder``: a file's bytes, a link's target, a folder as '/'."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        name = str(p.relative_to(folder))
        if p.is_symlink():
            out[name] = "-> " + os.readlink(p)
        elif p.is_dir():
            out[name] = "/"
        else:
            out[name] = p.read_bytes()
    return out


# (where the link is, below the output folder; what it points at)
CACHE_LINKS = {
    "cache-folder-to-a-folder": (".interview-deck-cache", "folder"),
    "cache-folder-dangling": (".interview-deck-cache", "missing"),
    "gitignore-dangling": (".interview-deck-cache/.gitignore", "missing"),
    "gitignore-to-a-file": (".interview-deck-cache/.gitignore", "file"),
    "lock-dangling": (".interview-deck-cache/deck.apkg.lock", "missing"),
    "lock-to-a-file": (".interview-deck-cache/deck.apkg.lock", "file"),
    "record-dangling": (".interview-deck-cache/deck.apkg.json", "missing"),
    "record-to-a-file": (".interview-deck-cache/deck.apkg.json", "file"),
}


@pytest.mark.parametrize("case", sorted(CACHE_LINKS))
@pytest.mark.parametrize("fresh", [False, True], ids=["build", "no-cache"])
def test_a_link_in_the_build_cache_is_refused_and_never_written_through(
    tmp_path: Path, case: str, fresh: bool
) -> None:
    """The build cache beside the output, or a file the tool writes in it, that is a link
    (git stores links: a cloned checkout can ship one, dangling or not): one line naming
    it, exit 1, nothing written, nothing made or changed where it points."""
    where, kind = CACHE_LINKS[case]
    dist = tmp_path / "dist"
    link = dist / where
    link.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "target"
    if kind == "folder":
        target.mkdir()
    elif kind == "file":
        target.write_bytes(b"someone's file\n")
    link.symlink_to(target)
    before, before_dist = _tree(elsewhere), _tree(dist)
    args = ["build", str(bank(tmp_path / "c")), "-o", str(dist / "deck.apkg")]
    result = run_cli(args + (["--no-cache"] if fresh else []))
    message = one_error(result)
    assert f"{link}: is a symbolic link" in message
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert _tree(elsewhere) == before
    assert _tree(dist) == before_dist


@pytest.mark.parametrize("name", ["deck.apkg", "deck.lock.json"])
def test_a_link_in_place_of_the_package_or_history_is_replaced_not_followed(
    tmp_path: Path, name: str
) -> None:
    """A dangling link named like the package or its history is replaced by the new file:
    nothing is made where it pointed."""
    dist = tmp_path / "dist"
    dist.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dist / name).symlink_to(elsewhere / "target")
    result = run_cli(["build", str(bank(tmp_path / "c")), "-o", str(dist / "deck.apkg")])
    assert result.exit_code == 0, result.stderr
    assert list(elsewhere.iterdir()) == []
    assert not (dist / name).is_symlink()


@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_a_rolled_back_write_puts_a_linked_package_back_as_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dangling: bool
) -> None:
    """A package path that is a link (dangling or not), and a write that fails at the
    history's replace: the link is put back as it was (never the file it points at
    hard-linked into the output folder), and that file is untouched."""
    import errno

    dist = tmp_path / "dist"
    dist.mkdir()
    target = tmp_path / "elsewhere" / "file"
    target.parent.mkdir()
    if not dangling:
        target.write_bytes(b"someone's file\n")
    (dist / "deck.apkg").symlink_to(target)
    real, done = os.replace, []

    def history_fails(src: str, dst: str | Path) -> None:
        if str(dst).endswith("deck.lock.json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(src, dst)
        done.append(str(dst))

    monkeypatch.setattr(os, "replace", history_fails)
    result = run_cli(["build", str(bank(tmp_path / "c")), "-o", str(dist / "deck.apkg")])
    assert "No space left on device" in one_error(result)
    assert str(dist / "deck.apkg") in done  # replaced, then put back
    assert os.readlink(dist / "deck.apkg") == str(target)
    if dangling:
        assert not target.exists()
    else:
        assert target.read_bytes() == b"someone's file\n"
        assert target.stat().st_nlink == 1
    assert sorted(p.name for p in dist.iterdir() if p.name.endswith(".tmp")) == []


@pytest.mark.parametrize("target", ["folder", "dangling"])
@pytest.mark.parametrize("command", ["build", "push"])
def test_a_linked_output_folder_in_the_checkout_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, command: str
) -> None:
    """A checkout whose dist/ is a symbolic link (git stores links: a clone can ship one):
    the default output (and any relative one through it) is refused in one line naming the
    link, before anything is read or written; nothing appears where it points."""
    monkeypatch.chdir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    if target == "folder":
        elsewhere.mkdir()
    Path("dist").symlink_to(elsewhere)
    args = [command, str(bank(tmp_path / "content"))]
    if command == "push":
        args += ["--anki-url", "http://127.0.0.1:9"]
    message = one_error(run_cli(args))
    assert message.startswith("error: dist: is a symbolic link (to "), message
    assert "pass the real place as an absolute path" in message
    assert not elsewhere.exists() or list(elsewhere.iterdir()) == []


def test_an_absolute_output_through_a_linked_folder_is_the_users_choice(tmp_path: Path) -> None:
    """An output given from the root may pass through a link (/tmp is one on macOS): it is
    written there."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "linked").symlink_to(real)
    out = tmp_path / "linked" / "deck.apkg"
    result = run_cli(["build", str(bank(tmp_path / "c")), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert (real / "deck.apkg").is_file()
