"""How fields render is a number (``RENDER_REVISION``): a change to the HTML that content
renders to must raise it, so Anki updates exactly the notes whose fields changed, and a
refactor that keeps the HTML keeps it."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pygments
import pyromark
import pytest

from exporter.pipeline import run_load
from exporter.render.notes import RENDER_REVISION, notes_for
from helpers import CONTENT, ROOT, clear_lexer_caches, install_plugin_lexer

GOLDEN = ROOT / "tests" / "data" / "golden" / "render-revision.json"
SOURCES = [str(CONTENT), str(ROOT / "docs" / "examples")]


def rendered_digest(sources: list[str] = SOURCES) -> str:
    """A digest of every field ``sources`` (the shipped bank and the examples) render to."""
    digest = hashlib.sha256()
    for note in notes_for(run_load(sources)):
        digest.update(json.dumps([note.question_id, *note.fields]).encode("utf-8"))
    return digest.hexdigest()


def _libraries() -> dict[str, str]:
    return {"pyromark": pyromark.__version__, "pygments": pygments.__version__}


def test_html_changes_only_with_the_render_revision() -> None:
    """The fields rendered now are the ones recorded for this revision; if they differ,
    raise RENDER_REVISION and record them again (INTERVIEW_DECK_GOLDEN=write)."""
    now = {"revision": RENDER_REVISION, "libraries": _libraries(), "fields": rendered_digest()}
    if os.environ.get("INTERVIEW_DECK_GOLDEN") == "write":
        GOLDEN.write_text(json.dumps(now, indent=1) + "\n", encoding="utf-8")
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    if recorded["libraries"] != now["libraries"]:
        # Another library version is another renderer identity: every fingerprint changes
        # by itself, so the revision need not move. Only the same libraries are compared.
        return
    assert recorded["revision"] == now["revision"], "record the fields of the new revision"
    assert recorded["fields"] == now["fields"], (
        "the rendered HTML changed: raise RENDER_REVISION in exporter/render/notes.py, then "
        "run this test once with INTERVIEW_DECK_GOLDEN=write"
    )


def test_the_digest_sees_a_changed_field(tmp_path: Path) -> None:
    """The check above is not vacuous: one changed character changes the digest."""
    before = rendered_digest()
    bank = tmp_path / "bank"
    bank.mkdir()
    text = (CONTENT / "mlops-engineer.yaml").read_text(encoding="utf-8")
    (bank / "mlops-engineer.yaml").write_text(text.replace("drift", "drfit", 1), "utf-8")
    assert rendered_digest([str(bank), str(ROOT / "docs" / "examples")]) != before


def _note(answer: str, tmp_path: Path) -> tuple[str, tuple[str, ...]]:
    """The fingerprint and fields of a one-question bank whose answer is ``answer``."""
    folder = tmp_path / f"bank-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    body = "\n".join("      " + line for line in answer.splitlines())
    (folder / "a.yaml").write_text(
        "role: R\nquestions:\n  - id: q1\n    difficulty: easy\n    question: Q?\n"
        f"    answer: |-\n{body}\n",
        encoding="utf-8",
    )
    (note,) = notes_for(run_load([str(folder)]))
    return note.fingerprint, note.fields


# Fences whose rendering a plugin lexer changes: by its name, or by a lookup a built-in
# lexer makes from the code it reads.
PLUGIN_REACHED = {
    # The info string keeps Unicode white space before the name (pulldown-cmark trims only
    # spaces and tabs), and the renderer's first word skips it: the language is 'mylang'.
    "no-break space": "```\u00a0mylang\nfoo bar\n```",
    "ideographic space": "~~~ \u3000mylang\nfoo bar\n~~~",
    # Built-in lexers that look another lexer up from the code they read.
    "postgresql LANGUAGE": (
        "```postgresql\nCREATE FUNCTION f() RETURNS int AS $$ foo bar $$ LANGUAGE mylang;\n```"
    ),
    "http Content-Type": "```http\nHTTP/1.1 200 OK\nContent-Type: text/x-mylang\n\nfoo bar\n```",
    "wikitext syntaxhighlight": (
        '```wikitext\n<syntaxhighlight lang="mylang">\nfoo bar\n</syntaxhighlight>\n```'
    ),
    # The plugin's name itself, and inside a Markdown block.
    "plugin name": "```mylang\nfoo bar\n```",
    "markdown fence": "~~~markdown\n```mylang\nfoo bar\n```\n~~~",
}


@pytest.mark.parametrize("answer", PLUGIN_REACHED.values(), ids=PLUGIN_REACHED.keys())
def test_a_fence_a_plugin_lexer_renders_counts_the_plugins(
    answer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installing a plugin lexer that changes a note's fields changes its fingerprint (else
    Anki keeps the old fields: the note's mod time only moves with its fingerprint)."""
    (tmp_path / "banks").mkdir()
    clear_lexer_caches()
    try:
        before = _note(answer, tmp_path / "banks")
        install_plugin_lexer(tmp_path / "site", monkeypatch)
        after = _note(answer, tmp_path / "banks")
    finally:
        monkeypatch.undo()
        clear_lexer_caches()
    assert before[1] != after[1], "the plugin renders this fence (else the case proves nothing)"
    assert before[0] != after[0]


def test_plugin_lexers_are_looked_up_where_a_distribution_may_declare_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry points are read (``importlib.metadata``) only when a distribution on the
    path names Pygments' lexer entry point, or the path holds a zip or an egg it cannot
    look into; otherwise no plugin lexer can be installed."""
    from exporter.markup.highlight import _may_declare_lexers

    site = tmp_path / "site"
    (site / "other-1.0.dist-info").mkdir(parents=True)
    (site / "other-1.0.dist-info" / "entry_points.txt").write_text(
        "[console_scripts]\nother = other:main\n", encoding="utf-8"
    )
    (site / "plain-2.0.dist-info").mkdir()
    monkeypatch.setattr(sys, "path", [str(site), str(tmp_path / "missing")])
    assert not _may_declare_lexers()
    plugin = tmp_path / "plugin" / "mylang_lexer-1.0.dist-info"
    plugin.mkdir(parents=True)
    (plugin / "entry_points.txt").write_text(
        "[pygments.lexers]\nmylang = mylang_lexer:MyLexer\n", encoding="utf-8"
    )
    sys.path.append(str(tmp_path / "plugin"))  # (the patched list: put back after the test)
    assert _may_declare_lexers()
    for maybe in ("bundle.zip", "old.egg"):
        (tmp_path / maybe).write_bytes(b"PK")
        monkeypatch.setattr(sys, "path", [str(site), str(tmp_path / maybe)])
        assert _may_declare_lexers()
    monkeypatch.setattr(sys, "path", [str(tmp_path)])  # a folder holding the egg
    assert _may_declare_lexers()
    monkeypatch.setattr(sys, "path", [str(site)])
    assert not _may_declare_lexers()

    class Finder:
        def find_distributions(self, *args: object) -> list[object]:
            return []

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert _may_declare_lexers()
