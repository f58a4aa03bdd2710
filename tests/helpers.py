"""Helpers the tests share: run a build (in-process or as a child process), write banks,
and import packages into a real Anki collection. Tests import them from here; the
fixtures that wrap them live in ``conftest.py``.

One way to build: ``build_deck`` (and the ``build`` fixture, which picks the output path)
returns a ``BuildResult`` whose ``status`` says what the build did, and asserts it was the
expected one, so a test about a full build fails if the local record skipped it.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from exporter.authoring.yamlwrite import dump_role_file
from exporter.cli.commands import DEFAULT_OUTPUT, cli
from exporter.content.model import DIFFICULTIES, Difficulty, Question, RoleFile, default_deck
from exporter.state.record import CACHE_DIR

ROOT = Path(__file__).resolve().parent.parent


CONTENT = ROOT / "content"


SOURCE_PAGE = ROOT / "tests" / "data" / "pages" / "mlops-engineer.txt"


EPOCH = 1_764_201_600  # 2025-11-27T00:00:00Z


DECK = "Interview Questions::MLOps Engineer"  # the shipped bank's deck


TARGET = "monitor-deployed-model-know"  # a question of the shipped bank the tests edit


# The fast tier (./scripts/test --fast) loads the Hypothesis profile "fast" (registered in
# conftest): each property test runs at most FAST_EXAMPLES examples there and the count its
# @settings names, examples(N), in the full tier.
FAST_PROFILE = "fast"
FAST_EXAMPLES = 10


def examples(full: int) -> int:
    """A property test's example count: ``full`` in the full tier, at most FAST_EXAMPLES in
    the fast tier (the Hypothesis profile ``fast``, loaded by ./scripts/test --fast)."""
    if settings.get_current_profile_name().startswith(FAST_PROFILE):
        return min(full, FAST_EXAMPLES)
    return full


def first_fast(values: Iterable[Any]) -> list[Any]:
    """The parameters of a costly matrix (child processes, large inputs): the first value runs
    in the fast tier too, the others in the full tier only (marked slow)."""
    return [
        pytest.param(value, marks=() if i == 0 else pytest.mark.slow)
        for i, value in enumerate(values)
    ]


# What a build did, as its output says: "written" / "unchanged" (built in full; the files
# already held those bytes) / "up-to-date" (skipped by the local record); with --check:
# "current" / "stale"; "failed": any other non-zero exit (the message is on stderr).
Status = Literal["written", "unchanged", "up-to-date", "current", "stale", "failed"]


def run_cli(args: Sequence[str | Path], env: Mapping[str, str] | None = None) -> Result:
    """Invoke the CLI in-process, stdout and stderr kept apart."""
    runner = CliRunner()
    return runner.invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def history_for(output: Path) -> Path:
    """The build history kept next to a package: ``NAME.apkg`` -> ``NAME.lock.json``."""
    return output.with_name(output.stem + ".lock.json")


def build_status(output: Path, exit_code: int, stdout: str, stderr: str) -> Status:
    """What a build of ``output`` did, read from what it printed (strictly: anything else
    printed on success is an error)."""
    first = stdout.split("\n", 1)[0]
    if exit_code == 0:
        if first.startswith(f"Wrote {output} ("):
            return "written"
        if first.startswith(f"Unchanged: {output} ("):
            return "unchanged"
        if re.fullmatch(
            rf"{re.escape(str(output))} is up to date \(\d+ notes?, content \S+\)\.", first
        ):
            return "up-to-date"
        if first == f"{output} is up to date.":
            return "current"
        raise AssertionError(f"build exited 0 but said something unknown: {stdout!r}")
    if exit_code == 1 and stderr.startswith(f"{output} is stale or missing"):
        return "stale"
    return "failed"


@dataclass(frozen=True)
class BuildResult:
    """One build through the CLI: what it did (``status``), where, and what it printed."""

    status: Status
    output: Path
    history: Path
    exit_code: int
    stdout: str
    stderr: str

    @property
    def record(self) -> Path:
        """The local no-op record of this output (the build cache)."""
        return self.output.parent / CACHE_DIR / (self.output.name + ".json")


def _expect(result: BuildResult, expect: Status | None) -> BuildResult:
    if expect is not None:
        assert result.status == expect, (
            f"expected the build to be {expect!r}, it was {result.status!r} "
            f"(exit {result.exit_code})\nstdout: {result.stdout}\nstderr: {result.stderr}"
        )
    return result


def build_args(
    sources: Sequence[str | Path],
    output: Path | None,
    *,
    fresh: bool,
    check: bool,
    extra: Sequence[str],
) -> list[str]:
    """The ``build`` command line: ``fresh`` adds --no-cache (always a full build)."""
    args = ["build", *map(str, sources)]
    if output is not None:
        args += ["-o", str(output)]
    return args + (["--no-cache"] if fresh else []) + (["--check"] if check else []) + [*extra]


def build_deck(
    *sources: str | Path,
    output: Path,
    epoch: int | None = EPOCH,
    fresh: bool = False,
    check: bool = False,
    extra: Sequence[str] = (),
    expect: Status | None = "written",
) -> BuildResult:
    """Build ``sources`` to ``output`` in-process (SOURCE_DATE_EPOCH=``epoch``; ``None``: the
    wall clock) and assert the build's status is ``expect`` (``None``: any)."""
    env = {"SOURCE_DATE_EPOCH": "" if epoch is None else str(epoch)}
    args = build_args(sources, output, fresh=fresh, check=check, extra=extra)
    result = run_cli(args, env=env)
    stderr = result.stderr or ""
    status = build_status(output, result.exit_code, result.stdout, stderr)
    built = BuildResult(
        status, output, history_for(output), result.exit_code, result.stdout, stderr
    )
    return _expect(built, expect)


