"""Problems and outcomes for machines: ``--format json`` (one object) and ``--format github``
(workflow commands that annotate a pull request). ``text`` is ``exporter.cli.report``'s."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from exporter.cli.report import (
    Report,
    build_report,
    diff_report,
    plural,
    stats_report,
    validate_report,
)
from exporter.errors import ContentError, ContentErrors, ContentWarning, ExporterError

if TYPE_CHECKING:
    from exporter.content.model import Bank
    from exporter.content.stats import Stats
    from exporter.pipeline import BuildOutcome
    from exporter.reading.diff import PackageDiff

Format = Literal["text", "json", "github"]
Problem = ContentError | ContentWarning


def json_lines(value: Any) -> tuple[str, ...]:
    """``value`` as indented JSON, line by line, with every character a terminal would act
    on (C0 and C1 controls, DEL, bidi controls) in JSON's own ``\\uXXXX`` escapes: the
    terminal shows them as text, and the JSON still reads back to the same strings."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() or ch == "\n" else _json_escape(ch) for ch in text)
    return tuple(text.split("\n"))


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def as_dict(problem: Problem) -> dict[str, Any]:
    """One problem or warning as JSON: where (``null`` line/column: the file as a whole)."""
    column = problem.column if isinstance(problem, ContentError) else 0
    return {
        "path": problem.path,
        "line": problem.line or None,
        "column": (column or None) if problem.line else None,
        "code": problem.code,
        "message": problem.message,
    }


def _whole_file(path: str | None, message: str, *, code: str) -> dict[str, Any]:
    """A problem of a file as a whole, or of no file (``path`` ``None``): no line, no column."""
    return {"path": path, "line": None, "column": None, "code": code, "message": message}


def _escape(value: str, *, prop: bool = False) -> str:
    """GitHub's workflow-command escaping: data escapes %, CR, LF; properties also : and ,."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def _annotation(kind: str, record: dict[str, Any]) -> str:
    """``::error file=PATH,line=N,col=C,title=CODE::message``."""
    props = [("file", record["path"]), ("line", record["line"]), ("col", record["column"])]
    props.append(("title", record["code"]))
    shown = ",".join(f"{k}={_escape(str(v), prop=True)}" for k, v in props if v is not None)
    return f"::{kind} {shown}::{_escape(record['message'])}"


def formatted(
    fmt: Format,
    command: str,
    report: Report,
    *,
    problems: Sequence[dict[str, Any]] = (),
    warnings: Sequence[Problem] = (),
) -> Report:
    """``report`` (what ``text`` prints) in ``fmt``. ``problems`` and ``warnings`` are the
    structured forms of what ``report.err`` says; its other lines become the summary."""
    if fmt == "text":
        return report
    shown = {str(w) for w in warnings} | {p["message"] for p in problems}
    summary = [*report.out, *(line for line in report.err if line not in shown)]
    records = [as_dict(w) for w in sorted(set(warnings))]
    if fmt == "json":
        body = {
            "command": command,
            "ok": report.exit_code == 0,
            "exit_code": report.exit_code,
            "problems": list(problems),
            "warnings": records,
            "summary": summary,
        }
        return Report(out=json_lines(body), exit_code=report.exit_code)
    lines = [_annotation("error", p) for p in problems]
    lines += [_annotation("warning", w) for w in records]
    return Report(out=(*lines, *summary), exit_code=report.exit_code)


def problems_report(exc: ExporterError, fmt: Format, command: str) -> Report:
    """A user-caused problem in ``fmt``: every content problem with its code; exit 1."""
    from exporter.cli.report import problems

    text = problems(exc)
    if isinstance(exc, ContentErrors):
        records = [as_dict(e) for e in exc.errors]
        summary = Report(err=(f"{plural(len(records), 'problem')} found.",), exit_code=1)
    else:
        records = [_whole_file(None, str(exc), code=exc.code)]
        summary = Report(exit_code=1)
    warnings = exc.warnings if isinstance(exc, ContentErrors) else ()
    if fmt == "text":
        return text
    return formatted(fmt, command, summary, problems=records, warnings=warnings)


def validate_output(fmt: Format, bank: Bank) -> Report:
    """What ``validate`` says of a clean bank, in ``fmt``."""
    return formatted(fmt, "validate", validate_report(bank), warnings=bank.warnings)


def build_output(fmt: Format, outcome: BuildOutcome, filters: Sequence[str]) -> Report:
    """What ``build`` says, in ``fmt``: ``--check`` finding the output stale is a problem."""
    report = build_report(outcome, filters)
    warnings = outcome.built.warnings if outcome.built is not None else ()
    problems = []
    if outcome.status == "stale":
        problems.append(_whole_file(str(outcome.output), report.err[-1], code="output-stale"))
    return formatted(fmt, "build", report, problems=problems, warnings=warnings)


def diff_output(fmt: Format, old: str, new: str, found: PackageDiff, *, exit_code: bool) -> Report:
    """What ``diff`` says: text lines, or one JSON object."""
    report = diff_report(old, new, found, exit_code)
    if fmt != "json":
        return report
    body = {
        "old": old,
        "new": new,
        "added": [{"id": k, "deck": d} for k, d in found.added],
        "removed": [{"id": k, "deck": d} for k, d in found.removed],
        "changed": [
            {
                "id": c.key,
                "deck": c.deck,
                "fields": list(c.fields),
                "tags_added": list(c.tags_added),
                "tags_removed": list(c.tags_removed),
            }
            for c in found.changed
        ],
        "moved": [{"id": m.key, "from": m.old_deck, "to": m.new_deck} for m in found.moved],
        "unchanged": found.unchanged,
    }
    return Report(out=json_lines(body), exit_code=report.exit_code)


def stats_output(fmt: Format, numbers: Stats) -> Report:
    """What ``stats`` says: the table, or (``json``) one object of the numbers."""
    return Report(out=json_lines(numbers.as_json())) if fmt == "json" else stats_report(numbers)
