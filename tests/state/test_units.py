"""A build's files made in worker processes (exporter.state.units) give the bytes, messages
and exit codes of a build in one process; workers start only where they pay, and Ctrl-C or
SIGTERM stops them with the build."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import exporter.pipeline
import exporter.state.units
from exporter.content.sources import discover
from exporter.state.filecache import FileCache
from exporter.state.units import WORKERS, WORKERS_FROM_BYTES, make_unit, worker_count
from helpers import (
    EPOCH,
    build_deck,
    child_env,
    exporter_command,
    first_fast,
    hooked,
    make_bank,
    question,
    write,
)

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="4"/></svg>'


def bank(folder: Path, edited: bool = False) -> Path:
    """Five files of every kind of note: key points, a reverse card, an image, code, math,
    a warning (an unknown fence language); ``edited``: a key point and an answer changed."""
    points: tuple[str, ...] = ("the *first* point", "the second point", "a third")
    if edited:
        points = ("the *first* point", "the second point, edited", "a third", "a fourth")
    for n in range(5):
        questions = [
            question(f"f{n}q{i}", ("easy", "medium", "hard")[i % 3])._replace(
                answer=f"Answer {n}.{i}{' edited' if edited and i == 1 else ''}:\n\n"
                "```python\nx = 1\n```\n\n$a^2$ and ![d](d.svg)\n\n```nolang\ny\n```",
                key_points=points if i % 2 == 0 else (),
                reverse=i % 3 == 0,
            )
            for i in range(4)
        ]
        make_bank(folder, questions, role=f"Role {n}", filename=f"r{n}.yaml")
    write(folder / "d.svg", SVG)
    return folder


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def build_with(
    workers: int, src: Path, out: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: Any
) -> Any:
    """``build_deck`` with the pipeline told to use ``workers`` worker processes."""
    with monkeypatch.context() as patched:
        patched.setattr(exporter.pipeline, "worker_count", lambda *args: workers)
        return build_deck(src, output=out, **kwargs)


def started(
    tmp_path: Path, hook: str, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """``python -m exporter ARGS`` in a session of its own, with ``hook`` as its
    sitecustomize (and SOURCE_DATE_EPOCH fixed): its workers are in that session too."""
    return subprocess.Popen(
        exporter_command(*args),
        env=child_env(
            hooked(tmp_path / "hooks", hook, {"SOURCE_DATE_EPOCH": str(EPOCH), **(env or {})})
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def reached(child: subprocess.Popen[str], marker: Path, what: str) -> None:
    """Wait until the hook in ``child`` makes ``marker`` (a guard against a hang: 60 s)."""
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def session_gone(child: subprocess.Popen[str]) -> None:
    """Wait until every process of ``child``'s session has ended (a guard: 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            os.killpg(child.pid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, "a worker outlived the build"
        time.sleep(0.05)


@pytest.mark.parametrize("fresh", [True, False], ids=["no-cache", "cache"])
def test_workers_write_the_bytes_one_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh: bool
) -> None:
    """A first build and a second one after edits (a key point, an answer), in workers and in
    one process: the same package, history and report, with the file cache or without."""
    src = bank(tmp_path / "src")
    one, two = tmp_path / "one" / "deck.apkg", tmp_path / "two" / "deck.apkg"
    a = build_with(0, src, one, monkeypatch, fresh=fresh)
    b = build_with(WORKERS, src, two, monkeypatch, fresh=fresh)
    assert outputs(one.parent) == outputs(two.parent)
    assert (a.stdout.replace(str(one), "OUT"), a.stderr) == (
        b.stdout.replace(str(two), "OUT"),
        b.stderr,
    )
    assert "warning" in a.stderr
    bank(src, edited=True)
    a = build_with(0, src, one, monkeypatch, fresh=fresh, epoch=EPOCH + 60)
    b = build_with(WORKERS, src, two, monkeypatch, fresh=fresh, epoch=EPOCH + 60)
    assert outputs(one.parent) == outputs(two.parent)
    assert a.stdout.replace(str(one), "OUT") == b.stdout.replace(str(two), "OUT")


