"""Hostile input, leftovers of killed builds are cleaned: what a careless or malicious file, path or
process can do, and that it cannot break a build or leave a traceback."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest

from exporter.files import sweep_staged
from helpers import (
    Builder,
    bank,
)


def test_leftovers_of_dead_builds_are_removed(
    build: Builder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed build's staged files beside its output go on the next build, however
    young; a live build's (its pid alive, or its lock held by a writer whose pid this
    process cannot see) and other names stay; the shared temp folder is never swept, and
    the build leaves nothing of its own there."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    out = tmp_path / "d" / "deck.apkg"
    out.parent.mkdir()
    dead = 2**22 + 12345  # above the default pid_max: no such process
    old = time.time() - 3600
    stale_file = out.parent / f".deck.apkg.{dead}.xyz.tmp"
    stale_file.write_bytes(b"half")
    live_file = out.parent / f".deck.apkg.{os.getppid()}.xyz.tmp"
    live_file.write_bytes(b"busy")
    young_file = out.parent / f".deck.apkg.{dead}.young.tmp"
    young_file.write_bytes(b"new")
    locked_file = out.parent / f".deck.apkg.{dead}.locked.tmp"  # a writer in another pid namespace
    locked_file.write_bytes(b"being written")
    lock = os.open(locked_file, os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)
    other = out.parent / f".other.apkg.{dead}.xyz.tmp"
    other.write_bytes(b"not ours to judge")
    foreign_dir = temp / f"interview-deck-{dead}-abc"  # in the shared temp folder
    foreign_dir.mkdir()
    for path in (stale_file, live_file, other, foreign_dir):
        os.utime(path, (old, old))
    try:
        build(bank(tmp_path / "c"), output=out)
    finally:
        os.close(lock)
    assert not stale_file.exists()
    assert not young_file.exists()
    assert live_file.exists()
    assert locked_file.exists()
    assert other.exists()
    assert sorted(p.name for p in temp.iterdir()) == [foreign_dir.name]


@pytest.mark.parametrize("pid", ["9" * 200, "2147483648", "\u0661\u0662"])
def test_a_staged_name_with_an_impossible_pid_is_left_alone(
    build: Builder, tmp_path: Path, pid: str
) -> None:
    """A file named like a staged copy but with a pid no process can have (past C's int,
    thousands of digits, not ASCII: a cloned repository can ship one) is not ours: the
    build leaves it and ends normally."""
    src = bank(tmp_path / "c")
    out = tmp_path / "d" / "deck.apkg"
    out.parent.mkdir()
    names = [out.parent / f".deck.apkg.{pid}.x.tmp", src.parent / f".{src.name}.{pid}.x.tmp"]
    for path in names:
        path.write_bytes(b"not ours")
    build(src, output=out)
    assert all(p.exists() for p in names)


def test_a_dead_writers_file_goes_though_its_name_also_reads_as_a_live_writers(
    tmp_path: Path,
) -> None:
    """A staged file of a target whose name is another target's, then a dot and digits
    (``a.yaml`` and ``a.yaml.1.yaml``), goes when its writer is dead, though the name also
    reads as a staged file of the shorter target by a live pid: a sweep removes every file
    each target's own pattern finds stale."""
    dead = 2**22 + 12345  # above the default pid_max: no such process
    short, long = tmp_path / "a.yaml", tmp_path / "a.yaml.1.yaml"  # pid 1 is alive
    stale_file = tmp_path / f".a.yaml.1.yaml.{dead}.xyz.tmp"
    stale_file.write_bytes(b"half")
    sweep_staged(short, long)
    assert not stale_file.exists()


def test_a_sweep_lists_each_folder_once_whatever_the_targets_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build sweeps beside every content file: one listing a folder (a listing a file made
    a bank of 2,000 files spend 3 s of every build there), and still every dead writer's
    file found, in each folder."""
    dead = 2**22 + 12345  # above the default pid_max: no such process
    folders = [tmp_path / "one", tmp_path / "two"]
    targets = [folder / f"r{i}.yaml" for folder in folders for i in range(50)]
    for folder in folders:
        folder.mkdir()
    for target in targets:
        target.write_text("x")
        (target.parent / f".{target.name}.{dead}.k.tmp").write_bytes(b"half")
    listed: list[str] = []
    real = os.scandir

    def scandir(path: str) -> object:
        listed.append(str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    sweep_staged(*targets)
    assert sorted(listed) == sorted(str(f) for f in folders)
    assert sorted(p.name for f in folders for p in f.iterdir()) == sorted(t.name for t in targets)
