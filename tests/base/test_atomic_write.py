"""Nothing half-written: a failed or interrupted build (disk full, Ctrl-C, SIGTERM, a signal
between the two renames) leaves the previous package and its history byte-identical, or both
new, and no temp file behind; a bad output path is a clean error that writes nothing."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    EPOCH,
    BuildResult,
    Status,
    build_deck,
    child_env,
    exporter_command,
    first_fast,
    hooked,
    make_bank,
    question,
    write,
)


def bank(folder: Path, answer: str, count: int = 3) -> Path:
    """A one-file bank whose answers all read ``answer``."""
    questions = [question(f"q{n}", text=f"Question {n}?", answer=answer) for n in range(count)]
    return make_bank(folder, questions)


def outputs(out: Path) -> dict[str, bytes]:
    """Every file below the output folder (temp files and build cache included), with bytes;
    the build lock's file (it names the last build's pid) counts by name only."""
    return {
        str(p.relative_to(out.parent)): b"" if p.name.endswith(".apkg.lock") else p.read_bytes()
        for p in sorted(out.parent.rglob("*"))
        if p.is_file()
    }


def build_cli(src: Path, out: Path, expect: Status = "failed") -> BuildResult:
    """Run ``build`` in-process with a fixed SOURCE_DATE_EPOCH (here: expected to fail),
    without the file cache: its entries, written as each file is made, would take the
    faults these tests aim at the outputs (``tests/state/test_filecache.py`` faults those)."""
    return build_deck(src, output=out, fresh=True, expect=expect)


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A completed first build, and a changed bank ready for a second one."""
    out = tmp_path / "dist" / "deck.apkg"
    build_deck(bank(tmp_path / "v1", "Old answer."), output=out)
    before = outputs(out)
    assert sorted(before) == [
        ".interview-deck-cache/.gitignore",
        ".interview-deck-cache/deck.apkg.json",
        ".interview-deck-cache/deck.apkg.lock",
        "deck.apkg",
        "deck.lock.json",
    ]
    return bank(tmp_path / "v2", "New answer."), out, before


