"""The baselines: the plain scripts a careful user might write with PyYAML and genanki.

    python bench/baseline.py CONTENT_DIR OUTPUT.apkg [--c-loader] [--markdown]

Load every file (libyaml's ``CSafeLoader`` with ``--c-loader``, as a careful user writes it;
pure-Python ``yaml.safe_load`` without), one genanki note per question, one deck per role
file, ``Package.write_to_file``. With ``--markdown`` the question and answer go through
markdown-it-py (CommonMark, raw HTML escaped: ``html: False``), like for like with ours. No
validation, no line numbers, no build history, no deterministic zip.
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


def main(content: Path, output: Path, c_loader: bool, markdown: bool = False) -> None:
    """Build every ``*.yaml`` under ``content`` into ``output``."""
    loader = yaml.CSafeLoader if c_loader else yaml.SafeLoader

    def plain(text: str) -> str:
        return text

    render = plain
    if markdown:
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark", {"html": False, "breaks": True})

        def render(text: str) -> str:
            return str(md.render(text))

    decks = []
    for i, path in enumerate(sorted(content.glob("*.yaml"))):
        with path.open(encoding="utf-8") as f:
            data = yaml.load(f, Loader=loader)
        deck = genanki.Deck(2059400110 + i, f"Interview Questions::{data['role']}")
        for q in data["questions"]:
            deck.add_note(
                genanki.Note(
                    model=MODEL,
                    fields=[
                        render(q["question"]),
                        render(q["answer"]),
                        q["difficulty"],
                        data["role"],
                    ],
                    tags=q.get("tags", []),
                    guid=genanki.guid_for(q["id"]),
                )
            )
        decks.append(deck)
    genanki.Package(decks).write_to_file(str(output))


if __name__ == "__main__":
    main(
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        "--c-loader" in sys.argv[3:],
        "--markdown" in sys.argv[3:],
    )
