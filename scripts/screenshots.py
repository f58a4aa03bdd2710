"""Photograph one card on a phone, front and back, light and dark, for the README.

The card goes the real way: content/ is built into a package, a fresh Anki collection
(Anki's own backend, the ``anki`` package) imports it and renders the card, and Debian's
headless Chromium shows that HTML at 360x740, wrapped as the Anki apps wrap it. So the
pictures change exactly when the cards do. Needs the test extras and /usr/bin/chromium
(``./scripts/test`` sets both up):

    .venv/bin/python scripts/screenshots.py            # -> docs/screenshots/*.png
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import PHONE, CardPage, card_document, launch_chromium  # noqa: E402

DEFAULT_CARD = "secure-ml-pipelines-model"
OUTPUT = ROOT / "docs" / "screenshots"


def rendered_card(qid: str, workdir: Path) -> tuple[str, str]:
    """The card's front and back HTML as Anki's backend renders them."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    package = workdir / "deck.apkg"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    subprocess.run(
        [sys.executable, "-m", "exporter", "build", str(ROOT / "content"), "-o", str(package)],
        check=True,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    col = Collection(str(workdir / "collection.anki2"))
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions())
        )
        (nid,) = col.find_notes(f'"ID:{qid}"')
        (card,) = col.get_note(nid).cards()
        return card.question(), card.answer()
    finally:
        col.close()


def main() -> None:
    """Write front/back x light/dark PNGs of one card on a phone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", default=DEFAULT_CARD, help="question id to photograph")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="folder for the PNGs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        front, back = rendered_card(args.card, Path(tmp))
    args.output.mkdir(parents=True, exist_ok=True)
    with launch_chromium() as browser:
        page = CardPage(browser, device_scale_factor=2)
        for side, html in (("front", front), ("back", back)):
            for theme in ("light", "dark"):
                page.show(card_document(html, night=theme == "dark"), PHONE)
                target = args.output / f"{side}-{theme}.png"
                page.page.screenshot(path=str(target), animations="disabled", caret="hide")
                print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
        page.close()


if __name__ == "__main__":
    main()
