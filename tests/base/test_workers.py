"""Work done in worker processes (parsing files, rendering fields) gives what the same work
done here gives, in the same order."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

import exporter.content.load
import exporter.workers
from exporter.errors import ContentErrors, WorkerLost
from exporter.pipeline import run_load
from exporter.render.notes import fields_in_order, notes_for
from exporter.workers import ordered_map, worker_count
from helpers import CONTENT, ROOT, hang_guard, write, write_stress_bank


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_workers_render_what_one_process_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    """Forked (Linux) or spawned (macOS, Windows) workers render what this process does."""
    monkeypatch.setattr(exporter.workers, "START", start)
    stress = write_stress_bank(tmp_path / "stress")
    bank = run_load([str(CONTENT), str(ROOT / "docs" / "examples"), str(stress)])
    notes = list(notes_for(bank))
    assert any(n.question.images for n in notes)  # images, math and code among them
    # One note already known (from an earlier build): it is not rendered again.
    notes[1] = replace(notes[1], known_html=("<p>known</p>", "<p>too</p>"))
    here = list(fields_in_order(notes, workers=1))
    assert here[1][:2] == ("<p>known</p>", "<p>too</p>")
    assert list(fields_in_order(notes, workers=2)) == here


def _pid(_item: int) -> int:
    return os.getpid()


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_workers_really_run_in_other_processes(monkeypatch: pytest.MonkeyPatch, start: str) -> None:
    """With two workers the work runs in other processes (the tests above would pass in one)."""
    monkeypatch.setattr(exporter.workers, "START", start)
    with hang_guard():
        pids = set(ordered_map(_pid, range(16), 2))
    assert os.getpid() not in pids
    assert pids


def test_workers_only_for_enough_work() -> None:
    """Workers are used only when there is enough work, or when asked for."""
    assert worker_count(10, 1_000) == 1
    assert worker_count(10**6, 1_000, workers=1) == 1
    assert worker_count(5, 1_000, workers=3) == 3  # asked for explicitly


def test_files_parsed_in_workers_load_as_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bank parsed in worker processes equals the bank parsed here, and a bank with
    problems reports the same problems in the same order."""
    stress = write_stress_bank(tmp_path / "stress")
    sources = [str(CONTENT), str(ROOT / "docs" / "examples"), str(stress)]
    here = run_load(sources)
    monkeypatch.setattr(exporter.content.load, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(exporter.workers, "usable_cores", lambda: 2)
    assert run_load(sources) == here
    bad = write(tmp_path / "bad" / "bad.yaml", "role: X\nquestions:\n  - id: Bad Id\n")
    twice = write(tmp_path / "bad" / "twice.yaml", (CONTENT / "mlops-engineer.yaml").read_text())
    problems = []
    for threshold in (0, 10**12):
        monkeypatch.setattr(exporter.content.load, "PARALLEL_MIN_BYTES", threshold)
        with pytest.raises(ContentErrors) as raised:
            run_load([*sources, str(bad), str(twice)])
        problems.append([str(e) for e in raised.value.errors])
    assert problems[0] == problems[1]
    assert any("duplicate id" in p for p in problems[0])


def _dies_on_three(n: int) -> int:
    if n == 3:
        os._exit(9)  # as the out-of-memory killer would end it
    return n * 2


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    """A killed worker stops the map with WorkerLost; the next map works again."""
    with hang_guard(), pytest.raises(WorkerLost, match="worker process stopped"):
        list(ordered_map(_dies_on_three, range(50), 2))
    assert list(ordered_map(_dies_on_three, [1, 2], 2)) == [2, 4]
