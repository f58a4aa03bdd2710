"""What the command line prints: reports (results on stdout, diagnostics on stderr) and,
for people at a terminal, progress while a large bank is read. Part of the command-line
layer (it prints, with click). Every line goes out through ``say``, the one place that
escapes what a terminal would act on (escape sequences, C0 and C1 controls, bidi controls:
a package's or an answer's names can hold any of them) and what its encoding cannot show,
never a crash after the work is done."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from exporter.cli.report import Report
    from exporter.pipeline import Hooks

PROGRESS_MIN_BYTES = 1_000_000  # about 800 questions: below that a build is near instant


def visible(line: str) -> str:
    """``line`` with every character that is not printable (but a tab) written as an escape,
    as file names are shown (``exporter.files.escape_char``): ``\\x1b``, ``\\x9b``,
    ``\\u202e``, ``\\n``."""
    if line.isprintable():
        return line
    from exporter.files import escape_char  # here: most lines never need it

    return "".join(ch if ch.isprintable() or ch == "\t" else escape_char(ch) for ch in line)


def say(line: str, *, err: bool = False) -> None:
    """Print one line, shown ``visible``: a line break inside it is shown as ``\\n``, not
    taken (say each line of a longer text by itself); what the stream's encoding cannot
    hold is written as escapes."""
    line = visible(line)
    try:
        click.echo(line, err=err)
    except UnicodeEncodeError:
        stream = sys.stderr if err else sys.stdout
        encoding = getattr(stream, "encoding", None) or "ascii"
        click.echo(line.encode(encoding, "backslashreplace").decode(encoding), err=err)


def emit(report: Report) -> None:
    """Print a report and exit with its code."""
    for line in report.out:
        say(line)
    for line in report.err:
        say(line, err=True)
    if report.exit_code:
        sys.exit(report.exit_code)


@contextlib.contextmanager
def terminal_hooks(label: str) -> Iterator[Hooks]:
    """Progress on stderr (a bar, then a notice) once the work is known to be large, and only
    on a terminal."""
    from exporter.pipeline import Hooks

    if not sys.stderr.isatty():
        yield Hooks()
        return
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if total < PROGRESS_MIN_BYTES:
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr).__enter__()
        bar.update(done - bar.pos)

    try:
        yield Hooks(progress=update)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
