"""Many notes' fields, rendered in order: in worker processes (``exporter.workers``) when
there are enough of them to pay for the workers, else here. The workers run the very same
``text.to_html``, so the fields are the same either way (a test compares them)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from exporter.notes import NoteSpec, fields_for
from exporter.text import to_html
from exporter.workers import ordered_map, worker_count

# Below this many notes to render, workers cost more than they save (docs/BENCHMARKS.md).
PARALLEL_MIN_NOTES = 1_500
_CHUNK = 32  # notes per task: enough to hide the messaging, small enough to keep order cheap
_Job = tuple[str, str, Mapping[str, str]]


def fields_in_order(
    notes: Sequence[NoteSpec], workers: int | None = None
) -> Iterator[tuple[str, ...]]:
    """The fields of each of ``notes``, in order. ``workers``: how many processes may
    render (default: one per core when worth it; 1 renders here)."""
    todo = [n for n in notes if n.known_html is None]
    count = worker_count(len(todo), PARALLEL_MIN_NOTES, workers)
    rendered = ordered_map(_render, map(_job, todo), count, _CHUNK)
    for note in notes:
        if note.known_html is not None:
            yield note.fields
        else:
            yield fields_for(note.role_file, note.question, next(rendered))
    rendered.close()


def _job(note: NoteSpec) -> _Job:
    q = note.question
    return q.question, q.answer, q.media_names()


def _render(job: _Job) -> tuple[str, str]:
    question, answer, media = job
    return to_html(question, media), to_html(answer, media)
