"""Content files -> a checked ``Bank``: read, compose, walk each file, then check the bank as
a whole (ids unique across files). Every problem becomes a ``ContentError``."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from exporter.errors import ContentError, ContentErrors
from exporter.model import DIFFICULTIES, Bank, Question, RoleFile
from exporter.schema import check_file
from exporter.sources import SourceFile, Sources, read_text, size_of
from exporter.yamlsyntax import alias_errors, compose

Progress = Callable[[int, int], None]


def load_bank(sources: Sources, *, progress: Progress | None = None) -> Bank:
    """Read every content file of ``sources``; raise ``ContentErrors`` with all problems.

    ``progress(done, total)`` is told the bytes read so far after each file.
    """
    errors = list(sources.errors)
    sizes = [size_of(f.path) for f in sources.files]
    total, done = sum(sizes), 0
    files: list[RoleFile] = []
    first_seen: dict[str, tuple[str, int]] = {}
    with collector_paused():
        for source, size in zip(sources.files, sizes, strict=True):
            role_file, ids, file_errors = load_file(source)
            errors.extend(file_errors)
            for qid, line in ids:
                if qid in first_seen:
                    where = "{}:{}".format(*first_seen[qid])
                    errors.append(
                        ContentError(
                            source.display_path,
                            line,
                            0,
                            f"duplicate id '{qid}': already used at {where}; "
                            "ids must be unique across all files",
                        )
                    )
                else:
                    first_seen[qid] = (source.display_path, line)
            if role_file is not None:
                files.append(role_file)
            if progress is not None:
                done += size
                progress(done, total)
    if errors:
        raise ContentErrors(errors)
    return Bank(tuple(files))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic GC: loading and planning make millions of small, long-lived objects
    and no cycles, and every collection would rescan them all (docs/BENCHMARKS.md)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_file(
    source: SourceFile,
) -> tuple[RoleFile | None, list[tuple[str, int]], list[ContentError]]:
    """Parse and check one content file.

    Returns the role file (``None`` when the file has any problem), every well-formed
    question id with its line (so duplicates are found even in a file with other problems),
    and the file's problems.
    """
    where = source.display_path
    text, err = read_text(source)
    if err is None:
        root, err = compose(text, where)
    if err is not None:
        return None, [], [err]
    if root is None:
        what = "only comments" if text.strip() else "nothing"
        message = f"the file holds {what}: expected a mapping with 'role' and 'questions'"
        return None, [], [ContentError(where, 1, 0, message)]
    walk = check_file(root, where)
    role_file = walk.result
    if walk.repeated:
        walk.errors.extend(alias_errors(text, where, walk.repeated))
        role_file = None
    del root, text  # free the node tree before copying what survives out of it
    if role_file is None:
        return None, walk.ids, walk.errors
    role_file = _compact(role_file)
    return role_file, [(q.id, q.line) for q in role_file.questions], walk.errors


def _compact(role_file: RoleFile) -> RoleFile:
    """The role file with its small values copied into fresh memory.

    The values a file keeps were allocated between the nodes of its YAML tree; left there,
    they pin the freed tree's memory (docs/BENCHMARKS.md). Copies made after the tree is gone
    pack densely, and the originals' memory can go back to the system.
    """
    return replace(
        role_file,
        questions=tuple(
            Question(
                id=_fresh(q.id),
                difficulty=_DIFFICULTY[q.difficulty],
                question=_fresh(q.question),
                answer=_fresh(q.answer),
                tags=tuple(_fresh(t) for t in q.tags),
                line=q.line,
            )
            for q in role_file.questions
        ),
    )


_DIFFICULTY = {d: d for d in DIFFICULTIES}


def _fresh(text: str) -> str:
    """A new string object equal to ``text`` (str() and slicing return the same object)."""
    return (text + " ")[:-1] if len(text) <= 512 else text
