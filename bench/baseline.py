"""The baseline: the plain script a user might write with PyYAML and genanki.

    python bench/baseline.py CONTENT_DIR OUTPUT.apkg [--c-loader]

``yaml.safe_load`` every file, one genanki note per question, one deck per role file,
``Package.write_to_file``. No validation, no line numbers, no build history. With
``--c-loader`` it parses with libyaml (``CSafeLoader``), as a careful user might.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genanki
import yaml

MODEL = genanki.Model(
    1607392319,
    "Interview Question",
    fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Difficulty"}, {"name": "Role"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Question}}<br><i>{{Difficulty}} · {{Role}}</i>",
            "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}",
        }
    ],
)


def main(content: Path, output: Path, c_loader: bool) -> None:
    """Build every ``*.yaml`` under ``content`` into ``output``."""
    loader = yaml.CSafeLoader if c_loader else yaml.SafeLoader
    decks = []
    for i, path in enumerate(sorted(content.glob("*.yaml"))):
        with path.open(encoding="utf-8") as f:
            data = yaml.load(f, Loader=loader)
        deck = genanki.Deck(2059400110 + i, f"Interview Questions::{data['role']}")
        for q in data["questions"]:
            deck.add_note(
                genanki.Note(
                    model=MODEL,
                    fields=[q["question"], q["answer"], q["difficulty"], data["role"]],
                    tags=q.get("tags", []),
                    guid=genanki.guid_for(q["id"]),
                )
            )
        decks.append(deck)
    genanki.Package(decks).write_to_file(str(output))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), "--c-loader" in sys.argv[3:])
