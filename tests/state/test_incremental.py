"""A build that reuses the last one's work (exporter.state.workcache) writes exactly what a build
from scratch writes, and really does reuse it: one edited file is the only one parsed, and
only its notes are rendered."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exporter.content.load
import exporter.markup.markdown
import exporter.render.notetype
import exporter.state.record
from exporter.content.model import Question
from exporter.state.workcache import WorkCache, work_root
from helpers import EPOCH, build_deck, make_bank, question, write

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="{}"/></svg>'
TEXT = st.text(alphabet="ab c*_`<>&\"'\n-1.$\\[]#()!:", min_size=1, max_size=30).filter(
    lambda t: t.strip() != ""
)


@dataclass
class Bank:
    """The bank a test edits: role and questions per file name, and the image's bytes."""

    folder: Path
    files: dict[str, tuple[str, list[Question]]]
    image: str = SVG.format(1)

    def write(self) -> None:
        for path in self.folder.glob("*.yaml"):
            path.unlink()
        for name, (role, questions) in self.files.items():
            make_bank(self.folder, questions, role=role, filename=name)
        write(self.folder / "d.svg", self.image)


def start(folder: Path) -> Bank:
    rich = "Use `x < y` & *care*:\n\n- one\n- two\n\n$a^2$ and\n\n```python\nx = 1\n```"
    files = {
        "a.yaml": ("Alpha", [question(f"a{i}", answer=f"{rich} {i}") for i in range(4)]),
        "b.yaml": ("Beta", [question(f"b{i}", "hard", answer=f"b **{i}**") for i in range(3)]),
        "c.yaml": ("Gamma", [question("c0", answer="Drawn: ![d](d.svg)")]),
    }
    bank = Bank(folder, files)
    bank.write()
    return bank


def edit(bank: Bank, op: tuple[Any, ...]) -> list[str]:
    """Apply one edit to the bank; return the extra build options it asks for."""
    kind = op[0]
    names = sorted(bank.files)
    if kind in ("answer", "text", "remove", "role", "add"):
        name = names[op[1] % len(names)]
        questions = bank.files[name][1]
        i = op[2] % len(questions)
        if kind == "answer":
            questions[i] = replace(questions[i], answer=op[3])
        elif kind == "text":
            questions[i] = replace(questions[i], question=op[3])
        elif kind == "remove" and len(questions) > 1:
            del questions[i]
        elif kind == "role":
            bank.files[name] = (op[3], questions)
        elif kind == "add":
            questions.append(question(f"n{len(questions)}{name[0]}x{op[2]}", answer=op[3]))
    elif kind == "file":
        bank.files[f"z{op[1]}.yaml"] = ("Zeta", [question(f"z{op[1]}q", answer=op[2])])
    elif kind == "image":
        bank.image = SVG.format(op[1])
    bank.write()
    return list(op[1]) if kind == "options" else []


