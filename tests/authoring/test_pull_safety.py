"""`pull --apply` never loses a word: without a build history a difference is a conflict, a
file changed while pull ran is not replaced, a file keeps its mode and owner, a read-only or
hard-linked file is refused, a kill at any point leaves each file old or new, and what a killed pull left behind is removed by the next run.
Real Anki exports throughout."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    CONTENT,
    EPOCH,
    SIGNAL_AT_THE_MOVE,
    Anki,
    add_own_note,
    build_deck,
    built_and_imported,
    child_env,
    export,
    exporter_command,
    first_fast,
    hang_guard,
    history_for,
    hooked,
    make_bank,
    one_error,
    question,
    run_cli,
    run_exporter,
    write,
)

EDITED_AT = EPOCH + 3600


def edit(anki: Anki, qid: str, answer: str) -> None:
    """Rewrite a note's answer in Anki, saved an hour after the build."""
    note = anki.note_by_id_field(qid)
    note["Answer"] = answer
    anki.col.update_note(note)
    anki.col.db.execute("update notes set mod=? where id=?", EDITED_AT, note.id)


def pull(*args: str | Path) -> Any:
    return run_cli(["pull", *map(str, args)])


# The same as test_pull.py's two helpers of these names (candidates for helpers.py).
def bank_built_and_imported(tmp_path: Path, anki: Anki) -> tuple[Path, Path]:
    """A two-question bank built to ``tmp_path/out/deck.apkg`` and imported: (bank, package)."""
    bank = make_bank(tmp_path / "c", [question("one"), question("two")])
    return bank, built_and_imported(bank.parent, tmp_path / "out", anki)


def test_without_history_a_yaml_edit_is_never_replaced(tmp_path: Path, anki: Anki) -> None:
    """No build history beside -o (the default path while one builds to another name): a
    difference may be the YAML's newer text, so it is a conflict: --apply leaves it and
    exits 1; --prefer says which side wins."""
    bank, _package = bank_built_and_imported(tmp_path, anki)
    exported = export(anki, tmp_path / "x.apkg")  # Anki untouched: it holds the build's text
    bank.write_text(bank.read_text("utf-8").replace("one.", "Newer in the YAML."), "utf-8")
    before = bank.read_bytes()
    elsewhere = tmp_path / "dist" / "interview-questions.apkg"  # no history there

    applied = pull(exported, bank.parent, "--apply", "-o", elsewhere)
    assert applied.exit_code == 1, applied.stdout
    assert "CONFLICT " in applied.stdout
    assert "no build history stamps this question" in applied.stdout
    assert "note: no build history next to the package" in applied.stderr
    assert bank.read_bytes() == before
    assert "1 conflict left as they are" in applied.stderr

    kept = pull(exported, bank.parent, "--apply", "--prefer", "yaml", "-o", elsewhere)
    assert kept.exit_code == 0, kept.stderr
    assert bank.read_bytes() == before
    taken = pull(exported, bank.parent, "--apply", "--prefer", "anki", "-o", elsewhere)
    assert taken.exit_code == 0, taken.stderr
    assert "Newer in the YAML." not in bank.read_text("utf-8")


def test_without_history_an_anki_edit_needs_a_side_too(tmp_path: Path, anki: Anki) -> None:
    """An edit made in Anki, pulled with no history: shown as a conflict, not written
    until --prefer anki says so."""
    bank, _package = bank_built_and_imported(tmp_path, anki)
    edit(anki, "two", "Edited in Anki.")
    exported = export(anki, tmp_path / "x.apkg")
    before = bank.read_bytes()
    none = tmp_path / "none.apkg"
    shown = pull(exported, bank.parent, "-o", none)
    assert shown.exit_code == 1
    assert "0 questions edited in Anki, 1 conflict unresolved" in shown.stdout
    assert pull(exported, bank.parent, "--apply", "-o", none).exit_code == 1
    assert bank.read_bytes() == before
    taken = pull(exported, bank.parent, "--apply", "--prefer", "anki", "-o", none)
    assert taken.exit_code == 0, taken.stderr
    assert "Edited in Anki." in bank.read_text("utf-8")


