"""A build that reuses the last one's files (exporter.state.filecache) writes exactly what a
build from scratch writes, and really does reuse them: after one edit only that file is
parsed and rendered; the cache can be damaged, edited or shared without changing a card."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exporter.content.load
import exporter.markup.markdown
import exporter.render.notetype
import exporter.state.filecache
import exporter.state.record
import exporter.state.units
from exporter.content.model import Question
from exporter.state.filecache import FOLDER, cache_root
from helpers import (
    EPOCH,
    build_deck,
    clear_lexer_caches,
    examples,
    install_plugin_lexer,
    make_bank,
    question,
    write,
)

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
        "c.yaml": ("Gamma", [question("c0", answer="Drawn: ![d](d.svg)\n\n```sql\nselect 1\n```")]),
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
            questions[i] = questions[i]._replace(answer=op[3])
        elif kind == "text":
            questions[i] = questions[i]._replace(question=op[3])
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
    max_examples=examples(25),
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
    real_load, real_render = exporter.content.load.load_raw, exporter.markup.markdown.to_html

    def load(*args: Any) -> Any:
        counts["parsed"] += 1
        return real_load(*args)

    def render(*args: Any) -> str:
        counts["rendered"] += 1
        return real_render(*args)

    monkeypatch.setattr(exporter.state.units, "load_raw", load)
    monkeypatch.setattr("exporter.render.notes.to_html", render)
    return counts


def test_one_edited_answer_parses_and_renders_only_its_file(
    tmp_path: Path, counted: dict[str, int]
) -> None:
    """Editing one answer parses and renders that answer's file alone: every other file and
    its notes come from the cache. An image edited since is read anew, and only the note
    showing it is rendered again (its fingerprint names the image's bytes)."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    assert counted == {"parsed": 3, "rendered": 16}  # 8 notes, 2 fields each
    assert len(entries()) == 3
    edit(bank, ("answer", 0, 1, "new words\n\n```python\nx = 2\n```"))  # a.yaml, 4 notes
    counted.update(dict.fromkeys(counted, 0))
    build_deck(bank.folder, output=out, epoch=EPOCH + 60)
    assert counted == {"parsed": 1, "rendered": 8}
    edit(bank, ("image", 5))  # the image's bytes: its note (c0) is rendered again
    counted.update(dict.fromkeys(counted, 0))
    build_deck(bank.folder, output=out, epoch=EPOCH + 120)
    assert counted == {"parsed": 0, "rendered": 2}
    counted.update(dict.fromkeys(counted, 0))
    build_deck(bank.folder, output=tmp_path / "other" / "deck.apkg", epoch=EPOCH + 180)
    assert counted == {"parsed": 0, "rendered": 0}  # any output: entries are by file


def test_no_cache_reuses_nothing(tmp_path: Path, counted: dict[str, int]) -> None:
    """--no-cache builds from scratch: every file parsed and every field rendered again, and
    the package comes out unchanged."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    counted.update(dict.fromkeys(counted, 0))
    build_deck(bank.folder, output=out, fresh=True, expect="unchanged")
    assert counted == {"parsed": 3, "rendered": 16}


def entries() -> list[Path]:
    """The cache's entries, one per content file."""
    return sorted((Path(os.environ["INTERVIEW_DECK_CACHE"]) / FOLDER).glob("file-*.json"))


def entry_of(out: Path) -> Path:
    """The entry of the file with the most notes (a.yaml)."""
    return max(entries(), key=lambda p: len(json.loads(p.read_bytes().split(b"\n", 1)[1])["notes"]))


def rebuilt(bank: Bank, out: Path) -> dict[str, bytes]:
    for path in out.parent.iterdir():
        if path.is_file():
            path.unlink()
    build_deck(bank.folder, output=out)
    return outputs(out.parent)


def test_damaged_edited_or_huge_entries_are_misses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted: dict[str, int]
) -> None:
    """An entry cut short, edited by hand (a script put in a field), of another format or
    shape (a note with a field too few, of a kind there is not), or over the size cap is
    not used: the build renders every note and writes what a build without the cache
    writes."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    expected = outputs(out.parent)
    entry = entry_of(out)
    good = entry.read_bytes()
    digest, body = good.split(b"\n", 1)
    data = json.loads(body)
    poisoned = {
        k: [c, m, f, ["<script>alert(1)</script>", *fields[1:]]]
        for k, (c, m, f, fields) in data["notes"].items()
    }
    note = next(iter(data["notes"].values()))
    damage = [
        good[: len(good) // 2],
        b"{not json",
        digest + b"\n" + json.dumps({**data, "notes": poisoned}).encode(),  # edited
        digest + b"\n" + body.replace(b"<p>", b"<p onclick=x>"),
        b"0" * 64 + b"\n" + body,
    ]
    shapes = [
        {**data, "format": 999},
        {**data, "notes": 5},
        {**data, "notes": {"x": 1}},
        {**data, "notes": {"a0": [note[0], note[1], note[2], [1, 2]]}},
        {
            **data,
            "notes": {k: [c, m, f, fields[:-1]] for k, (c, m, f, fields) in data["notes"].items()},
        },
        {**data, "notes": {f"{k}::x": v for k, v in data["notes"].items()}},
        {**data, "file": [1, 2, 3, 4, 5]},
        {**data, "file": [*data["file"][:4], [["a0", "impossible", *range(10)]]]},
        {**data, "warnings": [["a.yaml", "one", "x", "y"]]},
        [data],
    ]
    for shape in shapes:
        shaped = json.dumps(shape).encode()
        damage.append(hashlib.sha256(shaped).hexdigest().encode() + b"\n" + shaped)
    for bad in damage:
        entry.write_bytes(bad)
        counted.update(dict.fromkeys(counted, 0))
        assert rebuilt(bank, out) == expected
        assert counted == {"parsed": 1, "rendered": 8}, bad[:80]
    entry.write_bytes(good)
    monkeypatch.setattr(exporter.state.filecache, "MAX_ENTRY_BYTES", len(good) - 1)
    counted.update(dict.fromkeys(counted, 0))
    assert rebuilt(bank, out) == expected
    assert counted == {"parsed": 1, "rendered": 8}


def test_entries_live_in_the_tools_own_folder_of_the_users_cache(tmp_path: Path) -> None:
    """The entries are under the user's cache root, in the tool's own 0700 folder with a
    CACHEDIR.TAG, never beside the package (a checkout must not hand a build card HTML)."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    folder = Path(os.environ["INTERVIEW_DECK_CACHE"]) / FOLDER
    assert entry_of(out).parent == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry_of(out).stat().st_mode) == 0o600
    assert (folder / "CACHEDIR.TAG").read_bytes().startswith(b"Signature: 8a477f597d28d172")
    assert not any(p.name.startswith("file-") for p in tmp_path.rglob("*.json"))


