"""A parsed question page + an existing content file -> the merged ``RoleFile``.

Questions already in the file (same id, or same question text) keep their id and tags and
take the page's text; new ones are appended with ids made from their question; nothing is
removed unless asked (``prune``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from exporter.atomic import write_files
from exporter.errors import ContentError, ContentErrors
from exporter.load import load_file
from exporter.model import Question, RoleFile, default_deck, slugify
from exporter.page import Page, parse_page
from exporter.safeio import (
    CONTENT_CAP,
    PAGE_CAP,
    InputError,
    check_target,
    display,
    read_regular,
)
from exporter.sources import SourceFile, decode
from exporter.yamlwrite import dump_role_file

_STOPWORDS = frozenset(
    """a about after an and any are as at be been being by can could describe did do does
    each explain for from give had has have how i if in into is it its me my of on or our
    should so take tell than that the their them then there these they this time to us
    walk was we were what when where whether which while who why will with would you your
    situation steps""".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ID_WORDS = 4


def id_for(question: str) -> str:
    """A short readable id from a question's first meaningful words."""
    words = [w for w in _WORD.findall(question.lower()) if w not in _STOPWORDS]
    return "-".join(words[:ID_WORDS]) or "question"


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


@dataclass(frozen=True)
class Merged:
    """The merged role file and what happened to its questions."""

    role_file: RoleFile
    kept: int
    updated: int
    added: int
    removed: int

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
    by_text = {q.question: i for i, q in enumerate(old)}
    by_id = {q.id: i for i, q in enumerate(old)}
    taken = {q.id for q in old}
    kept: dict[int, Question] = {}
    added: list[Question] = []
    named: set[str] = set()
    for pq in page.questions:
        # The id a first import of this page gives it (page order, '-2' for a repeat), so an
        # edited question still finds the one it was imported as.
        generated = _unique(id_for(pq.question), named)
        index = by_text.get(pq.question, by_id.get(generated))
        if index is not None and index not in kept:
            kept[index] = replace(
                old[index], difficulty=pq.difficulty, question=pq.question, answer=pq.answer
            )
        else:
            added.append(Question(_unique(generated, taken), pq.difficulty, pq.question, pq.answer))
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
    )


@dataclass(frozen=True)
class ImportResult:
    """Where the page went and whether the file changed."""

    path: Path
    changed: bool
    summary: str


def import_page(page_path: Path, output: Path | None, *, prune: bool = False) -> ImportResult:
    """Import the page at ``page_path`` into ``output`` (default content/<role-slug>.yaml)."""
    where = display(str(page_path))
    try:
        raw = read_regular(page_path, PAGE_CAP)
    except InputError as exc:
        raise ContentErrors([ContentError(where, 0, 0, str(exc))]) from None
    except OSError as exc:
        raise ContentErrors([ContentError(where, 0, 0, f"cannot read ({exc.strerror})")]) from None
    text, bad_bytes = decode(raw, where)
    if bad_bytes is not None:
        raise ContentErrors([bad_bytes])
    page = parse_page(text, where)
    target = output or Path("content") / f"{slugify(page.role)}.yaml"
    check_target(target, "content file")
    existing: RoleFile | None = None
    before: str | None = None
    if target.exists():
        loaded = load_file(SourceFile(target.resolve(), display(str(target))))
        existing = loaded.role_file
        if loaded.errors or existing is None:
            raise ContentErrors(loaded.errors)
        before = read_regular(target, CONTENT_CAP).decode("utf-8-sig")
    merged = merge(page, existing, str(target), prune=prune)
    after = dump_role_file(merged.role_file)
    if after != before:
        write_files([(target, after.encode("utf-8"))])
    return ImportResult(target, after != before, merged.summary)
