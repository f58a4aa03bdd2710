"""A parsed question page + an existing content file -> the merged ``RoleFile``.

Questions already in the file (same id, or same question text) keep their id and tags and
take the page's text; new ones are appended with ids made from their question; nothing is
removed unless asked (``prune``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from exporter.authoring.page import Page, parse_page
from exporter.authoring.pagematch import Namer, id_for, match
from exporter.authoring.yamlwrite import dump_role_file
from exporter.content.load import collector_paused, load_file
from exporter.content.model import Question, RoleFile, default_deck, slugify
from exporter.content.sources import SourceFile, decode
from exporter.errors import ContentError, ContentErrors
from exporter.files import (
    CONTENT_CAP,
    PAGE_CAP,
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
    for i, pq in enumerate(page.questions):
        generated = generate(id_for(pq.question))
        j = found.pairs.get(i)
        if j is not None:
            kept[j] = replace(
                old[j], difficulty=pq.difficulty, question=pq.question, answer=pq.answer
            )
        else:
            added.append(Question(name_new(generated), pq.difficulty, pq.question, pq.answer))
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
    page = parse_page(text, where)
    target = output or Path("content") / f"{slugify(page.role)}.yaml"
    check_target(target, "content file")
    existing: RoleFile | None = None
    before: str | None = None
    final, unchanged = target, {}
    if target.exists():
        # An existing file is edited as pull --apply edits one: where a link points (the link
        # kept), and only while it still holds what was read (never a twin split off).
        final = target.resolve()
        loaded = load_file(SourceFile(final, display(str(target))))
        existing = loaded.role_file
        if loaded.errors or existing is None:
            raise ContentErrors(loaded.errors)
        raw = read_regular(final, CONTENT_CAP)
        before, unchanged = raw.decode("utf-8-sig"), {final: raw}
    merged = merge(page, existing, str(target), prune=prune)
    after = dump_role_file(merged.role_file)
    if after != before:
        write_files([(final, after.encode("utf-8"))], unchanged=unchanged)
    notices = tuple(f"{where}:{line}: note: {message}" for line, message in merged.notices)
    return ImportResult(target, after != before, merged.summary, notices)
