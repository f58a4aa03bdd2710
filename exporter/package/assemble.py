"""Role files, options and the previous build history -> everything a build writes: the
package (written into the build's scratch folder as the files stream through, one file's
notes at a time), the next history (which notes changed, so which mod times rise) and the
numbers a build reports. Nothing outside the scratch folder is written here.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from exporter import __version__
from exporter.content.load import collector_paused
from exporter.content.model import Bank, Difficulty, MediaFile, RoleFile
from exporter.content.slices import Order, Slice, positions, select
from exporter.errors import (
    ContentError,
    ContentErrors,
    ContentWarning,
    OutputError,
    SelectionError,
)
from exporter.files import display
from exporter.markup.markdown import to_html
from exporter.package.apkg import write_package
from exporter.package.collection import Collection, DeckRow, NoteRow
from exporter.package.history import (
    MAX_CLOZE,
    History,
    HistoryAhead,
    HistoryFull,
    Stamp,
    Stamper,
    assign_clozes,
    dumps,
    point_hash,
    rival_of,
    switches,
)
from exporter.render.notes import NoteSpec, deck_id_for, notes_of
from exporter.render.notetype import KINDS, NoteKind, NoteType, note_types

Clock = Callable[[], int]


class Options(NamedTuple):
    """How to build: where to, which questions, and how the cards read."""

    output: Path
    tts_lang: str | None = None
    slice: Slice = Slice()
    order: Order = "file"

    def identity(self) -> list[str]:
        """Every option that shapes the package's bytes (the output path does not)."""
        return [repr(self.tts_lang), repr(self.slice), repr(self.order)]


