"""Issue 7: unchanged rebuilds write nothing, fast paths change no bytes, start-up stays light."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CONTENT, EPOCH, ROOT, run_cli, write
from exporter import buildcache

ENV = {"SOURCE_DATE_EPOCH": str(EPOCH)}
BANK = (
    "role: Tester\n"
    "questions:\n"
    "  - id: one\n    difficulty: easy\n    question: Why?\n    answer: Because.\n"
    "  - id: two\n    difficulty: hard\n    question: How?\n    answer: Carefully.\n"
)


def _build(src: Path, out: Path, *extra: str, env: dict[str, str] = ENV) -> str:
    result = run_cli(["build", str(src), "-o", str(out), *extra], env=env)
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return result.stdout


def _state(*paths: Path) -> list[tuple[bytes, int, int]]:
    return [(p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in paths]


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A small bank built once: (source, package, history)."""
    src = write(tmp_path / "c" / "tester.yaml", BANK)
    out = tmp_path / "dist" / "deck.apkg"
    _build(src, out)
    return src, out, out.with_name("deck.lock.json")


def test_noop_rebuild_touches_nothing(built: tuple[Path, Path, Path]) -> None:
    """Rebuilding unchanged content leaves package and history byte-identical, same mtime."""
    src, out, history = built
    before = _state(out, history)
    stdout = _build(src, out, env={"SOURCE_DATE_EPOCH": str(EPOCH + 999)})
    assert "is up to date (2 notes, content sha256:" in stdout
    assert _state(out, history) == before


def test_noop_rebuild_equals_full_build(built: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The skipped build's files are exactly what a full build (no cache) writes."""
    src, out, history = built
    _build(src, out)  # skipped
    (out.parent / buildcache.CACHE_DIR / "deck.apkg.json").unlink()
    before = _state(out, history)
    stdout = _build(src, out)  # full build, same bytes: nothing rewritten
    assert stdout.startswith(f"Unchanged: {out}")
    assert _state(out, history) == before


def test_cache_folder_ignores_itself(built: tuple[Path, Path, Path]) -> None:
    """The cache sits next to the package and tells git to ignore it."""
    _src, out, _history = built
    ignore = out.parent / buildcache.CACHE_DIR / ".gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"


@pytest.mark.parametrize("damaged", ["package", "history", "record"])
def test_damaged_outputs_are_rebuilt(built: tuple[Path, Path, Path], damaged: str) -> None:
    """A changed package, history or cache record means a full build that restores the bytes."""
    src, out, history = built
    expected = [out.read_bytes(), history.read_bytes()]
    target = {
        "package": out,
        "history": history,
        "record": out.parent / buildcache.CACHE_DIR / "deck.apkg.json",
    }[damaged]
    data = target.read_bytes()
    target.write_bytes(data + b"\n" if damaged == "history" else data[:-1] + b"x")
    stdout = _build(src, out)
    verb = "Unchanged:" if damaged == "record" else "Wrote"  # a bad record alone: same bytes
    assert stdout.startswith(f"{verb} {out}")
    assert [out.read_bytes(), history.read_bytes()] == expected


def test_content_edit_is_built(built: tuple[Path, Path, Path]) -> None:
    """Changed content is never skipped."""
    src, out, _history = built
    before = out.read_bytes()
    write(src, BANK.replace("Carefully.", "Very carefully."))
    assert _build(src, out).startswith(f"Wrote {out}")
    assert out.read_bytes() != before


def test_comment_edit_rewrites_nothing(built: tuple[Path, Path, Path]) -> None:
    """A comment changes the sources but not the package: built, compared, left untouched."""
    src, out, history = built
    before = _state(out, history)
    write(src, "# a comment\n" + BANK)
    assert _build(src, out).startswith(f"Unchanged: {out}")
    assert _state(out, history) == before
    assert "is up to date" in _build(src, out)


def test_code_change_is_built(
    built: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program or library version (here: a changed code identity) is never skipped."""
    src, out, _history = built
    real = buildcache._code_identity
    monkeypatch.setattr(buildcache, "_code_identity", lambda: [*real(), "patched"])
    assert _build(src, out).startswith(f"Unchanged: {out}")  # built in full, same bytes


def test_check_uses_the_record(built: tuple[Path, Path, Path]) -> None:
    """`build --check` on an up-to-date output passes without building."""
    src, out, _history = built
    assert "is up to date" in _build(src, out, "--check")


def test_rebuild_of_shipped_bank_matches_committed_dist(tmp_path: Path) -> None:
    """The streamed package equals the committed one, byte for byte, given its history."""
    out = tmp_path / "dist" / "interview-questions.apkg"
    history = out.with_name("interview-questions.lock.json")
    out.parent.mkdir()
    history.write_bytes((ROOT / "dist" / "interview-questions.lock.json").read_bytes())
    _build(CONTENT, out, env={"SOURCE_DATE_EPOCH": ""})
    assert out.read_bytes() == (ROOT / "dist" / "interview-questions.apkg").read_bytes()


def _modules_after(code: str) -> list[str]:
    probe = (
        "import sys\n" + code + "\nprint(' '.join(sorted(m for m in "
        "('yaml', 'genanki', 'sqlite3', 'asyncio', 'cached_property', 'zipfile') "
        "if m in sys.modules)))"
    )
    # Without coverage's own start-up hooks, which import modules of their own (sqlite3).
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    return done.stdout.splitlines()[-1].split()


def test_help_imports_no_build_libraries() -> None:
    """`--help` loads click and our CLI only: no YAML, genanki, SQLite or zip code."""
    code = "from exporter.cli import cli\ntry:\n    cli(['--help'])\nexcept SystemExit:\n    pass"
    assert _modules_after(code) == []


def test_genanki_loads_without_asyncio() -> None:
    """genanki is imported without asyncio, and its stand-in does not outlive the import."""
    code = "from exporter.genanki_adapter import load_genanki\nload_genanki()"
    assert _modules_after(code) == ["genanki", "sqlite3", "yaml", "zipfile"]
