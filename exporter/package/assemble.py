"""A bank, options and the previous build history -> everything a build writes, computed
in memory (nothing read or written but the bank's own image files): notes, decks, the next
history (which notes changed, so which mod times rise), package bytes.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exporter import __version__
from exporter.content.load import collector_paused
from exporter.content.model import Bank, Difficulty
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
from exporter.package.apkg import Rendered, build_apkg
from exporter.package.collection import DeckRow
from exporter.package.history import (
    MAX_CLOZE,
    History,
    HistoryAhead,
    HistoryFull,
    Stamp,
    advance,
    assign_clozes,
    dumps,
    point_hash,
    rival_of,
    switches,
)
from exporter.render.notes import NoteSpec, deck_id_for, decks_for, notes_for
from exporter.render.notetype import KINDS, NoteKind, NoteType, note_types

Clock = Callable[[], int]


@dataclass(frozen=True)
class Options:
    """How to build: where to, which questions, and how the cards read."""

    output: Path
    tts_lang: str | None = None
    slice: Slice = field(default_factory=Slice)
    order: Order = "file"

    def identity(self) -> list[str]:
        """Every option that shapes the package's bytes (the output path does not)."""
        return [repr(self.tts_lang), repr(self.slice), repr(self.order)]


@dataclass(frozen=True)
class Plan:
    """What a build would write, with the numbers it reports."""

    output: Path
    history_path: Path
    package: bytes
    history_data: bytes  # the history file's bytes (UTF-8 JSON), encoded once
    notes: tuple[NoteSpec, ...]
    content_fingerprint: str
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

    def counts(self) -> dict[str, Counter[Difficulty]]:
        """Per deck, the number of questions (main notes) by difficulty."""
        out: dict[str, Counter[Difficulty]] = {}
        for note in self.notes:
            if note.kind == "question":
                out.setdefault(note.deck, Counter())[note.difficulty] += 1
        return out

    def cards(self) -> dict[NoteKind, int]:
        """The number of cards of each kind."""
        out = dict.fromkeys(KINDS, 0)
        for note in self.notes:
            out[note.kind] += note.cards
        return out

    def files(self) -> list[tuple[Path, bytes]]:
        """The files this build writes, with their bytes."""
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
    notes: Sequence[NoteSpec],
    others: Sequence[NoteType] = (),
) -> str:
    """A short hash of everything the package holds apart from times and ids (``others``:
    the note types of a question's other notes, those the package holds)."""
    digest = hashlib.sha256(notetype.fingerprint.encode())
    for other in others:
        digest.update(f"\0notetype\0{other.fingerprint}".encode())
    for name, description in decks:
        digest.update(f"\0deck\0{name}\0{description}".encode())
    for note in notes:
        digest.update(f"\0note\0{note.fingerprint}".encode())
    return "sha256:" + digest.hexdigest()[:16]


def provenance(fingerprint: str, count: int) -> str:
    """The line every deck description ends with: tool, version and content hash."""
    return f"Built by interview-deck {__version__} from content {fingerprint} ({count} questions)."


@dataclass(frozen=True)
class Reuse:
    """What a build may take from earlier ones: fields by note fingerprint; and who to
    tell about each note rendered."""

    by_fingerprint: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    on_rendered: Rendered | None = None


def plan(
    bank: Bank,
    options: Options,
    now: Clock,
    previous: History | None = None,
    reuse: Reuse = Reuse(),
    siblings: Sequence[tuple[Path, Mapping[str, Stamp]]] = (),
) -> Plan:
    """Everything a build writes, computed in memory from the bank, the options and the
    ``previous`` build history (read by the caller); nothing is read or written here.
    ``siblings``: the note-type stamps of the other histories in the output's folder, by
    history path, each by note type name (the main one under ``""``: see
    ``history.notetype_stamps``); a note type newer than theirs when it differs: see
    ``advance``.
    ``now`` is called only if content changed."""
    with collector_paused():
        return _plan(bank, options, now, previous, reuse, siblings)


