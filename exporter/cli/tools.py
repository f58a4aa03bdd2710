"""The commands and options a team's tools speak: ``--format text|json|github`` for
``validate`` and ``build`` (CI), ``schema`` for editors, ``diff`` for reviewers. Registered on
the ``interview-deck`` group by ``exporter.cli.commands``; click lives only in ``exporter.cli``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from exporter.cli.terminal import emit, say

if TYPE_CHECKING:
    from exporter.cli.formats import Format

FORMAT_KEY = "interview_deck.format"  # in ctx.meta: how the group reports a problem


def _remember_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    ctx.meta[FORMAT_KEY] = value
    return value


def format_option(command: Callable[..., Any]) -> Any:
    """``--format text|json|github``: how results and problems are printed."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "github"]),
        default="text",
        show_default=True,
        is_eager=True,
        callback=_remember_format,
        help="json: one object with every problem and its code; github: annotations "
        "(::error file=PATH,line=N::...) for a CI run.",
    )(command)


def chosen_format(ctx: click.Context) -> Format:
    """The ``--format`` the running command was given (``text`` when it takes none)."""
    return cast("Format", ctx.meta.get(FORMAT_KEY, "text"))


@click.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of content files, for editors and CI.

    \b
    Example:
      interview-deck schema > docs/content.schema.json
    """
    from exporter.cli.formats import json_lines
    from exporter.content.spec import json_schema

    for line in json_lines(json_schema()):
        say(line)


@click.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when the packages differ (as git diff).")
def diff(old: Path, new: Path, as_json: bool, exit_code: bool) -> None:
    """List the notes (questions, their key points and reverse cards) added, removed,
    changed (which fields) and moved between decks from package OLD to package NEW (ours,
    or Anki's own exports).

    \b
    Examples:
      interview-deck diff old.apkg dist/interview-questions.apkg
      git show main:dist/interview-questions.apkg > /tmp/main.apkg
      interview-deck diff /tmp/main.apkg dist/interview-questions.apkg --exit-code
    """
    from exporter.cli.formats import diff_output
    from exporter.pipeline import run_diff

    found = run_diff(old, new)
    fmt: Format = "json" if as_json else "text"
    emit(diff_output(fmt, str(old), str(new), found, exit_code=exit_code))
