"""Compatibility tier (issue #16): the package's promises against real Anki backends.

Each old version runs in its own venv (``./scripts/compat --prepare`` makes them, cached per
machine); ``tests/compat/worker.py`` runs there, imports v1 then v2 of the compat bank into a
fresh collection, reviews one card in between, and reports what it saw as JSON. The checks
are here, against what the packages themselves hold, so the worker cannot pass by accident.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from helpers import EPOCH, ROOT, build_in_child

pytestmark = pytest.mark.compat

COMPAT = ROOT / "tests" / "compat"
BANK = ROOT / "tests" / "data" / "compat"
WORKER = COMPAT / "worker.py"
DECK = "Interview Questions::Compat Tester"
NOTETYPE = "Interview Question"
CURRENT = version("anki")
OLD = [
    line.strip()
    for line in (COMPAT / "versions.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
# The backend (Rust) importer is what Anki desktop 2.1.55+ and AnkiDroid use; the legacy
# Python importer was desktop's default before and is gone from the current pin.
MATRIX = [(v, "backend") for v in [*OLD, CURRENT]] + [(v, "legacy") for v in OLD]
PARAMS = [pytest.param(v, imp, id=f"anki-{v}-{imp}") for v, imp in MATRIX]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def venv_dir(anki_version: str) -> Path:
    """Where ./scripts/compat keeps the venv for one Anki version (same rule as the script)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return cache / "interview-deck" / f"anki-{anki_version}-py{py}"


def python_for(anki_version: str) -> str:
    """That version's Python; a missing venv fails the test in CI and skips it elsewhere."""
    if anki_version == CURRENT:
        return sys.executable
    folder = venv_dir(anki_version)
    if (folder / ".ready").is_file():
        return str(folder / "bin" / "python")
    reason = f"no venv for anki {anki_version} at {folder}: run ./scripts/compat --prepare"
    log = folder.with_name(folder.name + ".log")
    if log.is_file():
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        reason += " (last attempt: " + " | ".join(tail) + ")"
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass(frozen=True)
class Package:
    """What an .apkg holds, read with sqlite: notes by GUID and media by name."""

    path: Path
    notes: dict[str, dict[str, Any]]
    notetypes: list[str]
    media: dict[str, str]  # name -> sha256 of the bytes


def read_package(path: Path, folder: Path) -> Package:
    folder.mkdir(parents=True)
    with zipfile.ZipFile(path) as z:
        z.extractall(folder)
        media_map = json.loads(z.read("media") or b"{}")
    db = folder / (
        "collection.anki21" if (folder / "collection.anki21").exists() else "collection.anki2"
    )
    con = sqlite3.connect(db)
    try:
        models = json.loads(con.execute("select models from col").fetchone()[0])
        notes = {}
        for guid, mid, mod, tags, flds in con.execute(
            "select guid, mid, mod, tags, flds from notes"
        ):
            names = [f["name"] for f in models[str(mid)]["flds"]]
            notes[guid] = {
                "mod": mod,
                "tags": sorted(tags.split()),
                "fields": dict(zip(names, flds.split("\x1f"), strict=True)),
            }
    finally:
        con.close()
    media = {
        name: hashlib.sha256((folder / number).read_bytes()).hexdigest()
        for number, name in media_map.items()
    }
    return Package(path, notes, [m["name"] for m in models.values()], media)


@dataclass(frozen=True)
class Packages:
    v1: Package
    v2: Package
    edited: str  # GUID of the note whose answer v2 changes
    imaged: str  # GUID of the note whose image v2 changes (same file name, other bytes)