def _plan(
    bank: Bank,
    options: Options,
    now: Clock,
    previous: History | None,
    reuse: Reuse,
    siblings: Sequence[tuple[Path, Mapping[str, Stamp]]],
) -> Plan:
    warnings = bank.warnings
    bank, left_out = select(bank, options.slice)
    if not bank.files:
        raise SelectionError("the filters leave no questions to build")
    types = note_types(tts_lang=options.tts_lang)
    notetype = types["question"]
    old_clozes = previous.clozes if previous is not None else {}
    hashes = {
        q.id: tuple(point_hash(p) for p in q.key_points) for q in bank.questions if q.key_points
    }
    try:
        numbers = {
            qid: assign_clozes(old_clozes.get(f"{qid}::key-points"), h) for qid, h in hashes.items()
        }
    except HistoryFull:
        message = (
            f"a question's key points have used every cloze number Anki holds (up to "
            f"{MAX_CLOZE:,}); start a new history (delete this file)"
        )
        where = display(str(history_path_for(options.output)))
        raise ContentErrors([ContentError(where, 0, 0, message, code="history-full")]) from None
    notes = notes_for(bank, reuse.by_fingerprint, numbers)
    held = {n.kind for n in notes}
    others = {types[k].name: types[k] for k in KINDS[1:] if k in held}
    deck_texts = decks_for(bank)
    fingerprint = content_fingerprint(notetype, deck_texts, notes, tuple(others.values()))
    made_by = provenance(fingerprint, len(notes))
    decks = [
        DeckRow(
            deck_id_for(name),
            name,
            (to_html(text) + "\n" if text else "") + f'<p class="iq-provenance">{made_by}</p>',
        )
        for name, text in deck_texts
    ]
    history_path = history_path_for(options.output)
    shown = display(str(history_path))
    if (
        previous is not None
        and previous.notes
        and previous.notes.keys().isdisjoint(n.key for n in notes)
    ):
        raise ContentErrors(
            [
                ContentError(
                    shown, 0, 0, _FOREIGN.format(len(previous.notes)), code="history-foreign"
                )
            ]
        )
    rival = rival_of(notetype.fingerprint, (s[""] for _path, s in siblings if "" in s))
    outdates = None
    if rival is not None and switches(previous, rival):
        outdates = package_for(next(path for path, s in siblings if s.get("") == rival))
    rivals = {}
    for name, other in others.items():
        found = rival_of(other.fingerprint, (s[name] for _path, s in siblings if name in s))
        if found is not None:
            rivals[name] = found
    try:
        history = advance(
            previous,
            notetype.fingerprint,
            [(n.key, n.fingerprint, n.deck) for n in notes],
            now,
            rival,
            notetypes={name: other.fingerprint for name, other in others.items()},
            rivals=rivals,
            clozes={
                f"{qid}::key-points": tuple(zip(numbers[qid], h, strict=True))
                for qid, h in hashes.items()
            },
        )
    except HistoryAhead as ahead:
        raise ContentErrors(
            [ContentError(shown, 0, 0, _ahead(ahead), code="history-ahead")]
        ) from None
    except HistoryFull:
        message = "no note id below 2**53 is left; start a new history (delete this file)"
        raise ContentErrors([ContentError(shown, 0, 0, message, code="history-full")]) from None
    old = previous.notes if previous else {}
    moved = tuple(
        (n.question_id, old[n.question_id].deck, n.deck)
        for n in notes
        if n.kind == "question"
        and n.question_id in old
        and old[n.question_id].deck not in ("", n.deck)
    )
    due = dict(
        zip((q.id for q in bank.questions), positions(bank.questions, options.order), strict=True)
    )
    package = build_apkg(
        [
            (notetype, history.notetype.mod),
            *((other, history.notetypes[name].mod) for name, other in others.items()),
        ],
        decks,
        notes,
        history,
        [due[n.question_id] for n in notes],
        reuse.on_rendered,
    )
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
    return Plan(
        output=options.output,
        history_path=history_path,
        package=package,
        history_data=dumps(history),
        notes=notes,
        content_fingerprint=fingerprint,
        removed=tuple(sorted(questions)),
        retired=retired,
        retired_points=retired_points,
        left_out=left_out,
        warnings=warnings,
        moved=moved,
        outdates=outdates,
    )


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
