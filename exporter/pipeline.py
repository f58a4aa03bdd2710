"""Each command's work from start to finish, as one function returning an outcome value.

``run_build``: discover the sources once -> skip if the local record proves the outputs
current -> stream the files through load, render and the package (``build_package``) ->
check, or write -> remember. ``run_preview`` and ``run_load`` are
the shorter roads; ``run_pull`` reads an Anki export back into the content files;
``run_push`` looks at the running Anki, then builds the bank it looked at and imports it
(``exporter.connect``); ``run_import_text``, ``run_inspect``, ``run_diff`` and
``run_stats`` are the other commands'. Each loads the bank and the history once. Nothing
here prints or exits: ``exporter.cli.commands`` does, from the outcome.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from exporter.content.load import BankChecks, Progress, load_bank
from exporter.content.model import Bank, RoleFile
from exporter.content.sources import Sources, discover, size_of
from exporter.errors import AnkiError, ContentError, ContentErrors, ContentWarning, OutputError
from exporter.files import (
    HISTORY_CAP,
    YAML_SUFFIXES,
    Editing,
    InputError,
    check_target,
    display,
    holds,
    interruptible,
    read_regular,
    scratch_folder,
    sweep_staged,
    write_files,
)
from exporter.package.assemble import (
    HISTORY_SUFFIX,
    Built,
    Clock,
    Options,
    build_package,
    history_path_for,
    package_for,
)
from exporter.package.history import History, Stamp, loads, notetype_stamps
from exporter.state import record as build_record
from exporter.state.filecache import FileCache, Made
from exporter.state.lock import exclusive
from exporter.state.record import Inputs, Record, inputs_for, record_path_for
from exporter.state.units import Units, worker_count

if TYPE_CHECKING:
    from exporter.authoring.pull import PullPlan
    from exporter.authoring.pull_write import FileChange, Shown
    from exporter.connect.client import Client
    from exporter.connect.push import Pushed
    from exporter.render.notes import NoteSpec

BuildStatus = Literal["up-to-date", "unchanged", "written", "current", "stale"]


class BuildRequest(NamedTuple):
    """What the user asked a build for."""

    sources: tuple[str, ...]
    options: Options
    check: bool = False  # write nothing; say whether the outputs are current
    use_record: bool = True  # may skip the build when the local record proves nothing changed
    cache_root: Path | None = None  # where earlier builds' files are kept (None: reuse none)


class BuildOutcome(NamedTuple):
    """What a build did.

    ``status`` is one of: ``up-to-date`` (skipped: the record proves the outputs current;
    ``record`` says what they hold), ``unchanged`` (built in full, files already held those
    bytes), ``written``, and for ``--check``: ``current`` or ``stale``. Every status but
    ``up-to-date`` carries what was ``built``.
    """

    status: BuildStatus
    output: Path
    built: Built | None = None
    record: Record | None = None


class Hooks(NamedTuple):
    """Optional callbacks for a long build: bytes read (and built) so far."""

    progress: Progress | None = None


def run_load(sources: Sequence[str], hooks: Hooks = Hooks()) -> Bank:
    """Discover and load ``sources``; ``ContentErrors`` with every problem."""
    return load_bank(discover(sources), progress=hooks.progress)


class Looked(NamedTuple):
    """A bank and its build history already read (by ``push``, which looks at Anki first):
    the build takes them as they are, so it builds exactly what was looked at; ``inputs``,
    the digest of its inputs taken before they were read (``None``: no local record), is
    what the record remembers (a file saved since then is built by the next build)."""

    bank: Bank
    history: History | None
    inputs: Inputs | None = None

    def warnings(self) -> tuple[ContentWarning, ...]:
        """The bank's warnings (its problems were raised when it was read)."""
        return self.bank.warnings


