"""The ``interview-deck`` group and its commands (``schema`` and ``diff`` live in
``exporter.cli.tools``): each parses its options, calls one function of ``exporter.pipeline``
and prints its outcome; an ``ExporterError`` any of them raises is reported here, once
(exit 1)."""

from __future__ import annotations

import errno
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import click

from exporter import __version__
from exporter.cli.ankiconnect import anki_options
from exporter.cli.terminal import emit, say, terminal_hooks
from exporter.cli.tools import chosen_format, diff, format_option, schema
from exporter.content.model import DIFFICULTIES
from exporter.content.slices import ORDERS
from exporter.errors import ExporterError
from exporter.files import display, write_session

if TYPE_CHECKING:
    from exporter.cli.formats import Format
    from exporter.content.slices import Order
    from exporter.pipeline import BuildRequest

DEFAULT_SOURCES = ("content",)
DEFAULT_OUTPUT = Path("dist") / "interview-questions.apkg"
DEFAULT_PREVIEW = Path("dist") / "preview.html"
LATEST_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z: note ids (ms) stay below 2**53


class ExporterGroup(click.Group):
    """A group whose commands may raise any ``ExporterError``: reported here, exit 1. Ctrl-C
    or SIGTERM once a command's files are moving into place waits for the command to finish
    (``files.write_session``) and is then noted here."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with write_session() as session:
                problem: ExporterError
                try:
                    return super().invoke(ctx)
                except ExporterError as exc:
                    out_of_files = _out_of_files(exc)
                    problem = exc if out_of_files is None else too_many_open_files(out_of_files)
                except KeyboardInterrupt as exc:  # 'Aborted!' (click's word), one line
                    signum = getattr(exc, "signum", signal.SIGINT)
                    raise Interrupted(signum, tuple(session.written)) from None
                except OSError as exc:
                    if _out_of_files(exc) is None:
                        raise
                    problem = too_many_open_files(exc)  # (the frames that held files are gone)
                except MemoryError:  # (in this process, or a worker's, passed on)
                    problem = ExporterError(
                        "out of memory: the machine (or this process's limit) gave no more; "
                        "free some, or build fewer files at once, and run again",
                        code="out-of-memory",
                    )
                from exporter.cli.formats import problems_report

                emit(problems_report(problem, chosen_format(ctx), ctx.invoked_subcommand or ""))
        finally:
            if session.signum is not None:
                say(
                    f"note: {signal.Signals(session.signum).name} arrived while the new files "
                    "were moved into place: the write was finished first and is complete",
                    err=True,
                )


class Interrupted(click.Abort):
    """Ctrl-C or SIGTERM during a command: ``signum`` says which (the exit code is
    128 + signum when the program runs as itself), ``written`` the files it had already
    written in full."""

    def __init__(self, signum: int, written: tuple[Path, ...] = ()) -> None:
        super().__init__()
        self.signum = int(signum)
        self.written = written

    @property
    def message(self) -> str:
        """'Aborted!', and what was written in full before, if anything was."""
        if not self.written:
            return "Aborted!"
        names = ", ".join(display(str(p)) for p in self.written[:3])
        more = f" and {len(self.written) - 3} more" if len(self.written) > 3 else ""
        return f"Aborted! (already written in full: {names}{more})"


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where it arrives so that it unwinds like Ctrl-C."""

    signum = signal.SIGTERM


