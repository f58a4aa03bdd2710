"""Hostile and careless input beyond content files: outputs that are not regular files,
inputs that never end, damaged packages and histories, links that lead nowhere, Anki's own
syntax in content, import-text merges, concurrent builds and leftovers of killed ones. Every
case fails cleanly (one line, exit 1, no traceback) and damages nothing it does not own."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import stat
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    CONTENT,
    EPOCH,
    Anki,
    Builder,
    build_deck,
    make_bank,
    question,
    run_cli,
    run_exporter,
    write,
)

BANK_TEXT = (
    "role: Tester\nquestions:\n  - id: one\n    difficulty: easy\n    question: Why?\n"
    "    answer: Because.\n"
)


def bank(folder: Path) -> Path:
    """A one-question content file in ``folder``."""
    return write(folder / "bank.yaml", BANK_TEXT)


def one_error(result: Any) -> str:
    """The single line a clean failure prints (exit 1, no traceback)."""
    assert result.exit_code == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines, result.stderr
    return str(lines[0])


# 1. Outputs are regular files or nothing ------------------------------------------------


def make_special(path: Path, kind: str) -> Path:
    """A character device (made with mknod, never the real /dev), FIFO or socket."""
    if kind == "chardev":
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    return path


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


# 2. Inputs are bounded ------------------------------------------------------------------


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
        start = time.perf_counter()
        result = run_cli(args)
        assert expected in one_error(result), args
        assert time.perf_counter() - start < 5, args


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


# 3. No traceback on any input -----------------------------------------------------------


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


# 4. Nothing is skipped in silence -------------------------------------------------------


def test_links_that_lead_nowhere_and_linked_folders_are_named(tmp_path: Path) -> None:
    """A dangling or looping *.yaml link and a link to a folder are problems naming the
    path (a link to a YAML file is followed)."""
    src = tmp_path / "c"
    bank(src)
    (src / "dangling.yaml").symlink_to(tmp_path / "missing.yaml")
    (src / "loop.yaml").symlink_to(src / "loop.yaml")
    other = tmp_path / "other"
    make_bank(other, [question("two")], role="Other")
    (src / "linked").symlink_to(other)
    (src / "followed.yaml").symlink_to(other / "bank.yaml")
    result = run_cli(["validate", str(src)])
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert f"{src / 'dangling.yaml'}: is a link that leads nowhere" in result.stderr
    assert f"{src / 'loop.yaml'}: is a link that leads nowhere" in result.stderr
    assert f"{src / 'linked'}: is a link to a folder, which is not followed" in result.stderr
    assert lines[-1] == "3 problems found."


# 5. Anki's own syntax stays text ----------------------------------------------------------

ANKI_SYNTAX = (
    "[sound:x.mp3] [anki:tts lang=en_US]hello[/anki:tts] [latex]x^2[/latex] [$]y[/$] [$$]z[/$$]"
)


def test_anki_syntax_reaches_the_card_as_text(tmp_path: Path, anki: Anki) -> None:
    """In question, answer, role and code, Anki's bracket syntax is shown, never acted on:
    no play button, no TTS, no LaTeX image, no media reference."""
    src = make_bank(
        tmp_path / "c",
        [question("a", text=f"Q {ANKI_SYNTAX}?", answer=f"A {ANKI_SYNTAX}\n\n`{ANKI_SYNTAX}`")],
        role="Role [sound:r.mp3] [latex]r[/latex]",
    )
    out = build_deck(src, output=tmp_path / "d.apkg").output
    anki.import_package(out)
    (note,) = anki.notes()
    card = note.cards()[0]
    for side in (card.question(), card.answer()):
        assert "[anki:play" not in side
        assert "<img" not in side
        assert "latex-" not in side
        assert "&#91;sound:x.mp3]" in side
        assert "&#91;$]y&#91;/$]" in side
    assert card.question_av_tags() == []
    assert card.answer_av_tags() == []
    assert anki.col.media.files_in_str(note.mid, note.joined_fields()) == []
    rendered = anki.col._backend.render_existing_card(
        card_id=card.id, browser=False, partial_render=False
    )
    text = "".join(n.text for n in rendered.answer_nodes if n.WhichOneof("value") == "text")
    assert "&#91;latex]x^2&#91;/latex]" in text


# 6. import-text never churns ids ----------------------------------------------------------

PAGE = """Role
2 questions

Question 1
Difficulty: easy
How do you detect model drift in production?
Sample answer
Compare live feature distributions with the training baseline.

