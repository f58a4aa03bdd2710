"""Photograph cards for the README: one card of the shipped bank on a phone, front and back,
light and dark; and the back of the rich example (math, code, a table, a diagram) in
AnkiDroid's card page on a phone (light, Dark, Black) and in Anki desktop's reviewer (light,
dark), with Anki's MathJax, configured as Anki configures it, typesetting it. And each kind
of card of the training example (docs/examples/training): the main card's front with its
hint opened and its back with the follow-ups, a key point's front and the reverse card's
back, on a phone and a desktop, light and dark.

The card goes the real way: content/ is built into a package, a fresh Anki collection
(Anki's own backend, the ``anki`` package) imports it and renders the card, and Debian's
headless Chromium shows that HTML at 360x740 or 1280x800 in the page the app shows it in
(tests/browser.py: AnkiDroid's body classes and page rules, desktop's CSS from the aqt
wheel), so the pictures show the apps' own backgrounds and change exactly when the cards
do. Needs the test extras, /usr/bin/chromium, MathJax and the aqt wheel in .cache/
(``./scripts/test`` sets them up):

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

from browser import (  # noqa: E402
    VIEWS,
    CardPage,
    launch_chromium,
    missing_aqt,
    missing_mathjax,
    view_document,
)

DEFAULT_CARD = "secure-ml-pipelines-model"
RICH_SOURCE = ROOT / "docs" / "examples" / "ml-monitoring"
RICH_CARD = "detect-data-drift-psi"
TRAINING_SOURCE = ROOT / "docs" / "examples" / "training"
TRAINING_CARD = "safe-payment-retries"
OUTPUT = ROOT / "docs" / "screenshots"


def rendered_card(
    qid: str,
    workdir: Path,
    source: Path = ROOT / "content",
    notetype: str = "Interview Question",
    number: int = 1,
) -> tuple[str, str, dict[str, bytes]]:
    """The front and back HTML of a card (of the question's note of ``notetype``; its card
    ``number``) as Anki's backend renders them, and the media files."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    package = workdir / "deck.apkg"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0"}
    subprocess.run(
        [sys.executable, "-m", "exporter", "build", str(source), "-o", str(package)],
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
        (nid,) = col.find_notes(f'"note:{notetype}" "ID:{qid}"')
        card = col.get_note(nid).cards()[number - 1]
        folder = Path(col.media.dir())
        media = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        return card.question(), card.answer(), media
    finally:
        col.close()


# Each picture: (file name, which card, view in tests/browser.py VIEWS). "dark" on a phone is
# AnkiDroid's Dark theme; its Black theme (its default at night) is "black".
SHOTS = [
    *(
        (f"{side}-{theme}", side, f"phone-{theme}")
        for side in ("front", "back")
        for theme in ("light", "dark")
    ),
    *((f"rich-phone-{theme}", "rich", f"phone-{theme}") for theme in ("light", "dark", "black")),
    *((f"rich-desktop-{theme}", "rich", f"desktop-{theme}") for theme in ("light", "dark")),
]


def main() -> None:
    """Write the PNGs of ``SHOTS``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", default=DEFAULT_CARD, help="question id to photograph")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="folder for the PNGs")
    args = parser.parse_args()
    reason = missing_mathjax() or missing_aqt()
    if reason is not None:
        sys.exit(f"scripts/screenshots.py: {reason}")
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as tmp2:
        front, back, _ = rendered_card(args.card, Path(tmp))
        _, rich_back, rich_media = rendered_card(RICH_CARD, Path(tmp2), RICH_SOURCE)
    kinds: dict[str, str] = {}
    for name, notetype, number, side in (
        ("main-front", "Interview Question", 1, 0),
        ("main-back", "Interview Question", 1, 1),
        ("key-point-front", "Interview Key Points", 2, 0),
        ("reverse-back", "Interview Extra", 1, 1),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            sides = rendered_card(TRAINING_CARD, Path(tmp), TRAINING_SOURCE, notetype, number)
        html = sides[1] if side else sides[0]
        if name == "main-front":  # the hint as the learner sees it once tapped
            html = html.replace('<details class="iq-hint">', '<details class="iq-hint" open>')
        kinds[name] = html
    cards = {"front": (front, {}), "back": (back, {}), "rich": (rich_back, rich_media)}
    cards |= {f"kind-{name}": (html, {}) for name, html in kinds.items()}
    shots = [
        *SHOTS,
        *(
            (f"kind-{name}-phone-{theme}", f"kind-{name}", f"phone-{theme}")
            for name in kinds
            for theme in ("light", "dark")
        ),
        *(
            (f"kind-{name}-desktop-{theme}", f"kind-{name}", f"desktop-{theme}")
            for name in ("main-back", "key-point-front")
            for theme in ("light", "dark")
        ),
    ]
    args.output.mkdir(parents=True, exist_ok=True)
    with launch_chromium() as browser:
        page = CardPage(browser, device_scale_factor=2)
        for name, card, view in shots:
            html, media = cards[card]
            page.show(view_document(html, view, mathjax=True), VIEWS[view][0], media)
            target = args.output / f"{name}.png"
            whole = bool(media) or card == "kind-main-back"  # taller than a screen
            page.page.screenshot(
                path=str(target), animations="disabled", caret="hide", full_page=whole
            )
            print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
        page.close()


if __name__ == "__main__":
    main()