EDITS = st.one_of(
    st.tuples(st.sampled_from(["answer", "text"]), st.integers(0, 5), st.integers(0, 5), TEXT),
    st.tuples(st.just("remove"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("role"), st.integers(0, 5), st.integers(0, 5), st.sampled_from(["Ro", "Sy"])),
    st.tuples(st.just("add"), st.integers(0, 5), st.integers(0, 99), TEXT),
    st.tuples(st.just("file"), st.integers(0, 3), TEXT),
    st.tuples(st.just("image"), st.integers(2, 9)),
    st.tuples(st.just("css"), st.sampled_from(["", ".card { color: red }", ".x{}"])),
    st.tuples(
        st.just("options"),
        st.sampled_from(
            [(), ("--tts", "en_US"), ("--order", "difficulty"), ("--difficulty", "hard")]
        ),
    ),
)


@contextmanager
def css_added(extra: str) -> Iterator[None]:
    """The note type's style sheet with ``extra`` at its end: a change to the code, as the
    local record and the work cache see it."""
    real, real_digest = exporter.render.notetype._template, exporter.state.record.code_digest

    def patched(name: str) -> str:
        return real(name) + (extra if name == "style.css" else "")

    exporter.render.notetype._template = patched  # type: ignore[assignment]
    exporter.state.record.code_digest = lambda: real_digest() + extra  # type: ignore[assignment]
    try:
        yield
    finally:
        exporter.render.notetype._template = real
        exporter.state.record.code_digest = real_digest


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(edits=st.lists(EDITS, min_size=1, max_size=4))
def test_reused_work_writes_what_a_full_build_writes(edits: list[tuple[Any, ...]]) -> None:
    """After each random edit (text, questions, files, decks, an image, the note type's CSS,
    build options), the build that reuses work writes the bytes a build from scratch writes
    from the same history; a failed build fails the same way."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bank = start(root / "content")
        reused, scratch = root / "reused" / "deck.apkg", root / "scratch" / "deck.apkg"
        scratch.parent.mkdir(parents=True)
        build_deck(bank.folder, output=reused, expect="written")
        css = ""
        for step, op in enumerate(edits, start=1):
            extra = edit(bank, op)
            css = op[1] if op[0] == "css" else css
            shutil.copy(reused.with_suffix(".lock.json"), scratch.with_suffix(".lock.json"))
            scratch.unlink(missing_ok=True)
            with css_added(css):
                epoch = EPOCH + 60 * step
                a = build_deck(bank.folder, output=reused, epoch=epoch, extra=extra, expect=None)
                b = build_deck(
                    bank.folder, output=scratch, epoch=epoch, extra=extra, fresh=True, expect=None
                )
            assert (a.exit_code, a.stderr.replace(str(reused), "OUT")) == (
                b.exit_code,
                b.stderr.replace(str(scratch), "OUT"),
            )
            if a.exit_code == 0:
                assert outputs(reused.parent) == outputs(scratch.parent), op


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts of files parsed and texts rendered by the builds of a test."""
    counts = {"parsed": 0, "rendered": 0}
    real_load, real_render = exporter.content.load._load_file, exporter.markup.markdown.to_html

    def load(*args: Any) -> Any:
        counts["parsed"] += 1
        return real_load(*args)

    def render(*args: Any) -> str:
        counts["rendered"] += 1
        return real_render(*args)

    monkeypatch.setattr(exporter.content.load, "_load_file", load)
    monkeypatch.setattr("exporter.render.notes.to_html", render)
    return counts


def test_one_edited_file_is_the_only_one_parsed_and_rendered(
    tmp_path: Path, counted: dict[str, int]
) -> None:
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    assert counted == {"parsed": 3, "rendered": 16}  # 8 notes, 2 fields each
    edit(bank, ("answer", 1, 0, "new words"))  # b.yaml
    counts = dict.fromkeys(counted, 0)
    counted.update(counts)
    build_deck(bank.folder, output=out, epoch=EPOCH + 60)
    # b.yaml again, and c.yaml, whose image could have changed without its YAML; only the
    # edited note and c.yaml's are rendered again (two fields each)
    assert counted == {"parsed": 2, "rendered": 2 + 2}


def test_no_cache_reuses_nothing(tmp_path: Path, counted: dict[str, int]) -> None:
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    counted.update(dict.fromkeys(counted, 0))
    build_deck(bank.folder, output=out, fresh=True, expect="unchanged")
    assert counted == {"parsed": 3, "rendered": 16}


def test_damaged_entries_are_misses(tmp_path: Path) -> None:
    """Entries that are not JSON, of another format, or of the wrong shape are ignored,
    and the build writes what it would without them."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    expected = outputs(out.parent)
    folder = WorkCache.for_output(Path(os.environ["INTERVIEW_DECK_CACHE"]), out, "").folder
    entries = sorted(folder.glob("*.json"))
    assert len(entries) == 2  # a.yaml and b.yaml: c.yaml shows an image
    good = json.loads(entries[0].read_text("utf-8"))
    damage = [
        b"{not json",
        json.dumps({"format": 999}).encode(),
        json.dumps({**good, "questions": 5}).encode(),  # the right key, the wrong shape
        json.dumps({**good, "questions": [good["questions"][0][:5]]}).encode(),
        json.dumps({**good, "key": "other", "questions": [[1]]}).encode(),  # an old entry
    ]
    for bad in damage:
        entries[0].write_bytes(bad)
        for path in out.parent.iterdir():
            if path.is_file():
                path.unlink()
        build_deck(bank.folder, output=out)
        assert outputs(out.parent) == expected


def test_work_is_kept_in_the_users_cache_and_pruned(tmp_path: Path) -> None:
    """Entries live under the user's cache folder, never beside the package (a checkout must
    not be able to hand a build HTML for its cards); entries of files gone are removed."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    folder = WorkCache.for_output(Path(os.environ["INTERVIEW_DECK_CACHE"]), out, "").folder
    assert folder.is_relative_to(os.environ["INTERVIEW_DECK_CACHE"])
    assert not any(p.suffix == ".json" and len(p.stem) == 40 for p in tmp_path.rglob("*"))
    assert len(list(folder.glob("*.json"))) == 2
    del bank.files["a.yaml"]
    bank.write()
    build_deck(bank.folder, output=out, epoch=EPOCH + 60)
    assert len(list(folder.glob("*.json"))) == 1


def test_an_unwritable_cache_only_costs_speed(tmp_path: Path) -> None:
    bank = start(tmp_path / "content")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would go")
    env_before = os.environ["INTERVIEW_DECK_CACHE"]
    os.environ["INTERVIEW_DECK_CACHE"] = str(blocked / "sub")
    try:
        a = build_deck(bank.folder, output=tmp_path / "a" / "deck.apkg")
    finally:
        os.environ["INTERVIEW_DECK_CACHE"] = env_before
    b = build_deck(bank.folder, output=tmp_path / "b" / "deck.apkg", fresh=True)
    assert a.output.read_bytes() == b.output.read_bytes()


