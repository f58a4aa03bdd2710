"""Issue 3: re-imports update cards in place and keep reviews; unchanged builds stay byte-stable."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import CONTENT, EPOCH, ROOT, Anki, forget_build_cache, run_cli, write
from exporter import notetype as notetype_module

DECK = "Interview Questions::MLOps Engineer"
TARGET = "monitor-deployed-model-know"


def copy_content(tmp_path: Path) -> Path:
    """A private copy of the shipped bank to edit."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def edit_answer(content: Path, qid: str, new_first_words: str) -> None:
    """Prefix the sample answer of question ``qid`` with some words."""
    path = content / "mlops-engineer.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = lines.index(f"  - id: {qid}")
    answer = next(i for i in range(at, len(lines)) if lines[i].strip() == "answer: |-") + 1
    lines[answer] = "      " + new_first_words + " " + lines[answer].lstrip()
    path.write_text("\n".join(lines), encoding="utf-8")


def review_some(anki: Anki, count: int = 3) -> None:
    """Answer ``count`` cards 'Good' with the real scheduler."""
    anki.col.decks.select(anki.col.decks.id_for_name(DECK))
    for _ in range(count):
        queued = anki.col.sched.get_queued_cards().cards[0]
        card = anki.col.get_card(queued.card.id)
        card.start_timer()
        answer = anki.col.sched.build_answer(card=card, states=queued.states, rating=3)
        anki.col.sched.answer_card(answer)


