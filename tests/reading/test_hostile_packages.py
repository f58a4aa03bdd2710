"""Crafted packages cannot hang, bloat or fool `inspect`, `diff` and `pull`: a collection
holds tables only (no views, triggers or virtual tables), every query runs within a step
budget, the zip is read as Anki reads it (its newest collection first) and any zip
trickery (duplicate or overlapping entries, bad CRCs) is one line, exit 1."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    ROOT,
    TERMINAL_CONTROLS,
    Anki,
    assert_terminal_safe,
    bank_counts,
    copy_content,
    export,
    first_fast,
    hang_guard,
    make_bank,
    one_error,
    run_cli,
    run_exporter,
)

SHIPPED = ROOT / "dist" / "interview-questions.apkg"


def legacy_package(tmp_path: Path, name: str, *statements: str) -> Path:
    """A package whose legacy collection is a minimal schema-11 one plus ``statements``."""
    db = tmp_path / f"{name}.sqlite"
    con = sqlite3.connect(db)
    con.execute("create table col (decks text, models text)")
    con.execute("insert into col values ('{}', '{}')")
    con.execute("create table cards (id int, nid int, did int, ord int)")
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()
    package = tmp_path / f"{name}.apkg"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(db, "collection.anki2")
    return package


ENDLESS_NOTES = (
    "create view notes as with recursive r(n) as (select 1 union all select n + 1 from r) "
    "select n as id, 'g' || n as guid, 1 as mid, n as mod, 'tag' || n as tags, "
    "'x' as flds from r"
)
NOTES_TABLE = "create table notes (id int, guid text, mid int, mod int, tags text, flds text)"


@pytest.mark.parametrize("command", first_fast(["inspect", "diff", "pull"]))
def test_a_view_over_an_endless_query_is_refused_at_once(tmp_path: Path, command: str) -> None:
    """A 4 KiB package whose `notes` is a view over an endless recursive CTE: inspect,
    diff and pull stop at once with one line (run as a real process: a hang fails the
    test at its timeout, never a slow machine)."""
    package = legacy_package(tmp_path, "endless", ENDLESS_NOTES)
    assert package.stat().st_size < 8192
    content = make_bank(tmp_path / "c").parent
    runs: dict[str, list[str | Path]] = {
        "inspect": ["inspect", package],
        "diff": ["diff", package, package],
        "pull": ["pull", package, content, "-o", tmp_path / "deck.apkg"],
    }
    args = runs[command]
    done = run_exporter(*args, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "'notes' is a view" in done.stderr


@pytest.mark.parametrize(
    ("extra", "what"),
    [
        (
            "create trigger t after insert on cards begin delete from cards; end",
            "a trigger 't'",
        ),
        ("create view decks as select 1", "'decks' is a view"),
    ],
    ids=["trigger", "view"],
)
def test_a_collection_holds_tables_only(tmp_path: Path, extra: str, what: str) -> None:
    """Triggers and views have no place in an Anki collection: refused, one line."""
    package = legacy_package(tmp_path, "odd", NOTES_TABLE, extra)
    assert what in one_error(run_cli(["inspect", package]))


def test_every_query_runs_within_a_step_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collection that needs more work than its size allows (here: a budget made tiny)
    stops with one line instead of running on."""
    import exporter.reading.packagefile as packagefile

    monkeypatch.setattr(packagefile, "STEPS_MIN", 100)
    monkeypatch.setattr(packagefile, "STEPS_PER_BYTE", 0)
    monkeypatch.setattr(packagefile, "_CHECK_EVERY", 1)
    message = one_error(run_cli(["inspect", SHIPPED]))
    assert "more work than a collection of its size needs" in message


_INFINITE = {
    "json-model-id": "update col set models = "
    """'{"1": {"id": 1e400, "name": "Interview Question", "flds": [], "tmpls": []}}'""",
    "json-deck-id": """update col set decks = '{"1": {"id": Infinity, "name": "D"}}'""",
    "sql-deck-id": "insert into cards values (1, 1, 9e999, 0)",
}


