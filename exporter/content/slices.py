"""Slices of a bank (by difficulty, role, tag) and the order new cards are introduced in."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Literal, NamedTuple, get_args

from exporter.content.model import DIFFICULTIES, Bank, Question, RoleFile, slugify

Order = Literal["file", "difficulty"]
ORDERS: tuple[Order, ...] = get_args(Order)


class Slice(NamedTuple):
    """Which questions to keep; an empty criterion keeps everything."""

    difficulties: Collection[str] = ()
    roles: Collection[str] = ()
    tags: Collection[str] = ()

    def keeps_role(self, role_file: RoleFile) -> bool:
        """A role matches by its name or slug, in any case."""
        wanted = {slugify(r) for r in self.roles}
        return not wanted or role_file.slug in wanted

    def keeps(self, question: Question) -> bool:
        """A question matches every given criterion (any of several values within one)."""
        if self.difficulties and question.difficulty not in self.difficulties:
            return False
        return not self.tags or any(t in self.tags for t in question.tags)


def select(bank: Bank, chosen: Slice) -> tuple[Bank, int]:
    """The bank cut down to ``chosen``, and how many questions were left out."""
    files = []
    for role_file in bank.files:
        if not chosen.keeps_role(role_file):
            continue
        kept = tuple(q for q in role_file.questions if chosen.keeps(q))
        if kept:
            files.append(replace(role_file, questions=kept))
    out = Bank(tuple(files))
    return out, len(bank.questions) - len(out.questions)


def positions(questions: Sequence[Question], order: Order) -> list[int]:
    """Each question's new-card position (1-based), in bank order or easy -> hard."""
    indices = list(range(len(questions)))
    if order == "difficulty":
        rank = {d: i for i, d in enumerate(DIFFICULTIES)}
        indices.sort(key=lambda i: (rank[questions[i].difficulty], i))
    due = [0] * len(questions)
    for position, i in enumerate(indices, start=1):
        due[i] = position
    return due