class Builder:
    """``build_deck`` with the output defaulting to ``out/deck.apkg`` under the test's folder."""

    def __init__(self, default_output: Path) -> None:
        self.default_output = default_output

    def __call__(
        self,
        *sources: str | Path,
        output: Path | None = None,
        epoch: int | None = EPOCH,
        fresh: bool = False,
        check: bool = False,
        extra: Sequence[str] = (),
        expect: Status | None = "written",
    ) -> BuildResult:
        return build_deck(
            *sources,
            output=output or self.default_output,
            epoch=epoch,
            fresh=fresh,
            check=check,
            extra=extra,
            expect=expect,
        )


def exporter_command(*args: str | Path) -> list[str]:
    """``python -m exporter ARGS`` as a command line for a child process."""
    return [sys.executable, "-m", "exporter", *map(str, args)]


def child_env(env: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment with ``env`` applied (a ``None`` value removes the name)."""
    out = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def run_exporter(
    *args: str | Path,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m exporter ARGS`` as a child process: for tests about the process itself
    (environment, time zone, working folder, signals, terminal, entry points)."""
    return subprocess.run(
        exporter_command(*args),
        env=child_env(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def build_in_child(
    *sources: str | Path,
    output: Path | None,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
    fresh: bool = False,
    check: bool = False,
    expect: Status | None = "written",
) -> BuildResult:
    """``build_deck`` as a child process (``output=None``: the default output, no ``-o``)."""
    args = build_args(sources, output, fresh=fresh, check=check, extra=())
    done = run_exporter(*args, env=env, cwd=cwd)
    shown = output if output is not None else DEFAULT_OUTPUT
    status = build_status(shown, done.returncode, done.stdout, done.stderr)
    real = shown if cwd is None or shown.is_absolute() else cwd / shown
    built = BuildResult(status, real, history_for(real), done.returncode, done.stdout, done.stderr)
    return _expect(built, expect)


def question(
    qid: str,
    difficulty: Difficulty = "easy",
    *,
    text: str | None = None,
    answer: str | None = None,
    tags: Sequence[str] = (),
) -> Question:
    """One question for ``make_bank``: the text defaults to ``QID?``, the answer to ``QID.``"""
    return Question(
        qid,
        difficulty,
        f"{qid}?" if text is None else text,
        f"{qid}." if answer is None else answer,
        tuple(tags),
    )


def make_bank(
    folder: Path,
    questions: Sequence[Question] = (),
    *,
    role: str = "Tester",
    filename: str = "bank.yaml",
    description: str = "",
    deck: str | None = None,
) -> Path:
    """Write one valid content file ``folder/filename`` in the house layout (as
    ``import-text`` writes them); the default is one easy question ``one``."""
    role_file = RoleFile(
        display_path="",
        role=role,
        deck=deck or default_deck(role),
        description=description,
        questions=tuple(questions) or (question("one"),),
    )
    return write(folder / filename, dump_role_file(role_file))


class Anki:
    """A fresh, real Anki collection (Anki's own Rust backend via the `anki` package)."""

    def __init__(self, path: Path) -> None:
        from anki.collection import Collection

        self.col: Any = Collection(str(path))  # Any: anki's types are partial (Optional db)

    def import_package(self, package: Path, **options: Any) -> Any:
        """Import with Anki's default options (update notes and note types if newer)."""
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        response = self.col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(package), options=ImportAnkiPackageOptions(**options)
            )
        )
        self.col.models._clear_cache()
        return response.log

    def notes(self, query: str = "") -> list[Any]:
        return [self.col.get_note(nid) for nid in sorted(self.col.find_notes(query))]

    def note_by_id_field(self, qid: str, notetype: str = "Interview Question") -> Any:
        """The note of the question ``qid`` of that note type (a question's key points and
        reverse card have its ID too)."""
        (nid,) = self.col.find_notes(f'"note:{notetype}" "ID:{qid}"')
        return self.col.get_note(nid)

    def notetypes(self, name: str = "Interview Question") -> list[dict[str, Any]]:
        return [m for m in self.col.models.all() if m["name"].startswith(name)]

    def close(self) -> None:
        self.col.close()


LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2 + "X" * 30  # 120 chars


LONG_URL = (
    "https://example.com/" + "/".join(f"segment-{i:02d}" for i in range(30)) + "?q=" + "a" * 80
)


RTL = "\u05de\u05d4 \u05e7\u05d5\u05e8\u05d4 \u05db\u05d0\u05e9\u05e8 \u05d4\u05de\u05d5\u05d3\u05dc \u05e0\u05db\u05e9\u05dc? \u0643\u064a\u0641 \u062a\u0631\u0627\u0642\u0628 \u0627\u0644\u0646\u0645\u0648\u0630\u062c\u061f"


def stress_answer() -> str:
    """A 6,000-character answer with everything that tends to break a layout."""
    head = [
        f"A word that never breaks: {LONG_WORD}.",
        f"A link typed as text: {LONG_URL}",
        "Markup characters stay literal: <script>alert(1)</script> & <b>bold</b> <> &amp;",
        "Emoji: \U0001f680\U0001f9e0\U0001f4c8\U0001f469\u200d\U0001f4bb \u2705",
        RTL,
    ]
    text = "\n\n".join(head)
    filler = "Monitoring, retraining and rollback all need owners and clear thresholds. "
    while len(text) < 6000:
        text += "\n\n" + filler * 5
    return text[:6000].rstrip()


def write_stress_bank(folder: Path) -> Path:
    """A content file with one stress card, next to nothing else."""
    stress = question(
        "stress-card",
        text=f"Stress <test> & {LONG_WORD[:60]} \U0001f600 {RTL[:20]}?",
        answer=stress_answer(),
    )
    return make_bank(folder, [stress], role="Stress Tester", deck="Stress", filename="stress.yaml")


@dataclass(frozen=True)
class RenderedCard:
    """One card as Anki's backend renders it (``<style>`` block first, then the template)."""

    question_id: str
    difficulty: str
    question: str
    answer: str


def built_and_imported(content: Path, tmp_path: Path, anki: Anki) -> Path:
    """Build ``content`` to ``tmp_path/deck.apkg`` and import it into ``anki``."""
    package = build_deck(content, output=tmp_path / "deck.apkg").output
    anki.import_package(package)
    return package


def add_own_note(anki: Anki, deck: str, tags: Sequence[str] = ()) -> None:
    """A note of our note type made in Anki ("Mine?" / "Yes."), in ``deck``."""
    new = anki.col.new_note(anki.col.models.by_name("Interview Question"))
    new["Question"], new["Answer"], new.tags = "Mine?", "Yes.", list(tags)
    anki.col.add_note(new, anki.col.decks.id_for_name(deck))


def rendered_cards(
    package: Path, collection_path: Path, *more: Path
) -> tuple[list[RenderedCard], dict[str, bytes]]:
    """``package`` (and ``more`` packages after it) imported into a new collection: each
    question's main card as Anki renders it, and the media files the imports put in the
    collection's media folder."""
    collection = Anki(collection_path)
    try:
        for imported in (package, *more):
            collection.import_package(imported)
        cards = []
        for note in collection.notes('"note:Interview Question"'):  # the main cards
            (card,) = note.cards()
            cards.append(
                RenderedCard(note["ID"], note["Difficulty"], card.question(), card.answer())
            )
        media_folder = Path(collection.col.media.dir())
        media = {p.name: p.read_bytes() for p in media_folder.iterdir() if p.is_file()}
    finally:
        collection.close()
    return cards, media


def copy_content(tmp_path: Path) -> Path:
    """A private copy of the shipped bank to edit."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


@dataclass(frozen=True)
class BankCounts:
    """What a bank holds, read straight from its YAML (not through the exporter): its
    questions by difficulty, and the notes and cards a build makes of them."""

    difficulties: Mapping[str, int]
    key_point_notes: int  # questions with key points: one cloze note each
    key_point_cards: int  # one card per key point
    reverse: int  # questions with a reverse card: one note and one card each

    @property
    def questions(self) -> int:
        """The questions: one main note and one main card each."""
        return sum(self.difficulties.values())

    @property
    def notes(self) -> int:
        """Every note a build of the bank holds."""
        return self.questions + self.key_point_notes + self.reverse

    @property
    def cards(self) -> int:
        """Every card a build of the bank holds."""
        return self.questions + self.key_point_cards + self.reverse


def bank_counts(folder: Path = CONTENT) -> BankCounts:
    """The counts of the bank in ``folder`` (the shipped bank by default)."""
    import yaml

    questions = [
        q
        for path in sorted(folder.glob("*.yaml"))
        for q in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    ]
    difficulties: dict[str, int] = {
        d: sum(q["difficulty"] == d for q in questions) for d in DIFFICULTIES
    }
    return BankCounts(
        difficulties,
        key_point_notes=sum(bool(q.get("key_points")) for q in questions),
        key_point_cards=sum(len(q.get("key_points") or ()) for q in questions),
        reverse=sum(q.get("reverse") is True for q in questions),
    )


def question_line(path: Path, qid: str) -> int:
    """The line (from 1) of the question ``qid`` in the YAML file at ``path``: where
    messages about it point."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines.index(f"  - id: {qid}") + 1


def edit_answer(content: Path, qid: str, new_first_words: str) -> None:
    """Prefix the sample answer of the shipped bank's question ``qid`` with some words."""
    path = content / "mlops-engineer.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = lines.index(f"  - id: {qid}")
    answer = next(i for i in range(at, len(lines)) if lines[i].strip() == "answer: |-") + 1
    lines[answer] = "      " + new_first_words + " " + lines[answer].lstrip()
    path.write_text("\n".join(lines), encoding="utf-8")


def review_some(anki: Anki, count: int = 3, deck: str = DECK) -> None:
    """Answer ``count`` queued cards of ``deck`` (the shipped deck) 'Good' with the real
    scheduler."""
    anki.col.decks.select(anki.col.decks.id_for_name(deck))
    for _ in range(count):
        queued = anki.col.sched.get_queued_cards().cards[0]
        card = anki.col.get_card(queued.card.id)
        card.start_timer()
        answer = anki.col.sched.build_answer(card=card, states=queued.states, rating=3)
        anki.col.sched.answer_card(answer)


def scheduling(anki: Anki) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Card ids with their scheduling, and the review log."""
    cards = anki.col.db.all(
        "select id, nid, did, type, queue, due, ivl, factor, reps from cards order by id"
    )
    revlog = anki.col.db.all("select id, cid, ease, ivl, type from revlog order by id")
    return [tuple(c) for c in cards], [tuple(r) for r in revlog]


AA = 4.5  # WCAG AA contrast for body text


def problems_in(measured: dict[str, Any], where: str) -> list[str]:
    """Everything wrong with one loaded card: overflow, low contrast, missing badge text."""
    out = []
    if measured["scrollWidth"] > measured["clientWidth"]:
        out.append(
            f"{where}: scrolls sideways ({measured['scrollWidth']} > {measured['clientWidth']})"
        )
    out.extend(
        f"{where}: {t['tag']}.{t['cls']} {t['text']!r} contrast {t['ratio']:.2f}"
        for t in measured["texts"]
        if t["ratio"] < AA
    )
    for b in measured["badges"]:
        if not b["text"] or not b["visible"]:
            out.append(f"{where}: badge without its word")
        if b["ratio"] < AA:
            out.append(f"{where}: badge {b['text']!r} contrast {b['ratio']:.2f}")
    return out


def write(path: Path, text: str) -> Path:
    """Write a UTF-8 text file, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def card_text(field_html: str) -> str:
    """A card field's HTML back to the text a reader sees (paragraphs split by a blank line).

    The one place that knows how ``exporter.markup.markdown`` renders: adapt it if rendering changes.
    """
    text = field_html.replace("</p>\n<p>", "\n\n").replace("<br />\n", "\n")
    text = text.removeprefix("<p>").removesuffix("</p>")
    # A math delimiter left open is shown as typed, in a span MathJax skips.
    text = re.sub(r'<span class="tex2jax_ignore">(.*?)</span>', r"\1", text)
    return unicodedata.normalize("NFC", html.unescape(text))


def markdown_literal(text: str) -> str:
    """``text`` written so that the card shows it exactly as typed (no emphasis, lists, code,
    links, entities or math): ASCII punctuation backslash-escaped, except that ``\\(`` and
    ``\\[`` open math, so ``(`` stays as it is and ``[`` is written ``&#91;``."""
    escaped = re.sub(r"([!-'*-/:-@\\\]-`{-~])", r"\\\1", text)
    return escaped.replace("[", "&#91;")


def typed_text(source: str) -> str:
    """Content text as a card should show it: outer space trimmed, each line trimmed, runs of
    blank lines as one paragraph break (Anki stores text NFC-normalised)."""
    paragraphs = re.split(r"\n[ \t]*\n\s*", source.strip())
    text = "\n\n".join("\n".join(line.strip() for line in p.split("\n")) for p in paragraphs)
    return unicodedata.normalize("NFC", text)


os.environ.setdefault("TZ", "UTC")


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


INVALID = ROOT / "tests" / "data" / "invalid"
CASES = sorted(p.stem for p in INVALID.glob("*.expected"))


def case_args(case: str) -> list[str]:
    """The command line a case runs: its ``.args`` file, else ``validate`` on its file/folder."""
    args_file = INVALID / f"{case}.args"
    if args_file.exists():
        return shlex.split(args_file.read_text(encoding="utf-8"))
    if (INVALID / f"{case}.yaml").exists():
        return ["validate", f"{case}.yaml"]
    assert (INVALID / case).is_dir(), f"case {case} has no .yaml, folder or .args"
    return ["validate", case]


def case_folder(case: str, folder: Path) -> Path:
    """A copy in ``folder`` of what an invalid case reads, to run its command line in: its
    .yaml or folder, what its .args name and the shared ``_`` entries (not the other cases:
    copying all of them cost each case ~50 ms, mostly creating files)."""
    names = {case, f"{case}.yaml", *(Path(a).parts[0] for a in case_args(case) if Path(a).parts)}
    folder.mkdir(parents=True)
    for entry in INVALID.iterdir():
        if entry.name in names or entry.name.startswith("_"):
            if entry.is_dir():
                shutil.copytree(entry, folder / entry.name)
            else:
                shutil.copy2(entry, folder / entry.name)
    return folder


def export(anki: Anki, path: Path, *, legacy: bool = False, scheduling: bool = True) -> Path:
    """Export the whole collection as a user would: .apkg (zstd or legacy) or .colpkg."""
    from anki.collection import ExportAnkiPackageOptions
    from anki.import_export_pb2 import ExportLimit

    if path.suffix == ".colpkg":
        anki.col.export_collection_package(str(path), include_media=False, legacy=legacy)
        anki.col.reopen()  # exporting a collection package closes it
        return path
    anki.col.export_anki_package(
        out_path=str(path),
        options=ExportAnkiPackageOptions(
            with_scheduling=scheduling, with_media=False, legacy=legacy
        ),
        limit=ExportLimit(),
    )
    return path


@contextlib.contextmanager
def hang_guard(seconds: int = 120) -> Iterator[None]:
    """Fail the block if it is still running after ``seconds``: a generous bound that
    catches a hang (a read that never ends), never a slow but busy machine."""

    def expired(signum: int, frame: object) -> None:
        raise AssertionError(f"still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_PLUGIN_MODULE = """
from pygments.lexer import RegexLexer
from pygments.token import Keyword, Text


class MyLexer(RegexLexer):
    name = "MyLang"
    aliases = ["mylang"]
    mimetypes = ["text/x-mylang"]
    tokens = {"root": [(r"\\w+", Keyword), (r"\\s+", Text), (r".", Text)]}
"""


def clear_lexer_caches() -> None:
    """Forget every lexer, entry point and renderer identity read so far (in-process)."""
    import pygments.plugin

    from exporter.markup import highlight
    from exporter.render import notes

    # Pygments caches its entry points (recent versions do): read them again.
    getattr(pygments.plugin.iter_entry_points, "cache_clear", lambda: None)()
    for cached in (
        highlight._lexer,
        highlight._lexer_name,
        highlight.highlight,
        highlight.plugin_lexers,
        notes.renderer_identity,
    ):
        cached.cache_clear()


def install_plugin_lexer(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real Pygments plugin lexer (alias ``mylang``, MIME type ``text/x-mylang``) put on
    ``sys.path`` as an installed distribution with its entry point."""
    site.mkdir()
    (site / "mylang_lexer.py").write_text(_PLUGIN_MODULE, encoding="utf-8")
    info = site / "mylang_lexer-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mylang-lexer\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pygments.lexers]\nmylang = mylang_lexer:MyLexer\n")
    monkeypatch.syspath_prepend(str(site))
    clear_lexer_caches()


# What a hostile package or answer puts in a name to take over a terminal: an OSC title and
# clipboard write (OSC 52), a screen clear, BEL, a C1 CSI, bidi overrides and isolates, DEL,
# a carriage return and a line break (which fake a line of output). No whitespace that
# ``str.split`` splits on but CR/LF, so a tag stays one tag.
TERMINAL_CONTROLS = (
    "\x1b]0;owned\x07\x1b]52;c;b3duZWQ=\x07\x1b[2J\x9b31m\u202e\u2066\x7f\x08\u200f\r\nfake "
)


def assert_terminal_safe(*outputs: str | bytes) -> None:
    """Nothing in ``outputs`` a terminal acts on or hides: every character is printable, a
    line break or a tab (C0 and C1 controls, DEL and bidi controls shown as escapes)."""
    for output in outputs:
        text = output.decode("utf-8", "surrogateescape") if isinstance(output, bytes) else output
        bad = sorted({ch for ch in text if not ch.isprintable() and ch not in "\n\t"})
        assert not bad, f"control characters reach the terminal: {bad!r} in {text!r}"
        faked = [line for line in text.splitlines() if line.startswith("fake ")]
        assert not faked, f"a name's line break made a line of output: {text!r}"


def hooked(
    folder: Path, code: str, env: Mapping[str, str | None] | None = None
) -> dict[str, str | None]:
    """``env`` for a child process that first runs ``code`` as its ``sitecustomize`` (written
    into ``folder``): how a test faults, pauses or signals a real process at a chosen call."""
    write(folder / "sitecustomize.py", code)
    return {**(env or {}), "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}


# A sitecustomize for a child process only: send itself the signal {signum} just before its
# first os.replace of a file the command writes (the commit point), not of a cache of its own.
SIGNAL_AT_THE_MOVE = """
import os, signal
signal.signal(signal.SIGINT, signal.default_int_handler)
_real = os.replace
def _replace(a, b):
    if "/.interview-deck-cache/" not in str(b) and "/files/file-" not in str(b):
        os.replace = _real  # the first of the command's own files, not a cache's
        os.kill(os.getpid(), {signum})
    _real(a, b)
os.replace = _replace
"""


def bench_module(name: str) -> Any:
    """``bench/NAME.py`` as a module (the bench scripts import each other by bare name, so
    ``bench/`` goes on the path)."""
    import importlib.util

    bench = ROOT / "bench"
    if str(bench) not in sys.path:
        sys.path.insert(0, str(bench))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", bench / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module
