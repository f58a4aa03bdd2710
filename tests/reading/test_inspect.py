"""`inspect`: any Anki package (ours, plain genanki's, or what Anki itself exports) is
summarised: decks, counts by tag, note types, mod times and our provenance; anything that
is not a package is a one-line error."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from helpers import DECK, EPOCH, ROOT, Anki, bank_counts, export, run_cli


def test_inspect_committed_package_matches_bank() -> None:
    """`inspect` shows the shipped bank: deck, counts by tag, note types with their notes and
    cards (a question's note and its key points' note), provenance."""
    shipped = bank_counts()
    result = run_cli(["inspect", str(ROOT / "dist" / "interview-questions.apkg")])
    assert result.exit_code == 0
    out = result.stdout
    assert out.splitlines()[0].endswith(f": {shipped.notes} notes")
    assert f"  {DECK}: {shipped.notes} notes\n" in out
    # each tag is on a question's note and on its key points' note (every question has some)
    assert shipped.key_point_notes == shipped.questions
    for difficulty, questions in shipped.difficulties.items():
        assert f"  difficulty::{difficulty}: {2 * questions}\n" in out
    assert shipped.difficulties == {"easy": 2, "medium": 5, "hard": 3}
    assert f"  role::mlops-engineer: {shipped.notes}\n" in out
    assert (
        "Interview Question (id 1730118263051): fields Question, Answer, Difficulty, Role, ID; "
        f"templates Interview Card; {shipped.questions} notes, {shipped.questions} cards\n"
    ) in out
    assert (
        "Interview Key Points (id 1730118263052): fields Text, Question, Extra, Difficulty, "
        f"Role, ID; templates Key Point; {shipped.key_point_notes} notes, "
        f"{shipped.key_point_cards} cards\n"
    ) in out
    assert "Interview Extra" not in out  # no reverse card in the shipped bank
    assert shipped.reverse == 0
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


@pytest.mark.parametrize("legacy", [False, True])
def test_inspect_reads_what_anki_itself_exports(anki: Anki, tmp_path: Path, legacy: bool) -> None:
    """A package exported by Anki (zstd 'anki21b' today, or legacy) is summarised, and our
    provenance survives the round trip through a user's collection (said as what the deck
    description says: edits made in Anki are not in its fingerprint)."""
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
    shipped = bank_counts()
    assert f"  {DECK}: {shipped.notes} notes\n" in result.stdout
    assert (
        "fields Question, Answer, Difficulty, Role, ID; templates Interview Card; "
        f"{shipped.questions} notes, {shipped.questions} cards\n"
    ) in result.stdout
    assert (
        f"templates Key Point; {shipped.key_point_notes} notes, {shipped.key_point_cards} cards\n"
    ) in result.stdout
    assert f"  difficulty::medium: {2 * shipped.difficulties['medium']}\n" in result.stdout
    assert "The deck description says it was built by interview-deck " in result.stdout


def test_counts_are_in_words_that_agree(tmp_path: Path) -> None:
    """One note is '1 note' (and one question '1 question'), in what build and inspect say,
    for the package and each deck."""
    from helpers import bank

    out = tmp_path / "deck.apkg"
    built = run_cli(
        ["build", str(bank(tmp_path / "c")), "-o", str(out)], env={"SOURCE_DATE_EPOCH": str(EPOCH)}
    )
    assert built.exit_code == 0, built.stderr
    assert "(1 note, content " in built.stdout
    assert "  Interview Questions::Tester: 1 question (1 easy)" in built.stdout
    again = run_cli(["build", str(tmp_path / "c" / "bank.yaml"), "-o", str(out)])
    assert "is up to date (1 note, content " in again.stdout
    shown = run_cli(["inspect", str(out)]).stdout
    assert f"{out}: 1 note\n" in shown
    assert "  Interview Questions::Tester: 1 note\n" in shown
    assert " notes" not in shown.replace("1 note", "")


def test_media_sizes_are_the_files_real_sizes(tmp_path: Path) -> None:
    """inspect gives each media file's own size (what stats counts), not its compressed
    size in the zip."""
    from helpers import make_bank, question

    (tmp_path / "c").mkdir()
    image = tmp_path / "c" / "pic.svg"
    image.write_text("<svg xmlns='http://www.w3.org/2000/svg'>" + " " * 5000 + "</svg>")
    bank = make_bank(tmp_path / "c", [question("one", answer="![a](pic.svg)")])
    out = tmp_path / "deck.apkg"
    assert run_cli(["build", str(bank), "-o", str(out)]).exit_code == 0
    size = image.stat().st_size
    shown = run_cli(["inspect", str(out)]).stdout
    assert f"Media: 1 file, {size / 1024:.1f} KiB in the package" in shown
    stats = run_cli(["stats", str(bank), "--json"]).stdout
    assert f'"bytes": {size}' in stats


def test_an_anki_export_does_not_repeat_a_fingerprint_as_fact(anki: Anki, tmp_path: Path) -> None:
    """Our own build states its provenance; an export made by Anki (whose notes may have
    been edited there) says only what the deck description says, and why it may be old."""
    ours = run_cli(["inspect", str(ROOT / "dist" / "interview-questions.apkg")]).stdout
    assert "\nBuilt by interview-deck " in ours
    anki.import_package(ROOT / "dist" / "interview-questions.apkg")
    for legacy in (False, True):
        exported = export(anki, tmp_path / f"x{legacy}.apkg", legacy=legacy)
        shown = run_cli(["inspect", str(exported)]).stdout
        assert "\nBuilt by interview-deck " not in shown
        assert "The deck description says it was built by interview-deck " in shown
        assert "exported by Anki" in shown


@pytest.mark.parametrize("kind", ["latest", "legacy", "colpkg"])
def test_inspect_names_the_media_of_an_anki_export(anki: Anki, tmp_path: Path, kind: str) -> None:
    """The media of an export made by Anki are listed by name (from its 'media' index: JSON
    in legacy exports, zstd-compressed protobuf in today's), never as '#0'."""
    from anki.collection import ExportAnkiPackageOptions
    from anki.import_export_pb2 import ExportLimit

    from helpers import make_bank, question

    (tmp_path / "c").mkdir()
    image = tmp_path / "c" / "pic.svg"
    image.write_text("<svg xmlns='http://www.w3.org/2000/svg'>" + " " * 300 + "</svg>")
    bank = make_bank(tmp_path / "c", [question("one", answer="![a](pic.svg)")])
    out = tmp_path / "deck.apkg"
    assert run_cli(["build", str(bank), "-o", str(out)]).exit_code == 0
    anki.import_package(out)
    (name,) = os.listdir(anki.col.media.dir())  # the name the package gave it in Anki
    path = tmp_path / ("x.colpkg" if kind == "colpkg" else "x.apkg")
    if kind == "colpkg":
        anki.col.export_collection_package(str(path), include_media=True, legacy=False)
        anki.col.reopen()
    else:
        anki.col.export_anki_package(
            out_path=str(path),
            options=ExportAnkiPackageOptions(
                with_scheduling=True, with_media=True, legacy=kind == "legacy"
            ),
            limit=ExportLimit(),
        )
    shown = run_cli(["inspect", str(path)])
    assert shown.exit_code == 0, shown.stderr
    assert f"  {name}: {image.stat().st_size} bytes" in shown.stdout
    assert "#0" not in shown.stdout


@pytest.mark.parametrize(
    "index",
    [b"\x0a\xff\xff\xff\xff\x0f", b"\x0b", b"\x0a\x02\x0a\x05", b"\xff" * 20, b"not json"],
)
def test_a_media_index_that_cannot_be_read_lists_numbers(tmp_path: Path, index: bytes) -> None:
    """A damaged media index (truncated or bad protobuf in zstd, or not JSON) lists the
    files by number, with no traceback."""
    import zstandard

    from helpers import make_bank, question

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "pic.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    bank = make_bank(tmp_path / "c", [question("one", answer="![a](pic.svg)")])
    out = tmp_path / "deck.apkg"
    assert run_cli(["build", str(bank), "-o", str(out)]).exit_code == 0
    damaged = tmp_path / "damaged.apkg"
    data = index if index == b"not json" else zstandard.ZstdCompressor().compress(index)
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, data if info.filename == "media" else src.read(info))
    shown = run_cli(["inspect", str(damaged)])
    assert shown.exit_code == 0, shown.stderr
    assert "  #0: " in shown.stdout


def test_a_media_index_with_fields_of_other_kinds_is_still_read(tmp_path: Path) -> None:
    """Fields the reader does not use (fixed 32/64-bit, unknown numbers) are skipped: the
    names still come through."""
    import zstandard

    from helpers import make_bank, question

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "pic.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    bank = make_bank(tmp_path / "c", [question("one", answer="![a](pic.svg)")])
    out = tmp_path / "deck.apkg"
    assert run_cli(["build", str(bank), "-o", str(out)]).exit_code == 0
    entry = b"\x0a\x05a.svg" + b"\x21" + bytes(8) + b"\x2d" + bytes(4) + b"\x10\x07"
    index = b"\x0a" + bytes([len(entry)]) + entry + b"\x15" + bytes(4)
    damaged = tmp_path / "other.apkg"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "media":
                data = zstandard.ZstdCompressor().compress(index)
            dst.writestr(info, data)
    shown = run_cli(["inspect", str(damaged)])
    assert shown.exit_code == 0, shown.stderr
    assert "  a.svg: 7 bytes" in shown.stdout
