"""How fields render is a number (``RENDER_REVISION``): a change to the HTML that content
renders to must raise it, so Anki updates exactly the notes whose fields changed, and a
refactor that keeps the HTML keeps it."""

from __future__ import annotations

import hashlib
import json
import os
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


def test_plugin_lexers_count_only_where_a_fence_could_reach_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Pygments plugin can only render a fence whose language no built-in lexer names
    (built-ins win the lookup): such a note's fingerprint changes when plugins do; a note
    whose fences all name built-ins never asks which plugins are installed (reading the
    entry points costs a small build a tenth of its time)."""
    from exporter.markup import highlight
    from exporter.render import notes

    builtin = "```python\nx = 1\n```\n\n~~~ SQL extra words\nselect 1\n~~~"
    unknown = "```python\nx = 1\n```\n\n```mylang\nfoo\n```"
    installed: list[tuple[str, ...]] = [()]

    def plugins() -> tuple[str, ...]:
        return installed[0]

    monkeypatch.setattr(highlight, "plugin_lexers", plugins)
    monkeypatch.setattr(notes, "plugin_lexers", plugins)
    before = (_note(builtin, tmp_path)[0], _note(unknown, tmp_path)[0])
    notes.renderer_identity.cache_clear()
    installed[0] = ("mylang=mylang_lexer:MyLexer",)
    after = (_note(builtin, tmp_path)[0], _note(unknown, tmp_path)[0])
    notes.renderer_identity.cache_clear()
    assert before[0] == after[0]
    assert before[1] != after[1]


# Fences whose rendering a plugin lexer changes although no fence word, as the regex reads
# it, is a language only a plugin has.
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
    # Already counted (controls): the plugin's name itself, and inside a Markdown block.
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


def test_every_lexer_that_looks_others_up_is_counted() -> None:
    """Every built-in Pygments lexer that looks up another lexer by a name, MIME type or
    guess read from the code (or is built on one that does) is in ``DELEGATING_LEXERS``:
    its fences may reach a plugin lexer, so a note with one counts the plugins."""
    import ast

    import pygments.lexers
    from pygments.lexers._mapping import LEXERS

    from exporter.markup.highlight import (
        CHECKED_PYGMENTS,
        DELEGATING_LEXERS,
        plugin_free_languages,
    )

    lookups = {
        "get_lexer_by_name",
        "get_lexer_for_mimetype",
        "get_lexer_for_filename",
        "guess_lexer",
        "guess_lexer_for_filename",
        "find_lexer_class",
        "find_lexer_class_by_name",
        "find_lexer_class_for_filename",
        "find_plugin_lexers",
        "load_lexer_from_file",
    }
    names: dict[str, set[str]] = {}  # class -> every name its body mentions
    looks_up: set[str] = set()
    for path in Path(pygments.lexers.__file__).parent.glob("*.py"):
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef):
                continue
            mentioned = set()
            for node in ast.walk(cls):
                if isinstance(node, ast.Name):
                    mentioned.add(node.id)
                elif isinstance(node, ast.Attribute):
                    mentioned.add(node.attr)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    mentioned.add(node.value)
                if isinstance(node, ast.Call):
                    func = node.func
                    called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                    fixed = node.args and isinstance(node.args[0], ast.Constant)
                    if called in lookups and not fixed:  # a name taken from the code
                        looks_up.add(cls.name)
            names[cls.name] = mentioned - {cls.name}
    reach = set(looks_up)
    while grown := {c for c, used in names.items() if c not in reach and used & reach}:
        reach |= grown  # subclasses, and lexers that run one (``using``, delegating)
    found = {LEXERS[c][1] for c in reach if c in LEXERS}
    assert {"HTTP", "reStructuredText", "Markdown"} <= found  # the scan sees them
    version = tuple(int(p) for p in pygments.__version__.split(".")[:2])
    if version > CHECKED_PYGMENTS:
        # A Pygments the list was not checked against (a fresh machine may install one):
        # no alias is trusted, so every note with a fence counts the plugins.
        assert plugin_free_languages() == frozenset()
        return
    assert found <= DELEGATING_LEXERS