def _out_of_files(exc: BaseException | None) -> OSError | None:
    """The EMFILE / ENFILE error that ``exc`` is, or was raised while handling."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def too_many_open_files(exc: OSError) -> ExporterError:
    """The one-line problem for EMFILE / ENFILE: the limit, and how to raise it."""
    try:
        import resource

        have = f"this process may have {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} open"
    except (ImportError, OSError, ValueError):  # pragma: no cover - not POSIX
        have = "the limit is reached"
    where = f" (opening {display(str(exc.filename))})" if exc.filename else ""
    return ExporterError(
        f"too many open files{where}: {have}; raise the limit (e.g. ulimit -n 1024) and run again",
        code="too-many-open-files",
    )


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
    raise _Terminated  # unwinds like Ctrl-C, so temp files are removed


def _check_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[a-z]{2,3}(_[A-Za-z0-9]{2,4})?", value):
        raise click.BadParameter(f"{value!r} is not a language code such as en_US or de_DE")
    return value


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


_BUILD_OPTIONS = (
    click.option(
        "--difficulty",
        "difficulties",
        multiple=True,
        type=click.Choice(DIFFICULTIES),
        help="Only questions of this difficulty (repeatable).",
    ),
    click.option(
        "--role", "roles", multiple=True, metavar="ROLE", help="Only this role, by name or slug."
    ),
    click.option(
        "--tag", "tags", multiple=True, metavar="TAG", help="Only questions with this tag."
    ),
    click.option(
        "--order",
        type=click.Choice(ORDERS),
        default="file",
        show_default=True,
        help="Order new cards are introduced in: as in the files, or easy to hard.",
    ),
    click.option(
        "--tts",
        "tts_lang",
        metavar="LANG",
        callback=_check_lang,
        help="Read the question aloud on the front (Anki's {{tts}}), e.g. en_US.",
    ),
    click.option(
        "--no-cache",
        is_flag=True,
        help="Always build in full, even when the local record says nothing changed.",
    ),
)


def build_options(command: Callable[..., Any]) -> Any:
    """The options that say what a build makes: ``build``'s, and ``push``'s."""
    for option in reversed(_BUILD_OPTIONS):
        command = option(command)
    return command


def _build_request(
    sources: tuple[str, ...],
    output: Path,
    *,
    check: bool,
    record: bool,
    difficulties: tuple[str, ...],
    roles: tuple[str, ...],
    tags: tuple[str, ...],
    order: str,
    tts_lang: str | None,
    no_cache: bool,
) -> tuple[BuildRequest, list[str]]:
    """The build the options ask for, and the slice options as the report names them."""
    from exporter.content.slices import Slice
    from exporter.package.assemble import Options
    from exporter.pipeline import BuildRequest
    from exporter.state.filecache import cache_root

    chosen = Slice(difficulties=difficulties, roles=roles, tags=tags)
    options = Options(output=output, tts_lang=tts_lang, order=cast("Order", order), slice=chosen)
    cache = None if no_cache else cache_root(os.environ, Path.home)
    use_record = record and not no_cache
    request = BuildRequest(sources or DEFAULT_SOURCES, options, check, use_record, cache)
    filters = [
        f"--{name} {value}"
        for name, values in (("difficulty", difficulties), ("role", roles), ("tag", tags))
        for value in values
    ]
    return request, filters


@click.group(cls=ExporterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="interview-deck")
def cli() -> None:
    """Turn a YAML bank of interview questions into an Anki package.

    \b
    Examples:
      interview-deck build                 # content/ -> dist/interview-questions.apkg
      interview-deck validate content/     # check only, write nothing
      interview-deck push                  # build, then import into the running Anki
    """


@cli.command()
@sources_argument
@output_option(DEFAULT_OUTPUT, "The .apkg to write; its build history goes beside it.")
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if the output or its history is stale."
)
@build_options
@format_option
def build(
    sources: tuple[str, ...],
    output: Path,
    check: bool,
    difficulties: tuple[str, ...],
    roles: tuple[str, ...],
    tags: tuple[str, ...],
    order: str,
    tts_lang: str | None,
    no_cache: bool,
    fmt: Format,
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
      interview-deck build --check --format github   # in CI: is dist/ up to date?
    """
    from exporter.cli.formats import build_output
    from exporter.pipeline import run_build

    now = _clock()
    request, filters = _build_request(
        sources,
        output,
        check=check,
        record=fmt == "text",
        difficulties=difficulties,
        roles=roles,
        tags=tags,
        order=order,
        tts_lang=tts_lang,
        no_cache=no_cache,
    )
    with terminal_hooks("Building") as hooks:
        outcome = run_build(request, now, hooks)
    emit(build_output(fmt, outcome, filters))


@cli.command()
@sources_argument
@format_option
def validate(sources: tuple[str, ...], fmt: Format) -> None:
    """Check SOURCES (default: content/) as a build would, without writing anything.

    \b
    Example:
      interview-deck validate content/
    """
    from exporter.cli.formats import validate_output
    from exporter.pipeline import run_load

    with terminal_hooks("Reading questions") as hooks:
        bank = run_load(sources or DEFAULT_SOURCES, hooks)
    emit(validate_output(fmt, bank))


@cli.command()
@click.argument("package", type=click.Path(path_type=Path))
def inspect(package: Path) -> None:
    """Show what an Anki package holds: decks, notes, tags, note types, times, provenance.

    \b
    Example:
      interview-deck inspect dist/interview-questions.apkg
    """
    from exporter.cli.report import inspect_report
    from exporter.pipeline import run_inspect

    emit(inspect_report(str(package), run_inspect(package)))


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
    from exporter.cli.formats import stats_output
    from exporter.pipeline import run_stats

    with terminal_hooks("Reading questions") as hooks:
        numbers = run_stats(sources or DEFAULT_SOURCES, hooks)
    emit(stats_output("json" if as_json else "text", numbers))


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
    from exporter.pipeline import run_import_text

    result = run_import_text(page, output, prune=prune)
    verb = "Wrote" if result.changed else "Unchanged:"
    say(f"{verb} {result.path} ({result.summary})")
    for notice in result.notices:
        say(notice, err=True)


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
    from exporter.pipeline import run_preview

    with terminal_hooks("Reading questions") as hooks:
        outcome = run_preview(sources or DEFAULT_SOURCES, output, hooks)
    say(f"Wrote {outcome.output} ({outcome.cards} cards)")


