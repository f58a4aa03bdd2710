"""Outcomes -> the lines a user reads. Plain text in, plain text out: no click, no I/O."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from exporter.content.model import DIFFICULTIES, Bank
from exporter.errors import ContentError, ContentErrors, ContentWarning, ExporterError
from exporter.files import display

if TYPE_CHECKING:
    from exporter.content.stats import Stats
    from exporter.pipeline import BuildOutcome, PullOutcome
    from exporter.reading.diff import PackageDiff
    from exporter.reading.packagefile import PackageInfo


class Report(NamedTuple):
    """What a command says: lines for stdout, lines for stderr, and its exit code."""

    out: tuple[str, ...] = ()
    err: tuple[str, ...] = ()
    exit_code: int = 0


def plural(n: int, word: str) -> str:
    """'1 question', '2 questions'."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def problems(exc: ExporterError) -> Report:
    """A user-caused problem: every content problem (and warning) at ``PATH:LINE``, in
    file and line order, then the count of problems; exit 1."""
    if isinstance(exc, ContentErrors):
        found: list[ContentError | ContentWarning] = [*exc.errors, *exc.warnings]
        found.sort(key=lambda p: (p.path, p.line))
        lines = [str(e) for e in found]
        lines.append(f"{plural(len(exc.errors), 'problem')} found.")
        return Report(err=tuple(lines), exit_code=1)
    return Report(err=(f"error: {exc}",), exit_code=1)


def build_report(outcome: BuildOutcome, filters: Sequence[str]) -> Report:
    """What ``build`` says about ``outcome``; ``filters`` are the slice options given."""
    output = outcome.output
    if outcome.record is not None:
        record = outcome.record
        return Report(
            out=(
                f"{output} is up to date ({plural(record.notes, 'note')}, "
                f"content {record.content}).",
            ),
            err=record.warnings,
        )
    result = outcome.built
    assert result is not None  # every status but up-to-date has what was built
    if outcome.status == "current":
        return Report(out=(f"{output} is up to date.",))
    if outcome.status == "stale":
        return Report(
            err=(
                *(str(w) for w in result.warnings),
                f"{output} is stale or missing: run 'interview-deck build' and commit it.",
            ),
            exit_code=1,
        )
    warnings = tuple(str(w) for w in result.warnings)
    verb = "Wrote" if outcome.status == "written" else "Unchanged:"
    lines = [
        f"{verb} {output} ({plural(result.note_count, 'note')}, "
        f"content {result.content_fingerprint})"
    ]
    for deck, counts in result.deck_counts.items():
        detail = ", ".join(f"{counts[d]} {d}" for d in DIFFICULTIES if counts[d])
        lines.append(f"  {deck}: {plural(sum(counts.values()), 'question')} ({detail})")
    cards = result.card_counts
    if cards["key-points"] or cards["reverse"]:
        lines.append(
            f"  Cards: {plural(cards['question'], 'question card')}, "
            f"{plural(cards['key-points'], 'key-point card')}, "
            f"{plural(cards['reverse'], 'reverse card')}"
        )
    if result.left_out:
        lines.append(
            f"Left out {plural(result.left_out, 'question')} not matching {' '.join(filters)}."
        )
    for (old, new), ids in result.moves().items():
        lines.append(
            f"Moved to another deck since the last build: {plural(len(ids), 'question')} from "
            f"{old} to {new}. Anki keeps existing cards where they are; to move them, find them "
            f"in the browser with: {search_for(ids)} then Change Deck to {new}."
        )
    if result.outdates is not None:
        lines.append(
            f"Note type: differs from the one {display(str(result.outdates))} was built with, "
            f"so this build's is newer: import {output} to switch Anki to it."
        )
    if result.removed:
        lines.append(
            f"Removed since the last build: {plural(len(result.removed), 'question')}. Anki "
            "keeps their "
            f"notes; find them in the browser with: {search_for(result.removed)}"
        )
    if result.retired:
        owners = sorted({key.split("::")[0] for key in result.retired})
        lines.append(
            f"No longer built: {plural(len(result.retired), 'note')} of questions still in "
            f"the bank ({', '.join(result.retired)}). Anki keeps them; find them in the "
            f'browser with: {search_for(owners)} -"note:Interview Question"'
        )
    if result.retired_points:
        count = sum(len(numbers) for _qid, numbers in result.retired_points)
        which = "; ".join(
            f"{qid}: {', '.join(map(str, numbers))}" for qid, numbers in result.retired_points
        )
        lines.append(
            f"Key points removed since the last build: {count} ({which}). Their cards are "
            "empty in Anki now: Tools > Empty Cards deletes them."
        )
    return Report(out=tuple(lines), err=warnings)


