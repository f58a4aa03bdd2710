"""Each content file made ready for the package, in file order: read, loaded and checked
(or taken from the file cache), its notes fingerprinted and rendered. In this process, or,
for a bank big enough that it pays, in two forked worker processes while this one writes
the package (docs/BENCHMARKS.md, "Changes in 0.8"); the same bytes either way."""

from __future__ import annotations

import os
import signal
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple

from exporter.content.load import LoadedFile, load_raw
from exporter.content.sources import SourceFile, Sources, read_bytes, size_of
from exporter.package.history import History, HistoryFull, assign_clozes, point_hash
from exporter.render.notes import notes_of
from exporter.state.filecache import FileCache, Made, media_of

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.process import BaseProcess

# Workers pay from about this much YAML (some 4,000 questions; docs/BENCHMARKS.md).
WORKERS_FROM_BYTES = 4_000_000
WORKERS = 2  # beside this process, which writes the package: 2 cores kept busy
_HELD = {signal.SIGINT, signal.SIGTERM}


class Unit(NamedTuple):
    """One content file made ready: as loaded and checked, and its notes as made, by key
    (none when the file has a problem)."""

    source: SourceFile
    loaded: LoadedFile
    notes: Mapping[str, Made]


def make_unit(source: SourceFile, previous: History | None, cache: FileCache | None) -> Unit:
    """``source`` loaded (or taken from ``cache``) and its notes made, with the key point
    numbers ``previous`` gives them; a file made anew is kept in ``cache``."""
    raw, err = read_bytes(source)
    name = cache.name(source, raw) if cache is not None and err is None else None
    found = cache.entry(name, source) if cache is not None and name is not None else None
    loaded, kept = found if found is not None else (load_raw(source, raw, err), {})
    role_file = loaded.role_file
    notes: dict[str, Made] = {}
    if role_file is None or loaded.errors:
        return Unit(source, loaded, notes)
    old = previous.clozes if previous is not None else {}
    for question in role_file.questions:
        numbers = None
        if question.key_points:
            hashes = tuple(point_hash(p) for p in question.key_points)
            try:
                numbers = assign_clozes(old.get(f"{question.id}::key-points"), hashes)
            except HistoryFull:  # the build says so, with the history's name
                continue
        media = media_of(question)
        for note in notes_of(role_file, question, numbers):
            made = kept.get(note.key)
            if made is None or made.clozes != note.clozes or made.media != media:
                made = Made(note.clozes, media, note.fingerprint, note.fields)
            notes[note.key] = made
    if cache is not None and name is not None and notes != kept:
        cache.keep(name, loaded, notes)
    return Unit(source, loaded, notes)


def worker_count(sources: Sources, cache: FileCache | None = None) -> int:
    """How many worker processes a build of ``sources`` uses: ``WORKERS`` for at least
    ``WORKERS_FROM_BYTES`` of files to load anew (not in ``cache``) among two files or more,
    with two CPUs or more and ``fork``; else none (a file the cache holds is quicker taken
    here than sent to a worker and back)."""
    if len(sources.files) < 2 or sum(size_of(f.path) for f in sources.files) < WORKERS_FROM_BYTES:
        return 0
    import multiprocessing  # only for a bank big enough (~20 ms to import)

    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cpus or 1) < 2:
        return 0
    if cache is not None:
        anew = 0
        for source in sources.files:
            raw, err = read_bytes(source)
            if err is not None or not cache.holds(cache.name(source, raw)):
                anew += len(raw)
        if anew < WORKERS_FROM_BYTES:
            return 0
    return WORKERS


# What the workers need besides a file, set before they are forked (never sent to them).
_SHARED: tuple[History | None, FileCache | None] = (None, None)


class Units:
    """The units of ``sources``, in file order: made in ``workers`` forked processes (at
    most one file ahead of each), or here when ``workers`` is 0 or no process can be
    started. Use as a context manager: the workers start on entry (before the package's
    database is opened) and are stopped on exit, however it ends."""

    def __init__(
        self,
        sources: Sources,
        previous: History | None,
        cache: FileCache | None,
        workers: int = 0,
    ) -> None:
        self._sources = sources
        self._previous = previous
        self._cache = cache
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._started: set[BaseProcess] = set()  # the pool's workers, as forked

    def __enter__(self) -> Units:
        global _SHARED
        if self._workers:
            _SHARED = (self._previous, self._cache)
            try:
                self._start()
            except BaseException:  # Ctrl-C as they started: they stop again
                self.__exit__(None, None, None)
                raise
        return self

    def _start(self) -> None:
        """Fork the workers now (``fork`` forks them all at the first task), with SIGINT
        and SIGTERM held back: this process's handlers would raise in a worker (a
        traceback) until ``_quiet`` has set its own."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        before = set(multiprocessing.active_children())
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context, initializer=_quiet)
            self._pool.submit(os.getpid)
        except OSError:  # no process to be had: this one does the work
            self._pool = None
        finally:
            self._started = set(multiprocessing.active_children()) - before
            signal.pthread_sigmask(signal.SIG_SETMASK, held)  # (one that waited: raised here)
        if self._pool is None:
            self._stop()  # (a worker forked before the next could not be)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        global _SHARED
        self._stop()
        _SHARED = (None, None)

    def __iter__(self) -> Iterator[Unit]:
        ahead: deque[tuple[SourceFile, Future[Unit] | None]] = deque()
        for source in self._sources.files:
            ahead.append((source, self._sent(source)))
            if len(ahead) > (self._workers if self._pool is not None else 0):
                yield self._unit(*ahead.popleft())
        while ahead:
            yield self._unit(*ahead.popleft())

    def _sent(self, source: SourceFile) -> Future[Unit] | None:
        """``source`` given to the workers (``None``: there are none, or no more)."""
        if self._pool is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                return self._pool.submit(_made, source)
            except BrokenProcessPool:  # a worker died (see ``_unit``)
                self._stop()
        return None

    def _unit(self, source: SourceFile, made: Future[Unit] | None) -> Unit:
        """``source``'s unit as a worker made it; or made here: with no workers, or once a
        worker has died (killed: out of memory?) and the others are stopped (the files
        they held, and the rest, are made here: the same bytes)."""
        if made is not None and self._pool is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                return made.result()
            except BrokenProcessPool:
                self._stop()
        return make_unit(source, self._previous, self._cache)

    def _stop(self) -> None:
        """Stop the workers (each dies of SIGTERM) and wait for them."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        for worker in self._started:
            worker.terminate()
        for worker in self._started:
            worker.join()
        self._started = set()


def _quiet() -> None:
    """A worker leaves Ctrl-C to this process (which stops it), dies of SIGTERM (one that
    came while it started, held back till now, too) and ends when this process is gone
    (a kill -9 of the build leaves no worker waiting for files for ever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_orphaned, daemon=True).start()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def _orphaned() -> None:
    """End this worker once the process that forked it has ended."""
    from multiprocessing import connection, parent_process

    parent = parent_process()
    if parent is not None:
        connection.wait([parent.sentinel])
        os._exit(1)


def _made(source: SourceFile) -> Unit:
    """``make_unit`` in a worker, with what it was forked with."""
    previous, cache = _SHARED
    return make_unit(source, previous, cache)