Question 2
Difficulty: medium
How do you roll back a bad model?
Sample answer
Keep the previous model deployed behind a flag and switch the flag.
"""


def import_text(page: Path, target: Path, *extra: str) -> Any:
    return run_cli(["import-text", str(page), "-o", str(target), *extra])


def ids_in(target: Path) -> list[str]:
    return [line.split(": ")[1] for line in target.read_text().splitlines() if "- id: " in line]


def test_a_page_that_repeats_a_question_is_stable(tmp_path: Path) -> None:
    """Importing the same page twice changes nothing, even when the page repeats itself;
    --prune keeps every id."""
    text = PAGE.replace("2 questions", "3 questions") + (
        "\nQuestion 3\nDifficulty: easy\nHow do you detect model drift in production?\n"
        "Sample answer\nCompare live feature distributions with the training baseline.\n"
    )
    page, target = write(tmp_path / "page.txt", text), tmp_path / "role.yaml"
    assert import_text(page, target).exit_code == 0
    first = target.read_text()
    assert ids_in(target) == [
        "detect-model-drift-production",
        "roll-back-bad-model",
        "detect-model-drift-production-2",
    ]
    again = import_text(page, target)
    assert again.stdout.startswith("Unchanged:")
    assert import_text(page, target, "--prune").stdout.startswith("Unchanged:")
    assert target.read_text() == first


def test_a_reworded_question_keeps_its_id(tmp_path: Path) -> None:
    """One word changed (same place, same difficulty): the id and its tags stay; a changed
    question with the same answer too; --prune drops nothing."""
    page, target = write(tmp_path / "page.txt", PAGE), tmp_path / "role.yaml"
    import_text(page, target)
    target.write_text(
        target.read_text().replace("    answer: |-", "    tags: [kept]\n    answer: |-", 1)
    )
    reworded = PAGE.replace("How do you detect model drift", "How would you spot model drift")
    reworded = reworded.replace("How do you roll back a bad model?", "Rolling back: how?")
    write(page, reworded)
    result = import_text(page, target, "--prune")
    assert result.exit_code == 0
    assert ids_in(target) == ["detect-model-drift-production", "roll-back-bad-model"]
    assert "tags: [kept]" in target.read_text()
    assert "0 added, 0 removed" in result.stdout


def test_a_page_of_another_role_and_an_emptying_prune_are_refused(tmp_path: Path) -> None:
    """A page about another role is refused; --prune that would empty the file is refused."""
    page, target = write(tmp_path / "page.txt", PAGE), tmp_path / "role.yaml"
    import_text(page, target)
    before = target.read_text()
    other = write(tmp_path / "other.txt", PAGE.replace("Role\n", "Another Role\n", 1))
    assert "is about 'Another Role'" in one_error(import_text(other, target))
    unrelated = write(
        tmp_path / "unrelated.txt",
        "Role\n\nQuestion 1\nDifficulty: hard\nSomething else entirely, about queues?\n"
        "Sample answer\nBack-pressure and bounded buffers.\n",
    )
    assert "would remove all 2 questions" in one_error(import_text(unrelated, target, "--prune"))
    assert target.read_text() == before


def test_one_numbering_slip_is_one_message(tmp_path: Path) -> None:
    """A page that skips 'Question 2' gets one message, not one per later question."""
    text = PAGE.replace("2 questions", "4 questions").replace("Question 2", "Question 3") + (
        "\nQuestion 4\nDifficulty: easy\nQ4?\nSample answer\nA4.\n"
        "\nQuestion 5\nDifficulty: easy\nQ5?\nSample answer\nA5.\n"
    )
    page = write(tmp_path / "page.txt", text)
    result = import_text(page, tmp_path / "role.yaml")
    assert result.exit_code == 1
    assert result.stderr.count("expected 'Question") == 1


# 7. The history cannot be poisoned ------------------------------------------------------


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


def test_a_history_with_a_bom_is_read(build: Builder, tmp_path: Path) -> None:
    """A lock saved by an editor that adds a UTF-8 BOM still reads."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    lock = build(src, output=out).history
    lock.write_bytes(b"\xef\xbb\xbf" + lock.read_bytes())
    build(src, output=out, fresh=True)


# 8. Moves and renames are told ------------------------------------------------------------


def test_a_moved_question_is_told_with_the_search(
    build: Builder, tmp_path: Path, anki: Anki
) -> None:
    """A question whose deck changed: Anki keeps its card in the old deck, and build says
    which questions moved and how to find them."""
    src = tmp_path / "c"
    make_bank(src, [question("one"), question("two")], role="Backend")
    out = tmp_path / "d" / "deck.apkg"
    anki.import_package(build(src, output=out).output)
    make_bank(src, [question("one"), question("two")], role="Platform")
    moved = build(src, output=out, epoch=EPOCH + 60)
    assert (
        "Moved to another deck since the last build: 2 questions from Interview "
        "Questions::Backend to Interview Questions::Platform." in moved.stdout
    )
    assert '"ID:one" OR "ID:two"' in moved.stdout
    anki.import_package(out)
    decks = {anki.col.decks.name(c.did) for n in anki.notes() for c in n.cards()}
    assert decks == {"Interview Questions::Backend"}  # Anki did not move them


# 9. Leftovers of killed builds are cleaned ----------------------------------------------


def test_leftovers_of_dead_builds_are_removed(
    build: Builder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed build's staged files beside its output go on the next build; a live build's,
    a fresh one's and other names stay; the shared temp folder is never swept, and the
    build leaves nothing of its own there."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    out = tmp_path / "d" / "deck.apkg"
    out.parent.mkdir()
    dead = 2**22 + 12345  # above the default pid_max: no such process
    old = time.time() - 3600
    stale_file = out.parent / f".deck.apkg.{dead}.xyz.tmp"
    stale_file.write_bytes(b"half")
    live_file = out.parent / f".deck.apkg.{os.getppid()}.xyz.tmp"
    live_file.write_bytes(b"busy")
    young_file = out.parent / f".deck.apkg.{dead}.young.tmp"
    young_file.write_bytes(b"new")
    other = out.parent / f".other.apkg.{dead}.xyz.tmp"
    other.write_bytes(b"not ours to judge")
    foreign_dir = temp / f"interview-deck-{dead}-abc"  # in the shared temp folder
    foreign_dir.mkdir()
    for path in (stale_file, live_file, other, foreign_dir):
        os.utime(path, (old, old))
    build(bank(tmp_path / "c"), output=out)
    assert not stale_file.exists()
    assert live_file.exists()
    assert young_file.exists()
    assert other.exists()
    assert sorted(p.name for p in temp.iterdir()) == [foreign_dir.name]


# 10. Messages name the real cause and the editor's line -----------------------------------


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
        assert "(its bytes say otherwise)" in result.stderr


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