def test_problems_found_in_workers_are_reported_as_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Problems in several files (a bad value, an id used in two files, a missing image): the
    same messages and exit code with workers, and nothing written."""
    src = bank(tmp_path / "src")
    text = (
        (src / "r1.yaml").read_text(encoding="utf-8").replace("difficulty: easy", "difficulty: x")
    )
    write(src / "r1.yaml", text)
    write(src / "r3.yaml", (src / "r3.yaml").read_text(encoding="utf-8").replace("f3q2", "f0q1"))
    write(src / "r4.yaml", (src / "r4.yaml").read_text(encoding="utf-8").replace("d.svg", "e.svg"))
    one, two = tmp_path / "one" / "deck.apkg", tmp_path / "two" / "deck.apkg"
    a = build_with(0, src, one, monkeypatch, expect="failed")
    b = build_with(WORKERS, src, two, monkeypatch, expect="failed")
    assert (a.exit_code, a.stderr) == (b.exit_code, b.stderr) == (1, a.stderr)
    assert "duplicate id 'f0q1'" in a.stderr
    assert not one.parent.exists()
    assert not two.parent.exists()


@pytest.mark.parametrize("forked", [0, 1])
def test_with_no_process_to_be_had_the_build_runs_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: int
) -> None:
    """When no worker process can be started (EAGAIN: a process limit), or only one of
    the two, the build runs in this process, writes the same bytes, and leaves no worker
    behind."""
    import multiprocessing

    src = bank(tmp_path / "src")
    one, two = tmp_path / "one" / "deck.apkg", tmp_path / "two" / "deck.apkg"
    build_with(0, src, one, monkeypatch)
    real, calls = os.fork, [0]

    def no_fork() -> int:
        calls[0] += 1
        if calls[0] > forked:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real()

    monkeypatch.setattr(os, "fork", no_fork)
    build_with(WORKERS, src, two, monkeypatch)
    assert outputs(one.parent) == outputs(two.parent)
    assert multiprocessing.active_children() == []


# For the hooks below: wait until ``test()`` holds, looking every 10 ms (at most a minute:
# a guard against a hang, never a duration the test depends on).
UNTIL = """
import time
def _until(test):
    deadline = time.monotonic() + 60
    while not test() and time.monotonic() < deadline:
        time.sleep(0.01)
"""


def dead(pid_file: str) -> str:
    """Hook code: True once the process whose pid ``pid_file`` holds has died (gone, or a
    zombie its parent has not reaped yet)."""
    return (
        f"(lambda: os.path.exists({pid_file!r}) and (lambda stat: not stat or stat.split(')')[-1]"
        f".split()[0] == 'Z')(_stat(open({pid_file!r}).read())))"
    )


# In the workers only: a kill -9 while the worker makes r1.yaml ("making"), or, the other
# worker making r1 meanwhile and waiting until it is dead, once it made r0.yaml and waits
# for the next ("waiting").
KILL_A_WORKER = (
    UNTIL
    + """
import os, signal, threading
import exporter.pipeline as p
import exporter.state.units as units
p.worker_count = lambda *args: 2
PARENT = os.getpid()
_real = units.make_unit
def _stat(pid):
    try:
        with open(f"/proc/{{pid}}/stat") as f:
            return f.read()
    except OSError:
        return ""
def _killed(source, previous, cache):
    if os.getpid() != PARENT and source.path.name == "r1.yaml":
        if {when!r} == "making":
            os.kill(os.getpid(), signal.SIGKILL)
        _until({dead})
    made = _real(source, previous, cache)
    if os.getpid() != PARENT and source.path.name == "r0.yaml" and {when!r} == "waiting":
        with open({pid_file!r} + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename({pid_file!r} + ".tmp", {pid_file!r})
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGKILL)).start()
    return made