@pytest.mark.parametrize("command", ["inspect", "diff", "pull"])
@pytest.mark.parametrize("where", sorted(_INFINITE))
def test_an_infinite_number_in_a_collection_is_damage(
    tmp_path: Path, command: str, where: str
) -> None:
    """A collection whose ids are infinite (JSON's 1e400 or Infinity, SQLite's 9e999) is a
    damaged package, one line, never an OverflowError traceback."""
    package = legacy_package(tmp_path, "inf", NOTES_TABLE, _INFINITE[where])
    content = make_bank(tmp_path / "c").parent
    runs: dict[str, list[str | Path]] = {
        "inspect": ["inspect", package],
        "diff": ["diff", package, package],
        "pull": ["pull", package, content, "-o", tmp_path / "deck.apkg"],
    }
    assert "damaged collection" in one_error(run_cli(runs[command]))


def test_a_note_with_a_million_fields_is_refused(tmp_path: Path) -> None:
    """A note of our note type with 10^6 fields (its flds string) is damage: one line, and
    the fields are counted, never split into a million strings."""
    from exporter.render.notetype import FIELDS, MODEL_ID, MODEL_NAME

    model = {"id": MODEL_ID, "name": MODEL_NAME, "flds": [{"name": f} for f in FIELDS]}
    models = json.dumps({str(MODEL_ID): {**model, "tmpls": []}})
    package = legacy_package(
        tmp_path,
        "wide",
        NOTES_TABLE,
        f"insert into notes values (1, 'g', {MODEL_ID}, 1, '', '{chr(31) * 999_999}')",
        "delete from col",
        f"insert into col values ('{{}}', '{models}')",
    )
    content = make_bank(tmp_path / "c").parent
    message = one_error(run_cli(["pull", package, content, "-o", tmp_path / "deck.apkg"]))
    assert "has 1,000,000 fields" in message


def _rezip(source: Path, target: Path) -> Path:
    """``source`` written again with zip64 records for every entry."""
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w") as out:
        for info in z.infolist():
            with z.open(info) as entry, out.open(info.filename, "w", force_zip64=True) as copy:
                copy.write(entry.read())
    return target


def test_zip64_and_data_descriptors_are_read_like_any_zip(tmp_path: Path) -> None:
    """A zip64 package, and one written with data descriptors (to a pipe), read as usual."""
    plain = run_cli(["inspect", SHIPPED]).stdout
    wide = _rezip(SHIPPED, tmp_path / "zip64.apkg")
    assert run_cli(["inspect", wide]).stdout == plain.replace(str(SHIPPED), str(wide))

    class Pipe:  # a stream that cannot seek back: zipfile writes data descriptors
        def __init__(self, path: Path) -> None:
            self.file = path.open("wb")
            self.pos = 0

        def write(self, data: bytes) -> int:
            self.pos += len(data)
            return self.file.write(data)

        def tell(self) -> int:
            return self.pos

        def flush(self) -> None:
            self.file.flush()

        def close(self) -> None:
            self.file.close()

    streamed = tmp_path / "streamed.apkg"
    pipe = Pipe(streamed)
    with zipfile.ZipFile(SHIPPED) as z, zipfile.ZipFile(pipe, "w") as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info))
    pipe.close()
    with zipfile.ZipFile(streamed) as check:
        assert all(info.flag_bits & 0x08 for info in check.infolist())
    assert run_cli(["inspect", streamed]).stdout == plain.replace(str(SHIPPED), str(streamed))