def search_for(question_ids: Sequence[str]) -> str:
    """An Anki browser search that finds the notes of these questions (each note type has
    the ID field, so it finds a question's key points and reverse card too)."""
    return " OR ".join(f'"ID:{qid}"' for qid in question_ids)


def validate_report(bank: Bank) -> Report:
    """What ``validate`` says of a clean bank."""
    n, files = len(bank.questions), len(bank.files)
    return Report(
        out=(f"OK: {plural(n, 'question')} in {plural(files, 'file')}.",),
        err=tuple(str(w) for w in bank.warnings),
    )


def inspect_report(package: str, info: PackageInfo) -> Report:
    """What ``inspect`` says of a package."""
    lines = [f"{package}: {plural(info.note_count, 'note')}"]
    if info.provenance and not info.exported:
        version, fingerprint = info.provenance
        lines.append(f"Built by interview-deck {version} from content {fingerprint}")
    elif info.provenance:
        version, fingerprint = info.provenance
        lines.append(
            f"The deck description says it was built by interview-deck {version} from content "
            f"{fingerprint}; this package was exported by Anki, so edits made there since are "
            "not in that fingerprint"
        )
    else:
        lines.append("Not built by interview-deck (no provenance recorded)")
    lines.append("Decks:")
    lines += [f"  {name}: {plural(count, 'note')}" for name, count in info.decks.items()]
    lines.append("Note types:")
    lines += [
        f"  {nt.name} (id {nt.id}): fields {', '.join(nt.fields)}; "
        f"templates {', '.join(nt.templates)}; "
        f"{plural(nt.notes, 'note')}, {plural(nt.cards, 'card')}"
        for nt in info.notetypes
    ]
    lines.append("Tags:")
    lines += [f"  {tag}: {count}" for tag, count in info.tags.items()]
    if info.mod_range:
        low, high = (_utc(t) for t in info.mod_range)
        lines.append(f"Note mod times: {low} .. {high}")
    lines.append(
        f"Media: {plural(len(info.media), 'file')}, {_size(info.media_bytes)} in the package"
    )
    lines += [f"  {name}: {_size(size)}" for name, size in info.media]
    return Report(out=tuple(lines))


def _size(n: int) -> str:
    return (
        f"{n} bytes" if n < 1024 else f"{n / 1024:.1f} KiB" if n < 2**20 else f"{n / 2**20:.1f} MiB"
    )