units.make_unit = _killed
"""
)


@pytest.mark.parametrize("when", first_fast(["making", "waiting"]))
def test_a_worker_that_dies_costs_only_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """A worker killed (the out-of-memory killer, a kill -9) while it makes a file, or
    while it waits for the next (holding the lock on the files to make): the build never
    waits for it forever; it makes what the worker held, and the rest, in this process,
    and writes the bytes a build in one process writes."""
    src = bank(tmp_path / "src")
    if when == "waiting":  # two files: r0's worker waits while the other makes r1
        for name in ("r2.yaml", "r3.yaml", "r4.yaml"):
            (src / name).unlink()
    one, two = tmp_path / "one" / "deck.apkg", tmp_path / "two" / "deck.apkg"
    build_with(0, src, one, monkeypatch, fresh=True)
    pid_file = str(tmp_path / "r0-worker.pid")
    hook = KILL_A_WORKER.format(when=when, pid_file=pid_file, dead=dead(pid_file))
    child = started(tmp_path, hook, "build", src, "-o", two, "--no-cache")
    try:
        _stdout, stderr = child.communicate(timeout=60)
    finally:  # (a build that waits for ever: it and its workers go)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 0, stderr
    assert outputs(one.parent) == outputs(two.parent)


def test_a_bank_too_small_for_workers_never_imports_multiprocessing(tmp_path: Path) -> None:
    """multiprocessing and concurrent.futures (~20 ms of a small build's CPU) are imported
    only when a bank is big enough for workers (what the build imports: a coverage run has
    imported multiprocessing before it starts)."""
    src = bank(tmp_path / "small")
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from exporter.__main__ import main\n"
        f"sys.argv = ['interview-deck', 'build', {str(src)!r}, '-o', {str(tmp_path / 'o.apkg')!r}]\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
        "('multiprocessing', 'concurrent')))\n"
    )
    env = child_env({"INTERVIEW_DECK_CACHE": str(tmp_path / "cache")})
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o.apkg").exists()
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_workers_start_only_where_they_pay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers for at least WORKERS_FROM_BYTES to load anew in two files or more, with
    two CPUs and fork; none for a smaller bank, one the file cache holds, a single file, one
    CPU or no fork."""
    small = bank(tmp_path / "small")
    big = tmp_path / "big"
    shutil.copytree(small, big)
    filler = "# " + "x" * 98 + "\n"
    for name in ("r0.yaml", "r1.yaml"):
        path = big / name
        copies = WORKERS_FROM_BYTES // 2 // len(filler) + 1
        write(path, path.read_text(encoding="utf-8") + filler * copies)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert worker_count(discover([str(small)])) == 0
    assert worker_count(discover([str(big)])) == WORKERS
    assert worker_count(discover([str(big / "r0.yaml")])) == 0
    cache = FileCache.open(tmp_path / "cache", "code")
    for source in discover([str(big)]).files:  # the cache holds every file: none to load
        make_unit(source, None, cache)
    assert worker_count(discover([str(big)]), cache) == 0
    for name in ("r0.yaml", "r1.yaml"):  # 4 MB to load anew again
        write(big / name, (big / name).read_text(encoding="utf-8") + "# edited\n")
    assert worker_count(discover([str(big)]), cache) == WORKERS
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert worker_count(discover([str(big)])) == 0
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr("multiprocessing.get_all_start_methods", lambda: ["spawn"])
    assert worker_count(discover([str(big)])) == 0


# In the workers only: the first file made says so, then waits until the test, having sent
# its signal, says go (the signal stops the worker first).
PAUSE_IN_A_WORKER = (
    UNTIL
    + """
import os
import exporter.state.units as units
_real = units.make_unit
def _paused(source, previous, cache):
    if os.getpid() != {parent}:
        open({marker!r}, "a").close()
        _until(lambda: os.path.exists({go!r}))
    return _real(source, previous, cache)
units.make_unit = _paused
"""
)

# In the workers only, as each starts (before it has set what SIGINT and SIGTERM do there):
# the first says so; each waits until the test, having sent its signal, says go.
PAUSE_AS_A_WORKER_STARTS = (
    UNTIL
    + """
import os
import exporter.state.units as units
_real_quiet = units._quiet
def _slow_start():
    open({marker!r}, "a").close()
    _until(lambda: os.path.exists({go!r}))
    _real_quiet()
units._quiet = _slow_start
"""
)


@pytest.mark.slow  # a child build with workers, signalled: the full tier
@pytest.mark.parametrize("at", ["making a file", "starting"])
@pytest.mark.parametrize("how", ["Ctrl-C", "SIGTERM"])
def test_a_signal_stops_the_workers_with_the_build(tmp_path: Path, how: str, at: str) -> None:
    """Ctrl-C (SIGINT to the terminal's whole process group) or SIGTERM to the build while
    workers make its files, or while they start: the build says 'Aborted!' (one line, no
    worker's traceback), exits 130 or 143, writes nothing, and leaves no worker behind."""
    src = bank(tmp_path / "src")
    out = tmp_path / "out" / "deck.apkg"
    marker, go = tmp_path / "paused", tmp_path / "go"
    pause = PAUSE_IN_A_WORKER if at == "making a file" else PAUSE_AS_A_WORKER_STARTS
    hook = (
        "import os\n"
        "import exporter.pipeline as p\n"
        "p.worker_count = lambda *args: 2\n"
        "PARENT = os.getpid()\n"
        + pause.replace("{parent}", "PARENT").format(marker=str(marker), go=str(go))
    )
    child = started(tmp_path, hook, "build", src, "-o", out, "--no-cache")
    try:
        reached(child, marker, "no worker started")
        if how == "Ctrl-C":
            os.killpg(child.pid, signal.SIGINT)
        else:
            child.send_signal(signal.SIGTERM)
        go.touch()  # (a worker that still waits goes on: its signals are its own by then)
        _stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    signum = signal.SIGINT if how == "Ctrl-C" else signal.SIGTERM
    assert child.returncode == 128 + signum, stderr
    assert stderr.strip().splitlines() == ["Aborted!"]
    assert not out.exists()
    session_gone(child)


def test_order_by_difficulty_renders_each_note_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--order difficulty`` holds every file before it writes one: each note is still
    rendered once (as each file is made), the same count as in file order."""
    import exporter.markup.markdown

    src = bank(tmp_path / "src")
    real = exporter.markup.markdown.to_html
    counts: list[int] = []
    for n, order in enumerate(("file", "difficulty")):
        calls = [0]

        def counted(*args: Any, calls: list[int] = calls) -> str:
            calls[0] += 1
            return real(*args)

        monkeypatch.setattr("exporter.render.notes.to_html", counted)
        build_with(
            0,
            src,
            tmp_path / str(n) / "deck.apkg",
            monkeypatch,
            fresh=True,
            extra=["--order", order],
        )
        counts.append(calls[0])
    assert counts[0] == counts[1] > 0


# In the build itself, as it takes the second file: say so, then wait (for the kill -9).
PAUSE_THE_BUILD = (
    UNTIL
    + """
import os
import exporter.pipeline as p
import exporter.content.load as load
p.worker_count = lambda *args: 2
_add = load.BankChecks.add
def _paused(self, source, loaded):
    if source.path.name == "r1.yaml":
        open({marker!r}, "a").close()
        _until(lambda: False)  # (until the kill -9; at most a minute)
    return _add(self, source, loaded)
load.BankChecks.add = _paused
"""
)


@pytest.mark.slow  # a child build with workers, killed: the full tier
def test_a_build_killed_outright_leaves_no_worker_behind(tmp_path: Path) -> None:
    """kill -9 of a build while its workers make files (or wait for the next): the workers
    end with it, none is left waiting for files for ever."""
    src = bank(tmp_path / "src")
    marker = tmp_path / "paused"
    hook = PAUSE_THE_BUILD.format(marker=str(marker))
    out = tmp_path / "out" / "deck.apkg"
    child = started(tmp_path, hook, "build", src, "-o", out, "--no-cache")
    try:
        reached(child, marker, "the build never took its second file")
        child.kill()
        child.communicate()
        session_gone(child)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


# In the workers only: the first cache entry's bytes written (not yet moved into place), say
# so, then go on once the test, having sent Ctrl-C, says go.
PAUSE_IN_A_WORKERS_ENTRY = (
    UNTIL
    + """
import os
import exporter.files as files
import exporter.pipeline as p
p.worker_count = lambda *args: 2
PARENT = os.getpid()
_real = files._write_all
def _paused(fd, data):
    _real(fd, data)
    if os.getpid() != PARENT:
        open({marker!r}, "a").close()
        _until(lambda: os.path.exists({go!r}))
files._write_all = _paused
"""
)


@pytest.mark.slow  # a child build with workers, signalled: the full tier
def test_ctrl_c_while_a_worker_writes_a_cache_entry_leaves_no_temp_file(tmp_path: Path) -> None:
    """Ctrl-C while a worker writes a file's cache entry: the build says 'Aborted!' and
    exits 130, and the cache folder holds no temp file (as when the build runs in one
    process: a worker finishes the entry, then stops)."""
    src = bank(tmp_path / "src")
    marker = tmp_path / "paused"
    cache = tmp_path / "cache"
    go = tmp_path / "go"
    hook = PAUSE_IN_A_WORKERS_ENTRY.format(marker=str(marker), go=str(go))
    out = tmp_path / "out" / "deck.apkg"
    child = started(
        tmp_path, hook, "build", src, "-o", out, env={"INTERVIEW_DECK_CACHE": str(cache)}
    )
    try:
        reached(child, marker, "no worker wrote an entry")
        os.killpg(child.pid, signal.SIGINT)
        go.touch()
        _stdout, stderr = child.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
    assert child.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["Aborted!"]
    assert [p.name for p in (cache / "files").iterdir() if p.name.endswith(".tmp")] == []