class Built(NamedTuple):
    """What a build wrote into its scratch folder, with the numbers it reports."""

    output: Path
    history_path: Path
    package: Path  # the package, complete, in the scratch folder (moved into place later)
    history_data: bytes  # the history file's bytes (UTF-8 JSON), encoded once
    note_count: int
    content_fingerprint: str
    deck_counts: Mapping[str, Counter[Difficulty]]  # per deck: questions by difficulty
    card_counts: Mapping[NoteKind, int]
    images: tuple[tuple[str, str, str], ...] = ()  # (read from, shown path, sha256) each
    removed: tuple[str, ...] = ()  # questions gone since the last build
    # A question's other notes gone since the last build while it stays (its key points or
    # its reverse card), by note key; and the key points gone from a note that stays: its
    # question id and the numbers of their cards, which are empty in Anki from now on.
    retired: tuple[str, ...] = ()
    retired_points: tuple[tuple[str, tuple[int, ...]], ...] = ()
    left_out: int = 0
    warnings: tuple[ContentWarning, ...] = ()
    moved: tuple[tuple[str, str, str], ...] = ()  # (question id, old deck, new deck)
    outdates: Path | None = None  # another output whose other note type this one's outdates

    def moves(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(old deck, new deck) -> the ids of the questions that moved so since last build."""
        out: dict[tuple[str, str], list[str]] = {}
        for qid, old, new in self.moved:
            out.setdefault((old, new), []).append(qid)
        return {k: tuple(v) for k, v in sorted(out.items())}

    def files(self) -> list[tuple[Path, bytes | Path]]:
        """The files this build writes, with their bytes (the package's: its scratch file)."""
        return [(self.output, self.package), (self.history_path, self.history_data)]


HISTORY_SUFFIX = ".lock.json"


def history_path_for(output: Path) -> Path:
    """The build history kept next to a package: ``NAME.apkg`` -> ``NAME.lock.json``."""
    if not output.name or output.name in (".", ".."):
        raise OutputError(f"{output or '.'}: is not a file name; give one such as dist/deck.apkg")
    return output.with_name(output.stem + HISTORY_SUFFIX)


def package_for(history_path: Path) -> Path:
    """A package whose build history is ``history_path`` (``NAME.lock.json`` -> ``NAME.apkg``)."""
    return history_path.with_name(history_path.name.removesuffix(HISTORY_SUFFIX) + ".apkg")


def content_fingerprint(
    notetype: NoteType,
    decks: Sequence[tuple[str, str]],
    notes: str,
    others: Sequence[NoteType] = (),
) -> str:
    """A short hash of everything the package holds apart from times and ids: the note
    types (``others``: those of a question's other notes the package holds), the decks and
    ``notes``, the hex digest of every note's fingerprint in order (as ``build_package``
    takes it)."""
    digest = hashlib.sha256(notetype.fingerprint.encode())
    for other in others:
        digest.update(f"\0notetype\0{other.fingerprint}".encode())
    for name, description in decks:
        digest.update(f"\0deck\0{name}\0{description}".encode())
    digest.update(f"\0notes\0{notes}".encode())
    return "sha256:" + digest.hexdigest()[:16]


def provenance(fingerprint: str, count: int) -> str:
    """The line every deck description ends with: tool, version and content hash."""
    return f"Built by interview-deck {__version__} from content {fingerprint} ({count} questions)."


# A note's fingerprint and fields made earlier (in a worker, or kept by the file cache), or
# ``None``: the build makes them.
Known = Callable[[NoteSpec], "tuple[str, tuple[str, ...]] | None"]


def build_package(
    files: Iterable[RoleFile],
    finish: Callable[[], tuple[ContentWarning, ...]],
    options: Options,
    now: Clock,
    previous: History | None,
    known: Known | None = None,
    siblings: Sequence[tuple[Path, Mapping[str, Stamp]]] = (),
    *,
    scratch: Path,
) -> Built:
    """Build ``files`` (role files, taken one at a time: each file's notes are stamped,
    rendered and written before the next is read) into a package in ``scratch``, on the
    ``previous`` build history (read by the caller). ``finish()`` is called once the files
    are exhausted: it returns the bank's warnings or raises its problems (so a build stops
    before anything is moved into place). ``siblings``: the note-type stamps of the other
    histories in the output's folder, by history path, each by note type name (the main one
    under ``""``: see ``history.notetype_stamps``); a note type newer than theirs when it
    differs: see ``Stamper``. ``now`` is called only if content changed."""
    with collector_paused():
        return _build(files, finish, options, now, previous, known, siblings, scratch)


def _build(
    files: Iterable[RoleFile],
    finish: Callable[[], tuple[ContentWarning, ...]],
    options: Options,
    now: Clock,
    previous: History | None,
    known: Known | None,
    siblings: Sequence[tuple[Path, Mapping[str, Stamp]]],
    scratch: Path,
) -> Built:
    import sqlite3  # (as the collection: only a build needs it)

    history_path = history_path_for(options.output)
    shown = display(str(history_path))
    types = note_types(tts_lang=options.tts_lang)
    notetype = types["question"]
    rival = rival_of(notetype.fingerprint, (s[""] for _path, s in siblings if "" in s))
    rivals = {}
    for kind in KINDS[1:]:
        name = types[kind].name
        found = rival_of(types[kind].fingerprint, (s[name] for _path, s in siblings if name in s))
        if found is not None:
            rivals[name] = found
    old = previous.notes if previous else {}
    old_clozes = previous.clozes if previous else {}
    left_out = 0

    def chosen() -> Iterator[RoleFile]:
        nonlocal left_out
        for whole in files:
            selected, out = select(Bank((whole,)), options.slice)
            left_out += out
            yield from selected.files

    taken: Iterable[RoleFile] = chosen()
    due: Iterator[int] = itertools.count(1)
    if options.order != "file":  # positions over the whole bank: every file is held
        taken = tuple(taken)
        due = iter(positions([q for f in taken for q in f.questions], options.order))
    counts: dict[str, Counter[Difficulty]] = {}
    cards = dict.fromkeys(KINDS, 0)
    decks: dict[str, str] = {}
    media: dict[str, MediaFile] = {}
    images: set[tuple[str, str, str]] = set()
    numbers: dict[str, tuple[int, ...]] = {}  # each key-points note's numbers, by question
    moved = []
    fingerprints = hashlib.sha256()
    note_count = 0
    database = scratch / "collection.anki2"
    try:  # (a new note type is stamped at once: HistoryAhead may come from here on)
        stamper = Stamper(previous, notetype.fingerprint, now, rival, rivals=rivals)
        with Collection(database, [(t, stamper.notetype.mod) for t in types.values()]) as col:
            for role_file in taken:
                decks.setdefault(role_file.deck, role_file.description)
                rows = []
                for question in role_file.questions:
                    position = next(due)
                    if question.key_points:
                        hashes = tuple(point_hash(p) for p in question.key_points)
                        was = old_clozes.get(f"{question.id}::key-points")
                        try:
                            numbers[question.id] = assign_clozes(was, hashes)
                        except HistoryFull:
                            raise _Full(_CLOZES_FULL) from None
                        points = tuple(zip(numbers[question.id], hashes, strict=True))
                    counts.setdefault(role_file.deck, Counter())[question.difficulty] += 1
                    if (before := old.get(question.id)) is not None and before.deck not in (
                        "",
                        role_file.deck,
                    ):
                        moved.append((question.id, before.deck, role_file.deck))
                    for image in question.images:
                        if image.file is not None:
                            media[image.file.name] = image.file
                            file = image.file
                            images.add(
                                (str(file.written or file.path), str(file.path), file.sha256)
                            )
                    for note in notes_of(role_file, question, numbers.get(question.id)):
                        kept = known(note) if known is not None else None
                        fingerprint, fields = kept or (note.fingerprint, note.fields)
                        kp = points if note.kind == "key-points" else None
                        stamp, ids = stamper.note(note.key, fingerprint, note.deck, kp)
                        fingerprints.update(f"\0note\0{fingerprint}".encode())
                        cards[note.kind] += note.cards
                        note_count += 1
                        rows.append(
                            NoteRow(
                                note.guid,
                                fields,
                                note.tags,
                                position,
                                stamp.mod,
                                stamp.id,
                                types[note.kind].id,
                                ids,
                            )
                        )
                col.add_notes(deck_id_for(role_file.deck), rows)
            warnings = finish()
            if not note_count:
                raise SelectionError("the filters leave no questions to build")
            if old and old.keys().isdisjoint(stamper.notes):
                raise ContentErrors(
                    [ContentError(shown, 0, 0, _FOREIGN.format(len(old)), code="history-foreign")]
                )
            others = {types[k].name: types[k] for k in KINDS[1:] if cards[k]}
            history = stamper.finish({name: t.fingerprint for name, t in others.items()})
            deck_texts = tuple(decks.items())
            content = content_fingerprint(
                notetype, deck_texts, fingerprints.hexdigest(), tuple(others.values())
            )
            made_by = provenance(content, note_count)
            held = [
                (notetype, history.notetype.mod),
                *((t, history.notetypes[name].mod) for name, t in others.items()),
            ]
            for name, text in deck_texts:
                description = (to_html(text) + "\n" if text else "") + (
                    f'<p class="iq-provenance">{made_by}</p>'
                )
                col.add_deck(DeckRow(deck_id_for(name), name, description), held)
    except (HistoryAhead, HistoryFull, _Full) as stopped:
        for _rest in taken:  # every problem of the bank comes first
            pass
        finish()
        if isinstance(stopped, HistoryAhead):
            problem = ContentError(shown, 0, 0, _ahead(stopped), code="history-ahead")
        else:
            full = str(stopped) if isinstance(stopped, _Full) else _IDS_FULL
            problem = ContentError(shown, 0, 0, full, code="history-full")
        raise ContentErrors([problem]) from None
    except (sqlite3.Error, OSError) as exc:  # the temp folder full, or refusing writes
        raise _unwritable(scratch, exc) from None
    package = scratch / "package.apkg"
    try:
        with package.open("wb") as out:
            write_package(out, database, [media[name] for name in sorted(media)])
        database.unlink()
    except OSError as exc:
        raise _unwritable(scratch, exc) from None
    outdates = None
    if rival is not None and switches(previous, rival):
        outdates = package_for(next(path for path, s in siblings if s.get("") == rival))
    gone = set(old) - set(history.notes)
    questions = {k for k in gone if "::" not in k}
    retired = tuple(sorted(k for k in gone if "::" in k and k.split("::")[0] not in questions))
    retired_points = tuple(
        (qid, tuple(sorted({n for n, _h in was.points} - set(numbers[qid]))))
        for qid in sorted(numbers)
        if (was := old_clozes.get(f"{qid}::key-points")) is not None
        and f"{qid}::key-points" in old
        and {n for n, _h in was.points} - set(numbers[qid])
    )
    return Built(
        output=options.output,
        history_path=history_path,
        package=package,
        history_data=dumps(history),
        note_count=note_count,
        content_fingerprint=content,
        deck_counts=counts,
        card_counts=cards,
        images=tuple(sorted(images)),
        removed=tuple(sorted(questions)),
        retired=retired,
        retired_points=retired_points,
        left_out=left_out,
        warnings=warnings,
        moved=tuple(moved),
        outdates=outdates,
    )


def _unwritable(scratch: Path, exc: Exception) -> OutputError:
    """The problem of a package that cannot be written in the build's temp folder."""
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return OutputError(
        f"{display(str(scratch))}: cannot write the package being built in this temp folder "
        f"({why}); free some space there, or set TMPDIR to a folder with room"
    )


class _Full(Exception):
    """A question's key points have used every cloze number (the message says so)."""


_CLOZES_FULL = (
    f"a question's key points have used every cloze number Anki holds (up to {MAX_CLOZE:,}); "
    "start a new history (delete this file)"
)
_IDS_FULL = "no note id below 2**53 is left; start a new history (delete this file)"

_FOREIGN = (
    "this build history has no question in common with the bank being built (it lists {} "
    "others): it belongs to another bank. Build to another output (-o), or delete this file "
    "if the bank really changed every id"
)


def _ahead(ahead: HistoryAhead) -> str:
    when = time.strftime("%Y-%m-%d", time.gmtime(ahead.highest))
    years = (ahead.highest - ahead.now) / (365.25 * 86_400)
    return (
        f"the build history has mod times up to {when}, {years:,.1f} years ahead of this "
        "build's clock (a build made with SOURCE_DATE_EPOCH in the future?). Building on would "
        "stamp every changed note in that future, and Anki would then prefer it to edits made "
        f"on the phone. If that build was never imported, restore or delete this file; if it "
        f"was, build with SOURCE_DATE_EPOCH={ahead.highest + 1} or later"
    )