def test_duplicate_entries_are_refused(tmp_path: Path) -> None:
    """Two entries of one name (which would Anki read?): refused, one line."""
    package = tmp_path / "twice.apkg"
    data = zipfile.ZipFile(SHIPPED).read("collection.anki2")
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("collection.anki2", data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            z.writestr("collection.anki2", b"SQLite format 3\x00 another one")
    assert "two entries named 'collection.anki2'" in one_error(run_cli(["inspect", package]))


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    """Two entries whose data overlap (how zip bombs multiply their size): refused."""
    package = tmp_path / "overlap.apkg"
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("collection.anki2", zipfile.ZipFile(SHIPPED).read("collection.anki2"))
        z.writestr("media", b"{}")
    data = bytearray(package.read_bytes())
    central = data.rfind(b"PK\x01\x02")  # the second entry's central header
    data[central + 42 : central + 46] = (0).to_bytes(4, "little")  # points into the first
    package.write_bytes(bytes(data))
    assert "overlap" in one_error(run_cli(["inspect", package]))


@pytest.mark.parametrize("legacy", [False, True], ids=["anki21b", "anki21"])
def test_a_bad_crc_is_refused(tmp_path: Path, anki: Anki, legacy: bool) -> None:
    """A collection whose bytes do not match the zip's CRC (zstd-compressed too, where
    the decoder stops before the end of the entry) is damage, not data."""
    anki.import_package(SHIPPED)
    exported = export(anki, tmp_path / "x.apkg", legacy=legacy)
    name = "collection.anki21" + ("" if legacy else "b")
    data = bytearray(exported.read_bytes())
    with zipfile.ZipFile(exported) as z:
        local = z.getinfo(name).header_offset
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    for crc in (local + 14, central + 16):  # the CRC in the local and the central header
        data[crc : crc + 4] = bytes(b ^ 0xFF for b in data[crc : crc + 4])
    bad = tmp_path / "bad-crc.apkg"
    bad.write_bytes(bytes(data))
    assert "CRC" in one_error(run_cli(["inspect", bad]))


def test_the_newest_collection_is_read_as_anki_reads_it(tmp_path: Path, anki: Anki) -> None:
    """An export holds collection.anki21b and a legacy collection.anki2 that disagree (Anki
    puts a stub there for old versions): the anki21b is read, as Anki itself does."""
    anki.import_package(SHIPPED)
    exported = export(anki, tmp_path / "x.apkg")
    with zipfile.ZipFile(exported) as z:
        assert {"collection.anki21b", "collection.anki2"} <= set(z.namelist())
    result = run_cli(["inspect", exported])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"{exported}: {bank_counts().notes} notes"


def test_a_signal_stops_a_long_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C or SIGTERM while a query runs (the endless view let through here, the budget
    out of reach) stops it as an interrupt: 'Aborted!', never a report of damage."""
    import signal

    import exporter.reading.packagefile as packagefile

    monkeypatch.setattr(packagefile, "_tables_only", lambda conn: None)
    monkeypatch.setattr(packagefile, "STEPS_MIN", 10**18)
    package = legacy_package(tmp_path, "endless", ENDLESS_NOTES)

    class SignalledMidQuery(list[bool]):
        """The budget's flag, which its check sets every few thousand steps: after a
        thousand checks (only the endless query runs that long) a signal is sent, from
        inside the real check, whatever the machine's speed; no timer."""

        checks = 0

        def __setitem__(self, index: Any, value: Any) -> None:
            super().__setitem__(index, value)
            self.checks += 1
            if self.checks == 1000:
                signal.raise_signal(signal.SIGALRM)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # what the CLI's SIGTERM handler raises

    monkeypatch.setattr(packagefile, "_over_budget", SignalledMidQuery([False]))
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        result = run_cli(["inspect", package])
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert "Aborted!" in result.stderr
    assert "damaged" not in result.stderr


BIDI = "\u202e\u2066\u200f"  # what an answer may hold (a card can), and a terminal obeys


def hostile_copy(tmp_path: Path, *, names: bool = True) -> Path:
    """The shipped package with terminal control sequences in every name it holds: its deck,
    note type and template names, a tag, one note's ID, another's guid (its ID emptied),
    and a media file's name; and bidi controls in an answer (only that: ``names=False``)."""
    folder = tmp_path / f"hostile-{names}"
    folder.mkdir()
    db = folder / "collection.anki2"
    db.write_bytes(zipfile.ZipFile(SHIPPED).read("collection.anki2"))
    con = sqlite3.connect(db)
    ids = [row[0] for row in con.execute("select id from notes order by id")]
    flds = {i: f.split("\x1f") for i, f in con.execute("select id, flds from notes")}
    flds[ids[1]][1] = f"<p>Answer{BIDI}</p>"
    for nid, values in flds.items():
        con.execute("update notes set flds = ? where id = ?", ("\x1f".join(values), nid))
    if names:
        _hostile_names(con, ids)
    con.commit()
    con.close()
    package = tmp_path / f"hostile-{names}.apkg"
    with zipfile.ZipFile(package, "w") as z:
        z.write(db, "collection.anki2")
        z.writestr("media", json.dumps({"0": f"m{TERMINAL_CONTROLS}.png"} if names else {}))
        z.writestr("0", b"\x89PNG\r\n\x1a\n")
    return package


def _hostile_names(con: sqlite3.Connection, ids: list[int]) -> None:
    evil = TERMINAL_CONTROLS
    decks_json, models_json = con.execute("select decks, models from col").fetchone()
    decks = json.loads(decks_json)
    for deck in decks.values():
        deck["name"] = deck["name"].replace("Interview Questions", f"Interview{evil}Questions")
    models = json.loads(models_json)
    for model in models.values():
        model["name"] += evil
        for template in model["tmpls"]:
            template["name"] += evil
    con.execute("update col set decks = ?, models = ?", (json.dumps(decks), json.dumps(models)))
    flds = {i: f.split("\x1f") for i, f in con.execute("select id, flds from notes")}
    flds[ids[0]][4] = f"x{evil}"
    flds[ids[2]][4] = ""
    for nid, values in flds.items():
        con.execute("update notes set flds = ? where id = ?", ("\x1f".join(values), nid))
    tag = "t" + "".join(evil.split())
    con.execute("update notes set tags = tags || ? where id = ?", (f"{tag} ", ids[0]))
    con.execute("update notes set guid = ? where id = ?", (f"g{evil}", ids[2]))


def genanki_hostile(tmp_path: Path) -> Path:
    """A package made by plain genanki whose deck, note type, field, template, tag and media
    names all carry terminal control sequences."""
    import genanki

    evil = TERMINAL_CONTROLS
    model = genanki.Model(
        1234,
        f"Model{evil}",
        fields=[{"name": f"Front{evil}"}, {"name": "Back"}],
        templates=[{"name": f"Card{evil}", "qfmt": "{{Front" + evil + "}}", "afmt": "{{Back}}"}],
    )
    deck = genanki.Deck(5678, f"Deck{evil}")
    deck.add_note(genanki.Note(model=model, fields=["q", "a"], tags=["t" + "".join(evil.split())]))
    media = tmp_path / f"img{''.join(evil.split())}.png"
    media.write_bytes(b"\x89PNG\r\n\x1a\n")
    package = genanki.Package(deck)
    package.media_files = [str(media)]
    path = tmp_path / "genanki-hostile.apkg"
    package.write_to_file(str(path), timestamp=1)
    return path


@pytest.mark.parametrize("maker", [hostile_copy, genanki_hostile], ids=["ours", "genanki"])
def test_inspect_shows_a_packages_names_escaped(tmp_path: Path, maker: Any) -> None:
    """`inspect` of a package with control sequences in its deck, note type, field,
    template, tag and media names: each is shown escaped, none reaches the terminal."""
    result = run_cli(["inspect", maker(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert_terminal_safe(result.stdout_bytes, result.stderr_bytes)
    assert "\\x1b]0;owned\\x07" in result.stdout
    assert "\\u202e" in result.stdout
    (tmp_path / "process").mkdir()
    done = run_exporter("inspect", maker(tmp_path / "process"))  # the real streams
    assert done.returncode == 0, done.stderr
    assert_terminal_safe(done.stdout, done.stderr)


def test_diff_shows_a_packages_names_escaped(tmp_path: Path) -> None:
    """`diff` against such a package: its deck names, IDs, guids and tags escaped in text;
    in JSON, kept whole in JSON's own escapes (the JSON reads back to the names)."""
    hostile = hostile_copy(tmp_path)
    text = run_cli(["diff", SHIPPED, hostile])
    assert text.exit_code == 0, text.stderr
    assert_terminal_safe(text.stdout_bytes, text.stderr_bytes)
    assert "\\x9b31m" in text.stdout
    as_json = run_cli(["diff", SHIPPED, hostile, "--json"])
    assert_terminal_safe(as_json.stdout_bytes, as_json.stderr_bytes)
    found = json.loads(as_json.stdout)
    assert {m["to"] for m in found["moved"]} == {
        f"Interview{TERMINAL_CONTROLS}Questions::MLOps Engineer"
    }
    assert f"x{TERMINAL_CONTROLS}".strip() in {a["id"] for a in found["added"]}


def test_pull_shows_a_packages_names_escaped(tmp_path: Path) -> None:
    """`pull` of such a package: the refused ID in its one-line problem, and an answer's
    bidi controls in the YAML diff, are escaped on the terminal."""
    content = copy_content(tmp_path)
    refused = run_cli(["pull", hostile_copy(tmp_path), content, "-o", tmp_path / "deck.apkg"])
    assert refused.exit_code == 1, refused.stderr
    assert_terminal_safe(refused.stdout_bytes, refused.stderr_bytes)
    assert "its ID 'x\\x1b]0;owned\\x07" in refused.stderr
    package = hostile_copy(tmp_path, names=False)
    shown = run_cli(["pull", package, content, "-o", tmp_path / "deck.apkg", "--prefer", "anki"])
    assert shown.exit_code == 1, shown.stderr
    assert_terminal_safe(shown.stdout_bytes, shown.stderr_bytes)
    assert "Answer\\u202e\\u2066\\u200f" in shown.stdout


@pytest.mark.parametrize(
    ("field", "text"),
    [("<" * 200_000, "<" * 200_000), ("<a" * 100_000 + ">", ""), ("x<code" * 40_000, None)],
    ids=["lone-openers", "one-long-tag", "code-openers"],
)
def test_a_field_of_many_tag_openers_is_read_in_linear_work(field: str, text: str | None) -> None:
    """How pull, push and diff read a note's ID and name a note (tags dropped, entities
    decoded): a field of many '<' with no '>' after them is read in linear work, well
    inside a generous hang guard (a regex rescanned to the end from each), tags dropped as
    before."""
    from exporter.reading.exports import ExportedNote

    note = ExportedNote(1, "g", 0, {"ID": field, "Question": field}, (), "d")
    with hang_guard(60):
        qid, label = note.question_id, note.label
    assert qid == (field if text is None else text)
    assert label.startswith("note 1")


def _our_note(nid: str = "1", mid: str = "", mod: str = "1") -> list[str]:
    """Statements adding one note of our note type (id, note type and mod as SQL literals)."""
    from exporter.render.notetype import FIELDS, MODEL_ID, MODEL_NAME

    model = {"id": MODEL_ID, "name": MODEL_NAME, "flds": [{"name": f} for f in FIELDS]}
    models = json.dumps({str(MODEL_ID): {**model, "tmpls": []}})
    separators = chr(31) * (len(FIELDS) - 1)
    return [
        NOTES_TABLE,
        f"insert into notes values ({nid}, 'g', {mid or MODEL_ID}, {mod}, '', '{separators}')",
        "delete from col",
        f"insert into col values ('{{}}', '{models}')",
    ]


HUGE_NUMBERS = {
    "deck id infinite": [
        NOTES_TABLE,
        "delete from col",
        """insert into col values ('{"1": {"id": 1e999, "name": "x"}}', '{}')""",
    ],
    "deck id of 5,000 digits": [
        NOTES_TABLE,
        "delete from col",
        f"""insert into col values ('{{"1": {{"id": "{"9" * 5000}", "name": "x"}}}}', '{{}}')""",
    ],
    "card deck infinite": [NOTES_TABLE, "insert into cards values (1, 1, 9e999, 0)"],
    "note mod infinite": _our_note(mod="9e999"),
    "note id infinite": _our_note(nid="9e999"),
    "note type of 5,000 digits": _our_note(mid=f"'{'9' * 5000}'"),
}


@pytest.mark.parametrize("command", ["inspect", "diff", "pull"])
@pytest.mark.parametrize("case", list(HUGE_NUMBERS))
def test_numbers_no_integer_can_hold_are_damage(tmp_path: Path, case: str, command: str) -> None:
    """An id, deck or mod that is infinite or has thousands of digits (SQLite keeps an
    integer too big for 64 bits as a float): one line naming the package, exit 1."""
    package = legacy_package(tmp_path, "huge", *HUGE_NUMBERS[case])
    content = make_bank(tmp_path / "c").parent
    runs: dict[str, list[str | Path]] = {
        "inspect": ["inspect", package],
        "diff": ["diff", package, package],
        "pull": ["pull", package, content, "-o", tmp_path / "deck.apkg"],
    }
    message = one_error(run_cli(runs[command]))
    assert message.startswith(f"error: {package}: not an Anki ")
    assert "set_int_max_str_digits" not in message
