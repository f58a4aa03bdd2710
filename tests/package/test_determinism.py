"""Same content, same bytes: a build does not depend on the machine, time zone, hash seed,
working folder, source order or the time it runs, and the committed dist/ is exactly what
the committed content builds (``build --check`` says so, and says when it is stale)."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

from helpers import (
    CONTENT,
    EPOCH,
    ROOT,
    TARGET,
    Builder,
    build_deck,
    build_in_child,
    copy_content,
    edit_answer,
    hooked,
    make_bank,
    question,
)


def test_byte_identical_across_machines(tmp_path: Path) -> None:
    """Same content + SOURCE_DATE_EPOCH: same bytes under any TZ, hash seed, cwd, path, order,
    for a bank with math, highlighted code and an image (media in the package)."""
    digests = []
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    setups = [
        ({"TZ": "UTC", "PYTHONHASHSEED": "1", "LC_ALL": "C"}, "checkout-a", False),
        (
            {"TZ": "Asia/Kathmandu", "PYTHONHASHSEED": "987", "LC_ALL": "C.UTF-8"},
            "deep/other",
            True,
        ),
    ]
    for env, name, reverse in setups:
        checkout = tmp_path / name
        shutil.copytree(CONTENT, checkout / "content")
        extra = [question("extra-one", "hard", text="Why?", answer="Because.")]
        make_bank(checkout / "content" / "extra", extra, role="Extra", filename="zz.yml")
        shutil.copytree(ROOT / "docs" / "examples" / "ml-monitoring", checkout / "content" / "rich")
        sources = [
            str(checkout / "content" / "extra"),
            str(checkout / "content" / "mlops-engineer.yaml"),
            str(checkout / "content" / "rich"),
        ]
        if reverse:
            sources.reverse()
        built = build_in_child(
            *sources,
            output=checkout / "dist" / "x.apkg",
            env={"SOURCE_DATE_EPOCH": str(EPOCH), "TMPDIR": str(tmpdir), **env},
            cwd=checkout if reverse else tmp_path,
        )
        digests.append(hashlib.sha256(built.output.read_bytes()).hexdigest())
        with zipfile.ZipFile(built.output) as archive:
            assert archive.namelist() == ["collection.anki2", "0", "media"]
    assert digests[0] == digests[1]
    assert list(tmpdir.iterdir()) == []


# A sitecustomize for the child only: its clock (time.time, what a build reads) a day ahead.
A_DAY_LATER = """
import time
_real = time.time
time.time = lambda: _real() + 86_400
"""


def test_unchanged_rebuild_is_identical_later_and_elsewhere(tmp_path: Path) -> None:
    """Unchanged content rebuilt in full later, in another TZ, without SOURCE_DATE_EPOCH: same
    bytes."""
    out = tmp_path / "dist" / "deck.apkg"
    first = build_in_child(CONTENT, output=out, env={"SOURCE_DATE_EPOCH": None, "TZ": "UTC"})
    package, lock = out.read_bytes(), first.history.read_bytes()
    # A day later, by the child's clock (no sleep to move it): time.time runs a day ahead.
    env = hooked(
        tmp_path / "hooks", A_DAY_LATER, {"SOURCE_DATE_EPOCH": None, "TZ": "America/St_Johns"}
    )
    build_in_child(CONTENT, output=out, env=env, fresh=True, expect="unchanged")
    assert out.read_bytes() == package
    assert first.history.read_bytes() == lock


def test_no_history_with_source_date_epoch_is_reproducible(build: Builder, tmp_path: Path) -> None:
    """Two checkouts without history, same SOURCE_DATE_EPOCH: identical packages."""
    a = build(copy_content(tmp_path / "a"), output=tmp_path / "a" / "dist" / "x.apkg").output
    b = build(copy_content(tmp_path / "b"), output=tmp_path / "b" / "dist" / "x.apkg").output
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_rebuild_of_shipped_bank_matches_committed_dist(tmp_path: Path) -> None:
    """The streamed package equals the committed one, byte for byte, given its history."""
    out = tmp_path / "dist" / "interview-questions.apkg"
    out.parent.mkdir()
    history = ROOT / "dist" / "interview-questions.lock.json"
    (out.parent / history.name).write_bytes(history.read_bytes())
    build_deck(CONTENT, output=out, epoch=None)
    assert out.read_bytes() == (ROOT / "dist" / "interview-questions.apkg").read_bytes()


def test_check_passes_on_committed_dist() -> None:
    """`build --check` (in full: a local record in dist/ would skip it) agrees that the
    committed dist/ is what the committed content builds."""
    build_in_child(
        output=None,
        cwd=ROOT,
        env={"SOURCE_DATE_EPOCH": None},
        check=True,
        fresh=True,
        expect="current",
    )


def test_check_fails_after_an_edit_and_writes_nothing(tmp_path: Path) -> None:
    """`build --check` exits 1 on stale or missing output and leaves every file as it was."""
    content = copy_content(tmp_path)
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in ("interview-questions.apkg", "interview-questions.lock.json"):
        shutil.copy2(ROOT / "dist" / name, dist / name)
    out = dist / "interview-questions.apkg"
    build_deck(content, output=out, epoch=None, check=True, expect="current")
    edit_answer(content, TARGET, "Stale?")
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    build_deck(content, output=out, epoch=None, check=True, expect="stale")
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before
    missing = tmp_path / "none" / "x.apkg"
    build_deck(content, output=missing, epoch=None, check=True, expect="stale")
    assert not (tmp_path / "none").exists()