def _utc(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def pull_report(export: str, outcome: PullOutcome, applied: bool) -> Report:
    """What ``pull`` says: each question's diff, then a summary. Without ``--apply``: exit 1
    when there is something to pull; with it: exit 1 when conflicts were left unresolved."""
    found = outcome.plan
    out: list[str] = []
    for entry in outcome.shown:
        out.append(entry.heading)
        out += entry.diff
    err = [*found.warnings]
    err += [
        f"{note.label}: its ID '{qid}' is not a question of SOURCES; not pulled"
        for note, qid in found.unknown
    ]
    if outcome.fitting:
        histories = ", ".join(
            display(str(p.with_name(p.stem + ".lock.json"))) for p in outcome.fitting
        )
        options = [f"-o {display(str(p))}" for p in outcome.fitting]
        err.insert(
            0,
            f"note: {len(options)} build histories stamp these notes ({histories}), so pull "
            "cannot tell whether a difference is an edit in Anki or newer YAML: each one is a "
            "conflict. Pass the package you build from SOURCES: "
            f"{', '.join(options[:-1])} or {options[-1]}.",
        )
    elif not found.history:
        where = f" ({found.history_file})" if found.history_file else ""
        err.insert(
            0,
            f"note: no build history next to the package{where}, so pull cannot tell whether "
            "a difference is an edit in Anki or newer YAML: each one is a conflict. Pass -o "
            "with the package you build from SOURCES, or choose with --prefer anki|yaml.",
        )
    elif outcome.found_history is not None:
        err.insert(
            0,
            f"note: using the build history {display(str(outcome.found_history))}, which "
            "stamped these notes (pass -o to use another)",
        )
    open_conflicts = sum(1 for p in found.pulled if p.conflict and p.taken is None)
    if not found.something:
        out.append(f"Nothing to pull: {export} holds what SOURCES build.")
        return Report(out=tuple(out), err=tuple(err))
    edited = sum(1 for p in found.pulled if not p.conflict)
    addable = [n for n in found.new_notes if n.question is not None]
    summary = (
        f"{plural(edited, 'question')} edited in Anki, {plural(open_conflicts, 'conflict')}"
        f"{' unresolved' if open_conflicts else ''}, {plural(len(found.new_notes), 'new note')}"
    )
    if not applied:
        out.append(f"{summary}. Nothing written: run with --apply to write them.")
        return Report(out=tuple(out), err=tuple(err), exit_code=1)
    for change in outcome.written:
        out.append(
            f"Wrote {change.display_path} ({plural(change.changed, 'question')} changed, "
            f"{change.added} added)"
        )
    if not outcome.written:
        out.append("Nothing written.")
    if addable and not any(c.added for c in outcome.written):
        out.append(f"{plural(len(addable), 'new note')} not added: pass --add-new to add them.")
    if open_conflicts:
        err.append(
            f"{plural(open_conflicts, 'conflict')} left as they are: choose with "
            "--prefer anki or --prefer yaml."
        )
    err += outcome.refused
    failed = open_conflicts or outcome.refused
    return Report(out=tuple(out), err=tuple(err), exit_code=1 if failed else 0)


def diff_report(old: str, new: str, found: PackageDiff, exit_code: bool) -> Report:
    """What ``diff`` says: one line per note (a question's, its key points', its reverse
    card's) added, removed, changed or moved, then the count of notes; with ``exit_code``:
    exit 1 when the packages differ (as ``git diff --exit-code``)."""
    lines = [f"--- {old}", f"+++ {new}"]
    lines += [f"added    {key}  ({deck})" for key, deck in found.added]
    lines += [f"removed  {key}  ({deck})" for key, deck in found.removed]
    for c in found.changed:
        what = [*c.fields, *(f"tag +{t}" for t in c.tags_added)]
        what += [f"tag -{t}" for t in c.tags_removed]
        lines.append(f"changed  {c.key}  ({', '.join(what)})")
    lines += [f"moved    {m.key}  ({m.old_deck} -> {m.new_deck})" for m in found.moved]
    lines.append(
        f"{plural(len(found.added), 'note')} added, {len(found.removed)} removed, "
        f"{len(found.changed)} changed, {len(found.moved)} moved, {found.unchanged} unchanged."
    )
    return Report(out=tuple(lines), exit_code=1 if exit_code and found.differs else 0)


def stats_report(stats: Stats) -> Report:
    """What ``stats`` says: an aligned table of questions by role and difficulty, then the
    most used tags, the images and the cards by kind (when there are other kinds)."""
    columns = (*DIFFICULTIES, "total")
    width = max([len("Role"), len("Total"), *(len(r) for r in stats.by_role)])
    rows = [f"{'Role':<{width}}  " + "  ".join(f"{c:>6}" for c in columns)]
    for role, counts in stats.by_role.items():
        rows.append(f"{role:<{width}}  " + "  ".join(f"{counts[c]:>6}" for c in columns))
    rows.append(f"{'Total':<{width}}  " + "  ".join(f"{stats.totals[c]:>6}" for c in columns))
    if stats.tags:
        rows.append("")
        rows.append("Most used tags: " + ", ".join(f"{t} ({n})" for t, n in stats.tags))
    if stats.images:
        rows.append(f"Images: {stats.images} ({stats.image_bytes / 1024:.1f} KiB)")
    kinds = stats.by_kind
    if kinds["key-points"] or kinds["reverse"]:
        rows.append(
            f"Cards: {kinds['total']} ({kinds['question']} question, "
            f"{kinds['key-points']} key point, {kinds['reverse']} reverse)"
        )
    return Report(
        out=tuple("\n".join(rows).split("\n"))
    )  # (a role with a line break: two, as ever)