def test_a_check_writes_nothing_in_the_users_cache(tmp_path: Path) -> None:
    """`build --check` writes nothing (docs/commands.md): not the tool's folder in the
    user's cache, not an entry, whether the folder is there yet or not."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    root = Path(os.environ["INTERVIEW_DECK_CACHE"]) / "fresh"
    with contextlib.ExitStack() as stack:
        stack.callback(os.environ.__setitem__, "INTERVIEW_DECK_CACHE", str(root.parent))
        os.environ["INTERVIEW_DECK_CACHE"] = str(root)
        build_deck(bank.folder, output=out, check=True, expect="stale")
        assert not root.exists()
        build_deck(bank.folder, output=out, fresh=True)
        build_deck(bank.folder, output=out, check=True, expect="current")
        assert not root.exists()
        root.mkdir()
        build_deck(bank.folder, output=out, check=True, expect="current")
        assert list(root.iterdir()) == []


def test_a_cache_root_shared_with_other_data_is_left_alone(tmp_path: Path) -> None:
    """With the cache root set to a folder of other data, a build touches nothing there but
    its own folder: not a folder named like an old work folder, not its files, modes or
    times, however old."""
    bank = start(tmp_path / "content")
    root = Path(os.environ["INTERVIEW_DECK_CACHE"])
    other = root / ("c" * 32)
    other.mkdir(mode=0o755)
    (other / ("e" * 40 + ".json")).write_text("{}")
    (other / ".settings.123.tmp").write_text("another program's file")
    (root / "file-notes.json").write_text("the user's own file")
    month = time.time() - 31 * 86_400
    for path in (*other.iterdir(), other, root / "file-notes.json"):
        os.utime(path, (month, month))
    before = {p: (p.stat().st_mode, p.stat().st_mtime) for p in root.rglob("*")}
    build_deck(bank.folder, output=tmp_path / "out" / "deck.apkg")
    after = {p: (p.stat().st_mode, p.stat().st_mtime) for p in before}
    assert after == before
    assert sorted(p.name for p in root.iterdir()) == sorted([other.name, FOLDER, "file-notes.json"])


def test_an_unwritable_cache_only_costs_speed(tmp_path: Path) -> None:
    """A cache folder that cannot be made only costs the shortcut: the build writes the
    same package as a build from scratch."""
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


def test_only_our_stale_files_are_removed(tmp_path: Path) -> None:
    """In the tool's folder, entries not written for 30 days and what killed builds staged
    (``files.sweep_staged``: the writer's pid gone) go; fresh entries, a live writer's temp
    file and anything not named as ours stay, however old."""
    bank = start(tmp_path / "content")
    folder = Path(os.environ["INTERVIEW_DECK_CACHE"]) / FOLDER
    build_deck(bank.folder, output=tmp_path / "first" / "deck.apkg")
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    stale, recent = folder / "file-stale.json", folder / "file-recent.json"
    dead_tmp = folder / f".file-x.json.{dead_pid.pid}.k1.tmp"
    live_tmp = folder / f".file-y.json.{os.getpid()}.k2.tmp"
    foreign = folder / "notes.txt"
    for path in (stale, recent, dead_tmp, live_tmp, foreign):
        path.write_text("")
    month = time.time() - 31 * 86_400
    for path in (stale, foreign, live_tmp):
        os.utime(path, (month, month))
    build_deck(bank.folder, output=tmp_path / "out" / "deck.apkg")
    assert not stale.exists()
    assert not dead_tmp.exists()
    assert all(p.exists() for p in (recent, live_tmp, foreign))


def fields_of(package: Path) -> str:
    import sqlite3
    import zipfile

    db = package.with_suffix(".anki2")
    db.write_bytes(zipfile.ZipFile(package).read("collection.anki2"))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return "\n".join(row[0] for row in conn.execute("SELECT flds FROM notes"))


def poison(entry: Path) -> None:
    """The entry with a script in every Answer, its digest made to match."""
    data = json.loads(entry.read_bytes().split(b"\n", 1)[1])
    data["notes"] = {
        k: [c, m, f, [fields[0], "<img src=x onerror=alert(1)>", *fields[2:]]]
        for k, (c, m, f, fields) in data["notes"].items()
    }
    body = json.dumps(data).encode()
    entry.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership and modes")
@pytest.mark.parametrize("how", ["writable by others", "a link"])
def test_a_cache_folder_not_ours_alone_is_not_used(tmp_path: Path, how: str) -> None:
    """A cache folder others can write to, or a link in its place, is never read: another
    user sharing the cache root cannot put HTML into our cards."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    folder = Path(os.environ["INTERVIEW_DECK_CACHE"]) / FOLDER
    poison(entry_of(out))
    if how == "a link":
        elsewhere = tmp_path / "elsewhere"
        folder.rename(elsewhere)
        folder.symlink_to(elsewhere, target_is_directory=True)
    else:
        folder.chmod(0o777)
    edit(bank, ("answer", 2, 0, "c changed"))
    build_deck(bank.folder, output=out, epoch=EPOCH + 60)
    assert "onerror" not in fields_of(out)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership and modes")
@pytest.mark.parametrize("how", ["no tag", "a tag that is a link", "a tag of other words"])
def test_a_files_folder_without_our_tag_is_not_used(tmp_path: Path, how: str) -> None:
    """A ``files`` folder (ours, 0700) without the CACHEDIR.TAG the tool writes when it
    makes the folder, as a regular file with its words, was not made by the tool: never
    read, nothing written into it."""
    bank = start(tmp_path / "content")
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    folder = Path(os.environ["INTERVIEW_DECK_CACHE"]) / FOLDER
    poison(entry_of(out))
    tag = folder / "CACHEDIR.TAG"
    words = tag.read_bytes()
    tag.unlink()
    if how == "a tag that is a link":
        tag.symlink_to(write(tmp_path / "tag", words.decode()))
    elif how == "a tag of other words":
        tag.write_bytes(b"Signature: 8a477f597d28d172789f06886806bc55\n# another program\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    edit(bank, ("answer", 2, 0, "c changed"))
    build_deck(bank.folder, output=out, epoch=EPOCH + 60)
    assert "onerror" not in fields_of(out)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_files_folder_made_by_someone_else_stays_empty(tmp_path: Path) -> None:
    """An empty ``files`` folder the tool did not make (no tag), or a dangling link in its
    place: the build works, writes nothing there nor where the link points."""
    bank = start(tmp_path / "content")
    root = Path(os.environ["INTERVIEW_DECK_CACHE"])
    (root / FOLDER).mkdir(mode=0o700)
    build_deck(bank.folder, output=tmp_path / "a" / "deck.apkg")
    assert list((root / FOLDER).iterdir()) == []
    (root / FOLDER).rmdir()
    (root / FOLDER).symlink_to(tmp_path / "elsewhere")
    build_deck(bank.folder, output=tmp_path / "b" / "deck.apkg")
    assert not (tmp_path / "elsewhere").exists()


def test_no_home_folder_is_no_cache() -> None:
    """Without a home folder (a container's made-up user) there is simply no cache."""

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    assert cache_root({}, no_home) is None
    assert cache_root({"XDG_CACHE_HOME": "/x"}, no_home) == Path("/x/interview-deck")
    assert cache_root({"INTERVIEW_DECK_CACHE": "/y"}, no_home) == Path("/y")


def test_after_a_code_change_no_old_entry_is_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program or library that renders differently (a new version, a Pygments plugin) is
    a new code digest: no field of the old code is used, even where the note fingerprints
    stay the same."""
    bank = start(tmp_path / "content")
    reused, scratch = tmp_path / "reused" / "deck.apkg", tmp_path / "scratch" / "deck.apkg"
    build_deck(bank.folder, output=reused)
    real_digest, real_render = exporter.state.record.code_digest, exporter.markup.markdown.to_html

    def render(text: str, media: Any = None) -> str:
        return real_render(text, media).replace("<p>", '<p class="new">')

    monkeypatch.setattr(exporter.state.record, "code_digest", lambda: real_digest() + "new")
    monkeypatch.setattr("exporter.render.notes.to_html", render)
    edit(bank, ("answer", 1, 0, "b changed"))
    scratch.parent.mkdir()
    shutil.copy(reused.with_suffix(".lock.json"), scratch.with_suffix(".lock.json"))
    build_deck(bank.folder, output=reused, epoch=EPOCH + 60)
    build_deck(bank.folder, output=scratch, epoch=EPOCH + 60, fresh=True)
    assert outputs(reused.parent) == outputs(scratch.parent)
    assert fields_of(reused).count('<p class="new">') >= 8


def test_a_plugin_lexer_the_code_digest_misses_still_writes_what_a_full_build_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin lexer the code digest does not see (an entry point added to a distribution
    already installed: the digest lists distributions, not entry points) changes the
    fingerprint of each note it renders, so no field of before is reused for it."""
    folder = tmp_path / "content"
    answers = {
        "nbsp": "Run:\n\n```\u00a0mylang\nfoo bar\n```",
        "http": "Reply:\n\n```http\nHTTP/1.1 200 OK\nContent-Type: text/x-mylang\n\nfoo bar\n```",
        "prose": "Plain words.",
    }
    questions = [question(qid, answer=answer) for qid, answer in answers.items()]
    make_bank(folder, questions)
    reused, scratch = tmp_path / "reused" / "deck.apkg", tmp_path / "scratch" / "deck.apkg"
    clear_lexer_caches()
    digest = exporter.state.record.code_digest()
    try:
        build_deck(folder, output=reused)
        install_plugin_lexer(tmp_path / "site", monkeypatch)
        monkeypatch.setattr(exporter.state.record, "code_digest", lambda: digest)
        make_bank(folder, [*questions, question("new")])  # the inputs change: a build runs
        scratch.parent.mkdir()
        shutil.copy(reused.with_suffix(".lock.json"), scratch.with_suffix(".lock.json"))
        build_deck(folder, output=reused, epoch=EPOCH + 60)
        build_deck(folder, output=scratch, epoch=EPOCH + 60, fresh=True)
    finally:
        monkeypatch.undo()
        clear_lexer_caches()
    assert outputs(reused.parent) == outputs(scratch.parent)
    assert fields_of(scratch).count('class="hl-k">foo</span>') == 2  # the plugin's work


def test_a_files_folder_without_our_tag_is_not_ours(tmp_path: Path) -> None:
    """A ``files`` folder already in the cache root without our CACHEDIR.TAG (another
    program's) is not used: nothing is read, written, tagged or removed there, even once
    it is empty (the tool makes its folder with the tag already inside, so an untagged one
    was never the tool's)."""
    bank = start(tmp_path / "content")
    folder = Path(os.environ["INTERVIEW_DECK_CACHE"]) / FOLDER
    folder.mkdir(mode=0o700, parents=True)
    theirs = folder / "file-notes.json"
    theirs.write_text("another program's file")
    month = time.time() - 31 * 86_400
    os.utime(theirs, (month, month))
    out = tmp_path / "out" / "deck.apkg"
    build_deck(bank.folder, output=out)
    assert sorted(p.name for p in folder.iterdir()) == ["file-notes.json"]
    assert theirs.stat().st_mtime == month
    theirs.unlink()
    build_deck(bank.folder, output=tmp_path / "again" / "deck.apkg")
    assert list(folder.iterdir()) == []
