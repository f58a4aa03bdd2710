"""Synthetic question banks for the benchmark: N questions over a few role files, fixed seed.

Each question has a ~120-character question, a ~1,100-character answer and two tags, like a
real bank. Realistic answers (the default) hold what real ones do: `<`, `&` and quotes,
`*emphasis*`, `inline code`, a list in one answer out of three and a fenced code block in one
out of ten. ``realistic=False`` gives plain prose (two paragraphs, no Markdown at all). The
same (size, seed, kind) always gives the same bytes.
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


CODE = (
    "def rollback(service, version):",
    '    if service.health() < 0.99 and version != "stable":',
    "        return deploy(service, previous(version))  # p95 > 250 ms",
    "    return service",
)


def _marked(rng: random.Random, sentence: str) -> str:
    """A sentence with the markup real answers have: emphasis, code, <, &, quotes."""
    words = sentence.split(" ")
    for _ in range(2):
        i = rng.randrange(len(words))
        words[i] = rng.choice(
            (f"*{words[i]}*", f"`{words[i]}_v2`", f"**{words[i]}**", f'"{words[i]}"')
        )
    extra = rng.choice(
        (" (latency < 200 ms & errors < 1%)", " when p99 > budget", " & its owner", "", "")
    )
    return " ".join(words) + extra


def _answer(rng: random.Random, realistic: bool) -> list[str]:
    if not realistic:
        return [". ".join(_sentence(rng, 90) for _ in range(6)) + "." for _ in range(2)]
    blocks = [". ".join(_marked(rng, _sentence(rng, 80)) for _ in range(5)) + "."]
    if rng.random() < 1 / 3:
        blocks.append("\n".join(f"- {_marked(rng, _sentence(rng, 40))}" for _ in range(3)))
    if rng.random() < 1 / 10:
        blocks.append("\n".join(("```python", *CODE, "```")))
    blocks.append(". ".join(_marked(rng, _sentence(rng, 80)) for _ in range(4)) + ".")
    return blocks


def _question(rng: random.Random, qid: str, realistic: bool = True) -> str:
    question = _sentence(rng, 118) + "?"
    body = "\n\n".join(_answer(rng, realistic))
    indented = "\n".join("      " + line if line else "" for line in body.split("\n"))
    tags = rng.sample(TAGS, 2)
    return (
        f"  - id: {qid}\n"
        f"    difficulty: {rng.choice(DIFFICULTIES)}\n"
        f"    question: {question}\n"
        f"    answer: |-\n"
        f"{indented}\n"
        f"    tags: [{tags[0]}, {tags[1]}]\n"
    )


def make_bank(
    folder: Path,
    size: int,
    seed: int = SEED,
    *,
    realistic: bool = True,
    files: int | None = None,
) -> Path:
    """Write a bank of ``size`` questions into ``folder`` (reused if already complete), over
    ``files`` role files (default: one per 100 questions, at most 8)."""
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}:{size}:{realistic}:{files}")
    files = files or role_count(size)
    per_file = [size // files + (1 if i < size % files else 0) for i in range(files)]
    n = 0
    roles = [
        ROLES[i % len(ROLES)] + (f" {i // len(ROLES) + 1}" if i >= len(ROLES) else "")
        for i in range(files)
    ]
    for role, count in zip(roles, per_file, strict=True):
        slug = role.lower().replace(" ", "-")
        parts = [f"role: {role}\n", f"description: Synthetic {role} questions.\n", "questions:\n"]
        for _ in range(count):
            n += 1
            parts.append(_question(rng, f"{slug}-q{n}", realistic))
        (folder / f"{slug}.yaml").write_text("".join(parts), encoding="utf-8")
    done.write_text("")
    return folder


def ankdown_bank(bank: Path, folder: Path) -> Path:
    """The bank as ankdown's input (one Markdown file per role file: front, ``%``, back,
    ``%``, tags, ``---`` between cards), written into ``folder`` (reused if complete)."""
    import yaml

    if (folder / ".complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(bank.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        cards = [
            f"{q['question']}\n\n%\n\n{q['answer']}\n\n%\n\n{', '.join(q.get('tags', []))}"
            for q in data["questions"]
        ]
        (folder / f"{path.stem}.md").write_text("\n\n---\n\n".join(cards) + "\n", "utf-8")
    (folder / ".complete").touch()
    return folder


def bank_bytes(folder: Path) -> int:
    """The bank's size on disk: the sum of its YAML files."""
    return sum(p.stat().st_size for p in folder.glob("*.yaml"))
