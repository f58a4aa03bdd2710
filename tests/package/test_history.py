"""Build history and re-imports: a note's GUID follows its id only; an edited note (and only
it) gets a strictly newer mod, so re-importing updates it in place and keeps every card,
review and id; an unchanged rebuild never reads the clock; the lock file survives removal,
re-adding, merges, damage and its older format."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.content.model import _BASE91, Question, base91
from exporter.package.history import HISTORY_FORMAT
from helpers import (
    CONTENT,
    EPOCH,
    ROOT,
    TARGET,
    Anki,
    Builder,
    bank_counts,
    copy_content,
    edit_answer,
    make_bank,
    question,
    review_some,
    scheduling,
)


def test_guid_follows_the_id_only(build: Builder, tmp_path: Path) -> None:
    """Editing answer or difficulty, or moving a question to another file, keeps the GUID."""
    first = build(
        make_bank(tmp_path / "a", [question("keep-me", text="Q?", answer="A1")], role="R"),
        output=tmp_path / "1.apkg",
    )
    edited = build(
        make_bank(
            tmp_path / "b",
            [question("keep-me", "hard", text="Q?", answer="A2")],
            role="R",
            filename="other-name.yaml",
        ),
        output=tmp_path / "2.apkg",
    )
    renamed = build(
        make_bank(tmp_path / "c", [question("new-id", text="Q?", answer="A1")], role="R"),
        output=tmp_path / "3.apkg",
    )
    guids = []
    for built in (first, edited, renamed):
        other = Anki(tmp_path / f"col-{built.output.stem}.anki2")
        other.import_package(built.output)
        (note,) = other.notes()
        guids.append(note.guid)
        other.close()
    assert guids[0] == guids[1]
    assert guids[2] != guids[0]


def test_guid_is_namespaced_and_pinned(build: Builder, anki: Anki, tmp_path: Path) -> None:
    """A note's GUID is 'interview-deck:' + its id, hashed: pinned, since another GUID for the
    same id would duplicate every note in users' collections."""
    src = make_bank(tmp_path / "c", [question("keep-me"), question("a")], role="R")
    anki.import_package(build(src).output)
    assert {n["ID"]: n.guid for n in anki.notes()} == {"keep-me": "AwR#kg(n1k", "a": "b[X}hHS/Wk"}


def _base91_one_digit_at_a_time(number: int) -> str:
    """The encoding as genanki (and 0.1-0.8.0) wrote it: one base-91 digit a division."""
    digits = []
    while number:
        number, rest = divmod(number, len(_BASE91))
        digits.append(_BASE91[rest])
    return "".join(reversed(digits)) or _BASE91[0]


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_guid_encoding_is_the_one_digit_loop_for_every_64_bit_number(number: int) -> None:
    """GUIDs are encoded two digits a division, as the one-digit loop encodes them, for every
    number a digest can give (a leading digit of zero would be another GUID: every note
    duplicated)."""
    assert base91(number) == _base91_one_digit_at_a_time(number)


def test_guid_encoding_edges() -> None:
    """The same at each boundary of one and two digits a division."""
    edges = {0, 1, 2**64 - 1}
    for k in range(11):
        for head in (1, 2, 90):
            edges |= {head * 91**k + d for d in (-2, -1, 0, 1, 2)}
    for number in sorted(n for n in edges if 0 <= n < 2**64):
        assert base91(number) == _base91_one_digit_at_a_time(number), number