@cli.command()
@click.argument("export", required=False, type=click.Path(path_type=Path))
@sources_argument
@click.option(
    "--from-anki",
    is_flag=True,
    help="No EXPORT: export the bank's decks from the running Anki (AnkiConnect).",
)
@click.option("--apply", is_flag=True, help="Write the edits into the content files.")
@click.option("--add-new", is_flag=True, help="With --apply: add notes made in Anki as questions.")
@click.option("--prefer", type=click.Choice(["anki", "yaml"]), help="Which side wins a conflict.")
@output_option(
    DEFAULT_OUTPUT,
    "The package built from SOURCES, beside its build history (without -o: the history in "
    "its folder that stamped the export's notes).",
)
@anki_options
def pull(
    export: Path | None,
    sources: tuple[str, ...],
    output: Path,
    from_anki: bool,
    apply: bool,
    add_new: bool,
    prefer: Literal["anki", "yaml"] | None,
    anki_url: str,
    anki_key: str | None,
) -> None:
    """Bring edits made in Anki or AnkiDroid (EXPORT: an .apkg or .colpkg) back into SOURCES.

    Prints the YAML diff of each question whose note differs (exit 1 if any); --apply writes it.
    With --from-anki there is no EXPORT: the running Anki exports the bank's decks itself.

    \b
    Examples:
      interview-deck pull ~/Downloads/Interview.apkg --apply
      interview-deck pull --from-anki --apply
    """
    from exporter.cli.ankiconnect import client_for
    from exporter.cli.report import pull_report
    from exporter.connect.push import ANKI
    from exporter.pipeline import PullRequest, run_pull

    source = click.get_current_context().get_parameter_source("output")
    search = source in (click.core.ParameterSource.DEFAULT, None)  # no -o: find the history
    if not from_anki:
        if export is None:
            raise click.UsageError("Missing argument 'EXPORT' (or pass --from-anki).")
        request = PullRequest(
            export,
            sources or DEFAULT_SOURCES,
            output,
            apply=apply,
            add_new=add_new,
            prefer=prefer,
            search=search,
        )
        emit(pull_report(str(export), run_pull(request), request.apply))
        return
    given = (str(export), *sources) if export is not None else sources
    client = client_for(anki_url, anki_key)
    request = PullRequest(
        ANKI,
        given or DEFAULT_SOURCES,
        output,
        apply=apply,
        add_new=add_new,
        prefer=prefer,
        search=search,
    )
    emit(pull_report(f"Anki at {client.address}", run_pull(request, client), request.apply))


@cli.command()
@sources_argument
@output_option(DEFAULT_OUTPUT, "The .apkg to build and import; its build history goes beside it.")
@build_options
@click.option(
    "--prune",
    is_flag=True,
    help="Suspend the cards of notes whose question left SOURCES and tag them "
    "interview-deck::removed (nothing is deleted).",
)
@click.option("--sync", "and_sync", is_flag=True, help="Then ask Anki to sync with AnkiWeb.")
@click.option(
    "--prefer",
    type=click.Choice(["yaml"]),
    help="yaml: import over notes edited both in Anki and in the YAML since the last build.",
)
@anki_options
def push(
    sources: tuple[str, ...],
    output: Path,
    difficulties: tuple[str, ...],
    roles: tuple[str, ...],
    tags: tuple[str, ...],
    order: str,
    tts_lang: str | None,
    no_cache: bool,
    prune: bool,
    and_sync: bool,
    prefer: str | None,
    anki_url: str,
    anki_key: str | None,
) -> None:
    """Build SOURCES as build does, then import the package into the running Anki.

    Needs Anki desktop with the AnkiConnect add-on (code 2055492159). Notes edited in Anki
    since the last build stay as they are there (bring them home with pull --from-anki);
    questions no longer in SOURCES are listed, and --prune suspends them.

    \b
    Examples:
      interview-deck push
      interview-deck push --prune --sync
      INTERVIEW_DECK_ANKI_KEY=secret interview-deck push content/
    """
    from exporter.cli.ankiconnect import client_for, push_report
    from exporter.pipeline import PushRequest, run_push

    now = _clock()
    client = client_for(anki_url, anki_key)
    request, filters = _build_request(
        sources,
        output,
        check=False,
        record=True,
        difficulties=difficulties,
        roles=roles,
        tags=tags,
        order=order,
        tts_lang=tts_lang,
        no_cache=no_cache,
    )
    asked = PushRequest(request, client, prune, and_sync, prefer_yaml=prefer == "yaml")
    with terminal_hooks("Reading questions") as hooks:
        outcome = run_push(asked, now, hooks)
    emit(push_report(outcome, client, filters))


cli.add_command(schema)
cli.add_command(diff)


def main() -> None:
    """Run the command line as the program itself (``exporter.__main__`` calls it): exit
    codes as click gives them, and 128 + the signal's number after Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        status = cli.main(prog_name="interview-deck", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Interrupted as exc:
        click.echo(exc.message, err=True)
        sys.exit(128 + exc.signum)
    except click.Abort as exc:  # Ctrl-C while the options were read, or end of input
        click.echo("Aborted!", err=True)
        sys.exit(128 + signal.SIGINT if isinstance(exc.__cause__, KeyboardInterrupt) else 1)
    sys.exit(status if isinstance(status, int) else 0)
