"""Photograph cards for the README: one card of the shipped bank on a phone, front and back,
light and dark; and the back of the rich example (math, code, a table, a diagram) on a phone
and a desktop, light and dark, with Anki's MathJax typesetting it. And each kind of card of
the training example (docs/examples/training): the main card's front with its hint opened
and its back with the follow-ups, a key point's front and the reverse card's back, on a
phone and a desktop, light and dark.

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

from browser import (  # noqa: E402
    DESKTOP,
    PHONE,
    CardPage,
    card_document,
    launch_chromium,
    missing_mathjax,
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


def main() -> None:
    """Write front/back x light/dark PNGs of one card on a phone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", default=DEFAULT_CARD, help="question id to photograph")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="folder for the PNGs")
    args = parser.parse_args()
    reason = missing_mathjax()
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
    args.output.mkdir(parents=True, exist_ok=True)
    shots: list[tuple[str, str, dict[str, int], dict[str, bytes]]] = [
        (f"{side}-{{theme}}", html, PHONE, {}) for side, html in (("front", front), ("back", back))
    ]
    shots += [
        ("rich-phone-{theme}", rich_back, PHONE, rich_media),
        ("rich-desktop-{theme}", rich_back, DESKTOP, rich_media),
    ]
    shots += [(f"kind-{name}-phone-{{theme}}", html, PHONE, {}) for name, html in kinds.items()]
    shots += [
        (f"kind-{name}-desktop-{{theme}}", kinds[name], DESKTOP, {})
        for name in ("main-back", "key-point-front")
    ]
    with launch_chromium() as browser:
        page = CardPage(browser, device_scale_factor=2)
        for name, html, viewport, media in shots:
            for theme in ("light", "dark"):
                document = card_document(html, night=theme == "dark", mathjax=True)
                page.show(document, viewport, media)
                target = args.output / f"{name.format(theme=theme)}.png"
                whole = bool(media) or name.startswith("kind-main-back")  # taller than a screen
                page.page.screenshot(
                    path=str(target), animations="disabled", caret="hide", full_page=whole
                )
                print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
        page.close()


if __name__ == "__main__":
    main()
