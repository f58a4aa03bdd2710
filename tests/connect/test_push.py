"""`push` and `pull --from-anki` against a running Anki: the stand-in AnkiConnect of
``tests/ankiconnect_server.py`` over a real collection, doing what the add-on does on Anki
26.x. Build, import, edit on either side, import again: notes updated in place, reviews kept,
edits made in Anki never replaced without being told, nothing ever deleted."""

from __future__ import annotations

import dataclasses
import json
import signal
import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from ankiconnect_server import (
    DRIPS,
    RELEASES,
    QuietHandler,
    Settings,
    ankiconnect,
    answering,
    default_release,
    dripping,
    own_env,
    raw_serving,
    serving,
)
from exporter.connect.client import Client
from exporter.connect.push import REMOVED_TAG
from exporter.errors import AnkiError
from helpers import (
    CONTENT,
    DECK,
    EPOCH,
    SIGNAL_AT_THE_MOVE,
    TARGET,
    TERMINAL_CONTROLS,
    Anki,
    add_own_note,
    assert_terminal_safe,
    bank_counts,
    build_deck,
    copy_content,
    edit_answer,
    first_fast,
    hooked,
    make_bank,
    one_error,
    question,
    question_line,
    review_some,
    run_cli,
    run_exporter,
    scheduling,
)

EDITED_AT = EPOCH + 3600  # an edit made in Anki after the first build
REBUILT_AT = EPOCH + 7200  # a later build: newer than that edit
PRUNED_AT = EPOCH + 10800  # a prune in Anki after that build
RETURNED_AT = EPOCH + 14400  # a build after the prune


@pytest.fixture(autouse=True)
def own_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Anki address or key from the caller's shell; a temp folder of the test's own."""
    return own_env(tmp_path, monkeypatch)


@pytest.fixture(autouse=True, params=first_fast(RELEASES))
def release(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs against each AnkiConnect release people run: the one on AnkiWeb
    and GitHub's last (4064fa1), whose notesInfo gives no note's mod (the fast tier runs the
    first; a test of 4064fa1's own answers names it)."""
    default_release(request.param)
    yield request.param
    default_release("current")


@pytest.fixture
def addon(anki: Anki) -> Iterator[tuple[str, Settings]]:
    """The stand-in AnkiConnect over the test's fresh collection: its URL and settings."""
    with ankiconnect(anki.col) as served:
        yield served


def push(
    url: str,
    *args: str | Path,
    out: Path,
    epoch: int = EPOCH,
    env: Mapping[str, str] | None = None,
) -> Any:
    """``interview-deck push ARGS -o OUT --anki-url URL`` at SOURCE_DATE_EPOCH ``epoch``."""
    given = {"SOURCE_DATE_EPOCH": str(epoch), **(env or {})}
    return run_cli(["push", *args, "-o", out, "--anki-url", url], env=given)


def pull_from_anki(url: str, *args: str | Path, out: Path) -> Any:
    return run_cli(["pull", "--from-anki", *args, "-o", out, "--anki-url", url])


def imported(result: Result) -> str:
    """The line saying what Anki holds after the import."""
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    return next(line for line in lines if line.startswith("Imported into"))


def follow_ups(bank: Path) -> list[object]:
    """The follow-up questions of the bank's question TARGET."""
    import yaml

    data = yaml.safe_load(bank.read_text(encoding="utf-8"))
    (found,) = (q.get("follow_ups") for q in data["questions"] if q["id"] == TARGET)
    assert found
    return list(found)


def changed_at(anki: Anki, qid: str, at: int) -> None:
    """Pin the note's mod time to ``at``: Anki stamps a change with its clock, not ours."""
    anki.col.db.execute("update notes set mod=? where id=?", at, anki.note_by_id_field(qid).id)


def edit_in_anki(anki: Anki, qid: str, answer: str, at: int = EDITED_AT) -> str:
    """Rewrite a note's answer as a user does in Anki's editor, its mod time pinned to
    ``at``: the follow-up questions the build put after it stay. The field it wrote."""
    note = anki.note_by_id_field(qid)
    block = note["Answer"].find('<div class="iq-follow-ups">')
    note["Answer"] = answer + ("\n" + note["Answer"][block:] if block >= 0 else "")
    anki.col.update_note(note)
    changed_at(anki, qid, at)
    return str(note["Answer"])


def pushed_copy(tmp_path: Path, url: str) -> tuple[Path, Path]:
    """A private copy of the shipped bank, pushed once into the Anki at ``url``: the copy's
    folder and the package."""
    content = copy_content(tmp_path)
    out = tmp_path / "out" / "deck.apkg"
    imported(push(url, content, out=out))
    return content, out


