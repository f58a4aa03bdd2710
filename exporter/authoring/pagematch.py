"""Which question of a content file each question of a page is, so that importing a page
again never changes an id (Anki knows a note by it, and its review history with it).

In order, each file question matched at most once: the same question and answer; the same
question text (the k-th copy on the page is the k-th copy in the file, so a page that
repeats a question is stable); the same sample answer; the id a first import of the page
would have given it; then the question at the same position, when its text or answer is
similar. A weak likeness at the same position still keeps the id, and says so. Every step
is a dictionary lookup or one comparison per question: importing is linear in the size of
the page.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from exporter.authoring.page import PageQuestion
from exporter.content.model import Question

_STOPWORDS = frozenset(
    """a about after an and any are as at be been being by can could describe did do does
    each explain for from give had has have how i if in into is it its me my of on or our
    should so take tell than that the their them then there these they this time to us
    walk was we were what when where whether which while who why will with would you your
    situation steps""".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ID_WORDS = 4
SAME = 0.6  # similarity at the same position that makes a reworded question the same one
UNSURE = 0.35  # below SAME but at least this: the same one, said to the user to check


def id_for(question: str) -> str:
    """A short readable id from a question's first meaningful words."""
    # (import-text writes a page's '[' as '&#91;' where it would open a link)
    words = [
        w for w in _WORD.findall(question.lower().replace("&#91;", "[")) if w not in _STOPWORDS
    ]
    return "-".join(words[:ID_WORDS]) or "question"


class Namer:
    """Unique ids from bases (``drift``, ``drift-2``, …) in constant time per id."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = set(taken or ())
        self._next: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        candidate = base
        n = self._next.get(base, 2)
        while candidate in self.taken:
            candidate, n = f"{base}-{n}", n + 1
        self._next[base] = n
        self.taken.add(candidate)
        return candidate


@dataclass(frozen=True)
class Matches:
    """Page index -> file index, and what the user should check (page line, message)."""

    pairs: dict[int, int]
    unsure: tuple[tuple[int, str], ...]


def match(page: Sequence[PageQuestion], old: Sequence[Question]) -> Matches:
    """Pair each page question with the file question it is, where there is one."""
    pairs: dict[int, int] = {}
    free = set(range(len(old)))

    def pair_by(keys: Sequence[str], index: dict[str, deque[int]]) -> None:
        for i, key in enumerate(keys):
            if i in pairs:
                continue
            queue = index.get(key)
            while queue and queue[0] not in free:
                queue.popleft()
            if queue:
                j = queue.popleft()
                pairs[i] = j
                free.discard(j)

    both = "\x1f"  # question and answer together first: a reordered repeat keeps its id
    pair_by(
        [q.question + both + q.answer for q in page],
        _index(q.question + both + q.answer for q in old),
    )
    pair_by([q.question for q in page], _index(q.question for q in old))
    pair_by([q.answer for q in page], _index(q.answer for q in old))
    generate = Namer()
    pair_by([generate(id_for(q.question)) for q in page], _index(q.id for q in old))
    unsure: list[tuple[int, str]] = []
    for i, pq in enumerate(page):
        if i in pairs or i not in free:
            continue
        oq = old[i]
        score = max(
            _similar(pq.question, oq.question) if pq.difficulty == oq.difficulty else 0.0,
            _similar(pq.answer, oq.answer),
        )
        if score >= UNSURE:
            pairs[i] = i
            free.discard(i)
        if UNSURE <= score < SAME:
            unsure.append(
                (
                    pq.line,
                    f"kept the id '{oq.id}' for this question: it stands where that one "
                    f"stood and reads {score:.0%} alike; check it is the same question",
                )
            )
    return Matches(pairs, tuple(unsure))


def _index(keys: Iterable[str]) -> dict[str, deque[int]]:
    out: dict[str, deque[int]] = defaultdict(deque)
    for j, key in enumerate(keys):
        out[key].append(j)
    return out


def _similar(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < UNSURE or matcher.quick_ratio() < UNSURE:
        return 0.0
    return matcher.ratio()