def run_build(
    request: BuildRequest, now: Clock, hooks: Hooks = Hooks(), looked: Looked | None = None
) -> BuildOutcome:
    """Build (or check) the package for ``request``; ``ExporterError`` on a user's mistake.
    The files stream through: each is read, rendered and written into the package in a
    scratch folder before the next is read; the outputs are replaced only once it is whole."""
    options = request.options
    history_path = history_path_for(options.output)
    sources = discover(request.sources)
    check_outputs([options.output, history_path], request.sources, sources)
    if not request.check:
        build_record.refuse_links(options.output)
    inputs = None
    if request.use_record:  # (push's were taken before it read the bank)
        inputs = looked.inputs if looked is not None else _inputs(sources, options, history_path)
    record = inputs.current_record() if inputs is not None else None
    if record is not None:
        return BuildOutcome("up-to-date", options.output, record=record)
    root = request.cache_root
    code = build_record.code_digest() if root else ""
    cache = FileCache.open(root, code, keep=not request.check) if root else None
    siblings = sibling_notetypes(history_path)
    if not request.check:
        sweep_staged(options.output, history_path, record_path_for(options.output))
        sweep_staged(*(f.path for f in sources.files))  # what a killed pull --apply left
    lock = contextlib.nullcontext() if request.check else exclusive(options.output)
    with lock, scratch_folder() as scratch:
        if looked is not None:
            if read_history(history_path) != looked.history:  # read before the lock was held
                raise OutputError(
                    f"{display(str(history_path))}: another build wrote it while push looked "
                    "at Anki; push again",
                    code="output-locked",
                )
            result = build_package(
                looked.bank.files,
                looked.warnings,
                options,
                now,
                looked.history,
                None,
                siblings,
                scratch=scratch,
            )
        else:
            previous = read_history(history_path)
            workers = worker_count(sources, cache)
            with Units(sources, previous, cache, workers) as units:
                checks = BankChecks(sources)
                made = _Made(every=options.order != "file")
                files = made.files(units, checks, sources, hooks.progress)
                result = build_package(
                    files,
                    checks.finish,
                    options,
                    now,
                    previous,
                    made.known,
                    siblings,
                    scratch=scratch,
                )
        current = is_current(result)
        if request.check:
            return BuildOutcome("current" if current else "stale", options.output, result)
        status: BuildStatus = "unchanged" if current else "written"
        if status == "written":
            write_files(result.files())
        if cache is not None:
            cache.save()
        if inputs is not None:
            inputs.remember(
                result.package,
                result.history_data,
                result.note_count,
                result.content_fingerprint,
                result.images,
                [str(w) for w in result.warnings],
            )
    return BuildOutcome(status, options.output, result)


class _Made:
    """The units of a build as the package takes them: each file's role file, checked
    against the files before it, and its notes as made (``known``)."""

    def __init__(self, *, every: bool = False) -> None:
        self._every = every  # keep every file's notes (a build that holds every file)
        self._notes: dict[str, Mapping[str, Made]] = {}  # by file, as shown

    def files(
        self, units: Units, checks: BankChecks, sources: Sources, progress: Progress | None
    ) -> Iterator[RoleFile]:
        """The role files of ``units`` that have no problem, in order; ``progress`` told
        the bytes done after each."""
        total = sum(size_of(f.path) for f in sources.files) if progress is not None else 0
        done = 0
        for unit in units:
            if not self._every:
                self._notes.clear()
            self._notes[unit.source.display_path] = unit.notes
            role_file = checks.add(unit.source, unit.loaded)
            if progress is not None:
                done += size_of(unit.source.path)
                progress(done, total)
            if role_file is not None:
                yield role_file

    def known(self, note: NoteSpec) -> tuple[str, tuple[str, ...]] | None:
        made = self._notes.get(note.role_file.display_path, {}).get(note.key)
        if made is None or made.clozes != note.clozes:
            return None
        return made.fingerprint, made.fields


def _inputs(sources: Sources, options: Options, history_path: Path) -> Inputs | None:
    """The digest of a build's inputs, or ``None`` when there are problems to report."""
    if sources.errors:
        return None
    try:
        identity = [*options.identity(), *_sibling_stats(history_path)]
        return inputs_for(sources.files, options.output, history_path, identity)
    except OSError:
        return None  # the load will say what is wrong


