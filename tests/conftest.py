"""The fixtures every test may ask for: its own work cache, builds, a fresh Anki collection,
the browser. Plain helpers are in ``helpers.py``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from helpers import (
    CONTENT,
    FAST_EXAMPLES,
    FAST_PROFILE,
    Anki,
    Builder,
    RenderedCard,
    build_deck,
    rendered_cards,
    write_stress_bank,
)

# The fast tier's property runs: ./scripts/test --fast passes --hypothesis-profile=fast, and
# each test's examples(N) is then at most FAST_EXAMPLES (helpers.examples).
settings.register_profile(FAST_PROFILE, max_examples=FAST_EXAMPLES)


@pytest.fixture(autouse=True)
def file_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's builds keep their reusable files (``exporter.state.filecache``) in a folder
    of that test alone, never in the user's cache nor another test's; child processes
    inherit it."""
    folder = tmp_path_factory.mktemp("work-cache")
    monkeypatch.setenv("INTERVIEW_DECK_CACHE", str(folder))
    return folder


@pytest.fixture
def build(tmp_path: Path) -> Builder:
    """Build sources to tmp_path/out/deck.apkg (or ``output=``), asserting the status."""
    return Builder(tmp_path / "out" / "deck.apkg")


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


@pytest.fixture(scope="session")
def anki_cards(tmp_path_factory: pytest.TempPathFactory) -> list[RenderedCard]:
    """Every card of the shipped bank plus the stress card, rendered by a real Anki."""
    folder = tmp_path_factory.mktemp("anki-cards")
    stress = write_stress_bank(folder / "stress")
    package = build_deck(CONTENT, stress, output=folder / "deck.apkg").output
    cards, _media = rendered_cards(package, folder / "collection.anki2")
    assert len(cards) == 11
    return cards


# Two tiers. The full tier (./scripts/test) runs every test, each property test at its full
# count. The fast tier (./scripts/test --fast: -m "not slow", the Hypothesis profile above)
# leaves out the tests marked slow: here, what needs a browser, pre-commit, old Anki backends
# or the bank properties through Anki; in the test files, @pytest.mark.slow on what costs
# seconds of CPU (large-input linear-work guards, zip64, children killed at every call) and
# helpers.first_fast on costly matrices, whose first case the fast tier keeps.
_SLOW_FIXTURES = {"chromium", "card_page"}
_SLOW_FILES = {"test_precommit.py", "test_properties.py", "test_ci_workflow.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the slow tier: browser tests, pre-commit and CI linters, compat, properties."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        path = item.path
        if (
            fixtures & _SLOW_FIXTURES
            or path.name in _SLOW_FILES
            or "compat" in path.parts
            or item.get_closest_marker("compat") is not None
        ):
            item.add_marker(pytest.mark.slow)
