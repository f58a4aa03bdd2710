"""Synthetic question banks for the benchmark: N questions over a few role files, fixed seed.

Each question has a ~120-character question, a ~1,100-character answer in two paragraphs and
two tags, like a real bank. The same (size, seed) always gives the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

SEED = 7
ROLES = (
    "MLOps Engineer",
    "Data Engineer",
    "Backend Engineer",
    "Site Reliability Engineer",
    "Frontend Engineer",
    "Security Engineer",
    "Data Scientist",
    "Engineering Manager",
)
TAGS = (
    "pipelines",
    "ci-cd",
    "monitoring",
    "testing",
    "scaling",
    "security",
    "databases",
    "leadership",
    "incidents",
    "design",
    "cost",
    "privacy",
)
WORDS = (
    "model data pipeline deploy service latency drift feature training batch stream cache "
    "queue schema version rollback canary metric alert budget owner review incident team "
    "cluster container registry storage retry timeout index partition replica backup audit "
    "policy access secret token experiment baseline dashboard trace log sample quality "
    "release contract consumer producer throughput capacity outage postmortem runbook"
).split()
DIFFICULTIES = ("easy", "medium", "hard")


def role_count(size: int) -> int:
    """How many role files a bank of ``size`` questions is spread over."""
    return max(1, min(len(ROLES), size // 100))


def _sentence(rng: random.Random, length: int) -> str:
    words: list[str] = []
    total = 0
    while total < length:
        word = rng.choice(WORDS)
        words.append(word)
        total += len(word) + 1
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _question(rng: random.Random, qid: str) -> str:
    question = _sentence(rng, 118) + "?"
    para1 = ". ".join(_sentence(rng, 90) for _ in range(6)) + "."
    para2 = ". ".join(_sentence(rng, 90) for _ in range(6)) + "."
    tags = rng.sample(TAGS, 2)
    return (
        f"  - id: {qid}\n"
        f"    difficulty: {rng.choice(DIFFICULTIES)}\n"
        f"    question: {question}\n"
        f"    answer: |-\n"
        f"      {para1}\n"
        f"\n"
        f"      {para2}\n"
        f"    tags: [{tags[0]}, {tags[1]}]\n"
    )


def make_bank(folder: Path, size: int, seed: int = SEED) -> Path:
    """Write a bank of ``size`` questions into ``folder`` (reused if already complete)."""
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}:{size}")
    files = role_count(size)
    per_file = [size // files + (1 if i < size % files else 0) for i in range(files)]
    n = 0
    for role, count in zip(ROLES, per_file, strict=False):
        slug = role.lower().replace(" ", "-")
        parts = [f"role: {role}\n", f"description: Synthetic {role} questions.\n", "questions:\n"]
        for _ in range(count):
            n += 1
            parts.append(_question(rng, f"{slug}-q{n}"))
        (folder / f"{slug}.yaml").write_text("".join(parts), encoding="utf-8")
    done.write_text("")
    return folder


def bank_bytes(folder: Path) -> int:
    """The bank's size on disk: the sum of its YAML files."""
    return sum(p.stat().st_size for p in folder.glob("*.yaml"))
