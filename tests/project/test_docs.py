"""The README stays a newcomer's page and every relative link in it and in docs/ resolves."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", flags=re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")


def broken_links(page: Path) -> list[str]:
    """The relative link targets in a Markdown page that name no existing file."""
    text = _CODE.sub("", _FENCE.sub("", page.read_text(encoding="utf-8")))
    broken = []
    for target in _LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = target.split("#", 1)[0]
        if not (page.parent / path).exists():
            broken.append(target)
    return broken


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_resolves() -> None:
    """Every relative link and image in README.md and docs/*.md names an existing file."""
    problems = {page.name: broken_links(page) for page in _pages()}
    assert {name: links for name, links in problems.items() if links} == {}


def test_the_checker_catches_a_broken_link(tmp_path: Path) -> None:
    """The link checker reports a missing target and ignores web links, anchors and code."""
    (tmp_path / "here.md").write_text("x\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](here.md#part) [gone](missing.md) ![pic](nope.png) [web](https://x.org)\n"
        "[anchor](#top) `[code](no.md)`\n```\n[fenced](no.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["missing.md", "nope.png"]


def test_readme_is_short() -> None:
    """README.md is a newcomer's page of at most 150 lines; the depth lives in docs/."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150


def test_readme_links_every_docs_page() -> None:
    """Every page in docs/ is reachable from the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [p.name for p in _pages()[1:] if f"(docs/{p.name})" not in readme] == []