def fail_on_call(n: int, real: Callable[..., Any], exc: BaseException) -> Callable[..., Any]:
    """A stand-in for ``real`` that raises ``exc`` on its n-th call (1-based)."""
    calls = [0]

    def fake(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == n:
            raise exc
        return real(*args, **kwargs)

    return fake


def enospc() -> OSError:
    """The error a full disk raises."""
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("call", [1, 2])
def test_disk_full_while_writing_keeps_previous_output(
    previous: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch, call: int
) -> None:
    """ENOSPC while writing the package (1) or its history (2): old files intact, no temp."""
    src, out, before = previous
    monkeypatch.setattr(os, "fsync", fail_on_call(call, os.fsync, enospc()))
    result = build_cli(src, out)
    name = "deck.apkg" if call == 1 else "deck.lock.json"
    assert result.exit_code == 1
    assert result.stderr == f"error: {out.parent / name}: cannot write (No space left on device)\n"
    assert outputs(out) == before


@pytest.mark.parametrize("where", ["collection", "package"])
def test_a_full_temp_folder_is_a_clean_error(
    previous: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The temp folder fills up (or refuses writes) while the package is made in it: its
    database (SQLite's error) or its zip (ENOSPC). One 'error:' line naming the folder and
    the fix, exit 1, no traceback; the previous output as it was."""
    import sqlite3

    import exporter.package.assemble
    from exporter.package.collection import Collection

    src, out, before = previous

    def full(*args: Any, **kwargs: Any) -> None:
        if where == "collection":
            raise sqlite3.OperationalError("database or disk is full")
        raise enospc()

    if where == "collection":
        monkeypatch.setattr(Collection, "add_notes", full)
    else:
        monkeypatch.setattr(exporter.package.assemble, "write_package", full)
    result = build_cli(src, out)
    why = "database or disk is full" if where == "collection" else "No space left on device"
    assert result.exit_code == 1
    assert re.fullmatch(
        rf"error: \S+: cannot write the package being built in this temp folder \({why}\); "
        r"free some space there, or set TMPDIR to a folder with room\n",
        result.stderr,
    ), result.stderr
    assert outputs(out) == before


def test_disk_full_part_way_through_a_file_keeps_previous_output(
    previous: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that stops half-way with ENOSPC leaves the old package and no temp file."""
    src, out, before = previous
    real_write = os.write

    def half_then_full(fd: int, data: Any) -> int:  # the disk fills half-way through
        monkeypatch.setattr(os, "write", real_write)
        real_write(fd, bytes(data[: len(data) // 2]))
        raise enospc()

    monkeypatch.setattr(os, "write", half_then_full)
    result = build_cli(src, out)
    assert result.exit_code == 1
    assert "cannot write (No space left on device)" in result.stderr
    assert outputs(out) == before


def test_failed_replace_rolls_back_the_package(
    previous: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the history cannot be moved into place, the already-replaced package is restored."""
    src, out, before = previous
    monkeypatch.setattr(os, "replace", fail_on_call(2, os.replace, enospc()))
    result = build_cli(src, out)
    assert result.exit_code == 1
    assert "deck.lock.json: cannot write (No space left on device)" in result.stderr
    assert outputs(out) == before


def test_interrupt_while_writing_keeps_previous_output(
    previous: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during the write: 'Aborted!', exit 1, previous files untouched, no temp file."""
    src, out, before = previous
    monkeypatch.setattr(os, "fsync", fail_on_call(2, os.fsync, KeyboardInterrupt()))
    result = build_cli(src, out)
    assert result.exit_code == 1
    assert "Aborted!" in result.stderr
    assert outputs(out) == before


def test_content_errors_keep_previous_output(
    previous: tuple[Path, Path, dict[str, bytes]], tmp_path: Path
) -> None:
    """A build of invalid content reports it and leaves the previous output alone."""
    _src, out, before = previous
    bad = write(tmp_path / "bad" / "bank.yaml", "role: Tester\nquestions: []\n")
    result = build_cli(bad, out)
    assert result.exit_code == 1
    assert result.stderr.endswith("1 problem found.\n")
    assert outputs(out) == before


# A sitecustomize for the child process only: pause inside the N-th fsync (after a temp file
# is written, before it is moved into place) and say so, so the test can signal it mid-write.
PAUSE_IN_FSYNC = """
import os, signal
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
_real, _calls = os.fsync, [0]
def _fsync(fd):
    _real(fd)
    _calls[0] += 1
    if _calls[0] == {n}:
        open({marker!r}, "w").close()
        signal.pause()  # until the test signals it
os.fsync = _fsync
"""

# Send ourselves the signal just before replace number {n} (the package, the history, then the
# record), and say so: every one comes after the commit point. The file cache's entries,
# written while the build works, are not counted (with {cache}: only they are).
SIGNAL_AT_REPLACE = """
import os, signal
signal.signal(signal.SIGINT, signal.default_int_handler)
_real, _calls = os.replace, [0]
def _replace(a, b):
    _calls[0] += ("/files/file-" in str(b)) == {cache}
    if _calls[0] == {n}:
        open({marker!r}, "w").close()
        os.kill(os.getpid(), {signum})
    _real(a, b)
os.replace = _replace
"""


def child_build(src: Path, out: Path, hooks: Path, hook: str) -> subprocess.Popen[str]:
    """``python -m exporter build`` in a child that first runs ``hook`` (its sitecustomize,
    written into ``hooks``)."""
    env = child_env(hooked(hooks, hook, {"SOURCE_DATE_EPOCH": str(EPOCH)}))
    return subprocess.Popen(
        exporter_command("build", src, "-o", out),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("signum", first_fast([signal.SIGTERM, signal.SIGINT]), ids=["TERM", "INT"])
@pytest.mark.parametrize("fsync_call", first_fast([1, 2]), ids=["in-package", "in-history"])
def test_killed_mid_write_keeps_previous_output(
    previous: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, signum: int, fsync_call: int
) -> None:
    """A real build process signalled mid-write exits 128 + the signal's number with one
    line; old files intact, no temp."""
    src, out, before = previous
    hooks = tmp_path / "hooks"
    marker = tmp_path / "paused"
    child = child_build(src, out, hooks, PAUSE_IN_FSYNC.format(n=fsync_call, marker=str(marker)))
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never reached the write"
            time.sleep(0.02)
        assert any(name.endswith(".tmp") for name in outputs(out))  # really mid-write
        child.send_signal(signum)
        _stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 128 + signum, stderr  # 130 (SIGINT) or 143 (SIGTERM)
    assert stderr.strip().splitlines() == ["Aborted!"]
    assert outputs(out) == before


@pytest.mark.slow  # a build child signalled at each of its replaces: the full tier
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_once_files_move_into_place_lets_the_build_finish(
    previous: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, signum: int
) -> None:
    """Ctrl-C or SIGTERM at any replace (the package's, the history's, the record's, the
    field cache's): past the commit point, so the build finishes, prints what it wrote,
    says the signal waited for a complete write, exits 0; never 'Aborted!'."""
    src, out, before = previous
    expected = tmp_path / "expected" / "deck.apkg"
    expected.parent.mkdir()
    for name in ("deck.apkg", "deck.lock.json"):  # same history: same result as undisturbed
        (expected.parent / name).write_bytes(before[name])
    build_cli(src, expected, expect="written")
    hooks, marker = tmp_path / "hooks", tmp_path / "signalled"
    pair = ("deck.apkg", "deck.lock.json")
    for n in range(1, 10):
        for name, data in before.items():  # the previous build's files again
            (out.parent / name).write_bytes(data)
        marker.unlink(missing_ok=True)
        hook = SIGNAL_AT_REPLACE.format(n=n, signum=int(signum), marker=str(marker), cache=False)
        child = child_build(src, out, hooks, hook)
        stdout, stderr = child.communicate(timeout=60)
        if not marker.exists():
            break  # the build made fewer replaces
        assert child.returncode == 0, (n, stderr)
        assert "Aborted!" not in stderr
        assert stdout.startswith(f"Wrote {out} ("), (n, stdout)
        assert stderr.splitlines()[-1] == (
            f"note: {signal.Signals(signum).name} arrived while the new files were moved into place: the write "
            "was finished first and is complete"
        ), (n, stderr)
        assert [outputs(out)[f] for f in pair] == [outputs(expected)[f] for f in pair]
        assert not [f for f in outputs(out) if f.endswith(".tmp")]
    assert n > 3, "the build made fewer replaces than its package, history and record"


@pytest.mark.parametrize("signum", first_fast([signal.SIGINT, signal.SIGTERM]), ids=["INT", "TERM"])
def test_a_signal_at_a_cache_entry_while_the_build_runs_stops_it(
    previous: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, signum: int
) -> None:
    """The file cache writes a file's entry while the build goes on to the next file: Ctrl-C
    or SIGTERM there stops the build (that write is not the build's commit point), the
    outputs as they were, no temp file left."""
    _src, out, before = previous
    src = tmp_path / "two"
    for name, answer in (("a.yaml", "First."), ("b.yaml", "Second.")):
        qs = [question(f"{name[0]}{n}", text=f"Question {n}?", answer=answer) for n in range(3)]
        make_bank(src, qs, role=name, filename=name)
    hooks, marker = tmp_path / "hooks", tmp_path / "signalled"
    hook = SIGNAL_AT_REPLACE.format(n=1, signum=int(signum), marker=str(marker), cache=True)
    child = child_build(src, out, hooks, hook)
    _stdout, stderr = child.communicate(timeout=60)
    assert marker.exists()
    assert child.returncode == 128 + signum, stderr
    assert stderr.strip().splitlines() == ["Aborted!"]
    assert outputs(out) == before


def test_output_path_that_is_a_folder_is_a_clean_error(tmp_path: Path) -> None:
    """-o pointing at a folder: one 'error:' line, exit 1, nothing written into it."""
    folder = tmp_path / "dist"
    folder.mkdir()
    result = build_cli(bank(tmp_path / "c", "A."), folder)
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"error: {folder}: is a folder; give a file name such as {folder / 'deck.apkg'}\n"
    )
    assert list(folder.iterdir()) == []


def test_output_under_a_regular_file_is_a_clean_error(tmp_path: Path) -> None:
    """-o whose parent is a regular file (not writable as a folder): a clean error, exit 1."""
    blocker = write(tmp_path / "not-a-folder", "x")
    out = blocker / "sub" / "deck.apkg"
    result = build_cli(bank(tmp_path / "c", "A."), out)
    assert result.exit_code == 1
    assert result.stderr == f"error: {out}: cannot write here: {blocker} is a file, not a folder\n"
    assert blocker.read_text() == "x"


def test_a_control_character_in_a_path_is_escaped_in_a_write_error(tmp_path: Path) -> None:
    """A refused write names its paths as every message does (``display``): an escape or a
    line break in a name is shown escaped, never acted on, and the message stays one line."""
    from exporter.errors import OutputError
    from exporter.files import display, write_files

    blocker = write(tmp_path / "not\x1b[31ma\nfolder", "x")
    out = blocker / "sub" / "deck.apkg"
    with pytest.raises(OutputError) as refused:
        write_files([(out, b"new")])
    message = str(refused.value)
    assert message == (
        f"{display(str(out))}: cannot write here: {display(str(blocker))} is a file, not a folder"
    )
    assert "\\x1b[31ma\\nfolder" in message
    assert "\x1b" not in message
    assert "\n" not in message
    assert blocker.read_text() == "x"


def test_output_that_is_a_content_file_is_refused(tmp_path: Path) -> None:
    """-o naming one of the YAML files being built never overwrites the content."""
    src = bank(tmp_path / "c", "A.")
    text = src.read_bytes()
    result = build_cli(src.parent, src)
    assert result.exit_code == 1
    assert "is one of the content files being built" in result.stderr
    assert src.read_bytes() == text


# Editing a user's documents (what pull --apply does): write_files(..., editing=Editing(...)).


def test_an_edit_of_a_shared_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document with a second hard link, or another user's whose owner a new file cannot
    keep, is never rewritten in place (a kill could leave it half-written): refused before
    any file is replaced, every file untouched, no temp file left."""
    from exporter.errors import OutputError
    from exporter.files import Editing, write_files

    linked, other = write(tmp_path / "a.yaml", "old a"), write(tmp_path / "b.yaml", "old b")
    os.link(linked, tmp_path / "a-link.yaml")
    with pytest.raises(OutputError, match=r"a\.yaml: has 2 hard links") as refused:
        write_files(
            [(other, b"new b"), (linked, b"new a")],
            editing=Editing(
                {linked: b"old a", other: b"old b"}, command="pull", writer="pull --apply"
            ),
        )
    assert refused.value.code == "content-hard-linked"
    assert (linked.read_text(), other.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-link.yaml", "a.yaml", "b.yaml"]

    def refuse(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "fchown", refuse)
    if os.geteuid() == 0:
        os.chown(other, 4321, 4321)
    elif other.stat().st_uid == os.geteuid():
        return  # another owner's file needs root to make
    with pytest.raises(OutputError, match=r"b\.yaml: belongs to another user") as refused:
        write_files(
            [(other, b"new b")],
            editing=Editing({other: b"old b"}, command="pull", writer="pull --apply"),
        )
    assert refused.value.code == "content-not-owned"
    assert other.read_text() == "old b"


def test_an_edits_refusals_name_the_command_the_caller_gives(tmp_path: Path) -> None:
    """The writer names no command of its own: a refused edit says the words its caller
    gives (pull's, here, word for word as pull has always said them)."""
    from exporter.errors import OutputError
    from exporter.files import Editing, write_files

    doc = write(tmp_path / "a.yaml", "saved meanwhile")

    def refusal(expected: bytes) -> tuple[str, str]:
        edit = Editing({doc: expected}, command="pull", writer="pull --apply")
        with pytest.raises(OutputError) as refused:
            write_files([(doc, b"new")], editing=edit)
        return refused.value.code, str(refused.value)

    assert refusal(b"what pull read") == (
        "content-changed",
        f"{doc}: changed on disk while pull ran (saved in an editor?); nothing written: "
        "run pull again",
    )
    os.link(doc, tmp_path / "twin.yaml")
    assert refusal(b"saved meanwhile") == (
        "content-hard-linked",
        f"{doc}: has 2 hard links; pull --apply writes a new file and moves it into place "
        "(never half a file), which would leave the other names with the old text; nothing "
        "written: make it a file of its own (copy it, then move the copy over it) and pull "
        "again",
    )
    doc.chmod(0o444)
    assert refusal(b"saved meanwhile") == (
        "content-read-only",
        f"{doc}: is read-only; nothing written (make it writable, e.g. chmod u+w, to pull into it)",
    )
    assert doc.read_text() == "saved meanwhile"