EDITOR_SAVE = "Saved in the editor meanwhile."


def _pulled_edit(tmp_path: Path, anki: Anki) -> tuple[Path, Path, Path]:
    """A bank, its package and an export whose note 'one' was edited in Anki."""
    bank, package = bank_built_and_imported(tmp_path, anki)
    edit(anki, "one", "Edited in Anki.")
    return bank, package, export(anki, tmp_path / "x.apkg")


def _editor_saves(bank: Path) -> None:
    bank.write_text(bank.read_text("utf-8").replace("two.", EDITOR_SAVE), "utf-8")


def test_a_save_while_pull_writes_is_never_lost(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor saves the file after pull read it and before pull replaces it: pull
    refuses (exit 1, one line), and the file holds the editor's save."""
    bank, package, exported = _pulled_edit(tmp_path, anki)
    real = os.fsync

    def save_then_fsync(fd: int) -> None:  # pull has read the file and is staging its copy
        _editor_saves(bank)
        monkeypatch.setattr(os, "fsync", real)
        real(fd)

    monkeypatch.setattr(os, "fsync", save_then_fsync)
    result = pull(exported, bank.parent, "--apply", "-o", package)
    assert "changed on disk while pull ran" in one_error(result)
    text = bank.read_text("utf-8")
    assert EDITOR_SAVE in text
    assert "Edited in Anki." not in text
    assert not [p.name for p in bank.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_save_between_reading_and_splicing_is_never_lost(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save after pull loaded the bank but before it re-read the file to edit it (the very
    question pulled into): the plan no longer fits the file; refused, the save kept."""
    from exporter.content.load import load_bank

    bank, package, exported = _pulled_edit(tmp_path, anki)
    real = load_bank

    def load_then_save(*args: Any, **kwargs: Any) -> Any:
        loaded = real(*args, **kwargs)
        bank.write_text(bank.read_text("utf-8").replace("one?", "Reworded?"), "utf-8")
        return loaded

    monkeypatch.setattr("exporter.pipeline.load_bank", load_then_save)
    result = pull(exported, bank.parent, "--apply", "-o", package)
    assert "changed on disk while pull ran" in one_error(result)
    assert "Reworded?" in bank.read_text("utf-8")


def test_a_hard_linked_bank_is_refused(tmp_path: Path, anki: Anki) -> None:
    """A bank with a second hard link can be neither replaced (it would split from its twin)
    nor rewritten in place all-or-nothing: one line saying so, exit 1, both names untouched
    and still one file."""
    bank, package, exported = _pulled_edit(tmp_path, anki)
    twin = tmp_path / "twin.yaml"
    os.link(bank, twin)
    before, text = bank.stat(), bank.read_bytes()
    result = pull(exported, bank.parent, "--apply", "-o", package)
    assert "has 2 hard links" in one_error(result)
    assert "nothing written" in result.stderr
    after = bank.stat()
    assert (after.st_ino, after.st_nlink) == (before.st_ino, 2)
    assert bank.read_bytes() == twin.read_bytes() == text
    assert _leftovers(bank.parent) == []


def test_apply_keeps_the_mode_of_a_file_with_one_name(tmp_path: Path, anki: Anki) -> None:
    """An ordinary file is replaced atomically and keeps its permission bits (0640 here)."""
    bank, package, exported = _pulled_edit(tmp_path, anki)
    bank.chmod(0o640)
    assert pull(exported, bank.parent, "--apply", "-o", package).exit_code == 0
    assert stat.S_IMODE(bank.stat().st_mode) == 0o640
    assert "Edited in Anki." in bank.read_text("utf-8")


def test_a_read_only_bank_is_refused(tmp_path: Path, anki: Anki) -> None:
    """A 0444 bank is not rewritten: one line saying so, exit 1, file untouched."""
    bank, package, exported = _pulled_edit(tmp_path, anki)
    bank.chmod(0o444)
    before = bank.read_bytes()
    result = pull(exported, bank.parent, "--apply", "-o", package)
    assert "is read-only; nothing written" in one_error(result)
    assert bank.read_bytes() == before
    assert stat.S_IMODE(bank.stat().st_mode) == 0o444


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_apply_keeps_the_owner_of_someone_elses_file(tmp_path: Path, anki: Anki) -> None:
    """Run as root on a user's bank, the file stays the user's."""
    bank, package, exported = _pulled_edit(tmp_path, anki)
    os.chown(bank, 4321, 4321)
    assert pull(exported, bank.parent, "--apply", "-o", package).exit_code == 0
    assert (bank.stat().st_uid, bank.stat().st_gid) == (4321, 4321)


# A sitecustomize for the child only: SIGKILL itself at the first replace, when its temp
# copy and the backup link of the file are both on disk (what a kill -9 or a power cut does).
KILLED_AT_THE_MOVE = """
import os, signal
os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
"""


def _leftovers(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("then", first_fast(["pull", "build"]))
def test_what_a_killed_pull_left_is_removed_by_the_next_run(
    tmp_path: Path, anki: Anki, then: str
) -> None:
    """pull --apply killed at the move leaves its temp copy and backup link beside the bank
    (with the bank's 0600, never more); the next pull or build removes them, and only them."""
    bank, package, exported = _pulled_edit(tmp_path, anki)
    bank.chmod(0o600)
    before = bank.read_bytes()
    killed = run_exporter(
        "pull",
        exported,
        bank.parent,
        "--apply",
        "-o",
        package,
        env=hooked(tmp_path / "hooks", KILLED_AT_THE_MOVE),
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = _leftovers(bank.parent)
    assert len(left) == 2, left  # the staged copy and the backup link
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in left)
    assert bank.read_bytes() == before
    other = write(bank.parent / f".notes.yaml.{2**22 + 7}.x.tmp", "not pull's to judge")
    if then == "pull":
        result = pull(exported, bank.parent, "-o", package)
        assert result.exit_code == 1  # the edit is still there to pull
    else:
        build_deck(bank.parent, output=tmp_path / "other.apkg")
    assert _leftovers(bank.parent) == [other]
    assert bank.read_bytes() == before


def _edited_and_added(tmp_path: Path, anki: Anki, bank: Path) -> tuple[Path, Path]:
    """``bank`` built and imported; in Anki, 'one' edited and a note 'Mine?' added; then
    exported: (package, export)."""
    package = built_and_imported(bank.parent, tmp_path / "out", anki)
    edit(anki, "one", "Edited in Anki.")
    add_own_note(anki, "Interview Questions::Tester", ["difficulty::easy"])
    return package, export(anki, tmp_path / "x.apkg")


# Two questions, the last written in flow style ({…}): it cannot be edited or appended after.
FLOW_LAST = (
    "role: Tester\nquestions:\n  - id: one\n    difficulty: easy\n    question: one?\n"
    "    answer: one.\n  - {id: two, difficulty: easy, question: two?, answer: two.}\n"
)


def test_a_list_laid_out_with_a_wide_dash_takes_edits_and_new_notes(
    tmp_path: Path, anki: Anki
) -> None:
    """`-   id: x` (valid YAML) plus an edit and a note added in Anki: the dry run shows
    both, --apply writes the edit, --apply --add-new adds the note in the list's own layout."""
    text = (
        "role: Tester\nquestions:\n-   id: one\n    difficulty: easy\n    question: one?\n"
        "    answer: one.\n-   id: two\n    difficulty: easy\n    question: two?\n"
        "    answer: two.\n"
    )
    bank = write(tmp_path / "c" / "bank.yaml", text)
    package, exported = _edited_and_added(tmp_path, anki, bank)
    shown = pull(exported, bank.parent, "-o", package)
    assert shown.exit_code == 1, shown.stderr
    assert "+-   id: mine\n" in shown.stdout
    applied = pull(exported, bank.parent, "--apply", "-o", package)
    assert applied.exit_code == 0, applied.stderr
    assert "Edited in Anki." in bank.read_text("utf-8")
    added = pull(exported, bank.parent, "--apply", "--add-new", "-o", package)
    assert added.exit_code == 0, added.stderr
    assert "\n-   id: mine\n    guid: " in bank.read_text("utf-8")
    assert run_cli(["validate", bank]).exit_code == 0


def test_one_change_that_cannot_be_made_does_not_block_the_others(
    tmp_path: Path, anki: Anki
) -> None:
    """A note added in Anki cannot be appended (the last question is written in flow
    style): the edit of another question is still shown and written; the note is named
    with the reason, and --add-new exits 1."""
    bank = write(tmp_path / "c" / "bank.yaml", FLOW_LAST)
    package, exported = _edited_and_added(tmp_path, anki, bank)
    shown = pull(exported, bank.parent, "-o", package)
    assert shown.exit_code == 1
    assert (
        "+      Edited in Anki." in shown.stdout or "+    answer: Edited in Anki." in shown.stdout
    )
    assert "cannot append questions to a list written in flow style" in shown.stdout
    applied = pull(exported, bank.parent, "--apply", "-o", package)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "Edited in Anki." in bank.read_text("utf-8")
    added = pull(exported, bank.parent, "--apply", "--add-new", "-o", package)
    assert added.exit_code == 1
    assert "not added: " in added.stderr
    assert "cannot append questions to a list written in flow style" in added.stderr
    assert "id: mine" not in bank.read_text("utf-8")


# A sitecustomize for the child only: after staging the first file (its first fsync), say so
# on one pipe and wait on another until the test says go, so that a build runs while pull
# --apply is writing. Pipes, not polled files: each side blocks until the other acts.
PAUSE_AFTER_STAGING = """
import os
_real = os.fsync
def _fsync(fd):
    _real(fd)
    os.fsync = _real
    os.write({staged}, b"s")
    os.read({go}, 1)
os.fsync = _fsync
"""


def test_a_build_while_pull_writes_leaves_the_pull_alone(tmp_path: Path, anki: Anki) -> None:
    """A build that runs while pull --apply is writing (its temp copy staged beside the
    bank) neither removes the pull's files nor sees half a file; the pull then finishes."""
    bank, package, exported = _pulled_edit(tmp_path, anki)
    staged_r, staged_w = os.pipe()
    go_r, go_w = os.pipe()
    env = child_env(
        hooked(tmp_path / "hooks", PAUSE_AFTER_STAGING.format(staged=staged_w, go=go_r))
    )
    args = exporter_command("pull", exported, bank.parent, "--apply", "-o", package)
    try:
        child = subprocess.Popen(
            args,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(staged_w, go_r),
        )
    finally:
        os.close(staged_w)  # the child's copies remain: its exit ends the read below
        os.close(go_r)
    try:
        with hang_guard():
            said = os.read(staged_r, 1)  # b"" when the child ended without staging
        assert said == b"s", child.communicate()
        staged = _leftovers(bank.parent)
        assert len(staged) == 1
        built = build_deck(bank.parent, output=tmp_path / "meanwhile.apkg")
        assert built.status == "written"
        assert _leftovers(bank.parent) == staged  # a live writer's file: left alone
        os.write(go_w, b"g")
        _out, err = child.communicate(timeout=120)
    finally:
        os.close(staged_r)
        os.close(go_w)
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert "Edited in Anki." in bank.read_text("utf-8")
    assert _leftovers(bank.parent) == []


@pytest.mark.parametrize("apply", [False, True], ids=["dry-run", "apply"])
def test_another_banks_export_is_not_nothing_to_pull(
    tmp_path: Path, anki: Anki, apply: bool
) -> None:
    """An export of another bank holds none of SOURCES' questions: one line saying so (a
    wrong export?), exit 1, never 'Nothing to pull'."""
    _bank, _package = bank_built_and_imported(tmp_path, anki)
    exported = export(anki, tmp_path / "x.apkg")
    other = make_bank(tmp_path / "other", [question("alpha"), question("beta")], role="Other")
    result = pull(
        exported, other.parent, *(["--apply"] if apply else []), "-o", tmp_path / "o.apkg"
    )
    message = one_error(result)
    assert "holds none of SOURCES' questions" in message
    assert "a wrong export" in message
    assert "Nothing to pull" not in result.stdout


@pytest.mark.parametrize("ending", ["\r", "\r\n"], ids=["CR", "CRLF"])
def test_a_multi_line_edit_into_a_cr_only_file(tmp_path: Path, anki: Anki, ending: str) -> None:
    """A CR-only (or CRLF) bank, which build accepts, takes a multi-line edit from Anki and
    keeps its own line ends on every line."""
    bank = make_bank(tmp_path / "c", [question("one"), question("two")])
    bank.write_bytes(bank.read_bytes().replace(b"\n", ending.encode()))
    package = built_and_imported(bank.parent, tmp_path / "out", anki)
    edit(anki, "one", "<div>First line.</div><div>Second line.</div>")
    result = pull(export(anki, tmp_path / "x.apkg"), bank.parent, "--apply", "-o", package)
    assert result.exit_code == 0, result.stdout + result.stderr
    text = bank.read_bytes().decode()
    assert f"First line.{ending}      Second line.{ending}" in text
    assert text.replace(ending, "").count("\r") + text.replace(ending, "").count("\n") == 0


def test_an_edit_into_a_flow_style_question_is_refused_alone(tmp_path: Path, anki: Anki) -> None:
    """Two questions edited in Anki, one written in flow style ({…}): that one is shown and
    refused with the reason (exit 1), the other is written."""
    bank = write(tmp_path / "c" / "bank.yaml", FLOW_LAST)
    package = built_and_imported(bank.parent, tmp_path / "out", anki)
    edit(anki, "one", "Edited in Anki.")
    edit(anki, "two", "Also edited.")
    exported = export(anki, tmp_path / "x.apkg")
    shown = pull(exported, bank.parent, "-o", package)
    assert "'two': answer edited in Anki; cannot be written: " in shown.stdout
    assert "+    answer: Edited in Anki." in shown.stdout
    applied = pull(exported, bank.parent, "--apply", "-o", package)
    assert applied.exit_code == 1
    assert "'two' not written: " in applied.stderr
    assert "flow style" in applied.stderr
    after = bank.read_text("utf-8")
    assert "Edited in Anki." in after
    assert "Also edited." not in after


def _bank_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-question bank at content/bank.yaml, the test's folder the working folder."""
    monkeypatch.chdir(tmp_path)
    return make_bank(tmp_path / "content", [question("one"), question("two")])


def test_pull_without_o_finds_the_history_of_a_build_made_with_o(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built with -o dist/deck.apkg (beside another bank's history, a later build of a
    bank with one of its questions and a damaged history), edited in Anki, exported: `pull EXPORT` with no -o finds dist/deck.lock.json, the
    history that stamped the export's notes, says so, and the edit is an edit, not a
    conflict; --apply writes it."""
    bank = _bank_in_cwd(tmp_path, monkeypatch)
    build_deck(CONTENT, output=Path("dist/interview-questions.apkg"))  # another bank's
    anki.import_package(build_deck(bank.parent, output=Path("dist/deck.apkg")).output)
    make_bank(tmp_path / "only-one", [question("one")])
    build_deck(tmp_path / "only-one", output=Path("dist/one.apkg"), epoch=EPOCH + 60)
    (tmp_path / "dist" / "damaged.lock.json").write_text("{", encoding="utf-8")  # passed over
    edit(anki, "two", "Edited in Anki.")
    exported = export(anki, tmp_path / "x.apkg")

    shown = pull(exported)
    assert shown.exit_code == 1, shown.stderr
    assert "1 question edited in Anki, 0 conflicts" in shown.stdout
    assert "CONFLICT" not in shown.stdout
    assert shown.stderr.splitlines()[0] == (
        f"note: using the build history {Path('dist/deck.lock.json')}, which stamped these "
        "notes (pass -o to use another)"
    )
    applied = pull(exported, "--apply")
    assert applied.exit_code == 0, applied.stderr
    assert "Edited in Anki." in bank.read_text("utf-8")


def test_pull_without_o_names_the_o_when_two_histories_fit(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two histories that stamped the export's notes alike but disagree on a question: pull
    cannot tell which is the build's, so every difference is a conflict (nothing written
    without --prefer), and one line names the -o to pass; with it, the edit is an edit."""
    bank = _bank_in_cwd(tmp_path, monkeypatch)
    anki.import_package(build_deck(bank.parent, output=Path("dist/a.apkg")).output)
    build_deck(bank.parent, output=Path("dist/b.apkg"))
    bank.write_text(bank.read_text("utf-8").replace("one.", "Newer in the YAML."), "utf-8")
    build_deck(bank.parent, output=Path("dist/b.apkg"), epoch=EPOCH + 60)
    edit(anki, "one", "Edited in Anki.")
    exported = export(anki, tmp_path / "x.apkg")
    before = bank.read_bytes()

    shown = pull(exported, "--apply")
    assert shown.exit_code == 1
    assert "CONFLICT " in shown.stdout
    assert bank.read_bytes() == before
    a, b = Path("dist/a.apkg"), Path("dist/b.apkg")
    assert shown.stderr.splitlines()[0] == (
        f"note: 2 build histories stamp these notes ({history_for(a)}, {history_for(b)}), "
        "so pull cannot tell whether a difference is an edit in Anki or newer YAML: each one "
        f"is a conflict. Pass the package you build from SOURCES: -o {a} or -o {b}."
    )
    chosen = pull(exported, "-o", b, "--apply")
    assert chosen.exit_code == 0, chosen.stdout
    assert "Edited in Anki." in bank.read_text("utf-8")


# A sitecustomize for the child only: count every call that changes a file (write, truncate,
# fsync, link, rename, replace, unlink, close of a written file) and SIGKILL the process at
# call {n}: before it, or for a write, half-way through its bytes (a kill -9, a power cut).
KILLED_AT_CALL = """
import os, signal
_calls = [0]
def _kill_at(name):
    real = getattr(os, name)
    def wrapped(*args, **kwargs):
        _calls[0] += 1
        if _calls[0] == {n}:
            if name == "write" and len(args[1]) > 1:
                real(args[0], bytes(args[1][: len(args[1]) // 2]))
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    setattr(os, name, wrapped)
for _name in ("write", "ftruncate", "truncate", "fsync", "link", "rename", "replace", "unlink"):
    _kill_at(_name)
"""

LONG_ANSWER = "An answer long enough that a shorter one written over it leaves a tail. " * 4


@pytest.mark.slow  # a child process killed at each of its file calls: the full tier
@pytest.mark.parametrize("linked", [False, True], ids=["one-name", "hard-linked"])
def test_a_pull_killed_at_any_point_leaves_the_old_file_or_the_new(
    tmp_path: Path, anki: Anki, linked: bool
) -> None:
    """pull --apply SIGKILLed at every call that changes a file, a write cut half-way
    included: each content file (and each of its other names) holds its old bytes or its
    new ones, never new text over an old tail; a hard-linked file is refused with one line
    (it can be neither rewritten in place atomically nor replaced without splitting it)."""
    bank = make_bank(tmp_path / "c", [question("one", answer=LONG_ANSWER), question("two")])
    package = built_and_imported(bank.parent, tmp_path / "out", anki)
    edit(anki, "one", "Short.")
    exported = export(anki, tmp_path / "x.apkg")
    old = bank.read_bytes()
    twin = tmp_path / "twin.yaml"
    if linked:
        os.link(bank, twin)
    seen: dict[int, bytes] = {}
    for n in range(1, 200):
        done = run_exporter(
            "pull",
            exported,
            bank.parent,
            "--apply",
            "-o",
            package,
            env=hooked(tmp_path / "hooks", KILLED_AT_CALL.format(n=n)),
        )
        seen[n] = bank.read_bytes()
        if linked:
            assert twin.read_bytes() == seen[n]
        if done.returncode != -signal.SIGKILL:  # the run got past its last such call
            break
        if seen[n] != old:  # each kill starts from the old file
            bank.write_bytes(old)
        for left in _leftovers(bank.parent):
            left.unlink()
    else:
        raise AssertionError("the pull never finished")
    assert "Traceback" not in done.stderr, done.stderr
    new = bank.read_bytes()
    assert {n: data for n, data in seen.items() if data not in (old, new)} == {}
    if linked:
        assert done.returncode == 1, done.stderr
        assert "has 2 hard links" in done.stderr.splitlines()[0]
        assert new == old
        assert bank.stat().st_nlink == 2
    else:
        assert done.returncode == 0, done.stderr
        assert b"Short." in new
        assert run_cli(["validate", bank]).exit_code == 0


@pytest.mark.parametrize("signum", first_fast([signal.SIGTERM, signal.SIGINT]), ids=["TERM", "INT"])
def test_a_signal_while_pull_moves_the_file_into_place_lets_it_finish(
    tmp_path: Path, anki: Anki, signum: int
) -> None:
    """Ctrl-C or SIGTERM as pull --apply moves its file into place (past the commit point):
    the file is new, pull prints what it wrote, says the write completed, exits 0."""
    bank, package, exported = _pulled_edit(tmp_path, anki)
    done = run_exporter(
        "pull",
        exported,
        bank.parent,
        "--apply",
        "-o",
        package,
        env=hooked(tmp_path / "hooks", SIGNAL_AT_THE_MOVE.format(signum=int(signum))),
    )
    assert done.returncode == 0, done.stderr
    assert "Aborted!" not in done.stderr
    assert "Edited in Anki." in bank.read_text("utf-8")
    assert done.stdout.splitlines()[-1].endswith("bank.yaml (1 question changed, 0 added)")
    assert done.stderr.splitlines()[-1] == (
        f"note: {signal.Signals(signum).name} arrived while the new files were moved into "
        "place: the write was finished first and is complete"
    )
    assert _leftovers(bank.parent) == []


@pytest.mark.parametrize(
    "nested",
    ["<div>" * 500 + "deep" + "</div>" * 500, "<b>" * 400 + "deep", "<ul><li>" * 200 + "deep"],
    ids=["divs", "bold", "lists"],
)
def test_an_edit_nested_hundreds_deep_is_one_line_naming_the_note(
    tmp_path: Path, anki: Anki, nested: str
) -> None:
    """An answer edited in Anki into HTML nested hundreds of elements deep (<div>, <b>, list
    levels): pull --apply stops with one line at the question's PATH:LINE naming the note
    and why, exit 1, the file untouched (never a RecursionError)."""
    bank, package = bank_built_and_imported(tmp_path, anki)
    before = bank.read_bytes()
    edit(anki, "one", nested)
    result = pull(export(anki, tmp_path / "x.apkg"), bank.parent, "--apply", "-o", package)
    line = one_error(result)
    assert result.stderr.splitlines()[1:] == ["1 problem found."], result.stderr
    assert line.startswith(f"{bank}:3: the Anki note's answer: its HTML nests ")
    assert "levels pull converts" in line
    assert bank.read_bytes() == before


@pytest.mark.slow  # large inputs: the full tier
def test_answers_of_many_openers_pull_in_bounded_time(tmp_path: Path, anki: Anki) -> None:
    """Linear work on any field: answers of 250,000 '[', 60,000 '&lt;' and 40,000 'x<code'
    (each took minutes: at half these sizes, over 40 s) are pulled well inside a generous
    hang guard, as the text the cards show."""
    answers = {"one": "[" * 250_000, "two": "&lt;" * 60_000, "three": "x<code" * 40_000}
    bank = make_bank(tmp_path / "c", [question(qid) for qid in answers])
    package = built_and_imported(bank.parent, tmp_path / "out", anki)
    for qid, answer in answers.items():
        edit(anki, qid, answer)
    exported = export(anki, tmp_path / "x.apkg")
    with hang_guard(120):
        result = pull(exported, bank.parent, "--apply", "-o", package)
    assert result.exit_code == 0, result.stderr
    text = bank.read_text("utf-8")
    assert "[" * 250_000 in text
    assert "<" * 60_000 in text
    assert "x<code" * 40_000 in text