def test_stale_work_is_removed(tmp_path: Path) -> None:
    """Temp files of killed builds go after an hour, and the folders of outputs not built
    for 30 days go with their entries; anything not ours is left alone."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    root = Path(os.environ["INTERVIEW_DECK_CACHE"])
    folder = WorkCache.for_output(root, out, "").folder
    entry = "e" * 40 + ".json"
    old, fresh_tmp = folder / f".{'1' * 40}.123.tmp", folder / f".{'2' * 40}.456.tmp"
    stale, recent, shared = root / ("a" * 32), root / ("b" * 32), root / ("c" * 32)
    for path in (stale, recent, shared):
        path.mkdir(parents=True, exist_ok=True)
        (path / entry).write_text("{}")
    (shared / "settings.json").write_text("another program's file")
    folder.mkdir(parents=True, exist_ok=True)
    old.write_text("")
    fresh_tmp.write_text("")
    month = time.time() - 31 * 86_400
    for path in (old, stale, shared):
        os.utime(path, (month, month))
    build_deck(bank.folder, output=out)
    assert not old.exists()
    assert fresh_tmp.exists()
    assert not stale.exists()
    assert (recent / entry).exists()
    assert not (shared / entry).exists()
    assert (shared / "settings.json").read_text() == "another program's file"
    assert folder.exists()


def poisoned(folder: Path) -> None:
    """Every entry in ``folder`` with a script in each note's Answer field."""
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        for row in data["questions"]:
            row[10] = "<img src=x onerror=alert(1)>"
        path.write_text(json.dumps(data), "utf-8")


def fields_of(package: Path) -> str:
    import sqlite3
    import zipfile

    db = package.with_suffix(".anki2")
    db.write_bytes(zipfile.ZipFile(package).read("collection.anki2"))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return "\n".join(row[0] for row in conn.execute("SELECT flds FROM notes"))


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership and modes")
@pytest.mark.parametrize("how", ["writable by others", "a link"])
def test_a_work_folder_not_ours_alone_is_not_used(tmp_path: Path, how: str) -> None:
    """A work folder others can write to, or a link in its place, is never read: another
    user sharing the cache root cannot put HTML into our cards."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    folder = WorkCache.for_output(Path(os.environ["INTERVIEW_DECK_CACHE"]), out, "").folder
    if how == "a link":
        elsewhere = tmp_path / "elsewhere"
        folder.rename(elsewhere)
        folder.symlink_to(elsewhere, target_is_directory=True)
        poisoned(elsewhere)
    else:
        poisoned(folder)
        folder.chmod(0o777)
    edit(bank, ("answer", 2, 0, "c changed"))  # c.yaml: a.yaml and b.yaml are unchanged
    build_deck(bank.folder, output=out, epoch=EPOCH + 60)
    assert "onerror" not in fields_of(out)


def test_no_home_folder_is_no_cache() -> None:
    """Without a home folder (a container's made-up user) there is simply no work cache."""

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    assert work_root({}, no_home) is None
    assert work_root({"XDG_CACHE_HOME": "/x"}, no_home) == Path("/x/interview-deck/work")
    assert work_root({"INTERVIEW_DECK_CACHE": "/y"}, no_home) == Path("/y")


def test_after_a_code_change_no_old_field_is_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program or library that renders differently (a new version, a Pygments plugin) is
    a new code digest: no entry of the old code is used, not even for its fields, even
    where the note fingerprints stay the same."""
    bank = start(tmp_path / "content")
    reused, scratch = tmp_path / "reused" / "deck.apkg", tmp_path / "scratch" / "deck.apkg"
    build_deck(bank.folder, output=reused)
    real_digest, real_render = exporter.state.record.code_digest, exporter.markup.markdown.to_html

    def render(text: str, media: Any = None) -> str:
        return real_render(text, media).replace("<p>", '<p class="new">')

    monkeypatch.setattr(exporter.state.record, "code_digest", lambda: real_digest() + "new")
    monkeypatch.setattr("exporter.render.notes.to_html", render)
    edit(bank, ("answer", 1, 0, "b changed"))  # b.yaml changed: its old entry is a miss
    scratch.parent.mkdir()
    shutil.copy(reused.with_suffix(".lock.json"), scratch.with_suffix(".lock.json"))
    build_deck(bank.folder, output=reused, epoch=EPOCH + 60)
    build_deck(bank.folder, output=scratch, epoch=EPOCH + 60, fresh=True)
    assert outputs(reused.parent) == outputs(scratch.parent)
    assert fields_of(reused).count('<p class="new">') >= 8


def test_a_build_skipped_as_up_to_date_keeps_its_work_folder_fresh(tmp_path: Path) -> None:
    """An output rebuilt only as "up to date" for a month is still in use: its work folder
    is marked used, so another output's build does not prune it."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    folder = WorkCache.for_output(Path(os.environ["INTERVIEW_DECK_CACHE"]), out, "").folder
    month = time.time() - 31 * 86_400
    os.utime(folder, (month, month))
    build_deck(bank.folder, output=out, expect="up-to-date")
    assert folder.stat().st_mtime > time.time() - 3600
