"""Rendering in worker processes gives the fields rendering here gives, in the same order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from conftest import CONTENT, ROOT, write_stress_bank
from exporter.notes import notes_for
from exporter.pipeline import run_load
from exporter.rendering import PARALLEL_MIN_NOTES, _workers, fields_in_order


def test_workers_render_what_one_process_renders(tmp_path: Path) -> None:
    stress = write_stress_bank(tmp_path / "stress")
    bank = run_load([str(CONTENT), str(ROOT / "docs" / "examples"), str(stress)])
    notes = list(notes_for(bank))
    assert any(n.question.images for n in notes)  # images, math and code among them
    # One note already known (from an earlier build): it is not rendered again.
    notes[1] = replace(notes[1], known_html=("<p>known</p>", "<p>too</p>"))
    here = list(fields_in_order(notes, workers=1))
    assert here[1][:2] == ("<p>known</p>", "<p>too</p>")
    assert list(fields_in_order(notes, workers=2)) == here


def test_workers_only_for_enough_notes() -> None:
    assert _workers(10, None) == 1
    assert _workers(PARALLEL_MIN_NOTES * 4, 1) == 1
    assert _workers(5, 3) == 3  # asked for explicitly
