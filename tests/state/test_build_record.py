"""The local build record (the no-op cache): rebuilding unchanged content writes nothing and
reads no YAML, a skipped build's files are exactly what a full build writes, and anything
that could change the bytes (content, options, code, damaged outputs) means a full build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exporter.state import record as build_record
from helpers import EPOCH, BuildResult, Status, build_deck, make_bank, question, write

QUESTIONS = [
    question("one", text="Why?", answer="Because."),
    question("two", "hard", text="How?", answer="Carefully."),
]


def _state(*paths: Path) -> list[tuple[bytes, int, int]]:
    return [(p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in paths]


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, BuildResult]:
    """A small bank built once: (source, first build)."""
    src = make_bank(tmp_path / "c", QUESTIONS, filename="tester.yaml")
    return src, build_deck(src, output=tmp_path / "dist" / "deck.apkg")


def test_noop_rebuild_touches_nothing(built: tuple[Path, BuildResult]) -> None:
    """Rebuilding unchanged content leaves package and history byte-identical, same mtime."""
    src, first = built
    before = _state(first.output, first.history)
    again = build_deck(src, output=first.output, epoch=EPOCH + 999, expect="up-to-date")
    assert "is up to date (2 notes, content sha256:" in again.stdout
    assert _state(first.output, first.history) == before


def test_noop_rebuild_equals_full_build(built: tuple[Path, BuildResult]) -> None:
    """The skipped build's files are exactly what a full build (no cache) writes."""
    src, first = built
    build_deck(src, output=first.output, expect="up-to-date")
    before = _state(first.output, first.history)
    build_deck(src, output=first.output, fresh=True, expect="unchanged")  # nothing rewritten
    assert _state(first.output, first.history) == before


def test_no_cache_builds_in_full_and_keeps_the_record(built: tuple[Path, BuildResult]) -> None:
    """--no-cache never skips, rewrites nothing when the bytes are the same, and the record
    it leaves still lets the next build skip."""
    src, first = built
    before = _state(first.output, first.history)
    for _ in range(2):
        build_deck(src, output=first.output, fresh=True, expect="unchanged")
    assert _state(first.output, first.history) == before
    build_deck(src, output=first.output, expect="up-to-date")


def test_cache_folder_ignores_itself(built: tuple[Path, BuildResult]) -> None:
    """The cache sits next to the package and tells git to ignore it."""
    _src, first = built
    assert first.record.parent.name == build_record.CACHE_DIR
    assert first.record.exists()
    ignore = first.record.parent / ".gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"


@pytest.mark.parametrize("damaged", ["package", "history", "record"])
def test_damaged_outputs_are_rebuilt(built: tuple[Path, BuildResult], damaged: str) -> None:
    """A changed package, history or cache record means a full build that restores the bytes."""
    src, first = built
    expected = [first.output.read_bytes(), first.history.read_bytes()]
    target = {"package": first.output, "history": first.history, "record": first.record}[damaged]
    data = target.read_bytes()
    target.write_bytes(data + b"\n" if damaged == "history" else data[:-1] + b"x")
    status: Status = (
        "unchanged" if damaged == "record" else "written"
    )  # a bad record alone: same bytes
    build_deck(src, output=first.output, expect=status)
    assert [first.output.read_bytes(), first.history.read_bytes()] == expected


def test_content_edit_is_built(built: tuple[Path, BuildResult]) -> None:
    """Changed content is never skipped."""
    src, first = built
    before = first.output.read_bytes()
    write(src, src.read_text(encoding="utf-8").replace("Carefully.", "Very carefully."))
    build_deck(src, output=first.output, expect="written")
    assert first.output.read_bytes() != before


def test_comment_edit_rewrites_nothing(built: tuple[Path, BuildResult]) -> None:
    """A comment changes the sources but not the package: built, compared, left untouched."""
    src, first = built
    before = _state(first.output, first.history)
    write(src, "# a comment\n" + src.read_text(encoding="utf-8"))
    build_deck(src, output=first.output, expect="unchanged")
    assert _state(first.output, first.history) == before
    build_deck(src, output=first.output, expect="up-to-date")


def test_code_change_is_built(
    built: tuple[Path, BuildResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program or library version (here: a changed code identity) is never skipped."""
    src, first = built
    real = build_record.code_digest
    monkeypatch.setattr(build_record, "code_digest", lambda: real() + "patched")
    build_deck(src, output=first.output, expect="unchanged")  # built in full, same bytes


def _library(site: Path, version: str | None) -> None:
    """A library ``minilib`` in ``site``: with its installed metadata (``version``) or, as
    a checkout on the path, without."""
    (site / "minilib").mkdir(parents=True, exist_ok=True)
    (site / "minilib" / "__init__.py").write_text("X = 1\n", encoding="utf-8")
    for info in site.glob("*.dist-info"):
        info.rename(site / "gone")
        (site / "gone").rmdir()
    if version is not None:
        (site / f"minilib-{version}.dist-info").mkdir()


def test_the_code_identity_knows_installed_libraries_by_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed library counts by its name and version, not by a stat of each of its
    files (Pygments alone has ~340): an upgrade changes the identity, and so does a
    library installed anywhere on the path."""
    site = tmp_path / "site"
    _library(site, "1.0")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(build_record, "_PACKAGES", (*build_record._PACKAGES, "minilib"))
    walked: list[Path] = []
    real_walk = build_record._walk

    def walk(root: Path) -> list[Path]:
        walked.append(root)
        return real_walk(root)

    monkeypatch.setattr(build_record, "_walk", walk)
    before = build_record._code_identity()
    roots = {root for root in walked if not any(other in root.parents for other in walked)}
    assert roots == {Path(build_record.__file__).resolve().parent.parent}  # ours only
    (site / "minilib" / "__init__.py").write_text("X = 22\n", encoding="utf-8")
    assert build_record._code_identity() == before  # (an unversioned edit in place)
    _library(site, "1.1")
    assert build_record._code_identity() != before


def test_the_code_identity_sees_every_file_of_ours_and_of_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our own package, and a library on the path without installed metadata (a checkout,
    an editable install), count by each file's size and mtime: an edit changes the
    identity."""
    site = tmp_path / "site"
    _library(site, None)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(build_record, "_PACKAGES", (*build_record._PACKAGES, "minilib"))
    before = build_record._code_identity()
    (site / "minilib" / "__init__.py").write_text("X = 22\n", encoding="utf-8")
    assert build_record._code_identity() != before
    ours = Path(build_record.__file__).resolve().parent.parent
    identity = json.dumps(build_record._code_identity())
    assert str(ours / "state" / "record.py") in identity


def test_option_change_is_built(built: tuple[Path, BuildResult]) -> None:
    """Other build options (here: --tts) are never skipped."""
    src, first = built
    build_deck(src, output=first.output, extra=["--tts", "en_US"], expect="written")


def test_check_uses_the_record(built: tuple[Path, BuildResult]) -> None:
    """`build --check` on an up-to-date output passes without building."""
    src, first = built
    build_deck(src, output=first.output, check=True, expect="up-to-date")
