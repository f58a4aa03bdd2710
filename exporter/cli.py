"""The ``interview-deck`` command: the only place that prints, reads the environment or exits."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from exporter import __version__
from exporter.errors import ContentErrors, ExporterError
from exporter.model import DIFFICULTIES

DEFAULT_SOURCES = ("content",)
DEFAULT_OUTPUT = Path("dist") / "interview-questions.apkg"


def _fail(exc: ExporterError) -> NoReturn:
    """Report a user-caused problem on stderr and exit 1."""
    if isinstance(exc, ContentErrors):
        for error in exc.errors:
            click.echo(str(error), err=True)
        n = len(exc.errors)
        click.echo(f"{n} problem{'s' if n != 1 else ''} found.", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def _clock() -> Callable[[], int]:
    """'Now' for fresh mod times: SOURCE_DATE_EPOCH when set, else the wall clock."""
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or raw == "":
        return lambda: int(time.time())
    try:
        value = int(raw)
        if value < 0:
            raise ValueError
    except ValueError:
        raise click.UsageError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {raw!r}"
        ) from None
    return lambda: value


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C, so temp files are removed


sources_argument = click.argument("sources", nargs=-1, type=click.Path(path_type=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="interview-deck")
def cli() -> None:
    """Turn a YAML bank of interview questions into an Anki package.

    \b
    Examples:
      interview-deck build                 # content/ -> dist/interview-questions.apkg
      interview-deck validate content/     # check only, write nothing
    """


@cli.command()
@sources_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="The .apkg to write; its build history goes beside it.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 if the output or its history is missing or stale.",
)
def build(sources: tuple[str, ...], output: Path, check: bool) -> None:
    """Build SOURCES (YAML files or folders; default: content/) into one Anki package.

    \b
    Examples:
      interview-deck build
      interview-deck build content/ -o dist/interview-questions.apkg
      interview-deck build --check         # in CI: is dist/ up to date?
    """
    from exporter.build import Options, build_inputs, plan
    from exporter.load import load_bank

    now = _clock()
    try:
        options = Options(output=output)
        inputs = build_inputs(sources or DEFAULT_SOURCES, options)
        last = inputs.unchanged() if inputs else None
        if last is not None:  # same content, code and outputs as the last build: skip it
            click.echo(f"{output} is up to date ({last.notes} notes, content {last.content}).")
            return
        bank = load_bank(sources or DEFAULT_SOURCES)
        result = plan(bank, options, now)
        if check:
            if result.is_current():
                click.echo(f"{output} is up to date.")
                return
            click.echo(
                f"{output} is stale or missing: run 'interview-deck build' and commit dist/.",
                err=True,
            )
            sys.exit(1)
        result.write()
        if inputs:
            inputs.remember(
                result.package, result.history_text, len(result.notes), result.content_fingerprint
            )
    except ExporterError as exc:
        _fail(exc)
    click.echo(f"Wrote {output} ({len(result.notes)} notes, content {result.content_fingerprint})")
    for deck, counts in result.counts().items():
        detail = ", ".join(f"{counts[d]} {d}" for d in DIFFICULTIES if counts[d])
        click.echo(f"  {deck}: {sum(counts.values())} notes ({detail})")


@cli.command()
@sources_argument
def validate(sources: tuple[str, ...]) -> None:
    """Check SOURCES (default: content/) as a build would, without writing anything.

    \b
    Example:
      interview-deck validate content/
    """
    from exporter.load import load_bank

    try:
        bank = load_bank(sources or DEFAULT_SOURCES)
    except ExporterError as exc:
        _fail(exc)
    n = len(bank.questions)
    click.echo(
        f"OK: {n} question{'s' if n != 1 else ''} in {len(bank.roles)} file"
        f"{'s' if len(bank.roles) != 1 else ''}."
    )


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="interview-deck")
