"""Every test here runs in an environment of its own: no Anki address or key from the
caller's shell, and a temp folder of its own for what Anki exports."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from exporter.cli.ankiconnect import KEY_ENV, URL_ENV


@pytest.fixture(autouse=True)
def own_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """INTERVIEW_DECK_ANKI_URL and INTERVIEW_DECK_ANKI_KEY unset, TMPDIR in the test's own
    folder (the system temp folder is shared); that folder."""
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.delenv(KEY_ENV, raising=False)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return temp
