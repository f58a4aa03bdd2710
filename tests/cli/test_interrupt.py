"""Ctrl-C at any moment of a run, from the first import on, is one line ('Aborted!') and
exit 130 (SIGTERM: 143), never a traceback: through the console script's own entry point
and through `python -m exporter`."""

from __future__ import annotations

import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from helpers import ROOT, bank, child_env

# A child that is interrupted (a real SIGINT to itself) while it imports ``target``; the
# entry point is called the way pip's console-script wrapper calls it.
INTERRUPTED_IMPORT = """
import os, signal, sys
# Ctrl-C as a terminal delivers it, even when the test run was started in the background
# (a shell's background jobs inherit SIGINT ignored, and Python then keeps it ignored).
signal.signal(signal.SIGINT, signal.default_int_handler)
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {target!r}:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv = ["interview-deck", *{args!r}]
{start}
"""


def _console_entry() -> str:
    """How the console script starts the program, from pyproject's [project.scripts]."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    module, function = scripts["interview-deck"].split(":")
    return f"from {module} import {function}\nsys.exit({function}())"


STARTS = {
    "console-script": _console_entry(),
    "python-m": "import runpy\nrunpy.run_module('exporter', run_name='__main__', alter_sys=True)",
}


def _interrupted_run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=child_env({"PYTHONPATH": str(ROOT)}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("start", sorted(STARTS))
@pytest.mark.parametrize("target", ["click", "exporter.cli.commands", "yaml"])
def test_ctrl_c_from_the_very_start_is_one_line(tmp_path: Path, start: str, target: str) -> None:
    """SIGINT while the CLI itself is imported (click, the commands), or while a command
    imports what it needs (yaml, for validate): 'Aborted!', exit 130, no traceback."""
    source = bank(tmp_path / "c")
    args = ["validate", str(source)]
    done = _interrupted_run(
        INTERRUPTED_IMPORT.format(target=target, args=args, start=STARTS[start])
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["Aborted!"]


def test_sigterm_mid_run_is_143(tmp_path: Path) -> None:
    """SIGTERM is an interrupt too (temp files are removed on the way out): exit 143."""
    args = ["validate", str(bank(tmp_path / "c"))]
    code = INTERRUPTED_IMPORT.replace("signal.SIGINT", "signal.SIGTERM").format(
        target="yaml", args=args, start=STARTS["console-script"]
    )
    done = _interrupted_run(code)
    assert "Traceback" not in done.stderr, done.stderr
    assert (done.returncode, done.stderr.strip()) == (128 + signal.SIGTERM, "Aborted!")
