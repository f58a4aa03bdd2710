"""Shared helpers: run the CLI, and import packages into a real Anki collection."""

from __future__ import annotations

import html
import os
import re
import shutil
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from exporter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
SOURCE_PAGE = ROOT / "tests" / "data" / "pages" / "mlops-engineer.txt"
EPOCH = 1_764_201_600  # 2025-11-27T00:00:00Z


def run_cli(args: Sequence[str], env: dict[str, str] | None = None) -> Result:
    """Invoke the CLI in-process, stdout and stderr kept apart."""
    runner = CliRunner()
    return runner.invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def build(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build sources to an output under tmp_path (with a fixed SOURCE_DATE_EPOCH by default)."""

    def _build(
        *sources: str | Path,
        output: Path | None = None,
        epoch: int | None = EPOCH,
        extra: Sequence[str] = (),
    ) -> Path:
        out = output or tmp_path / "out" / "deck.apkg"
        env = {"SOURCE_DATE_EPOCH": str(epoch)} if epoch is not None else {"SOURCE_DATE_EPOCH": ""}
        result = run_cli(["build", *map(str, sources), "-o", str(out), *extra], env=env)
        assert result.exit_code == 0, result.output + (result.stderr or "")
        return out

    return _build


class Anki:
    """A fresh, real Anki collection (Anki's own Rust backend via the `anki` package)."""

    def __init__(self, path: Path) -> None:
        from anki.collection import Collection

        self.col = Collection(str(path))

    def import_package(self, package: Path, **options: Any) -> Any:
        """Import with Anki's default options (update notes and note types if newer)."""
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        response = self.col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(package), options=ImportAnkiPackageOptions(**options)
            )
        )
        self.col.models._clear_cache()
        return response.log

    def notes(self, query: str = "") -> list[Any]:
        return [self.col.get_note(nid) for nid in sorted(self.col.find_notes(query))]

    def note_by_id_field(self, qid: str) -> Any:
        (nid,) = self.col.find_notes(f'"ID:{qid}"')
        return self.col.get_note(nid)

    def notetypes(self, name: str = "Interview Question") -> list[dict[str, Any]]:
        return [m for m in self.col.models.all() if m["name"].startswith(name)]

    def close(self) -> None:
        self.col.close()


@pytest.fixture
def anki(tmp_path: Path) -> Iterator[Anki]:
    """A fresh Anki collection, closed after the test."""
    folder = tmp_path / "anki"
    folder.mkdir()
    collection = Anki(folder / "collection.anki2")
    yield collection
    collection.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SOURCE_DATE_EPOCH leaking in from the caller's shell."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium, one per session. Missing: a failure in CI, else a skip."""
    from browser import launch_chromium, missing_browser

    reason = missing_browser()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    with launch_chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def card_page(chromium: Any) -> Iterator[Any]:
    """One page reused by every browser test, recording the requests each load makes."""
    from browser import CardPage

    page = CardPage(chromium)
    yield page
    page.close()


LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2 + "X" * 30  # 120 chars
LONG_URL = (
    "https://example.com/" + "/".join(f"segment-{i:02d}" for i in range(30)) + "?q=" + "a" * 80
)
RTL = "\u05de\u05d4 \u05e7\u05d5\u05e8\u05d4 \u05db\u05d0\u05e9\u05e8 \u05d4\u05de\u05d5\u05d3\u05dc \u05e0\u05db\u05e9\u05dc? \u0643\u064a\u0641 \u062a\u0631\u0627\u0642\u0628 \u0627\u0644\u0646\u0645\u0648\u0630\u062c\u061f"