def read_history(path: Path) -> History | None:
    """The recorded history, or ``None`` when there is none yet."""
    text = _history_text(path)
    return None if text is None else loads(text, display(str(path)))


def _history_text(path: Path) -> str | None:
    """A history file's text, or ``None`` when there is none yet."""
    shown = display(str(path))
    try:
        text = read_regular(path, HISTORY_CAP).decode("utf-8-sig")
    except (FileNotFoundError, NotADirectoryError):
        return None  # nothing built here yet (writing will say why the folder is unusable)
    except InputError as exc:
        raise ContentErrors(
            [ContentError(shown, 0, 0, f"build history {exc}", code="history-unreadable")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentErrors(
            [
                ContentError(
                    shown, 0, 0, f"cannot read build history ({exc})", code="history-unreadable"
                )
            ]
        ) from None
    return text


def is_current(built: Built) -> bool:
    """True when the output and its history on disk are exactly what this build wrote."""
    return holds(built.output, built.package) and holds(built.history_path, built.history_data)


def check_outputs(targets: Sequence[Path], given: Sequence[str], sources: Sources) -> None:
    """Refuse, before anything is read or written, an output that is one of the content
    files, is named like one (``.yaml``/``.yml``), lies inside a content folder, or exists
    and is not a regular file (a device, FIFO, socket, folder or a link to one)."""
    folders = [Path(g).resolve() for g in given if Path(g).is_dir()]
    for target in targets:
        shown = display(str(target))
        if sources.contains(target):
            raise OutputError(
                f"{shown}: is one of the content files being built; choose another output path",
                code="output-is-content",
            )
        if target.suffix.lower() in YAML_SUFFIXES:
            raise OutputError(
                f"{shown}: an output named like a content file (.yaml/.yml) would be read as "
                "one by the next build; choose another name",
                code="output-named-like-content",
            )
        check_target(target, "build history" if target.name.endswith(".lock.json") else "output")
        inside = next((f for f in folders if target.resolve().is_relative_to(f)), None)
        if inside is not None:
            raise OutputError(
                f"{shown}: lies inside the content folder {display(str(inside))}; write it "
                "elsewhere (e.g. dist/)",
                code="output-inside-content",
            )


class PreviewOutcome(NamedTuple):
    """The preview page written, and how many cards it shows."""

    output: Path
    cards: int


def run_preview(sources: Sequence[str], output: Path, hooks: Hooks = Hooks()) -> PreviewOutcome:
    """Render every card of ``sources`` into one HTML page at ``output``."""
    from exporter.content.media import read_verified
    from exporter.render.notes import media_of, notes_for
    from exporter.render.notetype import note_types
    from exporter.render.preview import render_page

    found = discover(sources)
    check_outputs([output], sources, found)
    bank = load_bank(found, progress=hooks.progress)
    notes = notes_for(bank)
    media = {file.name: read_verified(file) for file in media_of(notes)}
    page = render_page(note_types(), notes, title="interview-deck preview", media=media)
    write_files([(output, page.encode("utf-8"))])
    return PreviewOutcome(output, sum(n.cards for n in notes))


class PullRequest(NamedTuple):
    """What the user asked ``pull`` for."""

    export: Path
    sources: tuple[str, ...]
    package: Path  # the package built from sources: its build history tells who changed what
    apply: bool = False
    add_new: bool = False
    prefer: Literal["anki", "yaml"] | None = None
    search: bool = False  # package is only the default: the history may be any beside it


class PullOutcome(NamedTuple):
    """What ``pull`` found (``plan``), the diff it shows per question, what it wrote and
    what it could not write."""

    plan: PullPlan
    shown: tuple[Shown, ...]
    written: tuple[FileChange, ...] = ()
    refused: tuple[str, ...] = ()  # changes --apply could not make, one line each
    found_history: Path | None = None  # the history found beside the default package
    fitting: tuple[Path, ...] = ()  # several histories fit: the packages to pass as -o


def run_pull(request: PullRequest, anki: Client | None = None) -> PullOutcome:
    """Compare an Anki export with SOURCES (with ``anki``: the bank's decks, exported by the
    running Anki); with ``apply``, write the edits into the YAML. With ``search``, the build
    history is the one beside the package that stamped the export's notes."""
    from exporter.authoring.pull import best_histories, plan_pull
    from exporter.authoring.pull_write import changes, shown
    from exporter.connect.push import bank_decks, exported_notes, moved_away
    from exporter.reading.exports import read_export

    notes = read_export(request.export) if anki is None else ()
    sources = discover(request.sources)
    sweep_staged(*(f.path for f in sources.files))  # what a killed pull --apply left
    bank = load_bank(sources)
    history_path = history_path_for(request.package)
    history = read_history(history_path)
    candidates = []
    if request.search:
        candidates = [(history_path, history)] if history is not None else []
        candidates += [(p, h) for p, h in histories_beside(history_path) if p != history_path]
    if anki is not None:
        anki.connect()
        ids = {q.id for q in bank.questions}
        away: dict[str, set[str]] = {}
        for known in [history, *(h for _p, h in candidates if not ids.isdisjoint(h.notes))]:
            for deck, moved in moved_away(bank, known).items():
                away.setdefault(deck, set()).update(moved)
        notes = exported_notes(
            anki, bank_decks(bank), {d: tuple(sorted(q)) for d, q in away.items()}
        )
    found_history: Path | None = None
    fitting: tuple[Path, ...] = ()
    best = best_histories(notes, candidates)
    if len(best) == 1 and best[0][0] != history_path:
        history_path, history = best[0]
        found_history = history_path
    elif len(best) > 1:
        history, fitting = None, tuple(package_for(p) for p, _h in best)
    found = plan_pull(
        bank,
        sources.files,
        notes,
        history,
        request.export,
        request.prefer,
        history_file=display(str(history_path)),
    )
    diffs = shown(found, sources.files)
    if not request.apply:
        return PullOutcome(found, diffs, found_history=found_history, fitting=fitting)
    made = changes(found, sources.files, request.add_new)
    files = made.files
    edited = Editing({f.path: f.original for f in files}, command="pull", writer="pull --apply")
    write_files([(f.path, f.data) for f in files], editing=edited)
    return PullOutcome(found, diffs, files, made.refused, found_history, fitting)


MAX_SIBLING_HISTORIES = 64  # the histories beside a package that are read, by name


def histories_beside(history_path: Path) -> list[tuple[Path, History]]:
    """The other build histories (``*.lock.json``) in ``history_path``'s folder, by name,
    among the first ``MAX_SIBLING_HISTORIES`` names. One that cannot be read is left out
    (it cannot be the build's)."""
    found = []
    for path in _sibling_paths(history_path):
        try:
            other = read_history(path)
        except ContentErrors:
            continue
        if other is not None:
            found.append((path, other))
    return found


def sibling_notetypes(history_path: Path) -> list[tuple[Path, dict[str, Stamp]]]:
    """The note-type stamps of each other build history beside ``history_path``, by note
    type name (the main one under ``""``; read from the file's head, where they are
    written: a big bank's history is never parsed whole for them); one that cannot be read
    is left out."""
    found = []
    for path in _sibling_paths(history_path):
        try:
            text = _history_text(path)
            if text is not None:
                found.append((path, notetype_stamps(text, display(str(path)))))
        except ContentErrors:
            continue
    return found


def _sibling_paths(history_path: Path) -> list[Path]:
    """The other ``*.lock.json`` files beside ``history_path``, by name (at most
    ``MAX_SIBLING_HISTORIES``)."""
    folder = history_path.parent
    try:
        names = sorted(
            e.name
            for e in os.scandir(folder)
            if e.name.endswith(HISTORY_SUFFIX) and not e.name.startswith(".")
        )
    except OSError:
        return []
    return [folder / n for n in names[:MAX_SIBLING_HISTORIES] if folder / n != history_path]


def _sibling_stats(history_path: Path) -> list[str]:
    """Name, size and mtime of each other history beside ``history_path``: a build that
    another output's build may have changed is never skipped by the local record."""
    out = []
    for path in _sibling_paths(history_path):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append(f"{path.name}\0{st.st_size}\0{st.st_mtime_ns}")
    return out


class PushRequest(NamedTuple):
    """What the user asked ``push`` for: a build, then its import into the running Anki."""

    build: BuildRequest
    anki: Client
    prune: bool = False  # suspend and tag the notes of questions no longer in the bank
    sync: bool = False  # then ask Anki to sync with AnkiWeb
    prefer_yaml: bool = False  # import over notes edited both in Anki and in the YAML


class PushOutcome(NamedTuple):
    """The build, and what Anki then holds (``pushed``) or why Anki could not be asked
    (``problem``: the package is built and kept all the same)."""

    build: BuildOutcome
    pushed: Pushed | None = None
    problem: AnkiError | None = None


def run_push(request: PushRequest, now: Clock, hooks: Hooks = Hooks()) -> PushOutcome:
    """Build as ``build`` does, then import the package into the running Anki. A question
    edited both in Anki and in the YAML since the last build is a ``ContentErrors`` before
    anything is written (unless ``prefer_yaml``)."""
    from exporter.connect.push import conflicts, deliver, look
    from exporter.content.slices import select

    options = request.build.options
    sources = discover(request.build.sources)
    history_path = history_path_for(options.output)
    check_outputs([options.output, history_path], request.build.sources, sources)  # before Anki
    inputs = _inputs(sources, options, history_path) if request.build.use_record else None
    bank = load_bank(sources, progress=hooks.progress)  # (the build then takes it as it is)
    selected, _left_out = select(bank, options.slice)
    history = read_history(history_path)
    looked = Looked(bank, history, inputs)
    try:
        request.anki.connect()
        before = look(request.anki, bank, selected, sources.files, history)
    except AnkiError as exc:
        return PushOutcome(run_build(request.build, now, hooks, looked), problem=exc)
    if before.conflicts and not request.prefer_yaml:
        raise conflicts(before)
    built = run_build(request.build, now, hooks, looked)
    interruptible()  # the build is written whole; Ctrl-C may stop the import into Anki
    try:
        pushed = deliver(
            request.anki,
            options.output,
            before,
            bank,
            selected,
            history,
            prune=request.prune,
            and_sync=request.sync,
        )
    except AnkiError as exc:
        return PushOutcome(built, problem=exc)
    return PushOutcome(built, pushed)


# The commands that read or write one file each (import-text, inspect, diff) and stats: each
# is one function here, as build's and pull's are, so that cli/ calls nothing below this
# module.

if TYPE_CHECKING:
    from exporter.authoring.import_text import ImportResult
    from exporter.content.stats import Stats
    from exporter.reading.diff import PackageDiff
    from exporter.reading.packagefile import PackageInfo


def run_import_text(page: Path, output: Path | None, *, prune: bool = False) -> ImportResult:
    """Turn the question page at ``page`` into the content file ``output`` (default
    ``content/<role-slug>.yaml``), or merge it into the one there; with ``prune``, remove
    the questions no longer on the page."""
    from exporter.authoring.import_text import import_page

    return import_page(page, output, prune=prune)


def run_inspect(package: Path) -> PackageInfo:
    """What the package at ``package`` holds; ``PackageReadError`` if it is not one."""
    from exporter.reading.packagefile import read_package

    return read_package(package)


def run_diff(old: Path, new: Path) -> PackageDiff:
    """The notes added, removed, changed and moved from package ``old`` to package ``new``
    (ours, or Anki's own exports); ``PackageReadError`` when either cannot be read."""
    from exporter.reading.diff import diff_packages

    return diff_packages(old, new)


def run_stats(sources: Sequence[str], hooks: Hooks = Hooks()) -> Stats:
    """The counts of ``sources``' questions by role and difficulty, cards by kind, images
    and the most used tags, from one load of the bank."""
    from exporter.content.stats import stats_for

    return stats_for(run_load(sources, hooks))
