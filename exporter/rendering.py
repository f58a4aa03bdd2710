"""Many notes' fields, rendered in order: in worker processes when there are enough of them
to pay for the workers, else here. The workers run the very same ``text.to_html``, so the
fields are the same either way (a test compares them); only the time differs.

Markdown rendering is pure Python (markdown-it-py, Pygments) and holds the GIL, so threads
would not help; processes do, one per core. On Linux they are forked (nothing to import
again); elsewhere they are spawned, which costs each one its imports, so the bar is higher.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterator, Mapping, Sequence

from exporter.notes import NoteSpec, fields_for
from exporter.text import to_html

# Below this many notes to render, workers cost more than they save (docs/BENCHMARKS.md).
PARALLEL_MIN_NOTES = 1_500
_CHUNK = 32  # notes per task: enough to hide the messaging, small enough to keep order cheap
_Job = tuple[str, str, Mapping[str, str]]


def fields_in_order(
    notes: Sequence[NoteSpec], workers: int | None = None
) -> Iterator[tuple[str, ...]]:
    """The fields of each of ``notes``, in order. ``workers``: how many processes may
    render (default: one per core; 1 renders here)."""
    todo = [n for n in notes if n.known_html is None]
    count = _workers(len(todo), workers)
    if count <= 1:
        for note in notes:
            yield note.fields
        return
    jobs = (_job(n) for n in todo)
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(count) as pool:
        rendered = pool.imap(_render, jobs, chunksize=_CHUNK)
        for note in notes:
            if note.known_html is not None:
                yield note.fields
            else:
                yield fields_for(note.role_file, note.question, next(rendered))


def _workers(todo: int, workers: int | None) -> int:
    cores = os.cpu_count() or 1
    wanted = cores if workers is None else workers
    bar = PARALLEL_MIN_NOTES if sys.platform == "linux" else 4 * PARALLEL_MIN_NOTES
    return min(wanted, 8) if todo >= bar or workers is not None else 1


def _job(note: NoteSpec) -> _Job:
    q = note.question
    return q.question, q.answer, q.media_names()


def _render(job: _Job) -> tuple[str, str]:
    question, answer, media = job
    return to_html(question, media), to_html(answer, media)