def build(source: Path, output: Path, epoch: int) -> None:
    """Build ``source`` to ``output`` with the CLI, as a user's shell would run it."""
    build_in_child(source, output=output, env={"SOURCE_DATE_EPOCH": str(epoch)})


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    """v1 and v2 of the compat bank, built by the CLI to one output (so one build history):
    v2 a day later, so its edited note's mod is strictly newer."""
    folder = tmp_path_factory.mktemp("compat-packages")
    output = folder / "build" / "deck.apkg"
    build(BANK / "v1", output, EPOCH)
    shutil.copy(output, folder / "v1.apkg")
    build(BANK / "v2", output, EPOCH + 86_400)
    shutil.copy(output, folder / "v2.apkg")
    v1 = read_package(folder / "v1.apkg", folder / "v1")
    v2 = read_package(folder / "v2.apkg", folder / "v2")
    assert v1.notes.keys() == v2.notes.keys()
    by_id = {n["fields"]["ID"]: g for g, n in v1.notes.items()}
    edited, imaged = by_id["edited-between-builds"], by_id["image-changed-between-builds"]
    changed = {g for g in v1.notes if v1.notes[g]["fields"] != v2.notes[g]["fields"]}
    assert changed == {edited, imaged}, "v2 must change one answer and one image, nothing else"
    for guid in changed:
        assert v2.notes[guid]["mod"] > v1.notes[guid]["mod"]
    return Packages(v1, v2, edited, imaged)


_results: dict[tuple[str, str], dict[str, Any]] = {}
Worker = Callable[[str, str], dict[str, Any]]  # (Anki version, importer) -> its report


