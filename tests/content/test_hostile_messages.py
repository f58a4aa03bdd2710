"""Hostile input, messages name the real cause and the editor's line: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from helpers import (
    BANK_TEXT,
    bank,
    make_bank,
    one_error,
    question,
    run_cli,
    write,
)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_line_numbers_count_as_an_editor_does(tmp_path: Path, separator: str) -> None:
    """A U+2028/U+2029 inside a value does not shift later line numbers."""
    text = BANK_TEXT.replace("Why?", f'"Why{separator}now?"').replace("easy", "Easy")
    result = run_cli(["validate", str(write(tmp_path / "q.yaml", text))])
    assert one_error(result).startswith(f"{tmp_path / 'q.yaml'}:4: unknown difficulty 'Easy'")


def test_cr_only_line_endings(tmp_path: Path) -> None:
    """A file with old Mac line endings is reported at the lines an editor shows."""
    path = tmp_path / "q.yaml"
    path.write_bytes(BANK_TEXT.replace("easy", "Easy").replace("\n", "\r").encode())
    assert one_error(run_cli(["validate", str(path)])).startswith(f"{path}:4: unknown difficulty")
    path.write_bytes(b"role: R\rquestions:\r  - id: a\xff\r")
    assert one_error(run_cli(["validate", str(path)])).startswith(f"{path}:3:10: not valid UTF-8")


def test_utf16_and_merge_keys_name_their_real_cause(tmp_path: Path) -> None:
    """UTF-16 without a BOM says UTF-16; a merge key says merge keys are not supported."""
    utf16 = tmp_path / "u.yaml"
    utf16.write_bytes(BANK_TEXT.encode("utf-16-le"))
    assert one_error(run_cli(["validate", str(utf16)])) == (
        f"{utf16}:1: the file is UTF-16 without a byte order mark (little-endian), not UTF-8; "
        "save it as UTF-8"
    )
    merge = write(
        tmp_path / "m.yaml",
        "role: R\nquestions:\n  - &q\n    id: a\n    difficulty: easy\n    question: Q?\n"
        "    answer: A.\n  - <<: *q\n    id: b\n",
    )
    assert "YAML merge keys ('<<') are not supported" in run_cli(["validate", str(merge)]).stderr


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system taking any bytes")
def test_odd_file_names_stay_on_one_line(tmp_path: Path) -> None:
    """A file name with a line break or bytes that are not UTF-8 is shown quoted, so each
    problem is one parseable line."""
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "bad\nname.yaml").write_text("role: R\n")
    os.close(os.open(os.fsencode(folder) + b"/caf\xe9.yaml", os.O_CREAT | os.O_WRONLY))
    result = run_cli(["validate", str(folder)])
    lines = result.stderr.splitlines()
    assert lines[-1] == "2 problems found."
    assert any(line.startswith(f"'{folder}/bad\\nname.yaml':") for line in lines)
    assert any(line.startswith(f"'{folder}/caf\\xe9.yaml':") for line in lines)


# Images: their bytes must be what the name says; they may not change under the build -----


@pytest.mark.parametrize(
    ("name", "data", "ok"),
    [
        ("a.gif", b"GIF89a" + bytes(20), True),
        ("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(8), True),
        ("a.jpg", b"\xff\xd8\xff\xe0" + bytes(20), True),
        ("a.jpeg", b"\xff\xd8\xff\xe0" + bytes(20), True),
        ("a.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', True),
        ("a.gif", b"GIF90a" + bytes(20), False),
        ("a.webp", b"RIFF\x10\x00\x00\x00WAVE" + bytes(8), False),
        ("a.jpg", b"\x89PNG\r\n\x1a\n" + bytes(20), False),
        ("a.svg", b"\xff\xfe<\x00s\x00", False),
    ],
)
def test_an_image_is_what_its_bytes_say(tmp_path: Path, name: str, data: bytes, ok: bool) -> None:
    """Each supported type is accepted by its signature, and refused when the bytes are
    another thing."""
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / name).write_bytes(data)
    path = make_bank(tmp_path / "c", [question("a", answer=f"See ![x]({name}).")])
    result = run_cli(["validate", str(path)])
    assert result.exit_code == (0 if ok else 1), result.stderr
    if not ok:
        assert f"is not {'an' if name.endswith('.svg') else 'a'} " in result.stderr
        assert ": its bytes are " in result.stderr


def test_an_image_changed_or_gone_during_the_build_stops_it(tmp_path: Path) -> None:
    """The bytes written to the package are the bytes checked: a file changed or removed
    since is an error, never a package whose media disagree with its notes."""
    from exporter.content.media import MediaProblem, read_verified, resolve

    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(10))
    media = resolve("a.png", tmp_path / "bank.yaml", tmp_path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(11))
    with pytest.raises(MediaProblem, match="changed while the build ran"):
        read_verified(media)
    path.unlink()
    with pytest.raises(MediaProblem, match="cannot be read any more"):
        read_verified(media)


def test_a_line_the_stream_cannot_encode_is_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the output stream cannot encode a character, the line is printed escaped."""
    import click

    from exporter.cli import terminal

    printed: list[str] = []

    def echo(line: str, err: bool = False) -> None:
        line.encode("ascii")  # an ASCII-only stream: raises UnicodeEncodeError
        printed.append(line)

    monkeypatch.setattr(click, "echo", echo)
    monkeypatch.setattr(sys, "stdout", type("Ascii", (), {"encoding": "ascii"})())
    terminal.say("Wrote dëck.apkg")
    assert printed == ["Wrote d\\xebck.apkg"]


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_build_lock_that_is_not_a_file_is_refused(tmp_path: Path, kind: str) -> None:
    """The lock file is written to: a link there (to someone's file) or a FIFO is refused
    with one line, and the linked file is untouched."""
    out = tmp_path / "d" / "deck.apkg"
    (out.parent / ".interview-deck-cache").mkdir(parents=True)
    lock = out.parent / ".interview-deck-cache" / "deck.apkg.lock"
    precious = write(tmp_path / "precious.txt", "precious data\n")
    if kind == "symlink":
        lock.symlink_to(precious)
    else:
        os.mkfifo(lock)
    message = one_error(run_cli(["build", str(bank(tmp_path / "c")), "-o", str(out)]))
    assert "build lock" in message
    assert precious.read_text() == "precious data\n"
    assert not out.exists()


def test_decks_that_anki_takes_for_one_are_one_deck(tmp_path: Path) -> None:
    """Deck names equal once NFC-normalised (é written two ways) clash like case does."""
    make_bank(tmp_path / "c", [question("a")], role="Caf\u00e9", filename="a.yaml")
    make_bank(tmp_path / "c", [question("b")], role="Cafe\u0301", filename="b.yaml")
    result = run_cli(["validate", str(tmp_path / "c")])
    assert "only in case, spaces or Unicode form, and Anki treats them as one deck" in one_error(
        result
    )