def snapshot(anki: Anki) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Card ids with their scheduling, and the review log."""
    cards = anki.col.db.all(
        "select id, nid, did, type, queue, due, ivl, factor, reps from cards order by id"
    )
    revlog = anki.col.db.all("select id, cid, ease, ivl, type from revlog order by id")
    return [tuple(c) for c in cards], [tuple(r) for r in revlog]


def test_edited_answer_updates_in_place_keeping_reviews(build, anki: Anki, tmp_path: Path) -> None:
    """Edit one answer, rebuild, re-import: new text, same notes, cards, scheduling and revlog."""
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    build(content, output=out)
    anki.import_package(out)
    review_some(anki)
    before = snapshot(anki)
    assert len(before[1]) == 3
    old_mod = anki.note_by_id_field(TARGET).mod

    edit_answer(content, TARGET, "EDITED.")
    build(content, output=out)  # same SOURCE_DATE_EPOCH: the history must still raise the mod
    log = anki.import_package(out)

    assert len(log.updated) == 1
    assert len(log.new) == 0
    assert len(log.conflicting) == 0
    assert len(log.missing_notetype) == 0
    assert len(log.duplicate) == 9  # Anki's word for "already there, not newer": skipped
    note = anki.note_by_id_field(TARGET)
    assert "EDITED. I would monitor three layers" in note["Answer"]
    assert note.mod > old_mod
    assert len(anki.notes()) == 10
    assert len(anki.notetypes()) == 1
    assert snapshot(anki) == before


def test_css_change_updates_the_note_type(build, anki: Anki, tmp_path: Path, monkeypatch) -> None:
    """A CSS change raises the note type's mod, and Anki's copy takes the new CSS."""
    out = tmp_path / "dist" / "deck.apkg"
    build(CONTENT, output=out)
    anki.import_package(out)
    review_some(anki, 1)
    before = snapshot(anki)

    original = notetype_module.note_type

    def restyled(**kwargs):  # type: ignore[no-untyped-def]
        nt = original(**kwargs)
        return replace(nt, css=nt.css + "\n.iq-test-marker { color: red; }\n")

    monkeypatch.setattr("exporter.plan.note_type", restyled)
    forget_build_cache(out)
    build(CONTENT, output=out)
    anki.import_package(out)
    (model,) = anki.notetypes()
    assert ".iq-test-marker" in model["css"]
    assert len(anki.notes()) == 10
    assert snapshot(anki) == before


def test_only_the_edited_note_gets_a_new_mod(build, tmp_path: Path) -> None:
    """History: one edit raises that note's mod strictly; others and the note type keep theirs."""
    import json

    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    build(content, output=out)
    lock = out.with_name("deck.lock.json")
    first = json.loads(lock.read_text())
    edit_answer(content, TARGET, "Changed.")
    write(
        content / "new.yaml",
        "role: New\nquestions:\n  - id: brand-new\n    difficulty: easy\n"
        "    question: New?\n    answer: Yes.\n",
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
    result = run_cli(["build", str(content), "-o", str(out)], env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert result.exit_code == 0
    assert "brand-new" not in json.loads(lock.read_text())["notes"]
    assert 'find them in the browser with: "ID:brand-new"' in result.stdout


def test_unchanged_rebuild_is_identical_later_and_elsewhere(tmp_path: Path) -> None:
    """Unchanged content rebuilt later, in another TZ, without SOURCE_DATE_EPOCH: same bytes."""
    out = tmp_path / "dist" / "deck.apkg"
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    cmd = [sys.executable, "-m", "exporter", "build", str(CONTENT), "-o", str(out)]
    subprocess.run(cmd, env={**env, "TZ": "UTC"}, check=True, capture_output=True)
    package, lock = out.read_bytes(), out.with_name("deck.lock.json").read_bytes()
    time.sleep(1.1)
    forget_build_cache(out)  # a full rebuild, not the no-op shortcut
    subprocess.run(cmd, env={**env, "TZ": "America/St_Johns"}, check=True, capture_output=True)
    assert out.read_bytes() == package
    assert out.with_name("deck.lock.json").read_bytes() == lock


def test_unchanged_rebuild_never_reads_the_clock(build, tmp_path: Path, monkeypatch) -> None:
    """With history and unchanged content the clock is not consulted at all."""
    out = tmp_path / "deck.apkg"
    build(CONTENT, output=out, epoch=None)

    def no_clock() -> float:
        raise AssertionError("the clock was read")

    monkeypatch.setattr(time, "time", no_clock)
    forget_build_cache(out)  # a full rebuild, not the no-op shortcut
    build(CONTENT, output=out, epoch=None)


def test_no_history_with_source_date_epoch_is_reproducible(build, tmp_path: Path) -> None:
    """Two checkouts without history, same SOURCE_DATE_EPOCH: identical packages."""
    a = build(copy_content(tmp_path / "a"), output=tmp_path / "a" / "dist" / "x.apkg")
    b = build(copy_content(tmp_path / "b"), output=tmp_path / "b" / "dist" / "x.apkg")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_history_lost_means_everything_is_fresh(build, anki: Anki, tmp_path: Path) -> None:
    """Deleting the history makes every note newer, so a re-import misses no edit."""
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    build(content, output=out)
    anki.import_package(out)
    out.with_name("deck.lock.json").unlink()
    edit_answer(content, TARGET, "After a lost history.")
    build(content, output=out, epoch=EPOCH + 60)
    log = anki.import_package(out)
    assert len(log.updated) == 10
    assert "After a lost history." in anki.note_by_id_field(TARGET)["Answer"]


def test_ids_are_stable_across_rebuilds(build, anki: Anki, tmp_path: Path) -> None:
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


def test_note_type_contract_is_pinned() -> None:
    """Field and template names are a contract with users' collections: change = migration."""
    nt = notetype_module.note_type()
    assert nt.id == 1_730_118_263_051
    assert nt.name == "Interview Question"
    assert nt.fields == ("Question", "Answer", "Difficulty", "Role", "ID")
    assert nt.template_name == "Interview Card"


def test_check_passes_on_committed_dist() -> None:
    """`build --check` agrees that the committed dist/ is what the committed content builds."""
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "build", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"},
    )
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout


def test_check_fails_after_an_edit_and_writes_nothing(tmp_path: Path) -> None:
    """`build --check` exits 1 on stale or missing output and leaves every file as it was."""
    content = copy_content(tmp_path)
    (tmp_path / "dist").mkdir()
    for name in ("interview-questions.apkg", "interview-questions.lock.json"):
        shutil.copy2(ROOT / "dist" / name, tmp_path / "dist" / name)
    out = tmp_path / "dist" / "interview-questions.apkg"
    args = ["build", str(content), "-o", str(out), "--check"]
    assert run_cli(args).exit_code == 0
    edit_answer(content, TARGET, "Stale?")
    before = {p.name: p.read_bytes() for p in (tmp_path / "dist").iterdir()}
    result = run_cli(args)
    assert result.exit_code == 1
    assert "stale or missing" in result.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "dist").iterdir()} == before
    missing = run_cli(["build", str(content), "-o", str(tmp_path / "none" / "x.apkg"), "--check"])
    assert missing.exit_code == 1
    assert not (tmp_path / "none").exists()


def test_inspect_committed_package_matches_bank() -> None:
    """`inspect` shows the shipped bank: deck, counts by tag, note type, provenance."""
    result = run_cli(["inspect", str(ROOT / "dist" / "interview-questions.apkg")])
    assert result.exit_code == 0
    out = result.stdout
    assert "10 notes" in out
    assert f"  {DECK}: 10 notes" in out
    assert "  difficulty::medium: 5" in out
    assert "  difficulty::hard: 3" in out
    assert "  difficulty::easy: 2" in out
    assert "  role::mlops-engineer: 10" in out
    assert (
        "Interview Question (id 1730118263051): fields Question, Answer, Difficulty, Role, ID"
        in out
    )
    assert "Built by interview-deck " in out
    assert "Note mod times: " in out


