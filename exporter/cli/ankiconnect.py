"""Where the running Anki listens (``--anki-url``, ``--anki-key`` and their environment
variables) and what ``push`` says. Registered options for ``push`` and ``pull --from-anki``
in ``exporter.cli.commands``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from exporter.cli.terminal import say
from exporter.connect.address import DEFAULT_URL
from exporter.errors import AnkiError

if TYPE_CHECKING:
    from exporter.cli.report import Report
    from exporter.connect.client import Client
    from exporter.connect.push import Edited
    from exporter.pipeline import PushOutcome

URL_ENV = "INTERVIEW_DECK_ANKI_URL"
KEY_ENV = "INTERVIEW_DECK_ANKI_KEY"


def anki_options(command: Callable[..., Any]) -> Any:
    """``--anki-url`` and ``--anki-key``, each also read from the environment."""
    command = click.option(
        "--anki-key",
        envvar=KEY_ENV,
        show_envvar=True,
        metavar="KEY",
        help="AnkiConnect's API key, when its config sets one (apiKey).",
    )(command)
    return click.option(
        "--anki-url",
        envvar=URL_ENV,
        show_envvar=True,
        default=DEFAULT_URL,
        show_default=True,
        metavar="URL",
        help="Where AnkiConnect listens. Another machine only when named here.",
    )(command)


def client_for(url: str, key: str | None) -> Client:
    """The client for ``url`` (``AnkiError`` if it is not an address); a note on stderr when
    it is not this machine, which must then see the same files."""
    from exporter.connect.address import parse_address
    from exporter.connect.client import Client

    address = parse_address(url)
    if key and not key.isprintable():  # bytes that are not UTF-8, or a line break: never sent
        raise AnkiError(
            f"the API key given (--anki-key / {KEY_ENV}) is not text: it holds a control "
            "character or bytes that are not UTF-8; copy it again from AnkiConnect's config",
            code="anki-key-invalid",
        )
    if not address.loopback:
        say(
            f"note: Anki at {address} is not on this machine: it reads and writes package "
            "paths of its own machine, so they must be the same files there",
            err=True,
        )
    return Client(address, key or None)


def _names(ids: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", … ({len(ids) - limit} more)" if len(ids) > limit else "")


def _edited(edited: Sequence[Edited]) -> str:
    return _names([e.question.id for e in edited])


def push_report(outcome: PushOutcome, client: Client, filters: Sequence[str]) -> Report:
    """What ``push`` says: the build as ``build`` says it, then what Anki holds of the bank;
    when Anki could not be asked, the one line saying why (exit 1)."""
    from exporter.cli.report import Report, build_report, plural

    built = build_report(outcome.build, filters)
    out, err = list(built.out), list(built.err)
    if outcome.problem is not None:
        err.append(f"error: {outcome.problem}")
        return Report(tuple(out), tuple(err), exit_code=1)
    pushed = outcome.pushed
    assert pushed is not None  # no problem: the import ran
    found = pushed.look
    total = len(pushed.added) + len(pushed.updated) + len(pushed.unchanged)
    out.append(
        f"Imported into Anki at {client.address}: it holds {plural(total, 'note')} of this "
        f"package, {len(pushed.added)} added, {len(pushed.updated)} updated, "
        f"{len(pushed.unchanged)} unchanged."
    )
    if pushed.missing:
        out.append(
            f"Not in the bank's decks after the import: {plural(len(pushed.missing), 'note')} "
            f"({_names(pushed.missing)}); were they moved to another deck in Anki?"
        )
    if found.kept:
        out.append(
            f"Edited in Anki since the last build, kept as they are there: "
            f"{plural(len(found.kept), 'question')} ({_edited(found.kept)}). Bring the edits "
            "home with: interview-deck pull --from-anki --apply"
        )
    if found.conflicts:
        out.append(
            f"Edited in Anki and in the YAML, the YAML's taken (--prefer yaml): "
            f"{plural(len(found.conflicts), 'question')} ({_edited(found.conflicts)})."
        )
    if pushed.restored:
        out.append(
            f"Back in the bank, unsuspended: {plural(len(pushed.restored), 'note')} "
            f"({_names(pushed.restored)})."
        )
    if pushed.pruned:
        out.append(
            f"Suspended and tagged interview-deck::removed: {plural(len(pushed.pruned), 'note')}"
            f" ({_names(pushed.pruned)}); nothing deleted, their reviews are kept."
        )
    elif found.removed:
        out.append(
            f"No longer in the bank: {plural(len(found.removed), 'note')} in Anki "
            f"({_names([n.key for n in found.removed])}); Anki keeps them. --prune "
            "suspends their cards and tags them interview-deck::removed."
        )
    if found.pruned:
        out.append(
            f"Pruned by an earlier push: {plural(len(found.pruned), 'note')} (tag "
            "interview-deck::removed)."
        )
    if pushed.made_in_anki:
        out.append(
            f"Written in Anki in the bank's decks: {plural(pushed.made_in_anki, 'note')}; "
            "bring them home with: interview-deck pull --from-anki --apply --add-new"
        )
    if pushed.synced:
        out.append(
            "Asked Anki to sync with AnkiWeb: Anki syncs in the background, or first shows its "
            "AnkiWeb login if this profile has none (AnkiConnect does not say which)."
        )
    return Report(tuple(out), tuple(err))
