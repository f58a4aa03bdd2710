"""What a bank holds at a glance: roles x difficulties, totals, the most used tags (shown by
``exporter.cli.report.stats_report``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from exporter.content.model import DIFFICULTIES, Bank


@dataclass(frozen=True)
class Stats:
    """Counts per role and difficulty (roles in bank order), and tag use."""

    by_role: dict[str, dict[str, int]]
    totals: dict[str, int]
    tags: tuple[tuple[str, int], ...]
    images: int = 0  # image files the questions show (each counted once)
    image_bytes: int = 0
    cards: dict[str, int] | None = None  # cards by kind: question, key-points, reverse

    @property
    def by_kind(self) -> dict[str, int]:
        """The cards a build makes, by kind, and their total."""
        cards = dict(self.cards or {"question": self.totals.get("total", 0)})
        counts = {k: cards.get(k, 0) for k in ("question", "key-points", "reverse")}
        return {**counts, "total": sum(counts.values())}

    def as_json(self) -> dict[str, object]:
        """A plain structure for ``--json``."""
        return {
            "roles": {role: {**counts} for role, counts in self.by_role.items()},
            "totals": dict(self.totals),
            "tags": [{"tag": tag, "count": n} for tag, n in self.tags],
            "images": {"files": self.images, "bytes": self.image_bytes},
            "cards": self.by_kind,
        }


def stats_for(bank: Bank, *, top_tags: int = 10) -> Stats:
    """Count the bank's questions by role and difficulty, and the cards they make by kind;
    the ``top_tags`` most used tags."""
    by_role: dict[str, dict[str, int]] = {}
    tags: Counter[str] = Counter()
    cards: Counter[str] = Counter()
    for role_file in bank.files:
        counts = by_role.setdefault(role_file.role, dict.fromkeys((*DIFFICULTIES, "total"), 0))
        for q in role_file.questions:
            counts[q.difficulty] += 1
            counts["total"] += 1
            tags.update(q.tags)
            cards.update(question=1, reverse=int(q.reverse))
            cards["key-points"] += len(q.key_points)
    totals = {d: sum(c[d] for c in by_role.values()) for d in (*DIFFICULTIES, "total")}
    ranked = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:top_tags]
    media = {i.file.name: i.file.size for q in bank.questions for i in q.images if i.file}
    return Stats(by_role, totals, tuple(ranked), len(media), sum(media.values()), dict(cards))