def test_push_into_an_empty_collection(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A push builds exactly what `build` builds (same bytes, same history) and imports it:
    every note added (a question's key points too), one note type of each kind, Anki's own
    importer asked through AnkiConnect."""
    url, settings = addon
    shipped = bank_counts()
    content = copy_content(tmp_path)
    out = tmp_path / "out" / "deck.apkg"
    result = push(url, content, out=out)
    assert imported(result).endswith(
        f"{shipped.notes} notes of this package, {shipped.notes} added, 0 updated, 0 unchanged."
    )
    assert result.stdout.startswith(f"Wrote {out} ({shipped.notes} notes")
    twin = build_deck(content, output=tmp_path / "twin" / "deck.apkg", fresh=True)
    assert out.read_bytes() == twin.output.read_bytes()
    assert out.with_name("deck.lock.json").read_text() == twin.history.read_text()
    assert len(anki.notes()) == shipped.notes
    assert len(anki.notetypes()) == 1
    assert len(anki.notetypes("Interview Key Points")) == 1
    assert "importPackage" in settings.asked
    assert settings.synced == 0


def test_an_edit_pushed_again_updates_the_note_in_place(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """An answer edited in the YAML and pushed again updates its note: no note added, the
    card's reviews and scheduling kept, the other notes untouched."""
    url, _ = addon
    content, out = pushed_copy(tmp_path, url)
    review_some(anki)
    before = scheduling(anki)
    ids = [n.id for n in anki.notes()]
    edit_answer(content, TARGET, "Pushed.")
    line = imported(push(url, content, out=out, epoch=REBUILT_AT))
    notes = bank_counts().notes
    assert line.endswith(
        f"{notes} notes of this package, 0 added, 1 updated, {notes - 1} unchanged."
    )
    assert scheduling(anki) == before
    assert [n.id for n in anki.notes()] == ids
    assert anki.note_by_id_field(TARGET)["Answer"].startswith("<p>Pushed. ")
    assert len(anki.notetypes()) == 1


def test_an_edit_made_in_anki_stays_and_comes_home(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A note edited in Anki since the last build stays as it is there when the bank is
    pushed again (push says so), and `pull --from-anki --apply` writes it into the YAML;
    then nothing is left to pull and the next push replaces nothing."""
    url, settings = addon
    content, out = pushed_copy(tmp_path, url)
    notes = bank_counts().notes
    edit_in_anki(anki, TARGET, "Three layers: <b>system</b>, data and model.")
    again = push(url, content, out=out, epoch=REBUILT_AT)
    assert imported(again).endswith(f"0 added, 0 updated, {notes} unchanged.")
    assert (
        f"Edited in Anki since the last build, kept as they are there: 1 question ({TARGET}). "
        "Bring the edits home with: interview-deck pull --from-anki --apply"
    ) in again.stdout
    assert anki.note_by_id_field(TARGET)["Answer"].startswith("Three layers")

    shown = pull_from_anki(url, content, out=out)
    assert shown.exit_code == 1
    assert f"'{TARGET}': answer edited in Anki" in shown.stdout
    assert "exportPackage" in settings.asked
    applied = pull_from_anki(url, content, "--apply", out=out)
    assert applied.exit_code == 0, applied.stderr
    yaml = (content / "mlops-engineer.yaml").read_text(encoding="utf-8")
    assert "Three layers: **system**, data and model." in yaml
    assert follow_ups(content / "mlops-engineer.yaml") == follow_ups(
        CONTENT / "mlops-engineer.yaml"
    )

    home = push(url, content, out=out, epoch=REBUILT_AT)
    assert "Edited in Anki" not in home.stdout
    assert imported(home).endswith(f"0 added, 1 updated, {notes - 1} unchanged.")
    done = pull_from_anki(url, content, out=out)
    assert done.exit_code == 0, done.stdout
    assert done.stdout.strip().endswith("holds what SOURCES build.")


def test_anki_imports_the_package_itself_and_exports_into_a_private_folder(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings], own_temp: Path
) -> None:
    """push hands Anki the built package's absolute path (no copy); pull --from-anki (and
    push, with an add-on that tells no mod times) has Anki write its exports into a
    private folder (mode 0700) that is gone afterwards."""
    url, settings = addon
    folder = make_bank(tmp_path / "content").parent
    out = tmp_path / "out" / "deck.apkg"
    imported(push(url, folder, out=out))
    assert settings.paths[0][0] == str(out.resolve())
    result = pull_from_anki(url, folder, out=out)
    assert result.exit_code == 0, result.stderr
    exports = settings.paths[1:]
    assert exports
    for export, mode in exports:
        assert mode == 0o700
        assert Path(export).name == "deck-0.apkg"
        assert Path(export).parent.parent == own_temp
        assert not Path(export).parent.exists()


def test_an_edit_on_both_sides_is_never_replaced_silently(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A question edited both in Anki and in the YAML since the last build: push builds and
    imports nothing (exit 1, at the question's line); `--prefer yaml` imports over it."""
    url, settings = addon
    content, out = pushed_copy(tmp_path, url)
    package, history = out.read_bytes(), out.with_name("deck.lock.json").read_bytes()
    phone = edit_in_anki(anki, TARGET, "Edited on the phone.")
    edit_answer(content, TARGET, "Edited in git.")
    settings.asked.clear()
    refused = push(url, content, out=out, epoch=REBUILT_AT)
    line = one_error(refused)
    bank = content / "mlops-engineer.yaml"
    assert line.startswith(f"{bank}:{question_line(bank, TARGET)}: ")
    assert f"'{TARGET}': edited in Anki and in the YAML since the last build" in line
    assert "'push --prefer yaml'" in line
    assert "importPackage" not in settings.asked
    assert out.read_bytes() == package
    assert out.with_name("deck.lock.json").read_bytes() == history
    assert anki.note_by_id_field(TARGET)["Answer"] == phone

    taken = push(url, content, "--prefer", "yaml", out=out, epoch=REBUILT_AT)
    assert imported(taken).endswith(f"0 added, 1 updated, {bank_counts().notes - 1} unchanged.")
    assert f"the YAML's taken (--prefer yaml): 1 question ({TARGET})" in taken.stdout
    assert anki.note_by_id_field(TARGET)["Answer"].startswith("<p>Edited in git. ")


def test_prune_suspends_and_tags_a_removed_question_and_a_return_restores_it(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A question no longer in the bank is listed and left alone; `--prune` suspends its
    cards and tags it interview-deck::removed, never deleting it or its reviews; when the
    question comes back, its note is updated and unsuspended."""
    url, _ = addon
    folder = tmp_path / "content"
    both = [question("one"), question("two")]
    make_bank(folder, both)
    out = tmp_path / "out" / "deck.apkg"
    imported(push(url, folder, out=out))
    review_some(anki, 2, "Interview Questions::Tester")
    reviews = anki.col.db.all("select id, cid from revlog order by id")
    assert reviews
    make_bank(folder, [question("one")])

    listed = push(url, folder, out=out, epoch=REBUILT_AT)
    assert imported(listed).endswith("1 note of this package, 0 added, 0 updated, 1 unchanged.")
    assert (
        "No longer in the bank: 1 note in Anki (two); Anki keeps them. --prune suspends their "
        "cards and tags them interview-deck::removed."
    ) in listed.stdout
    two = anki.note_by_id_field("two")
    assert [c.queue for c in two.cards()] != [-1]

    pruned = push(url, folder, "--prune", out=out, epoch=REBUILT_AT)
    assert (
        "Suspended and tagged interview-deck::removed: 1 note (two); nothing deleted, their "
        "reviews are kept."
    ) in pruned.stdout
    two = anki.note_by_id_field("two")
    assert [c.queue for c in two.cards()] == [-1]
    assert REMOVED_TAG in two.tags
    changed_at(anki, "two", PRUNED_AT)
    assert anki.col.db.all("select id, cid from revlog order by id") == reviews
    assert len(anki.notes()) == 2

    later = push(url, folder, out=out, epoch=REBUILT_AT)
    assert "Pruned by an earlier push: 1 note" in later.stdout
    assert "No longer in the bank" not in later.stdout

    make_bank(folder, both)
    returned = push(url, folder, out=out, epoch=RETURNED_AT)
    assert "Back in the bank, unsuspended: 1 note (two)." in returned.stdout
    two = anki.note_by_id_field("two")
    assert [c.queue for c in two.cards()] != [-1]
    assert REMOVED_TAG not in two.tags
    assert len(anki.notes()) == 2


def test_prune_keeps_to_the_decks_the_bank_builds(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A committed history that names another deck (the user's Default, holding notes of
    our note type that this bank does not build, one with an ID, one without): push
    --prune and pull --from-anki never search or export that deck, nor suspend, tag, list
    or pull what is there."""
    url, settings = addon
    folder = make_bank(tmp_path / "content", [question("one"), question("two")]).parent
    out = tmp_path / "out" / "deck.apkg"
    imported(push(url, folder, out=out))
    add_own_note(anki, "Default")
    add_own_note(anki, "Default")
    theirs, mine = (anki.col.get_note(n) for n in anki.col.find_notes("deck:Default"))
    theirs["ID"] = "their-question"
    anki.col.update_note(theirs)
    history = out.with_name("deck.lock.json")
    data = json.loads(history.read_text())
    data["notes"]["one"]["deck"] = "Default"
    history.write_text(json.dumps(data))
    settings.searches.clear()

    pruned = push(url, folder, "--prune", out=out, epoch=REBUILT_AT)
    assert imported(pruned).endswith("2 notes of this package, 0 added, 0 updated, 2 unchanged.")
    assert "their-question" not in pruned.stdout
    assert "Written in Anki" not in pruned.stdout
    for note in (theirs, mine):
        note.load()
        assert REMOVED_TAG not in note.tags
        assert [c.queue for c in note.cards()] != [-1]
    assert settings.searches
    assert not [q for q in settings.searches if "Default" in q]

    history.write_text(json.dumps(data))  # as the push rewrote it: the crafted one again
    pulled = pull_from_anki(url, folder, "--add-new", out=out)
    assert "their-question" not in pulled.stdout + pulled.stderr
    assert "new in Anki" not in pulled.stdout
    assert "Default" not in settings.exported
    asked = [q for q in settings.searches if "Default" in q]
    kinds = '"note:Interview Question*" OR "note:Interview Key Points*" OR "note:Interview Extra*"'
    assert asked == [f'({kinds}) "deck:Default" ("ID:one")']  # its own only


def test_a_question_moved_to_another_deck_is_still_found(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings], release: str
) -> None:
    """A question whose role file now names another deck: Anki keeps its cards in the old
    one, where push (by the question's ID) and pull --from-anki (in that deck, its
    questions only) still find the note; nothing else of that deck is looked at. (The
    import changes no field there: the current add-on tells the new mod, GitHub's last
    tells none, and push reads no other deck's export to learn it.)"""
    url, settings = addon
    folder = tmp_path / "content"
    make_bank(folder, [question("one"), question("two")], deck="Old")
    out = tmp_path / "out" / "deck.apkg"
    imported(push(url, folder, out=out))
    add_own_note(anki, "Old")  # a note the user wrote there: not this bank's any more
    make_bank(folder, [question("one"), question("two")], deck="New")
    settings.searches.clear()
    moved = push(url, folder, "--prune", out=out, epoch=REBUILT_AT)
    told = "0 added, 2 updated" if release == "current" else "0 added, 0 updated, 2 unchanged"
    assert f"it holds 2 notes of this package, {told}" in imported(moved)
    assert "Not in the bank's decks" not in moved.stdout
    assert "Written in Anki" not in moved.stdout
    assert not [q for q in settings.searches if "Old" in q]
    data = json.loads(out.with_name("deck.lock.json").read_text())
    data["notes"]["one"]["deck"] = "Old"  # as the build before this one left it
    out.with_name("deck.lock.json").write_text(json.dumps(data))
    edit_in_anki(anki, "one", "Edited in Anki.", at=REBUILT_AT + 60)
    pulled = pull_from_anki(url, folder, "--add-new", out=out)
    assert "'one': answer edited in Anki" in pulled.stdout
    assert "new in Anki" not in pulled.stdout
    assert settings.exported[-1] == "Old"


def test_sync_asks_anki_to_sync(tmp_path: Path, anki: Anki, addon: tuple[str, Settings]) -> None:
    """`--sync` asks Anki to sync with AnkiWeb once the import is done."""
    url, settings = addon
    result = push(url, make_bank(tmp_path / "content"), "--sync", out=tmp_path / "deck.apkg")
    assert (
        "Asked Anki to sync with AnkiWeb: Anki syncs in the background, or first shows its AnkiWeb login"
        in result.stdout
    )
    assert settings.synced == 1
    assert settings.asked.index("importPackage") < settings.asked.index("sync")


def test_the_address_and_key_come_from_the_environment(tmp_path: Path, anki: Anki) -> None:
    """INTERVIEW_DECK_ANKI_URL and INTERVIEW_DECK_ANKI_KEY say where Anki is and its key."""
    with ankiconnect(anki.col, Settings(api_key="s3cret")) as (url, _):
        env = {"INTERVIEW_DECK_ANKI_URL": url, "INTERVIEW_DECK_ANKI_KEY": "s3cret"}
        result = run_cli(
            ["push", make_bank(tmp_path / "content"), "-o", tmp_path / "deck.apkg"], env=env
        )
    assert imported(result).endswith("1 added, 0 updated, 0 unchanged.")


def test_notes_written_in_anki_are_pointed_at_add_new(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A note written in Anki in the bank's deck (no ID) is counted, pointing at --add-new."""
    url, _ = addon
    folder = make_bank(tmp_path / "content").parent
    imported(push(url, folder, out=tmp_path / "deck.apkg"))
    add_own_note(anki, "Interview Questions::Tester", ["difficulty::easy"])
    result = push(url, folder, out=tmp_path / "deck.apkg")
    assert (
        "Written in Anki in the bank's decks: 1 note; bring them home with: interview-deck "
        "pull --from-anki --apply --add-new"
    ) in result.stdout


def test_an_edit_pull_cannot_take_home_still_counts(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """An answer edited in Anki with a pasted image (which pull cannot bring home) is an
    edit all the same: kept in Anki, and push says so."""
    url, _ = addon
    content, out = pushed_copy(tmp_path, url)
    edit_in_anki(anki, TARGET, 'See <img src="pasted.png">')
    result = push(url, content, out=out, epoch=REBUILT_AT)
    assert f"kept as they are there: 1 question ({TARGET})" in result.stdout


@pytest.mark.parametrize(
    "nested",
    ["<div>" * 500 + "deep" + "</div>" * 500, "<b>" * 400 + "deep", "<ul><li>" * 200 + "deep"],
    ids=["divs", "bold", "lists"],
)
def test_an_edit_nested_hundreds_deep_is_kept_by_push_and_named_by_pull(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings], nested: str
) -> None:
    """An answer edited in Anki into HTML nested hundreds of elements deep: push keeps it as
    an edit pull cannot take home (never a RecursionError), and pull --from-anki stops with
    one line naming the note at its question's PATH:LINE, exit 1, its export folder gone."""
    url, settings = addon
    content, out = pushed_copy(tmp_path, url)
    edit_in_anki(anki, TARGET, nested)
    result = push(url, content, out=out, epoch=REBUILT_AT)
    assert result.exit_code == 0, result.stderr
    assert f"kept as they are there: 1 question ({TARGET})" in result.stdout
    shown = pull_from_anki(url, content, out=out)
    line = one_error(shown)
    assert shown.stderr.splitlines()[1:] == ["1 problem found."], shown.stderr
    bank = content / "mlops-engineer.yaml"
    where = f"{bank}:{question_line(bank, TARGET)}: "
    assert line.startswith(f"{where}the Anki note's answer: its HTML nests ")
    assert "levels pull converts" in line
    (exported, _mode) = settings.paths[-1]
    assert not Path(exported).parent.exists()


def test_a_note_moved_out_of_the_bank_decks_is_named(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A note moved to another deck in Anki is still updated by the import (Anki matches it
    by GUID) but is no longer among the bank's decks: push names it."""
    url, _ = addon
    folder = make_bank(tmp_path / "content").parent
    imported(push(url, folder, out=tmp_path / "deck.apkg"))
    elsewhere = anki.col.decks.id("Elsewhere")
    anki.col.set_deck([c.id for c in anki.note_by_id_field("one").cards()], elsewhere)
    result = push(url, folder, out=tmp_path / "deck.apkg")
    assert imported(result).endswith("0 notes of this package, 0 added, 0 updated, 0 unchanged.")
    assert (
        "Not in the bank's decks after the import: 1 note (one); were they moved to another "
        "deck in Anki?"
    ) in result.stdout


def test_deck_names_are_searched_literally(tmp_path: Path, anki: Anki) -> None:
    """A deck name with Anki's search wildcards and quotes finds its own notes only."""
    with ankiconnect(anki.col) as (url, _):
        odd = make_bank(tmp_path / "odd", [question("odd")], deck='Q_A*"x\\y')
        plain = make_bank(tmp_path / "plain", [question("plain")], deck="QxAyz")
        imported(push(url, plain, out=tmp_path / "plain.apkg"))
        result = push(url, odd, out=tmp_path / "odd.apkg")
    assert imported(result).endswith("1 note of this package, 1 added, 0 updated, 0 unchanged.")
    assert "No longer in the bank" not in result.stdout


def test_what_anki_answers_reaches_the_terminal_escaped(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """A note in the bank's deck whose ID field carries terminal control sequences: push
    names it escaped; so does `pull --from-anki`, which refuses it in one line."""
    url, _ = addon
    folder = make_bank(tmp_path / "content", [question("one"), question("two")]).parent
    imported(push(url, folder, out=tmp_path / "deck.apkg"))
    nid = anki.note_by_id_field("two").id
    fields = anki.col.db.scalar("select flds from notes where id = ?", nid).split("\x1f")
    fields[4] = f"x{TERMINAL_CONTROLS}"  # as a crafted import leaves it (the editor strips C0)
    anki.col.db.execute("update notes set flds = ? where id = ?", "\x1f".join(fields), nid)
    result = push(url, folder, out=tmp_path / "deck.apkg")
    assert result.exit_code == 0, result.stderr
    assert_terminal_safe(result.stdout_bytes, result.stderr_bytes)
    assert "No longer in the bank: 1 note in Anki (x\\x1b]0;owned\\x07" in result.stdout
    pulled = pull_from_anki(url, folder, out=tmp_path / "deck.apkg")
    assert_terminal_safe(pulled.stdout_bytes, pulled.stderr_bytes)
    assert "x\\x1b]0;owned\\x07" in pulled.stdout + pulled.stderr


def test_an_error_anki_reports_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    """An error message from the other end (echoing whatever it was sent) is one line,
    escaped."""
    reply = json.dumps({"result": None, "error": f"no deck{TERMINAL_CONTROLS}"}).encode()
    with serving(answering(200, reply)) as url:
        line = failed_push(tmp_path, url)
    assert_terminal_safe(line)
    assert "no deck\\x1b]0;owned\\x07" in line


# --- When Anki cannot be asked: one line saying what to do, exit 1, the package kept ---


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting is refused (no Anki there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def failed_push(tmp_path: Path, url: str, *extra: str) -> str:
    """Push a one-question bank to ``url``: the one error line; the package was built and is
    what `build` writes."""
    folder = make_bank(tmp_path / "content").parent
    out = tmp_path / "out" / "deck.apkg"
    result = push(url, folder, *extra, out=out)
    line = one_error(result)
    assert result.stdout.startswith(f"Wrote {out} (1 note,")
    twin = build_deck(folder, output=tmp_path / "twin" / "deck.apkg", fresh=True)
    assert out.read_bytes() == twin.output.read_bytes()
    return line


SECRET = "S3cr3tK3y"


@pytest.mark.parametrize(
    "url",
    [
        f"http://u:{SECRET}@127.0.0.1:9/",
        f"http://{SECRET}@127.0.0.1:9/",
        f"http://u:{SECRET}/x@127.0.0.1:9/",
        f"http://127.0.0.1:9/?key={SECRET}",
        f"http://127.0.0.1:9/#{SECRET}",
        f"http://u:{SECRET}@127.0.0.1:99999/",
        f"http://u:{SECRET}@[::1/",
        f"ftp://u:{SECRET}@127.0.0.1/?k={SECRET}",
        f"u:{SECRET}@127.0.0.1:9",
        f"http://u:{SECRET}",
        f"http://127.0.0.1:{SECRET}/",
        f"http://[::1]:{SECRET}",
    ],
)
@pytest.mark.parametrize("command", ["push", "pull"])
def test_an_address_is_refused_without_repeating_its_secret(
    tmp_path: Path, url: str, command: str
) -> None:
    """INTERVIEW_DECK_ANKI_URL with a user and password, a query or a fragment (where keys
    and tokens go), parseable or not: refused in one line that names the address with
    those parts left out."""
    folder = make_bank(tmp_path / "content").parent
    args = ["pull", "--from-anki"] if command == "pull" else ["push"]
    env = {"INTERVIEW_DECK_ANKI_URL": url}
    result = run_cli([*args, folder, "-o", tmp_path / "deck.apkg"], env=env)
    line = one_error(result)
    assert SECRET not in result.stdout + result.stderr
    assert "the Anki address '" in line
    assert "***" in line


def test_the_key_is_never_repeated(tmp_path: Path) -> None:
    """An answer that quotes the request (a proxy, a debugging server) shows the key left
    out; a key that is not text (bytes that are not UTF-8) is one line, not a traceback."""

    class Echo(QuietHandler):
        def do_POST(self) -> None:
            sent = self.rfile.read(int(self.headers["Content-Length"])).decode()
            self.answer(200, json.dumps({"result": None, "error": f"bad: {sent}"}).encode())

    with serving(Echo) as url:
        line = failed_push(tmp_path / "echo", url, "--anki-key", SECRET)
    assert SECRET not in line
    assert '"key": "***"' in line
    folder = make_bank(tmp_path / "content").parent
    env = {"INTERVIEW_DECK_ANKI_KEY": SECRET + "\udcff"}
    result = push("http://127.0.0.1:9", folder, out=tmp_path / "deck.apkg", env=env)
    line = one_error(result)
    assert SECRET not in result.stdout + result.stderr
    assert "INTERVIEW_DECK_ANKI_KEY" in line


@pytest.mark.parametrize("where", sorted(DRIPS))
@pytest.mark.parametrize("command", ["push", "pull"])
def test_an_answer_that_trickles_in_ends_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, command: str
) -> None:
    """Something on the AnkiConnect port that sends its answer a byte at a time (status
    line, headers, a chunk size or the chunks): push and pull --from-anki end at the
    request's timeout (made short here) with one line, exit 1."""
    import exporter.cli.ankiconnect as ankiconnect_cli

    made = ankiconnect_cli.client_for

    def quick(url: str, key: str | None) -> Client:
        return dataclasses.replace(made(url, key), timeout=1.0)

    monkeypatch.setattr(ankiconnect_cli, "client_for", quick)
    with raw_serving(dripping(*DRIPS[where])) as url:
        if command == "push":
            line = failed_push(tmp_path, url)
        else:
            folder = make_bank(tmp_path / "content").parent
            line = one_error(pull_from_anki(url, folder, out=tmp_path / "deck.apkg"))
    assert line == (
        f"error: Anki at {url} did not answer 'requestPermission' within 1 s: is a dialog "
        "open in Anki? Close it and try again"
    )


def test_anki_not_running(tmp_path: Path, closed_port: int) -> None:
    """Nothing listening (Anki not running, or without AnkiConnect): start Anki with it."""
    line = failed_push(tmp_path, f"http://127.0.0.1:{closed_port}")
    assert line == (
        f"error: nothing answers at http://127.0.0.1:{closed_port} (Anki is not running, or "
        "has no AnkiConnect): start Anki with the AnkiConnect add-on (code 2055492159)"
    )


def test_the_default_address_is_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --anki-url or INTERVIEW_DECK_ANKI_URL, push asks AnkiConnect's own default
    on this machine only (nothing is sent: the client is stopped at its first call)."""
    asked: list[str] = []

    def call(self: Client, action: str, params: object = None, *, slow: bool = False) -> object:
        asked.append(f"{self.address} {action}")
        raise AnkiError("stopped here", code="anki-unreachable")

    monkeypatch.setattr(Client, "call", call)
    folder = make_bank(tmp_path / "content").parent
    result = run_cli(["push", folder, "-o", tmp_path / "deck.apkg"])
    assert one_error(result) == "error: stopped here"
    assert asked == ["http://127.0.0.1:8765 requestPermission"]
    assert "not on this machine" not in result.stderr


def test_a_file_saved_while_push_looks_at_anki_is_built_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A content file saved while push asks Anki (after it read the bank it builds): the
    local record never calls that package current for the new text, so the next build
    builds it rather than say 'up to date'."""
    folder = make_bank(tmp_path / "content", [question("one", answer="Old.")])
    out = tmp_path / "out" / "deck.apkg"

    def saved_meanwhile(self: Client, action: str, params: object = None, **_: object) -> object:
        folder.write_text(folder.read_text(encoding="utf-8").replace("Old.", "New."))
        raise AnkiError("stopped here", code="anki-unreachable")

    monkeypatch.setattr(Client, "call", saved_meanwhile)
    assert one_error(push("http://127.0.0.1:9", folder.parent, out=out)) == "error: stopped here"
    again = build_deck(folder.parent, output=out, epoch=REBUILT_AT)
    assert again.stdout.startswith(f"Wrote {out} (1 note,")


def test_a_build_of_the_output_while_push_looks_at_anki_is_not_built_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another build writes the same output while push asks Anki (push read the build
    history before it took the output's lock): push does not build on the history it read
    over the other build's files; it says so, and to push again."""
    folder = make_bank(tmp_path / "content", [question("one", answer="Old.")])
    out = tmp_path / "out" / "deck.apkg"
    history = build_deck(folder.parent, output=out).history
    other: list[bytes] = []

    def built_meanwhile(self: Client, action: str, params: object = None, **_: object) -> object:
        folder.write_text(folder.read_text(encoding="utf-8").replace("Old.", "New."))
        build_deck(folder.parent, output=out, epoch=REBUILT_AT)
        other.extend([out.read_bytes(), history.read_bytes()])
        raise AnkiError("stopped here", code="anki-unreachable")

    monkeypatch.setattr(Client, "call", built_meanwhile)
    result = push("http://127.0.0.1:9", folder.parent, out=out, epoch=REBUILT_AT + 60)
    assert one_error(result) == (
        f"error: {history}: another build wrote it while push looked at Anki; push again"
    )
    assert [out.read_bytes(), history.read_bytes()] == other


def test_ankiconnect_missing(tmp_path: Path) -> None:
    """Something else answers on the port: said, with how to get AnkiConnect."""
    with serving(answering(404, b"<html><body>Not here</body></html>")) as url:
        line = failed_push(tmp_path, url)
    assert line.startswith(f"error: {url} answered 'version' with HTTP 404, not as AnkiConnect")
    assert line.endswith("Start Anki with the AnkiConnect add-on (code 2055492159)")


@pytest.mark.parametrize(
    ("settings", "what"),
    [
        (Settings(api_version=5, missing=frozenset({"requestPermission"})), "speaks version 5"),
        (Settings(api_version=5), "speaks version 5"),
    ],
)
def test_an_old_ankiconnect(tmp_path: Path, anki: Anki, settings: Settings, what: str) -> None:
    """An AnkiConnect older than API version 6: update it."""
    with ankiconnect(anki.col, settings) as (url, _):
        line = failed_push(tmp_path, url)
    assert line.startswith(f"error: the AnkiConnect at {url} is too old: it {what} of its API")
    assert line.endswith(
        "update AnkiConnect in Anki (Tools → Add-ons → Check for Updates) and restart Anki"
    )
    assert anki.notes() == []


def test_an_ankiconnect_that_does_not_tell_note_mod_times(tmp_path: Path, anki: Anki) -> None:
    """An add-on whose notesInfo has no 'mod' (4064fa1 and older): the first push imports,
    an edit made in Anki is told from Anki's own export before anything is imported, and
    stays; the mod times come from that export, never guessed."""
    with ankiconnect(anki.col, Settings(release="4064fa1")) as (url, settings):
        content, out = pushed_copy(tmp_path, url)
        edited = edit_in_anki(anki, TARGET, "Edited in Anki.")
        settings.asked.clear()
        again = push(url, content, out=out, epoch=REBUILT_AT)
        assert imported(again).endswith(f"0 added, 0 updated, {bank_counts().notes} unchanged.")
        assert settings.asked.index("exportPackage") < settings.asked.index("importPackage")
    assert f"kept as they are there: 1 question ({TARGET})" in again.stdout
    assert anki.note_by_id_field(TARGET)["Answer"] == edited


def test_an_ankiconnect_without_import(tmp_path: Path, anki: Anki) -> None:
    """An add-on that lacks importPackage: update it (the package is built and kept)."""
    with ankiconnect(anki.col, Settings(missing=frozenset({"importPackage"}))) as (url, _):
        line = failed_push(tmp_path, url)
    assert "does not know the action 'importPackage'" in line


def test_a_refused_permission(tmp_path: Path, anki: Anki) -> None:
    """AnkiConnect refuses this program: where to allow it."""
    with ankiconnect(anki.col, Settings(refuse=True)) as (url, settings):
        line = failed_push(tmp_path, url)
    assert line == (
        f"error: AnkiConnect at {url} refused this program permission: allow it in Tools → "
        "Add-ons → AnkiConnect → Config (webCorsOriginList, ignoreOriginList)"
    )
    assert settings.asked == ["requestPermission"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ((), "asks for an API key: set INTERVIEW_DECK_ANKI_KEY (or pass --anki-key)"),
        (("--anki-key", "wrong"), "refused the API key given: use the apiKey of its config"),
    ],
)
def test_a_key_required(tmp_path: Path, anki: Anki, extra: Sequence[str], expected: str) -> None:
    """AnkiConnect with an API key: none given, or the wrong one."""
    with ankiconnect(anki.col, Settings(api_key="s3cret")) as (url, _):
        line = failed_push(tmp_path, url, *extra)
    assert line.startswith(f"error: AnkiConnect at {url} {expected}")
    assert anki.notes() == []


def test_pull_from_anki_not_running(tmp_path: Path, closed_port: int) -> None:
    """`pull --from-anki` with no Anki: the same one line, nothing written."""
    folder = make_bank(tmp_path / "content").parent
    before = (folder / "bank.yaml").read_bytes()
    result = pull_from_anki(f"http://127.0.0.1:{closed_port}", folder, out=tmp_path / "d.apkg")
    assert one_error(result).startswith("error: nothing answers at http://127.0.0.1:")
    assert (folder / "bank.yaml").read_bytes() == before


def test_pull_from_anki_without_the_bank(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """`pull --from-anki` when Anki holds none of the bank's notes: push first."""
    url, _ = addon
    folder = make_bank(tmp_path / "content").parent
    line = one_error(pull_from_anki(url, folder, out=tmp_path / "deck.apkg"))
    assert line == (
        f"error: Anki at {url} holds no notes of the bank's decks (Interview Questions::Tester): "
        "push them first (interview-deck push)"
    )


def test_pull_needs_an_export_or_from_anki(tmp_path: Path) -> None:
    """`pull` with neither EXPORT nor --from-anki is a usage mistake (exit 2)."""
    result = run_cli(["pull"])
    assert result.exit_code == 2
    assert "Missing argument 'EXPORT' (or pass --from-anki)" in result.stderr


def test_pull_from_anki_reads_the_first_argument_as_a_source(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings]
) -> None:
    """With --from-anki there is no EXPORT: every argument is a source."""
    url, _ = addon
    content, out = pushed_copy(tmp_path, url)
    result = run_cli(["pull", str(content), "--from-anki", "-o", out, "--anki-url", url])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Nothing to pull: Anki at {url} holds what SOURCES build.\n"
    assert DECK in {d.name for d in anki.col.decks.all_names_and_ids()}


def test_pull_from_anki_without_o_finds_the_history_of_a_push_made_with_o(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pushed with -o dist/deck.apkg, edited in Anki: `pull --from-anki` with no -o finds
    dist/deck.lock.json beside the default package, and the edit is an edit, not a conflict."""
    url, _settings = addon
    monkeypatch.chdir(tmp_path)
    folder = make_bank(tmp_path / "content", [question("one"), question("two")]).parent
    imported(push(url, folder, out=Path("dist/deck.apkg")))
    edit_in_anki(anki, "two", "Edited in Anki.")
    shown = run_cli(["pull", "--from-anki", "--anki-url", url])
    assert shown.exit_code == 1, shown.stderr
    assert "1 question edited in Anki, 0 conflicts" in shown.stdout
    assert f"using the build history {Path('dist/deck.lock.json')}" in shown.stderr


@pytest.mark.parametrize("signum", first_fast([signal.SIGTERM, signal.SIGINT]), ids=["TERM", "INT"])
def test_a_signal_while_push_writes_its_package_stops_before_anki(
    tmp_path: Path, anki: Anki, addon: tuple[str, Settings], signum: int
) -> None:
    """Ctrl-C or SIGTERM as push's build moves its files into place: the package and its
    history are written whole, then push stops before asking Anki to import, and says
    what it had written: one line, exit 128 + the signal's number."""
    url, settings = addon
    content = copy_content(tmp_path)
    out = tmp_path / "out" / "deck.apkg"
    hook = SIGNAL_AT_THE_MOVE.format(signum=int(signum))
    done = run_exporter(
        "push",
        content,
        "-o",
        out,
        "--anki-url",
        url,
        env=hooked(tmp_path / "hooks", hook, {"SOURCE_DATE_EPOCH": str(EPOCH)}),
    )
    assert done.returncode == 128 + signum, done.stderr
    assert done.stderr.splitlines() == [
        f"Aborted! (already written in full: {out}, {out.with_name('deck.lock.json')})"
    ]
    twin = build_deck(content, output=tmp_path / "twin" / "deck.apkg", fresh=True)
    assert out.read_bytes() == twin.output.read_bytes()
    assert "importPackage" not in settings.asked
    assert anki.notes() == []
