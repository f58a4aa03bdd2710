"""``import-text``: a published question page + the content file it goes into -> the merged
``RoleFile``, checked as ``validate`` would and written back.

Questions already in the file (which file question each page question is:
``exporter.authoring.pagematch``) keep their id and tags and take the page's text; new ones
are appended with ids made from their question; nothing is removed unless asked
(``prune``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from exporter.authoring.literal import literal_markdown
from exporter.authoring.page import Page, PageQuestion, parse_page
from exporter.authoring.pagematch import Namer, id_for, match
from exporter.authoring.yamlwrite import dump_role_file
from exporter.content.load import LoadedFile, check_bytes, collector_paused, load_file
from exporter.content.model import Question, RoleFile, default_deck, slugify
from exporter.content.sources import SourceFile, decode
from exporter.errors import ContentError, ContentErrors
from exporter.files import (
    CONTENT_CAP,
    PAGE_CAP,
    Editing,
    InputError,
    check_target,
    display,
    read_regular,
    write_files,
)


@dataclass(frozen=True)
class Merged:
    """The merged role file and what happened to its questions."""

    role_file: RoleFile
    kept: int
    updated: int
    added: int
    removed: int
    notices: tuple[tuple[int, str], ...] = ()  # (page line, what to check)
    origins: Mapping[str, PageQuestion] = field(default_factory=dict)  # id -> page question

    @property
    def summary(self) -> str:
        """E.g. '9 unchanged, 1 updated, 1 added, 0 removed'."""
        return (
            f"{self.kept} unchanged, {self.updated} updated, {self.added} added, "
            f"{self.removed} removed"
        )


def merge(page: Page, existing: RoleFile | None, path: str, *, prune: bool = False) -> Merged:
    """The content of ``path`` after importing ``page`` into what it held (if anything)."""
    old = list(existing.questions) if existing else []
    if existing is not None and slugify(existing.role) != slugify(page.role):
        raise ContentErrors(
            [
                ContentError(
                    path,
                    existing.deck_line,
                    0,
                    f"this file holds the role '{existing.role}' but the page is about "
                    f"'{page.role}'; import it into its own file with -o",
                    code="import-role-mismatch",
                )
            ]
        )
    found = match(page.questions, old)
    name_new = Namer({q.id for q in old})
    generate = Namer()
    kept: dict[int, Question] = {}
    added: list[Question] = []
    origins: dict[str, PageQuestion] = {}
    for i, pq in enumerate(page.questions):
        generated = generate(id_for(pq.question))
        j = found.pairs.get(i)
        if j is not None:
            kept[j] = old[j]._replace(
                difficulty=pq.difficulty, question=pq.question, answer=pq.answer
            )
            origins[old[j].id] = pq
        else:
            added.append(Question(name_new(generated), pq.difficulty, pq.question, pq.answer))
            origins[added[-1].id] = pq
    if prune and old and not kept:
        raise ContentErrors(
            [
                ContentError(
                    path,
                    0,
                    0,
                    f"--prune would remove all {len(old)} questions of this file (none of them "
                    "is on the page); check the page, or delete the file to start again",
                    code="import-prune-all",
                )
            ]
        )
    merged = [kept.get(i, q) for i, q in enumerate(old) if i in kept or not prune]
    name = existing.role if existing else page.role
    role_file = RoleFile(
        display_path=path,
        role=name,
        deck=existing.deck if existing else default_deck(name),
        description=page.description or (existing.description if existing else ""),
        questions=tuple(merged + added),
    )
    updated = sum(1 for i, q in kept.items() if q != old[i])
    return Merged(
        role_file=role_file,
        kept=len(kept) - updated,
        updated=updated,
        added=len(added),
        removed=len(old) - len(kept) if prune else 0,
        notices=found.unsure,
        origins=origins,
    )


@dataclass(frozen=True)
class ImportResult:
    """Where the page went and whether the file changed."""

    path: Path
    changed: bool
    summary: str
    notices: tuple[str, ...] = ()


def import_page(page_path: Path, output: Path | None, *, prune: bool = False) -> ImportResult:
    """Import the page at ``page_path`` into ``output`` (default content/<role-slug>.yaml)."""
    with collector_paused():  # millions of small objects and no cycles in a big page
        return _import_page(page_path, output, prune=prune)


def _import_page(page_path: Path, output: Path | None, *, prune: bool) -> ImportResult:
    where = display(str(page_path))
    try:
        raw = read_regular(page_path, PAGE_CAP)
    except InputError as exc:
        raise ContentErrors([ContentError(where, 0, 0, str(exc), code="page-unreadable")]) from None
    except OSError as exc:
        raise ContentErrors(
            [ContentError(where, 0, 0, f"cannot read ({exc.strerror})", code="page-unreadable")]
        ) from None
    text, bad_bytes = decode(raw, where)
    if bad_bytes is not None:
        raise ContentErrors([bad_bytes])
    page = as_markdown(parse_page(text, where), where)
    target = output or Path("content") / f"{slugify(page.role)}.yaml"
    check_target(target, "content file")
    existing: RoleFile | None = None
    before: str | None = None
    final, expected = target, {}
    if target.exists():
        # An existing file is edited as pull --apply edits one: where a link points (the link
        # kept), and only while it still holds what was read (never a twin split off).
        final = target.resolve()
        loaded = load_file(SourceFile(final, display(str(target))))
        existing = loaded.role_file
        if loaded.errors or existing is None:
            raise ContentErrors(loaded.errors)
        raw = read_regular(final, CONTENT_CAP)
        before, expected = raw.decode("utf-8-sig"), {final: raw}
    merged = merge(page, existing, str(target), prune=prune)
    source = SourceFile(final.resolve(), display(str(target)))
    checked: list[tuple[str, LoadedFile]] = []

    def holds(text: str, role_file: RoleFile) -> bool:
        """The content check of ``text``, kept; True when it holds ``role_file`` exactly."""
        loaded = check_bytes(source, text.encode("utf-8"))
        checked[:] = [(text, loaded)]
        return loaded.role_file is not None and _same_text(loaded.role_file, role_file)

    after = dump_role_file(merged.role_file, holds=holds)
    if after != before:  # (the file as it stands was checked when it was loaded)
        loaded = checked[0][1] if checked[0][0] is after else check_bytes(source, after.encode())
        _check_written(after, loaded, page, merged, where)
        edited = Editing(expected, command="import-text", writer="import-text")
        write_files([(final, after.encode("utf-8"))], editing=edited)
    notices = tuple(f"{where}:{line}: note: {message}" for line, message in merged.notices)
    return ImportResult(target, after != before, merged.summary, notices)


def as_markdown(page: Page, where: str) -> Page:
    """``page`` with each text written as the Markdown a card shows as that text (escaped
    where the page's text would read as Markdown, a formula or HTML); ``ContentErrors`` at
    the text's page line where no Markdown can."""
    errors: list[ContentError] = []

    def written(text: str, line: int) -> str:
        markdown = literal_markdown(text)
        if markdown is None:
            errors.append(
                ContentError(
                    where,
                    line,
                    0,
                    "this text cannot be written so that a card shows it as the page does "
                    "(a '\\[' Anki would typeset as a formula?); reword it",
                    code="page-text-unwritable",
                )
            )
            return text
        return markdown

    questions = tuple(
        replace(
            q,
            question=written(q.question, q.question_line),
            answer=written(q.answer, q.answer_line),
        )
        for q in page.questions
    )
    description = written(page.description, page.description_line)
    if errors:
        raise ContentErrors(errors)
    return replace(page, description=description, questions=questions)


_ITEM = re.compile(r"  - |(role|description|deck|questions):|    (question|answer):")


def _same_text(loaded: RoleFile, role_file: RoleFile) -> bool:
    """True when the file read back holds ``role_file``'s role, description and questions."""
    return (
        (loaded.role, loaded.description, loaded.deck)
        == (role_file.role, role_file.description, role_file.deck)
        and len(loaded.questions) == len(role_file.questions)
        and all(
            (a.id, a.difficulty, a.question, a.answer, a.tags, a.guid)
            == (b.id, b.difficulty, b.question, b.answer, b.tags, b.guid)
            for a, b in zip(loaded.questions, role_file.questions, strict=True)
        )
    )


def _check_written(after: str, loaded: LoadedFile, page: Page, merged: Merged, where: str) -> None:
    """Refuse, at the page's line, a file the next ``validate`` would refuse: whatever the
    content check found in the text as written (each problem told once, at its page line)."""
    if not loaded.errors:
        return
    # Where each line of the written file came from: the page's title, description, or a
    # question's header, question or answer.
    questions = merged.role_file.questions
    origin: list[int] = []
    k, line = -1, page.role_line
    for text in after.split("\n"):
        item = _ITEM.match(text)
        if item is not None:
            key = item[1] or item[2] or ""
            if text.startswith("  - "):
                k += 1
                pq = merged.origins.get(questions[k].id) if k < len(questions) else None
                line = pq.line if pq else page.role_line
            elif key == "description":
                line = page.description_line or page.role_line
            elif key in ("question", "answer") and 0 <= k < len(questions):
                pq = merged.origins.get(questions[k].id)
                line = (pq.question_line if key == "question" else pq.answer_line) if pq else 0
            elif key in ("role", "deck", "questions"):
                line = page.role_line
        origin.append(line)
    problems = {
        (origin[e.line - 1] if 0 < e.line <= len(origin) else page.role_line, e.message)
        for e in loaded.errors
    }
    raise ContentErrors(
        ContentError(
            where,
            line or page.role_line,
            0,
            f"this text would make a content file that cannot be built: {message}",
            code="page-text-unwritable",
        )
        for line, message in sorted(problems)
    )