def stress_answer() -> str:
    """A 6,000-character answer with everything that tends to break a layout."""
    head = [
        f"A word that never breaks: {LONG_WORD}.",
        f"A link typed as text: {LONG_URL}",
        "Markup characters stay literal: <script>alert(1)</script> & <b>bold</b> <> &amp;",
        "Emoji: \U0001f680\U0001f9e0\U0001f4c8\U0001f469\u200d\U0001f4bb \u2705",
        RTL,
    ]
    text = "\n\n".join(head)
    filler = "Monitoring, retraining and rollback all need owners and clear thresholds. "
    while len(text) < 6000:
        text += "\n\n" + filler * 5
    return text[:6000].rstrip()


def write_stress_bank(folder: Path) -> Path:
    """A content file with one stress card, next to nothing else."""
    from exporter.model import Question, RoleFile
    from exporter.yamlwrite import dump_role_file

    question = Question(
        id="stress-card",
        difficulty="easy",
        question=f"Stress <test> & {LONG_WORD[:60]} \U0001f600 {RTL[:20]}?",
        answer=stress_answer(),
    )
    role_file = RoleFile(
        display_path="", role="Stress Tester", deck="Stress", description="", questions=(question,)
    )
    return write(folder / "stress.yaml", dump_role_file(role_file))


@dataclass(frozen=True)
class RenderedCard:
    """One card as Anki's backend renders it (``<style>`` block first, then the template)."""

    question_id: str
    difficulty: str
    question: str
    answer: str


@pytest.fixture(scope="session")
def anki_cards(tmp_path_factory: pytest.TempPathFactory) -> list[RenderedCard]:
    """Every card of the shipped bank plus the stress card, rendered by a real Anki."""
    folder = tmp_path_factory.mktemp("anki-cards")
    stress = write_stress_bank(folder / "stress")
    package = folder / "deck.apkg"
    result = run_cli(
        ["build", str(CONTENT), str(stress), "-o", str(package)],
        env={"SOURCE_DATE_EPOCH": str(EPOCH)},
    )
    assert result.exit_code == 0, result.output
    collection = Anki(folder / "collection.anki2")
    try:
        collection.import_package(package)
        cards = []
        for note in collection.notes():
            (card,) = note.cards()
            cards.append(
                RenderedCard(note["ID"], note["Difficulty"], card.question(), card.answer())
            )
    finally:
        collection.close()
    assert len(cards) == 11
    return cards


def forget_build_cache(output: Path) -> None:
    """Drop the local no-op record next to ``output``: a test that monkeypatches the code
    changes what a build makes without changing any file the record is keyed on."""
    shutil.rmtree(output.parent / ".interview-deck-cache", ignore_errors=True)


def write(path: Path, text: str) -> Path:
    """Write a UTF-8 text file, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def card_text(field_html: str) -> str:
    """A card field's HTML back to the text a reader sees (paragraphs split by a blank line).

    The one place that knows how ``exporter.text`` renders: adapt it if rendering changes.
    """
    text = field_html.replace("</p>\n<p>", "\n\n").replace("<br>\n", "\n")
    text = text.removeprefix("<p>").removesuffix("</p>")
    return unicodedata.normalize("NFC", html.unescape(text))


def markdown_literal(text: str) -> str:
    """``text`` written so that the card shows it exactly as typed (no emphasis, lists, code,
    links, entities or math): ASCII punctuation backslash-escaped, except that ``\\(`` and
    ``\\[`` open math, so ``(`` stays as it is and ``[`` is written ``&#91;``."""
    escaped = re.sub(r"([!-'*-/:-@\\\]-`{-~])", r"\\\1", text)
    return escaped.replace("[", "&#91;")


def typed_text(source: str) -> str:
    """Content text as a card should show it: outer space trimmed, each line trimmed, runs of
    blank lines as one paragraph break (Anki stores text NFC-normalised)."""
    paragraphs = re.split(r"\n[ \t]*\n\s*", source.strip())
    text = "\n\n".join("\n".join(line.strip() for line in p.split("\n")) for p in paragraphs)
    return unicodedata.normalize("NFC", text)


os.environ.setdefault("TZ", "UTC")
