"""Shared helpers: run the CLI, and import packages into a real Anki collection."""

from __future__ import annotations

import html
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
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


def typed_text(source: str) -> str:
    """Content text as a card should show it: outer space trimmed, each line trimmed, runs of
    blank lines as one paragraph break (Anki stores text NFC-normalised)."""
    paragraphs = re.split(r"\n[ \t]*\n\s*", source.strip())
    text = "\n\n".join("\n".join(line.strip() for line in p.split("\n")) for p in paragraphs)
    return unicodedata.normalize("NFC", text)


os.environ.setdefault("TZ", "UTC")
