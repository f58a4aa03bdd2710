"""The project's own promises to a newcomer: the README's architecture table lists every
module, modules stay small, and the version, licence and changelog agree."""

from __future__ import annotations

import re

from conftest import ROOT
from exporter import __version__

MAX_MODULE_LINES = 320


def _modules() -> set[str]:
    return {
        p.name
        for p in (ROOT / "exporter").glob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    }


def test_architecture_table_lists_exactly_the_modules() -> None:
    """Every module of exporter/ has its row in the README's architecture table, and no row
    names a module that is gone."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Architecture") :]
    section = section[: section.index("\n## ", 4)] if "\n## " in section[4:] else section
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    named = {m for row in rows for m in re.findall(r"`([a-z_]+\.py)`", row)}
    assert named == _modules()


def test_modules_stay_small() -> None:
    """No module grows past ~300 lines: one job each, its name says which."""
    long = {
        p.name: n
        for p in (ROOT / "exporter").glob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_version_license_and_changelog_agree() -> None:
    """The version lives in one place, the changelog has its entry, the licence file exists."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert 'license = "MIT"' in pyproject
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {__version__} " in changelog