def test_edited_answer_updates_in_place_keeping_reviews(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """Edit one answer, rebuild, re-import: new text, same notes, cards, scheduling and revlog;
    every other note (the question's key points too) is left as it was."""
    shipped = bank_counts()
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    build(content, output=out)
    anki.import_package(out)
    review_some(anki)
    before = scheduling(anki)
    assert len(before[1]) == 3
    old_mod = anki.note_by_id_field(TARGET).mod

    edit_answer(content, TARGET, "EDITED.")
    build(content, output=out)  # same SOURCE_DATE_EPOCH: the history must still raise the mod
    log = anki.import_package(out)

    assert len(log.updated) == 1
    assert len(log.new) == 0
    assert len(log.conflicting) == 0
    assert len(log.missing_notetype) == 0
    # Anki's word for "already there, not newer": skipped
    assert len(log.duplicate) == shipped.notes - 1
    note = anki.note_by_id_field(TARGET)
    assert "EDITED. I would monitor three layers" in note["Answer"]
    assert note.mod > old_mod
    assert len(anki.notes()) == shipped.notes
    assert len(anki.notetypes()) == 1
    assert scheduling(anki) == before


def test_only_the_edited_note_gets_a_new_mod(build: Builder, tmp_path: Path) -> None:
    """History: one edit raises that note's mod strictly; others and the note type keep theirs."""
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    lock = build(content, output=out).history
    first = json.loads(lock.read_text())
    edit_answer(content, TARGET, "Changed.")
    make_bank(
        content,
        [question("brand-new", text="New?", answer="Yes.")],
        role="New",
        filename="new.yaml",
    )
    build(content, output=out, epoch=EPOCH - 5000)  # a clock behind the history still moves up
    second = json.loads(lock.read_text())
    assert second["notetype"] == first["notetype"]
    for qid, stamp in first["notes"].items():
        if qid == TARGET:
            assert second["notes"][qid]["mod"] == stamp["mod"] + 1
            assert second["notes"][qid]["id"] == stamp["id"]
        else:
            assert second["notes"][qid] == stamp
    assert second["notes"]["brand-new"]["mod"] == EPOCH + 1
    # Removing a question drops it from the history, and build says how to find its note.
    (content / "new.yaml").unlink()
    result = build(content, output=out)
    assert "brand-new" not in json.loads(lock.read_text())["notes"]
    assert 'find them in the browser with: "ID:brand-new"' in result.stdout


def test_unchanged_rebuild_never_reads_the_clock(
    build: Builder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With history and unchanged content a full rebuild does not consult the clock at all."""
    out = tmp_path / "deck.apkg"
    build(CONTENT, output=out, epoch=None)

    def no_clock() -> float:
        raise AssertionError("the clock was read")

    monkeypatch.setattr(time, "time", no_clock)
    build(CONTENT, output=out, epoch=None, fresh=True, expect="unchanged")


def test_history_lost_means_everything_is_fresh(build: Builder, anki: Anki, tmp_path: Path) -> None:
    """Deleting the history makes every note newer (key points too), so a re-import misses
    no edit."""
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    anki.import_package(build(content, output=out).output)
    out.with_name("deck.lock.json").unlink()
    edit_answer(content, TARGET, "After a lost history.")
    build(content, output=out, epoch=EPOCH + 60)
    log = anki.import_package(out)
    assert len(log.updated) == bank_counts().notes
    assert len(log.new) == 0
    assert "After a lost history." in anki.note_by_id_field(TARGET)["Answer"]


def test_ids_are_stable_across_rebuilds(build: Builder, anki: Anki, tmp_path: Path) -> None:
    """Note and card ids (Anki's 'Added' date) do not move when another note changes."""
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    build(content, output=out)
    first = Anki(tmp_path / "first.anki2")
    first.import_package(out)
    ids = sorted((n.id, n.cards()[0].id) for n in first.notes())
    first.close()
    edit_answer(content, TARGET, "Again.")
    build(content, output=out, epoch=EPOCH + 3600)
    anki.import_package(out)
    assert sorted((n.id, n.cards()[0].id) for n in anki.notes()) == ids


def test_removed_question_stays_and_the_printed_search_finds_it(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """A deleted question stays in the collection; build's search finds exactly its note."""
    content = copy_content(tmp_path)
    extra = make_bank(
        content,
        [question("gone-soon", "hard", text="Q?", answer="A.")],
        role="Extra",
        filename="extra.yaml",
    )
    out = tmp_path / "dist" / "deck.apkg"
    anki.import_package(build(content, output=out).output)
    extra.unlink()
    result = build(content, output=out)
    search = result.stdout.rsplit("find them in the browser with: ", 1)[1].strip()
    anki.import_package(out)
    assert len(anki.notes()) == bank_counts().notes + 1
    (nid,) = anki.col.find_notes(search)
    assert anki.col.get_note(nid)["ID"] == "gone-soon"


A = question("a", text="A?", answer="A.")


def b(answer: str, qid: str = "b") -> Question:
    """The second question of the small history banks."""
    return question(qid, text="B?", answer=answer)


def test_removed_then_readded_question_still_updates(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """b edited, removed, added back edited: its mod is still strictly newer, so Anki updates."""
    out = tmp_path / "dist" / "deck.apkg"
    for answer in ("v1", "v2", None, "v3"):
        src = make_bank(tmp_path / "c", [A, b(answer)] if answer else [A], role="R")
        build(src, output=out, epoch=1000)  # a stopped clock makes the floor do all the work
        anki.import_package(out)
    assert anki.note_by_id_field("b")["Answer"] == "<p>v3</p>"


def test_new_note_never_reuses_a_removed_notes_id(build: Builder, tmp_path: Path) -> None:
    """a -> a+b -> a -> a+c: c gets an id b never had (Anki would have to move it)."""
    out = tmp_path / "dist" / "deck.apkg"
    ids = {}
    for extra in ("", "b", "", "c"):
        src = make_bank(tmp_path / "c", [A, b("x", extra)] if extra else [A], role="R")
        lock = build(src, output=out, epoch=1000).history
        ids.update({k: v["id"] for k, v in json.loads(lock.read_text())["notes"].items()})
    assert len(set(ids.values())) == 3


def test_merged_histories_with_one_id_twice_are_repaired(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """Two branches each added a note with the same id: the next build gives one a new id."""
    src = make_bank(tmp_path / "c", [A, b("x")], role="R")
    out = tmp_path / "dist" / "deck.apkg"
    lock = build(src, output=out, epoch=1000).history
    data = json.loads(lock.read_text())
    data["notes"]["b"]["id"] = data["notes"]["a"]["id"]
    lock.write_text(json.dumps(data))
    build(src, output=out, epoch=1000, fresh=True)
    notes = json.loads(lock.read_text())["notes"]
    assert notes["a"]["id"] != notes["b"]["id"]
    anki.import_package(out)
    assert len(anki.notes()) == 2


@pytest.mark.parametrize(
    "damage",
    ['"mod": 99999999999999999999999', '"mod": -5', '"mod": "soon"', '"fingerprint": 3'],
)
def test_damaged_history_numbers_are_a_clean_error(
    build: Builder, tmp_path: Path, damage: str
) -> None:
    """Out-of-range or mistyped numbers in the lock file: a one-line error, exit 1."""
    src = make_bank(tmp_path / "c", [A], role="R")
    out = tmp_path / "dist" / "deck.apkg"
    lock = build(src, output=out, epoch=1000).history
    key = damage.split(":")[0]
    lock.write_text(re.sub(key + r': ("[^"]*"|\d+)', damage, lock.read_text(), count=1))
    result = build(src, output=out, epoch=None, fresh=True, expect="failed")
    assert result.exit_code == 1
    assert "build history is damaged" in result.stderr
    assert "Traceback" not in result.stderr


def test_format_1_history_is_still_read(build: Builder, tmp_path: Path) -> None:
    """A history written before the 'highest' field still builds the same package."""
    out = tmp_path / "dist" / "deck.apkg"
    lock = build(CONTENT, output=out).history
    package = out.read_bytes()
    data = json.loads(lock.read_text())
    data["format"] = 1
    del data["highest"]
    for stamp in data["notes"].values():
        del stamp["deck"]  # format 3's field
    lock.write_text(json.dumps(data))
    build(CONTENT, output=out, fresh=True)  # the history is rewritten in the current format
    assert out.read_bytes() == package
    assert json.loads(lock.read_text())["format"] == HISTORY_FORMAT


def test_edit_made_in_anki_wins_over_an_older_package(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """A user's own edit in Anki survives re-importing an older package; a build made after
    the edit that changes that question overwrites it."""
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    build(content, output=out, epoch=EPOCH)
    anki.import_package(out)
    note = anki.note_by_id_field(TARGET)
    note["Answer"] = "<p>My own words.</p>"
    anki.col.update_note(note)
    # Anki stamps the edit with its own clock: pinned after the build (no sleep to move it).
    anki.col.db.execute("update notes set mod=? where id=?", EPOCH + 60, note.id)
    anki.import_package(out)
    assert anki.note_by_id_field(TARGET)["Answer"] == "<p>My own words.</p>"
    edit_answer(content, TARGET, "Revised upstream.")
    build(content, output=out, epoch=EPOCH + 120)
    log = anki.import_package(out)
    assert len(log.updated) == 1
    assert "Revised upstream. I would monitor" in anki.note_by_id_field(TARGET)["Answer"]


def test_the_renderer_migration_updates_notes_in_place_keeping_reviews(
    build: Builder, anki: Anki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built by 0.7's renderer (markdown-it's layout, revision 3: its HTML of every shipped
    field is recorded in tests/data/golden), imported and reviewed; rebuilt with
    pulldown-cmark's own HTML (revision 4) and a table added: Anki updates the notes in
    place, one note type, scheduling and review log unchanged, and the table renders."""
    import exporter.render.notes as notes

    recorded = json.loads((ROOT / "tests/data/golden/layout-0.7.json").read_text("utf-8"))
    written_by_0_7 = {field["markdown"]: field["html"] for field in recorded["fields"]}
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    with monkeypatch.context() as old:
        old.setattr(notes, "to_html", lambda text, media=None: written_by_0_7[text])
        old.setattr(notes, "RENDER_REVISION", 3)
        notes.renderer_identity.cache_clear()
        build(content, output=out)
    notes.renderer_identity.cache_clear()
    anki.import_package(out)
    review_some(anki)
    before = scheduling(anki)
    table = "| metric | alert |\n      |:--|--:|\n      | PSI | 0.25 |\n\n     "
    edit_answer(content, TARGET, table)
    build(content, output=out)
    log = anki.import_package(out)
    shipped = bank_counts()
    assert len(log.updated) == shipped.notes  # every note: the renderer is in each fingerprint
    assert len(log.new) == 0
    assert len(anki.notes()) == shipped.notes
    assert len(anki.notetypes()) == 1
    assert scheduling(anki) == before
    answer = anki.note_by_id_field(TARGET)["Answer"]
    assert '<th style="text-align: left">metric</th>' in answer


def test_a_note_type_outdates_only_the_newest_other_note_type() -> None:
    """Of the other outputs' note-type stamps, only the newest of another note type counts:
    a history newer than it keeps its stamp (no clock read); one not newer gets a fresh mod
    past it; a sibling of the same note type is no rival."""
    from exporter.package.history import History, Stamp, advance, rival_of

    def never() -> int:
        raise AssertionError("the clock was read")

    plain, tts = "sha256:plain", "sha256:tts"
    notes = [("one", "f1", "D")]
    own = History(Stamp(plain, EPOCH + 3), {"one": Stamp("f1", EPOCH, 5, "D")})
    siblings = [Stamp(tts, EPOCH + 2), Stamp(plain, EPOCH + 9), Stamp(tts, EPOCH + 1)]
    rival = rival_of(plain, siblings)
    assert rival == Stamp(tts, EPOCH + 2)
    assert advance(own, plain, notes, never, rival).notetype == own.notetype
    later = Stamp(tts, EPOCH + 3)  # as new as ours: Anki would not switch back
    bumped = advance(own, plain, notes, lambda: EPOCH, later)
    assert bumped.notetype == Stamp(plain, EPOCH + 4)
    assert bumped.notes == own.notes
    assert rival_of(plain, [Stamp(plain, EPOCH + 99)]) is None


def test_the_note_type_stamp_is_read_from_the_head_or_the_whole_file() -> None:
    """A sibling's note-type stamp comes from its line near the start of a history as
    written (never parsing every note), or from the whole file once reformatted (a merge
    tool, a hand edit); a damaged one is a history-damaged error."""
    from exporter.errors import ContentErrors
    from exporter.package.history import History, Stamp, dumps, notetype_stamps

    history = History(Stamp("sha256:nt", EPOCH), {"one": Stamp("f", EPOCH, 7, "D")})
    text = dumps(history).decode()
    assert notetype_stamps(text, "h")[""] == history.notetype
    assert notetype_stamps(json.dumps(json.loads(text)), "h")[""] == history.notetype
    with pytest.raises(ContentErrors) as damaged:
        notetype_stamps(text.replace('"sha256:nt", "mod": ', '"sha256:nt", "mod": -'), "h")
    assert damaged.value.errors[0].code == "history-damaged"


def test_cloze_numbers_follow_each_point_s_text() -> None:
    """Unchanged text keeps its number wherever it moves; a new text in the place of one
    that is gone takes its number (an edit); any other new text gets the highest number
    ever given + 1; a number that is gone is never given again."""
    from exporter.package.history import Clozes, assign_clozes

    def was(*points: tuple[int, str], highest: int = 0) -> Clozes:
        return Clozes(points, (), highest or max(n for n, _h in points))

    assert assign_clozes(None, ["a", "b", "c"]) == (1, 2, 3)
    last = was((1, "a"), (2, "b"), (3, "c"))
    assert assign_clozes(last, ["c", "b", "a"]) == (3, 2, 1)  # reordered
    assert assign_clozes(last, ["a", "B", "c"]) == (1, 2, 3)  # edited in place
    assert assign_clozes(last, ["x", "a", "b", "c"]) == (4, 1, 2, 3)  # inserted
    assert assign_clozes(last, ["a", "c"]) == (1, 3)  # removed: 2 retired
    assert assign_clozes(was((1, "a"), (3, "c"), highest=3), ["a", "c", "d"]) == (1, 3, 4)
    assert assign_clozes(was((1, "a"), (3, "c"), highest=5), ["a", "c", "d"]) == (1, 3, 6)
    assert assign_clozes(last, ["b", "x"]) == (2, 4)  # b's place: x is new, a and c gone
    assert assign_clozes(was((1, "a"), (2, "a")), ["a", "a"]) == (1, 2)


def test_format_4_keeps_note_types_and_key_point_numbers() -> None:
    """The other note types' stamps and the key points' numbers and card ids survive a
    write and a read; the note types' stamps come from the file's head, or from the whole
    file once reformatted; every card id counts towards the highest id."""
    from exporter.package.history import (
        Clozes,
        History,
        Stamp,
        dumps,
        loads,
        notetype_stamps,
    )

    history = History(
        Stamp("sha256:nt", EPOCH),
        {"one": Stamp("f", EPOCH, 7, "D"), "one::key-points": Stamp("g", EPOCH, 8, "D")},
        EPOCH,
        8,
        {"Interview Key Points": Stamp("sha256:kp", EPOCH + 1)},
        {"one::key-points": Clozes(((2, "h2"), (1, "h1")), ((1, 9), (2, 10)), 3)},
    )
    text = dumps(history).decode()
    read = loads(text, "h")
    assert (read.notetype, read.notes, read.notetypes) == (
        history.notetype,
        history.notes,
        history.notetypes,
    )
    assert read.clozes == history.clozes
    stamps = {"": history.notetype, "Interview Key Points": Stamp("sha256:kp", EPOCH + 1)}
    assert notetype_stamps(text, "h") == stamps
    assert notetype_stamps(json.dumps(json.loads(text)), "h") == stamps
    assert loads(text, "h").highest_id == 10


def test_another_note_type_outdates_only_its_own_kind() -> None:
    """A sibling's other stamp of the key points' note type (another version's) makes this
    build stamp its own newer; the main note type keeps its stamp."""
    from exporter.package.history import History, Stamp, advance

    own = History(
        Stamp("main", EPOCH + 3),
        {"one": Stamp("f1", EPOCH, 5, "D")},
        notetypes={"Interview Key Points": Stamp("kp", EPOCH + 3)},
    )
    notes = [("one", "f1", "D")]
    kept = advance(own, "main", notes, lambda: EPOCH, notetypes={"Interview Key Points": "kp"})
    assert kept.notetypes == own.notetypes
    rival = {"Interview Key Points": Stamp("kp-older-version", EPOCH + 5)}
    bumped = advance(
        own, "main", notes, lambda: EPOCH, notetypes={"Interview Key Points": "kp"}, rivals=rival
    )
    assert bumped.notetype == own.notetype
    assert bumped.notetypes == {"Interview Key Points": Stamp("kp", EPOCH + 6)}


def test_a_history_giving_two_clozes_one_card_id_builds_an_importable_package(
    build: Builder, anki: Anki, tmp_path: Path
) -> None:
    """A crafted (or merged) history naming one card id for two cloze numbers: each card
    gets its own id, as a note id shared by two notes does; no crash, one card per point."""
    q = Question("kp", "easy", "Kp?", "Kp.", key_points=("alpha one", "beta two"))
    src = make_bank(tmp_path / "c", [q], role="R")
    out = tmp_path / "dist" / "deck.apkg"
    lock = build(src, output=out, epoch=1000).history
    text = re.sub(
        r'"cards": \[\[1, (\d+)\], \[2, \d+\]', r'"cards": [[1, \1], [2, \1]', lock.read_text()
    )
    assert text != lock.read_text()
    lock.write_text(text)
    build(src, output=out, epoch=2000, fresh=True)
    anki.import_package(out)
    assert len(anki.col.find_cards('"note:Interview Key Points"')) == 2


def test_cloze_numbers_stop_at_the_last_one_anki_holds(build: Builder, tmp_path: Path) -> None:
    """Anki keeps a card's number in 16 bits: a history whose key points have used every
    cloze number up to 65,536 gets one line naming it for the next new point, never a
    package Anki cannot import; at the last number the build still goes."""
    from helpers import one_error, run_cli

    q = Question("kp", "easy", "Kp?", "Kp.", key_points=("alpha one",))
    src = make_bank(tmp_path / "c", [q], role="R")
    out = tmp_path / "dist" / "deck.apkg"
    lock = build(src, output=out, epoch=1000).history
    at_the_end = re.sub(r'("points": .*?"highest": )\d+', r"\g<1>65535", lock.read_text())
    assert at_the_end != lock.read_text()
    lock.write_text(at_the_end)
    two = Question("kp", "easy", "Kp?", "Kp.", key_points=("alpha one", "beta two"))
    make_bank(tmp_path / "c", [two], role="R")
    build(src, output=out, epoch=2000)  # the new point takes c65536
    three = Question("kp", "easy", "Kp?", "Kp.", key_points=("alpha one", "beta two", "gamma"))
    make_bank(tmp_path / "c", [three], role="R")
    line = one_error(run_cli(["build", str(src), "-o", str(out)]))
    assert "every cloze number Anki holds (up to 65,536)" in line
