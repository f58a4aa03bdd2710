"""A parsed question page + an existing content file -> the merged ``Role``.

Questions already in the file (same id, or same question text) keep their id and tags and
take the page's text; new ones are appended with ids made from their question; nothing is
removed unless asked (``prune``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from exporter.model import Question, Role, default_deck
from exporter.page import Page

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


def merge(page: Page, existing: Role | None, path: str, *, prune: bool = False) -> Role:
    """The content of ``path`` after importing ``page`` into what it held (if anything)."""
    old = list(existing.questions) if existing else []
    by_text = {q.question: i for i, q in enumerate(old)}
    by_id = {q.id: i for i, q in enumerate(old)}
    taken = {q.id for q in old}
    kept: dict[int, Question] = {}
    added: list[Question] = []
    for pq in page.questions:
        generated = id_for(pq.question)
        index = by_text.get(pq.question, by_id.get(generated))
        if index is not None and index not in kept:
            kept[index] = replace(
                old[index], difficulty=pq.difficulty, question=pq.question, answer=pq.answer
            )
        else:
            added.append(Question(_unique(generated, taken), pq.difficulty, pq.question, pq.answer))
    merged = [kept.get(i, q) for i, q in enumerate(old) if i in kept or not prune]
    role = existing.role if existing else page.role
    return Role(
        path=path,
        role=role,
        deck=existing.deck if existing else default_deck(role),
        description=page.description or (existing.description if existing else ""),
        questions=tuple(merged + added),
    )