def test_inspect_reads_a_genanki_package(tmp_path: Path) -> None:
    """A package made by plain genanki (not ours) is summarised, without provenance."""
    import genanki

    model = genanki.Model(
        1234,
        "Simple",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}],
    )
    deck = genanki.Deck(5678, "Other::Deck")
    for i in range(3):
        deck.add_note(genanki.Note(model=model, fields=[f"q{i}", f"a{i}"], tags=["x"]))
    path = tmp_path / "other.apkg"
    genanki.Package(deck).write_to_file(str(path), timestamp=EPOCH)
    result = run_cli(["inspect", str(path)])
    assert result.exit_code == 0
    assert "Not built by interview-deck" in result.stdout
    assert "  Other::Deck: 3 notes" in result.stdout
    assert "Simple (id 1234): fields Front, Back; templates Card 1" in result.stdout
    assert "  x: 3" in result.stdout


@pytest.mark.parametrize("kind", ["truncated", "random", "empty-zip", "bad-db"])
def test_inspect_rejects_non_packages_cleanly(tmp_path: Path, kind: str) -> None:
    """Something that is not a package: a one-line error, exit 1, no traceback."""
    import zipfile

    path = tmp_path / f"{kind}.apkg"
    good = (ROOT / "dist" / "interview-questions.apkg").read_bytes()
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "random":
        path.write_bytes(os.urandom(4096))
    else:
        with zipfile.ZipFile(path, "w") as z:
            if kind == "bad-db":
                z.writestr("collection.anki2", b"SQLite format 3\x00" + os.urandom(2000))
            else:
                z.writestr("readme.txt", "hi")
    result = run_cli(["inspect", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: ")
    assert "Traceback" not in result.stderr + result.stdout


def test_removed_question_stays_and_the_printed_search_finds_it(anki: Anki, tmp_path: Path) -> None:
    """A deleted question stays in the collection; build's search finds exactly its note."""
    content = copy_content(tmp_path)
    extra = write(
        content / "extra.yaml",
        "role: Extra\nquestions:\n  - id: gone-soon\n"
        "    difficulty: hard\n    question: Q?\n    answer: A.\n",
    )
    out = tmp_path / "dist" / "deck.apkg"
    env = {"SOURCE_DATE_EPOCH": str(EPOCH)}
    assert run_cli(["build", str(content), "-o", str(out)], env=env).exit_code == 0
    anki.import_package(out)
    extra.unlink()
    result = run_cli(["build", str(content), "-o", str(out)], env=env)
    search = result.stdout.rsplit("find them in the browser with: ", 1)[1].strip()
    anki.import_package(out)
    assert len(anki.notes()) == 11
    (nid,) = anki.col.find_notes(search)
    assert anki.col.get_note(nid)["ID"] == "gone-soon"


BANK_AB = "role: R\nquestions:\n  - id: a\n    difficulty: easy\n    question: A?\n    answer: A.\n"
B = "  - id: b\n    difficulty: easy\n    question: B?\n    answer: {answer}\n"


def test_removed_then_readded_question_still_updates(anki: Anki, tmp_path: Path) -> None:
    """b edited, removed, added back edited: its mod is still strictly newer, so Anki updates."""
    src, out = tmp_path / "c" / "bank.yaml", tmp_path / "dist" / "deck.apkg"
    env = {"SOURCE_DATE_EPOCH": "1000"}  # a stopped clock makes the floor do all the work
    for answer in ("v1", "v2", None, "v3"):
        write(src, BANK_AB + (B.format(answer=answer) if answer else ""))
        assert run_cli(["build", str(src), "-o", str(out)], env=env).exit_code == 0
        anki.import_package(out)
    assert anki.note_by_id_field("b")["Answer"] == "<p>v3</p>"


def test_new_note_never_reuses_a_removed_notes_id(tmp_path: Path) -> None:
    """a -> a+b -> a -> a+c: c gets an id b never had (Anki would have to move it)."""
    import json

    src, out = tmp_path / "c" / "bank.yaml", tmp_path / "dist" / "deck.apkg"
    lock = out.with_name("deck.lock.json")
    env = {"SOURCE_DATE_EPOCH": "1000"}
    ids = {}
    for extra in ("", "b", "", "c"):
        body = BANK_AB + (B.replace("id: b", f"id: {extra}").format(answer="x") if extra else "")
        write(src, body)
        assert run_cli(["build", str(src), "-o", str(out)], env=env).exit_code == 0
        ids.update({k: v["id"] for k, v in json.loads(lock.read_text())["notes"].items()})
    assert len(set(ids.values())) == 3


def test_merged_histories_with_one_id_twice_are_repaired(anki: Anki, tmp_path: Path) -> None:
    """Two branches each added a note with the same id: the next build gives one a new id."""
    import json

    src, out = tmp_path / "c" / "bank.yaml", tmp_path / "dist" / "deck.apkg"
    lock = out.with_name("deck.lock.json")
    write(src, BANK_AB + B.format(answer="x"))
    assert (
        run_cli(["build", str(src), "-o", str(out)], env={"SOURCE_DATE_EPOCH": "1000"}).exit_code
        == 0
    )
    data = json.loads(lock.read_text())
    data["notes"]["b"]["id"] = data["notes"]["a"]["id"]
    lock.write_text(json.dumps(data))
    forget_build_cache(out)
    result = run_cli(["build", str(src), "-o", str(out)], env={"SOURCE_DATE_EPOCH": "1000"})
    assert result.exit_code == 0, result.stderr
    notes = json.loads(lock.read_text())["notes"]
    assert notes["a"]["id"] != notes["b"]["id"]
    anki.import_package(out)
    assert len(anki.notes()) == 2


@pytest.mark.parametrize(
    "damage",
    ['"mod": 99999999999999999999999', '"mod": -5', '"mod": "soon"', '"fingerprint": 3'],
)
def test_damaged_history_numbers_are_a_clean_error(tmp_path: Path, damage: str) -> None:
    """Out-of-range or mistyped numbers in the lock file: a one-line error, exit 1."""
    import re as _re

    src, out = tmp_path / "c" / "bank.yaml", tmp_path / "dist" / "deck.apkg"
    lock = out.with_name("deck.lock.json")
    write(src, BANK_AB)
    assert (
        run_cli(["build", str(src), "-o", str(out)], env={"SOURCE_DATE_EPOCH": "1000"}).exit_code
        == 0
    )
    key = damage.split(":")[0]
    text = _re.sub(key + r': ("[^"]*"|\d+)', damage, lock.read_text(), count=1)
    lock.write_text(text)
    forget_build_cache(out)
    result = run_cli(["build", str(src), "-o", str(out)])
    assert result.exit_code == 1
    assert "build history is damaged" in result.stderr
    assert "Traceback" not in result.stderr


def test_format_1_history_is_still_read(build, tmp_path: Path) -> None:
    """A history written before the 'highest' field still builds the same package."""
    import json

    out = tmp_path / "dist" / "deck.apkg"
    build(CONTENT, output=out)
    package = out.read_bytes()
    lock = out.with_name("deck.lock.json")
    data = json.loads(lock.read_text())
    data["format"] = 1
    del data["highest"]
    lock.write_text(json.dumps(data))
    forget_build_cache(out)
    build(CONTENT, output=out)
    assert out.read_bytes() == package
    assert json.loads(lock.read_text())["format"] == 2


@pytest.mark.parametrize("legacy", [False, True])
def test_inspect_reads_what_anki_itself_exports(anki: Anki, tmp_path: Path, legacy: bool) -> None:
    """A package exported by Anki (zstd 'anki21b' today, or legacy) is summarised, and our
    provenance survives the round trip through a user's collection."""
    from anki.collection import ExportAnkiPackageOptions
    from anki.import_export_pb2 import ExportLimit

    anki.import_package(ROOT / "dist" / "interview-questions.apkg")
    path = tmp_path / "exported.apkg"
    anki.col.export_anki_package(
        out_path=str(path),
        options=ExportAnkiPackageOptions(with_scheduling=True, with_media=False, legacy=legacy),
        limit=ExportLimit(),
    )
    result = run_cli(["inspect", str(path)])
    assert result.exit_code == 0, result.stderr
    assert f"  {DECK}: 10 notes" in result.stdout
    assert (
        "fields Question, Answer, Difficulty, Role, ID; templates Interview Card" in result.stdout
    )
    assert "  difficulty::medium: 5" in result.stdout
    assert "Built by interview-deck " in result.stdout


def test_edit_made_in_anki_wins_over_an_older_package(build, anki: Anki, tmp_path: Path) -> None:
    """A user's own edit in Anki survives re-importing an older package; a build made after
    the edit that changes that question overwrites it."""
    content = copy_content(tmp_path)
    out = tmp_path / "dist" / "deck.apkg"
    build(content, output=out, epoch=None)
    anki.import_package(out)
    note = anki.note_by_id_field(TARGET)
    note["Answer"] = "<p>My own words.</p>"
    time.sleep(1.1)  # Anki stamps the edit with the clock, in seconds
    anki.col.update_note(note)
    anki.import_package(out)
    assert anki.note_by_id_field(TARGET)["Answer"] == "<p>My own words.</p>"
    time.sleep(1.1)
    edit_answer(content, TARGET, "Revised upstream.")
    build(content, output=out, epoch=None)
    log = anki.import_package(out)
    assert len(log.updated) == 1
    assert "Revised upstream. I would monitor" in anki.note_by_id_field(TARGET)["Answer"]
