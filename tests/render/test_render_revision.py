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
from helpers import CONTENT, ROOT

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


def _fingerprint(answer: str, tmp_path: Path) -> str:
    folder = tmp_path / f"bank-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    body = "\n".join("      " + line for line in answer.splitlines())
    (folder / "a.yaml").write_text(
        "role: R\nquestions:\n  - id: q1\n    difficulty: easy\n    question: Q?\n"
        f"    answer: |-\n{body}\n",
        encoding="utf-8",
    )
    (note,) = notes_for(run_load([str(folder)]))
    return note.fingerprint


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
    before = (_fingerprint(builtin, tmp_path), _fingerprint(unknown, tmp_path))
    notes.renderer_identity.cache_clear()
    installed[0] = ("mylang=mylang_lexer:MyLexer",)
    after = (_fingerprint(builtin, tmp_path), _fingerprint(unknown, tmp_path))
    notes.renderer_identity.cache_clear()
    assert before[0] == after[0]
    assert before[1] != after[1]
