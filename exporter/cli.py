"""The ``interview-deck`` command: the only place that prints, reads the environment or exits."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from exporter import __version__
from exporter.errors import ContentErrors, ExporterError
from exporter.model import DIFFICULTIES
from exporter.select import ORDERS

if TYPE_CHECKING:
    from exporter.model import Bank

DEFAULT_SOURCES = ("content",)
DEFAULT_OUTPUT = Path("dist") / "interview-questions.apkg"
DEFAULT_PREVIEW = Path("dist") / "preview.html"
PROGRESS_MIN_BYTES = 1_000_000  # about 800 questions: below that a build is near instant
PROGRESS_MIN_QUESTIONS = 800
LATEST_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z: note ids (ms) stay below 2**53


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
        if not 0 <= value <= LATEST_EPOCH:
            raise ValueError
    except ValueError:
        raise click.UsageError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds up to {LATEST_EPOCH} "
            f"(year 9999), not {raw!r}"
        ) from None
    return lambda: value


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C, so temp files are removed


def _check_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[a-z]{2,3}(_[A-Za-z0-9]{2,4})?", value):
        raise click.BadParameter(f"{value!r} is not a language code such as en_US or de_DE")
    return value


def _load(sources: tuple[str, ...]) -> Bank:
    """Load the bank, with a progress bar on stderr for a large bank and a terminal."""
    from exporter.load import load_bank

    with _progress("Reading questions") as progress:
        return load_bank(sources or DEFAULT_SOURCES, progress=progress)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing click's bar once the work is known to be large."""
    if not sys.stderr.isatty():
        yield None
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
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def output_option(default: Path, help: str) -> Callable[[Callable[..., Any]], Any]:
    """The ``-o/--output`` option of the commands that write one file."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path),
        default=default,
        show_default=True,
        help=help,
    )


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
@output_option(DEFAULT_OUTPUT, "The .apkg to write; its build history goes beside it.")
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if the output or its history is stale."
)
@click.option(
    "--difficulty",
    "difficulties",
    multiple=True,
    type=click.Choice(DIFFICULTIES),
    help="Only questions of this difficulty (repeatable).",
)
@click.option(
    "--role", "roles", multiple=True, metavar="ROLE", help="Only this role, by name or slug."
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only questions with this tag.")
@click.option(
    "--order",
    type=click.Choice(ORDERS),
    default="file",
    show_default=True,
    help="Order new cards are introduced in: as in the files, or easy to hard.",
)
@click.option(
    "--tts",
    "tts_lang",
    metavar="LANG",
    callback=_check_lang,
    help="Read the question aloud on the front (Anki's {{tts}}), e.g. en_US.",
)
def build(
    sources: tuple[str, ...],
    output: Path,
    check: bool,
    difficulties: tuple[str, ...],
    roles: tuple[str, ...],
    tags: tuple[str, ...],
    order: str,
    tts_lang: str | None,
) -> None:
    """Build SOURCES (YAML files or folders; default: content/) into one Anki package.

    --difficulty, --role and --tag may be repeated; a question is kept when it matches
    one of the values of each option given.

    \b
    Examples:
      interview-deck build
      interview-deck build content/ -o dist/interview-questions.apkg
      interview-deck build --difficulty hard -o dist/hard.apkg
      interview-deck build --order difficulty --tts en_US -o dist/practice.apkg
      interview-deck build --check         # in CI: is dist/ up to date?
    """
    from exporter.build import Options, build_inputs, check_output, plan
    from exporter.select import Slice

    now = _clock()
    chosen = Slice(difficulties=difficulties, roles=roles, tags=tags)
    options = Options(output=output, tts_lang=tts_lang, order=order, slice=chosen)
    try:
        inputs = build_inputs(sources or DEFAULT_SOURCES, options)
        last = inputs.unchanged() if inputs else None
        if last is not None:  # same content, code and outputs as the last build: skip it
            click.echo(f"{output} is up to date ({last.notes} notes, content {last.content}).")
            return
        bank = _load(sources)
        if sys.stderr.isatty() and len(bank.questions) >= PROGRESS_MIN_QUESTIONS:
            click.echo(f"Building {len(bank.questions)} notes ...", err=True)
        result = plan(bank, options, now)
        if check:
            if result.is_current():
                click.echo(f"{output} is up to date.")
                return
            click.echo(
                f"{output} is stale or missing: run 'interview-deck build' and commit it.",
                err=True,
            )
            sys.exit(1)
        check_output([output, result.history_path], sources or DEFAULT_SOURCES)
        wrote = result.write()
        if inputs:
            inputs.remember(
                result.package, result.history_text, len(result.notes), result.content_fingerprint
            )
    except ExporterError as exc:
        _fail(exc)
    verb = "Wrote" if wrote else "Unchanged:"
    click.echo(f"{verb} {output} ({len(result.notes)} notes, content {result.content_fingerprint})")
    for deck, counts in result.counts().items():
        detail = ", ".join(f"{counts[d]} {d}" for d in DIFFICULTIES if counts[d])
        click.echo(f"  {deck}: {sum(counts.values())} notes ({detail})")
    if result.left_out:
        given = [
            f"--{name} {value}"
            for name, values in (("difficulty", difficulties), ("role", roles), ("tag", tags))
            for value in values
        ]
        click.echo(f"Left out {result.left_out} question(s) not matching {' '.join(given)}.")
    if result.removed:
        click.echo(
            f"Removed since the last build: {len(result.removed)} question(s). Anki keeps their "
            f"notes; find them in the browser with: {result.removed_search()}"
        )


@cli.command()
@sources_argument
def validate(sources: tuple[str, ...]) -> None:
    """Check SOURCES (default: content/) as a build would, without writing anything.

    \b
    Example:
      interview-deck validate content/
    """

    try:
        bank = _load(sources)
    except ExporterError as exc:
        _fail(exc)
    n = len(bank.questions)
    click.echo(
        f"OK: {n} question{'s' if n != 1 else ''} in {len(bank.roles)} file"
        f"{'s' if len(bank.roles) != 1 else ''}."
    )


@cli.command()
@click.argument("package", type=click.Path(path_type=Path))
def inspect(package: Path) -> None:
    """Show what an Anki package holds: decks, notes, tags, note types, times, provenance.

    \b
    Example:
      interview-deck inspect dist/interview-questions.apkg
    """
    from exporter.inspect import read_package

    try:
        info = read_package(package)
    except ExporterError as exc:
        _fail(exc)
    click.echo(f"{package}: {info.note_count} notes")
    if info.provenance:
        version, fingerprint = info.provenance
        click.echo(f"Built by interview-deck {version} from content {fingerprint}")
    else:
        click.echo("Not built by interview-deck (no provenance recorded)")
    click.echo("Decks:")
    for name, count in info.decks.items():
        click.echo(f"  {name}: {count} notes")
    click.echo("Note types:")
    for nt in info.notetypes:
        click.echo(
            f"  {nt.name} (id {nt.id}): fields {', '.join(nt.fields)}; "
            f"templates {', '.join(nt.templates)}"
        )
    click.echo("Tags:")
    for tag, count in info.tags.items():
        click.echo(f"  {tag}: {count}")
    if info.mod_range:
        low, high = (_utc(t) for t in info.mod_range)
        click.echo(f"Note mod times: {low} .. {high}")


def _utc(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


@cli.command()
@sources_argument
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def stats(sources: tuple[str, ...], as_json: bool) -> None:
    """Count SOURCES' questions by role and difficulty, and show the most used tags.

    \b
    Examples:
      interview-deck stats
      interview-deck stats --json
    """
    from exporter.stats import stats_for, table

    try:
        bank = _load(sources)
    except ExporterError as exc:
        _fail(exc)
    numbers = stats_for(bank)
    if as_json:
        click.echo(json.dumps(numbers.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(table(numbers))


@cli.command("import-text")
@click.argument("page", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Content file to write or merge into [default: content/<role-slug>.yaml].",
)
@click.option("--prune", is_flag=True, help="Remove questions that are no longer on the page.")
def import_text(page: Path, output: Path | None, prune: bool) -> None:
    """Turn a published question page (plain text) into a content file, or merge it in.

    Questions already in the file (same id or same question text) keep their id and tags
    and take the page's text; new ones are appended; none is removed without --prune.

    \b
    Example:
      interview-deck import-text pages/mlops-engineer.txt
    """
    from exporter.importtext import import_page

    try:
        result = import_page(page, output, prune=prune)
    except ExporterError as exc:
        _fail(exc)
    verb = "Wrote" if result.changed else "Unchanged:"
    click.echo(f"{verb} {result.path} ({result.summary})")


@cli.command()
@sources_argument
@output_option(DEFAULT_PREVIEW, "The HTML page to write.")
def preview(sources: tuple[str, ...], output: Path) -> None:
    """Render every card of SOURCES (default: content/), front and back, into one HTML page.

    The page uses the package's own templates and CSS, needs no server and loads nothing:
    open it in any browser. It has a light/dark switch and a phone-width toggle.

    \b
    Examples:
      interview-deck preview               # content/ -> dist/preview.html
      interview-deck preview content/mlops-engineer.yaml -o /tmp/mlops.html
    """
    from exporter.build import check_output
    from exporter.notes import notes_for
    from exporter.notetype import note_type
    from exporter.package import write_files
    from exporter.preview import render_page

    try:
        bank = _load(sources)
        notes = notes_for(bank)
        page = render_page(note_type(), notes, title="interview-deck preview")
        check_output([output], sources or DEFAULT_SOURCES)
        write_files([(output, page.encode("utf-8"))])
    except ExporterError as exc:
        _fail(exc)
    click.echo(f"Wrote {output} ({len(notes)} cards)")


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="interview-deck")