def _worker_report(
    cache: dict[tuple[str, str], dict[str, Any]],
    folder_of: Callable[[str], Path],
    anki_version: str,
    importer: str,
    packages: dict[str, str],
    deck: str,
) -> dict[str, Any]:
    """The worker's report of ``packages`` (v1, v2[, v3]) imported in order into ``deck``
    of a fresh collection of ``anki_version`` by ``importer``, run once per session."""
    key = (anki_version, importer)
    if key not in cache:
        folder = folder_of(f"{anki_version}-{importer}")
        request = folder / "request.json"
        request.write_text(
            json.dumps(
                {
                    **packages,
                    "importer": importer,
                    "deck": deck,
                    "folder": str(folder),
                    "result": str(folder / "result.json"),
                }
            ),
            encoding="utf-8",
        )
        done = subprocess.run(
            [python_for(anki_version), str(WORKER), str(request)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={**os.environ, "PYTHONPATH": ""},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        cache[key] = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    report = cache[key]
    assert "error" not in report, report["error"]
    # Anki's wheels spell 25.2.7 as 25.02.7: compare as versions.
    assert Version(report["version"]) == Version(anki_version), "ran under another Anki"
    return report


@pytest.fixture
def run(packages: Packages, tmp_path_factory: pytest.TempPathFactory) -> Worker:
    """The worker's report for one (Anki version, importer), run once per session."""

    def _run(anki_version: str, importer: str) -> dict[str, Any]:
        given = {"v1": str(packages.v1.path), "v2": str(packages.v2.path)}
        return _worker_report(
            _results,
            lambda name: tmp_path_factory.mktemp(f"anki-{name}"),
            anki_version,
            importer,
            given,
            DECK,
        )

    return _run


def reviewed_card(report: dict[str, Any], snapshot: str) -> dict[str, Any]:
    cid = report["review"]["card"]
    (card,) = [c for n in report[snapshot]["notes"].values() for c in n["cards"] if c["id"] == cid]
    found: dict[str, Any] = card
    return found


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_fields_arrive_exactly(
    run: Worker, packages: Packages, anki_version: str, importer: str
) -> None:
    """Every field (question, answer, the rest) and tag lands byte for byte and renders."""
    report = run(anki_version, importer)
    for snapshot, package in (("after_v1", packages.v1), ("after_v2", packages.v2)):
        notes = report[snapshot]["notes"]
        assert notes.keys() == package.notes.keys(), snapshot
        for guid, note in notes.items():
            expected = package.notes[guid]
            assert note["fields"] == expected["fields"], (snapshot, guid)
            assert note["tags"] == expected["tags"], (snapshot, guid)
            (card,) = note["cards"]
            assert expected["fields"]["Question"] in card["question"], (snapshot, guid)
            assert expected["fields"]["Answer"] in card["answer"], (snapshot, guid)


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_reimport_updates_in_place(
    run: Worker, packages: Packages, anki_version: str, importer: str
) -> None:
    """Re-importing an edited build updates the same note and card: new answer, old ids."""
    report = run(anki_version, importer)
    before = report["after_v1"]["notes"][packages.edited]
    after = report["after_v2"]["notes"][packages.edited]
    new_answer = packages.v2.notes[packages.edited]["fields"]["Answer"]
    assert new_answer != packages.v1.notes[packages.edited]["fields"]["Answer"]
    assert after["id"] == before["id"]
    assert [c["id"] for c in after["cards"]] == [c["id"] for c in before["cards"]]
    assert after["fields"]["Answer"] == new_answer
    assert new_answer in after["cards"][0]["answer"]
    assert new_answer not in before["cards"][0]["answer"]


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_reimport_keeps_review(
    run: Worker, packages: Packages, anki_version: str, importer: str
) -> None:
    """A review made between imports survives: revlog, interval and due date unchanged."""
    report = run(anki_version, importer)
    review = report["review"]
    assert review["note"] == report["after_v1"]["notes"][packages.edited]["id"], (
        "the reviewed card should be the edited note's (the first card of the deck)"
    )
    answered = reviewed_card(report, "after_review")
    assert reviewed_card(report, "after_v1")["type"] == 0  # new before the review
    assert answered["type"] == 2
    assert answered["ivl"] > 0
    assert answered["reps"] == 1
    assert len(report["after_review"]["revlog"]) == 1
    assert report["after_review"]["revlog"][0][1] == review["card"]
    assert report["after_v2"]["revlog"] == report["after_review"]["revlog"]
    assert reviewed_card(report, "after_v2") == {
        **answered,
        "answer": reviewed_card(report, "after_v2")["answer"],  # the edit, checked above
    }


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_no_duplicate_notetype_or_note(
    run: Worker, packages: Packages, anki_version: str, importer: str
) -> None:
    """Re-importing adds no second note type and no second copy of any note."""
    report = run(anki_version, importer)
    ids = {}
    for snapshot in ("after_v1", "after_v2"):
        ours = [m for m in report[snapshot]["notetypes"] if m["name"].startswith(NOTETYPE)]
        assert [m["name"] for m in ours] == [NOTETYPE], snapshot
        ids[snapshot] = ours[0]["id"]
        notes = report[snapshot]["notes"]
        assert len(notes) == len(packages.v1.notes), snapshot
        assert {n["mid"] for n in notes.values()} == {ours[0]["id"]}, snapshot
    assert ids["after_v1"] == ids["after_v2"]
    assert {g: n["id"] for g, n in report["after_v2"]["notes"].items()} == {
        g: n["id"] for g, n in report["after_v1"]["notes"].items()
    }


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_media_arrive_and_are_referenced(
    run: Worker, packages: Packages, anki_version: str, importer: str
) -> None:
    """Every media file of the package lands in the media folder, v2's bytes win, and a card
    references it."""
    report = run(anki_version, importer)
    assert packages.v1.media
    assert packages.v2.media
    assert packages.v1.media.keys().isdisjoint(packages.v2.media.keys())  # a new name in v2
    for snapshot, package in (("after_v1", packages.v1), ("after_v2", packages.v2)):
        present = report[snapshot]["media"]
        html = "".join(
            c["question"] + c["answer"]
            for n in report[snapshot]["notes"].values()
            for c in n["cards"]
        )
        for name, digest in package.media.items():
            assert present.get(name) == digest, (snapshot, name)
            assert f'src="{name}"' in html, (snapshot, name)
    before = report["after_v1"]["notes"][packages.imaged]
    after = report["after_v2"]["notes"][packages.imaged]
    assert after["id"] == before["id"]
    assert [c["id"] for c in after["cards"]] == [c["id"] for c in before["cards"]]
    (new_name,) = packages.v2.media
    assert f'src="{new_name}"' in after["cards"][0]["answer"]


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_math_and_highlighted_code_reach_the_card(
    run: Worker, packages: Packages, anki_version: str, importer: str
) -> None:
    """MathJax delimiters with their TeX and the highlight spans reach every Anki's card."""
    report = run(anki_version, importer)
    cards = {n["fields"]["ID"]: n["cards"][0] for n in report["after_v2"]["notes"].values()}
    math = cards["math-inline-and-display"]
    assert r"\(\operatorname{Var}(X) = E[X^2] - E[X]^2 = 5 - 4 = 1\)" in math["answer"]
    assert r"\[ \sigma = \sqrt{1} = 1. \]" in math["answer"]
    assert r"\(E[X^2] = 5\)" in math["question"]
    code = cards["highlighted-code"]["answer"]
    assert '<pre class="iq-code" data-lang="python" style="--iq-deepest:4">' in code
    assert '<span class="hl-k">def</span> <span class="hl-f">squares</span>' in code


# The backend AnkiDroid embeds, from its gradle/libs.versions.toml (`ankiBackend =
# '0.1.62-anki25.09.2'` from 2.23.0 through 2.23.3, '0.1.64-anki25.09.2' in 2.24.0).
ANKIDROID_BACKENDS = {"2.23": "25.9.2", "2.24": "25.9.2"}


def test_the_tier_covers_the_backend_ankidroid_embeds() -> None:
    """AnkiDroid 2.23 and 2.24 run Anki 25.9.2's backend: the tier imports into it, and
    the compatibility page names it."""
    tested = {Version(v) for v in [*OLD, CURRENT]}
    page = (ROOT / "docs" / "compatibility.md").read_text(encoding="utf-8")
    for ankidroid, backend in ANKIDROID_BACKENDS.items():
        assert Version(backend) in tested, f"AnkiDroid {ankidroid} embeds anki {backend}"
        (row,) = [line for line in page.splitlines() if line.startswith(f"| {backend} |")]
        assert f"{ankidroid}" in row.split("|")[2], row


# Cards that train an answer (issue 31): a collection holding a package built by 0.6.0
# (tests/data/migration) and a review takes a build with key points, a hint, follow-ups and
# a reverse card (v2), then one with a key point edited (v3).
MIGRATION = ROOT / "tests" / "data" / "migration" / "v0.6.0"
TRAINING_DECK = "Interview Questions::Migration Tester"
TRAINED = """\
    key_points:
      - the client sends an idempotency key
      - the server replays the first response
      - a retry changes nothing
    hint: What can a client send twice?
    follow_ups:
      - What if two arrive at once?
    reverse: true
  - id: feature-drift"""


@dataclass(frozen=True)
class Training:
    v1: Package
    v2: Package
    v3: Package


@pytest.fixture(scope="session")
def training(tmp_path_factory: pytest.TempPathFactory) -> Training:
    """The 0.6.0 package, a build of the bank with every new key on its first question, a
    day later one with its second key point edited; one build history throughout."""
    folder = tmp_path_factory.mktemp("compat-training")
    dist = folder / "dist"
    dist.mkdir()
    for name in ("deck.apkg", "deck.lock.json"):
        shutil.copy(MIGRATION / name, dist / name)
    shutil.copy(dist / "deck.apkg", folder / "v1.apkg")
    text = (MIGRATION / "bank.yaml").read_text(encoding="utf-8")
    src = folder / "src" / "bank.yaml"
    src.parent.mkdir()
    src.write_text(text.replace("  - id: feature-drift", TRAINED, 1), encoding="utf-8")
    build(src, dist / "deck.apkg", EPOCH + 86_400)
    shutil.copy(dist / "deck.apkg", folder / "v2.apkg")
    edited = src.read_text(encoding="utf-8").replace(
        "the server replays the first response", "the server replays the stored response"
    )
    src.write_text(edited, encoding="utf-8")
    build(src, dist / "deck.apkg", EPOCH + 2 * 86_400)
    shutil.copy(dist / "deck.apkg", folder / "v3.apkg")
    return Training(*(read_package(folder / f"{v}.apkg", folder / v) for v in ("v1", "v2", "v3")))


_training_results: dict[tuple[str, str], dict[str, Any]] = {}


@pytest.fixture
def run_training(training: Training, tmp_path_factory: pytest.TempPathFactory) -> Worker:
    """The worker's report of the training packages for one (Anki version, importer)."""

    def _run(anki_version: str, importer: str) -> dict[str, Any]:
        given = {v: str(getattr(training, v).path) for v in ("v1", "v2", "v3")}
        return _worker_report(
            _training_results,
            lambda name: tmp_path_factory.mktemp(f"training-{name}"),
            anki_version,
            importer,
            given,
            TRAINING_DECK,
        )

    return _run


def _kind(report: dict[str, Any], snapshot: str, note: dict[str, Any]) -> str:
    names = {m["id"]: m["name"] for m in report[snapshot]["notetypes"]}
    return str(names[note["mid"]])


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_every_kind_of_card_arrives(
    run_training: Worker, training: Training, anki_version: str, importer: str
) -> None:
    """After the 0.7 build: every note lands with its fields; one card a key point, one
    reverse card, one main card a question."""
    report = run_training(anki_version, importer)
    notes = report["after_v2"]["notes"]
    assert notes.keys() == training.v2.notes.keys()
    cards = {}
    for guid, note in notes.items():
        assert note["fields"] == training.v2.notes[guid]["fields"], guid
        cards[_kind(report, "after_v2", note)] = sorted(c["ord"] for c in note["cards"])
    assert cards == {
        "Interview Question": [0],
        "Interview Key Points": [0, 1, 2],
        "Interview Extra": [0],
    }
    (points,) = [n for n in notes.values() if _kind(report, "after_v2", n).endswith("Points")]
    for card in points["cards"]:
        assert "[...]" in card["question"]
        # 2.1.54 writes <span class=cloze>, later ones add the quotes and a data-ordinal.
        assert re.search(r'<span class="?cloze"?[ >]', card["answer"])


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_a_0_6_0_collection_keeps_its_reviews_with_one_note_type_per_kind(
    run_training: Worker, anki_version: str, importer: str
) -> None:
    """The review made on the 0.6.0 package survives the 0.7 import (and the next); the
    main notes keep their ids; one note type of each kind, none twice."""
    report = run_training(anki_version, importer)
    reviewed = reviewed_card(report, "after_review")
    assert reviewed["reps"] == 1
    for snapshot in ("after_v2", "after_v3"):
        assert report[snapshot]["revlog"] == report["after_review"]["revlog"]
        card = reviewed_card(report, snapshot)
        assert {k: v for k, v in card.items() if k not in ("question", "answer")} == {
            k: v for k, v in reviewed.items() if k not in ("question", "answer")
        }
        names = sorted(
            m["name"] for m in report[snapshot]["notetypes"] if m["name"].startswith("Interview")
        )
        assert names == ["Interview Extra", "Interview Key Points", "Interview Question"]
    before = {g: n["id"] for g, n in report["after_v1"]["notes"].items()}
    after = {g: n["id"] for g, n in report["after_v2"]["notes"].items() if g in before}
    assert after == before


@pytest.mark.parametrize(("anki_version", "importer"), PARAMS)
def test_an_edited_key_point_updates_its_card_in_place(
    run_training: Worker, anki_version: str, importer: str
) -> None:
    """v3 edits the second key point: same note, same cards, the new text on card 2."""
    report = run_training(anki_version, importer)

    def points(snapshot: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = [
            n
            for n in report[snapshot]["notes"].values()
            if _kind(report, snapshot, n) == "Interview Key Points"
        ]
        assert len(found) == 1
        return found[0]

    before, after = points("after_v2"), points("after_v3")
    assert after["id"] == before["id"]
    assert [c["id"] for c in after["cards"]] == [c["id"] for c in before["cards"]]
    second = next(c for c in after["cards"] if c["ord"] == 1)
    assert "the server replays the stored response" in second["answer"]
    assert "the server replays the first response" not in after["fields"]["Text"]
