"""Content files -> a checked ``Bank``: read and check each file (one pass over its YAML
events, or the node walk where it has a problem), then the bank as a whole (ids unique
across files). Every problem becomes a ``ContentError``."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import NamedTuple

from exporter.content.check import SchemaWalk, check_file
from exporter.content.events import one_pass
from exporter.content.media import MediaProblem, resolve
from exporter.content.model import Bank, Image, RoleFile, deck_key, guid_for
from exporter.content.sources import (
    SourceFile,
    Sources,
    decode,
    read_bytes,
    size_of,
)
from exporter.content.yamlnodes import alias_errors, compose, editor_lines
from exporter.errors import ContentError, ContentErrors, ContentWarning

Progress = Callable[[int, int], None]


def load_bank(sources: Sources, *, progress: Progress | None = None) -> Bank:
    """Read every content file of ``sources``; raise ``ContentErrors`` with all problems.

    ``progress(done, total)`` is told the bytes read so far after each file.
    """
    checks = BankChecks(sources)
    with collector_paused():
        files = tuple(load_files(sources, checks, progress))
    return Bank(files, checks.finish())


def load_files(
    sources: Sources, checks: BankChecks, progress: Progress | None = None
) -> Iterator[RoleFile]:
    """Each content file of ``sources`` that has no problem, loaded and checked, one at a
    time (a build streams them: only one file's questions are held at once); ``checks``
    gathers every file's problems and the bank's (ids unique across files, ...), which its
    ``finish`` raises once the last file is read. ``progress(done, total)`` is told the
    bytes read so far after each file."""
    sizes = [size_of(f.path) for f in sources.files]
    total, done = sum(sizes), 0
    for source, size in zip(sources.files, sizes, strict=True):
        role_file = checks.add(source, load_file(source))
        if progress is not None:
            done += size
            progress(done, total)
        if role_file is not None:
            yield role_file


class BankChecks:
    """The problems and warnings of a bank read file by file, and the checks across its
    files, made as each file comes (so no file need be held for them): a question id used
    twice, a deck written two ways, an explicit ``guid`` taken twice."""

    def __init__(self, sources: Sources) -> None:
        self.errors: list[ContentError] = list(sources.errors)
        self.warnings: list[ContentWarning] = []
        self._first_seen: dict[str, tuple[str, int]] = {}
        self._decks: dict[str, tuple[str, str, int]] = {}  # key -> deck, file, line
        self._guids: list[tuple[str, int, str, str]] = []  # file, line, guid, question id
        self._unloaded: set[str] = set()  # the ids of files with a problem

    def add(self, source: SourceFile, loaded: LoadedFile) -> RoleFile | None:
        """Take one loaded file's problems and check it against the files before it; its
        role file when neither it nor any file before it had a problem (a build need not
        render what it will not write)."""
        self.errors.extend(loaded.errors)
        self.warnings.extend(loaded.warnings)
        for qid, line in loaded.ids:
            if qid in self._first_seen:
                where = "{}:{}".format(*self._first_seen[qid])
                self.errors.append(
                    ContentError(
                        source.display_path,
                        line,
                        0,
                        f"duplicate id '{qid}': already used at {where}; "
                        "ids must be unique across all files",
                        code="duplicate-id",
                    )
                )
            else:
                self._first_seen[qid] = (source.display_path, line)
        role_file = loaded.role_file
        if role_file is None:
            self._unloaded.update(qid for qid, _line in loaded.ids)
            return None
        self.errors.extend(self._deck_clash(role_file))
        self._guids += [
            (role_file.display_path, q.line, q.guid, q.id) for q in role_file.questions if q.guid
        ]
        return None if self.errors else role_file

    def finish(self) -> tuple[ContentWarning, ...]:
        """The bank's warnings, sorted; ``ContentErrors`` with every problem if any."""
        self.errors += self._guid_clashes()
        if self.errors:
            raise ContentErrors(self.errors, self.warnings)
        return tuple(sorted(set(self.warnings)))

    def _deck_clash(self, role_file: RoleFile) -> list[ContentError]:
        """A problem when this file's deck is another file's deck written differently
        (case, spaces): Anki would take them for one deck and rename one of them."""
        deck, where, line = self._decks.setdefault(
            deck_key(role_file.deck),
            (role_file.deck, role_file.display_path, role_file.deck_line),
        )
        if deck == role_file.deck:
            return []
        return [
            ContentError(
                role_file.display_path,
                role_file.deck_line,
                0,
                f"deck '{role_file.deck}' differs from '{deck}' ({where}:{line}) only in case, "
                "spaces or Unicode form, and Anki treats them as one deck; write the name the "
                "same way in both files",
                code="deck-differs",
            )
        ]

    def _guid_clashes(self) -> list[ContentError]:
        """An explicit ``guid`` used twice, or equal to another question's derived GUID."""
        if not self._guids:
            return []
        left = {qid for _f, _l, _g, qid in self._guids} | self._unloaded
        owner = {guid_for(qid): qid for qid in self._first_seen if qid not in left}
        errors = []
        for where, line, guid, qid in self._guids:
            other = owner.setdefault(guid, qid)
            if other != qid:
                errors.append(
                    ContentError(
                        where,
                        line,
                        0,
                        f"guid '{guid}' is also the note of question '{other}': each question "
                        "needs its own note",
                        code="guid-duplicate",
                    )
                )
        return errors


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


class LoadedFile(NamedTuple):
    """One content file, checked: the role file (``None`` when the file has any problem),
    every well-formed question id with its line (so duplicates are found even in a file
    with other problems), and the file's problems and warnings."""

    role_file: RoleFile | None
    ids: tuple[tuple[str, int], ...] = ()
    errors: tuple[ContentError, ...] = ()
    warnings: tuple[ContentWarning, ...] = ()


def load_file(source: SourceFile) -> LoadedFile:
    """Parse and check one content file, and resolve the images its questions show."""
    raw, err = read_bytes(source)
    return load_raw(source, raw, err)


def check_bytes(source: SourceFile, raw: bytes) -> LoadedFile:
    """``load_file`` of ``raw`` as the bytes ``source`` would hold (checked before writing)."""
    return load_raw(source, raw, None)


def load_raw(source: SourceFile, raw: bytes, err: ContentError | None) -> LoadedFile:
    """``load_file`` of the bytes ``raw`` read from ``source`` (or the error reading it)."""
    where = source.display_path
    text, err = ("", err) if err is not None else decode(raw, where)
    fix = editor_lines(text) if err is None else None
    walk = _walk(text, where) if err is None else err
    if isinstance(walk, ContentError):
        failed = LoadedFile(None, errors=(walk,))
        return failed if fix is None else _relined(failed, fix)
    role_file = walk.result
    if role_file is not None:
        role_file = _with_media(role_file, source, walk.errors)
    else:  # still check every image it shows: every problem in one run
        for image in walk.images:
            _resolved(image, source, walk.errors)
    if role_file is None or walk.errors:
        loaded = LoadedFile(None, tuple(walk.ids), tuple(walk.errors), tuple(walk.warnings))
    else:
        ids = tuple((q.id, q.line) for q in role_file.questions)
        loaded = LoadedFile(role_file, ids, (), tuple(walk.warnings))
    return loaded if fix is None else _relined(loaded, fix)


def _walk(text: str, where: str) -> SchemaWalk | ContentError:
    """The file checked in one pass over its YAML events, or (on any problem, or anything
    unusual) by the node walk, which says exactly what and where."""
    walk = one_pass(text, where)
    if walk is not None:
        return walk
    root, err = compose(text, where)
    if err is not None:
        return err
    if root is None:
        what = "only comments" if text.strip() else "nothing"
        message = f"the file holds {what}: expected a mapping with 'role' and 'questions'"
        return ContentError(where, 1, 0, message, code="file-empty")
    walk = check_file(root, where)
    if walk.repeated:
        walk.errors.extend(alias_errors(text, where, walk.repeated))
        walk.result = None
    return walk


def _relined(loaded: LoadedFile, fix: Callable[[int], int]) -> LoadedFile:
    """``loaded`` with every line number as the editor counts it."""
    role_file = loaded.role_file
    if role_file is not None:
        role_file = replace(
            role_file,
            deck_line=fix(role_file.deck_line),
            questions=tuple(
                q._replace(
                    line=fix(q.line), images=tuple(i._replace(line=fix(i.line)) for i in q.images)
                )
                for q in role_file.questions
            ),
        )
    return LoadedFile(
        role_file,
        tuple((qid, fix(line)) for qid, line in loaded.ids),
        tuple(replace(e, line=fix(e.line)) for e in loaded.errors),
        tuple(replace(w, line=fix(w.line)) for w in loaded.warnings),
    )


def check_media(source: SourceFile, role_file: RoleFile) -> RoleFile | None:
    """``role_file`` (of ``source``) with its images resolved anew; ``None`` if one has a
    problem now."""
    errors: list[ContentError] = []
    resolved = _with_media(role_file, source, errors)
    return None if errors else resolved


def _with_media(role_file: RoleFile, source: SourceFile, errors: list[ContentError]) -> RoleFile:
    """The role file with every image resolved to its media file; problems go to ``errors``."""
    if not any(q.images for q in role_file.questions):
        return role_file
    questions = []
    for q in role_file.questions:
        images = [i for i in (_resolved(image, source, errors) for image in q.images) if i]
        questions.append(q._replace(images=tuple(images)))
    return replace(role_file, questions=tuple(questions))


def _resolved(image: Image, source: SourceFile, errors: list[ContentError]) -> Image | None:
    """The image with its media file, or ``None`` (and its problem in ``errors``)."""
    try:
        file = resolve(image.src, source.path, source.content_root)
    except MediaProblem as exc:
        errors.append(ContentError(source.display_path, image.line, 0, str(exc), code=exc.code))
        return None
    return image._replace(file=file)
