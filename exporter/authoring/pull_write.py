"""A ``PullPlan`` -> the new text of each content file it touches, and a readable diff of
the YAML per question (what ``pull`` prints, and what ``--apply`` writes)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exporter.authoring.pull import Pulled, PullPlan
from exporter.authoring.yamlwrite import holds_questions, splice
from exporter.content.model import Question, RoleFile
from exporter.content.sources import SourceFile, decode, read_bytes
from exporter.errors import ContentErrors, OutputError


@dataclass(frozen=True)
class Shown:
    """One entry of the output: a heading line and the diff under it."""

    heading: str
    diff: tuple[str, ...]


@dataclass(frozen=True)
class FileChange:
    """A content file's new text, how many questions it changes and adds, and the bytes it
    held when the text was made (the write refuses a file that no longer holds them)."""

    path: Path
    display_path: str
    text: str
    changed: int
    added: int
    original: bytes = b""

    @property
    def data(self) -> bytes:
        """The new text as the file's bytes: UTF-8, with the byte-order mark it had."""
        bom = b"\xef\xbb\xbf" if self.original.startswith(b"\xef\xbb\xbf") else b""
        return bom + self.text.encode("utf-8")


def _read(source: SourceFile) -> tuple[bytes, str]:
    """A content file's bytes and its text."""
    raw, err = read_bytes(source)
    if err is not None:
        raise ContentErrors([err])
    text, err = decode(raw, source.display_path)
    if err is not None:
        raise ContentErrors([err])
    return raw, text


def _diff(display: str, before: str, after: str) -> tuple[str, ...]:
    lines = difflib.unified_diff(
        before.splitlines(),
        after.splitlines(),
        f"{display} (YAML)",
        f"{display} (Anki)",
        n=1,
        lineterm="",
    )
    return tuple(lines)


def shown(plan: PullPlan, files: Sequence[SourceFile]) -> tuple[Shown, ...]:
    """Each pulled question and new note with the diff of its own lines."""
    by_display = {f.display_path: f for f in files}
    texts: dict[str, str] = {}

    def original(display: str) -> str:
        if display not in texts:
            texts[display] = _read(by_display[display])[1]
        return texts[display]

    out = []
    for p in plan.pulled:
        display = p.role_file.display_path
        before = original(display)
        try:
            after = splice(before, display, {p.old.id: p.new}, ())
        except OutputError as exc:  # one edit that cannot be made blocks no other
            out.append(Shown(f"{_heading(p)}; cannot be written: {_reason(exc, display)}", ()))
            continue
        out.append(Shown(_heading(p), _diff(display, before, after)))
    for n in plan.new_notes:
        if n.question is None or n.role_file is None:
            out.append(Shown(f"new in Anki: {n.note.label}: cannot be added: {n.problem}", ()))
            continue
        display = n.role_file.display_path
        before = original(display)
        where = f"new in Anki: {n.note.label} -> {display} as '{n.question.id}'"
        try:
            after = splice(before, display, {}, (n.question,))
        except OutputError as exc:
            out.append(Shown(f"{where}: cannot be added: {_reason(exc, display)}", ()))
            continue
        out.append(Shown(f"{where} (add it with --apply --add-new)", _diff(display, before, after)))
    return tuple(out)


def _refusal(
    before: str, display: str, edits: dict[str, Question], appended: Sequence[Question]
) -> str | None:
    """Why these changes cannot be spliced into ``before`` (``None``: they can)."""
    try:
        splice(before, display, edits, appended)
    except OutputError as exc:
        return _reason(exc, display)
    return None


def _reason(exc: OutputError, display: str) -> str:
    """Why a splice was refused, without the file name a message names already."""
    return str(exc).removeprefix(f"{display}: ")


def _heading(p: Pulled) -> str:
    where = f"{p.role_file.display_path}:{p.old.line}: '{p.old.id}'"
    parts = ", ".join(p.parts)
    if not p.conflict:
        return f"{where}: {parts} edited in Anki"
    base = (
        f"CONFLICT {where}: no build history stamps this question, so pull cannot tell "
        f"whether the YAML or Anki changed it ({parts} differ)"
        if p.unstamped
        else f"CONFLICT {where}: changed in the YAML since the build this note came from, "
        f"and in Anki ({parts})"
    )
    if p.taken == "anki":
        return base + "; taking Anki's (--prefer anki)"
    if p.taken == "yaml":
        return base + "; keeping the YAML (--prefer yaml)"
    return base + "; the diff shows the YAML (-) and Anki (+): choose with --prefer anki|yaml"


@dataclass(frozen=True)
class Changes:
    """What ``--apply`` writes, and each change it cannot make (one line each)."""

    files: tuple[FileChange, ...]
    refused: tuple[str, ...] = ()


def changes(plan: PullPlan, files: Sequence[SourceFile], add_new: bool) -> Changes:
    """The new text of every content file that ``--apply`` (with ``add_new``) changes; a
    change that cannot be made safely is refused on its own, the others are still made.
    ``OutputError`` for a file that no longer holds the questions the plan was made from
    (saved in an editor since pull read it)."""
    edits: dict[str, dict[str, Question]] = {}
    appended: dict[str, list[Question]] = {}
    planned: dict[str, RoleFile] = {}
    labels: dict[int, str] = {}
    for p in plan.pulled:
        if p.applies:
            edits.setdefault(p.role_file.display_path, {})[p.old.id] = p.new
            planned[p.role_file.display_path] = p.role_file
    for n in plan.new_notes:
        if add_new and n.question is not None and n.role_file is not None:
            appended.setdefault(n.role_file.display_path, []).append(n.question)
            planned[n.role_file.display_path] = n.role_file
            labels[id(n.question)] = n.note.label
    out, refused = [], []
    for source in files:
        display = source.display_path
        if display not in planned:
            continue
        raw, before = _read(source)
        if not holds_questions(before, display, planned[display].questions):
            raise OutputError(
                f"{display}: changed on disk while pull ran (saved in an editor?); "
                "nothing written: run pull again",
                code="content-changed",
            )
        mine, new = edits.get(display, {}), appended.get(display, [])
        try:
            after = splice(before, display, mine, new)
        except OutputError:
            mine, new, why = _each_alone(before, display, mine, new, labels)
            refused += why
            if not (mine or new):
                continue
            after = splice(before, display, mine, new)
        out.append(FileChange(source.path, display, after, len(mine), len(new), raw))
    return Changes(tuple(out), tuple(refused))


def _each_alone(
    before: str,
    display: str,
    edits: dict[str, Question],
    appended: list[Question],
    labels: dict[int, str],
) -> tuple[dict[str, Question], list[Question], list[str]]:
    """The edits and new questions that can be made each on its own, and a line for each
    that cannot."""
    ok: dict[str, Question] = {}
    why: list[str] = []
    for qid, q in edits.items():
        reason = _refusal(before, display, {qid: q}, ())
        if reason is None:
            ok[qid] = q
        else:
            why.append(f"{display}: '{qid}' not written: {reason}")
    added: list[Question] = []
    for q in appended:
        reason = _refusal(before, display, {}, (q,))
        if reason is None:
            added.append(q)
        else:
            why.append(f"new in Anki: {labels.get(id(q), q.id)} not added: {reason}")
    try:
        splice(before, display, ok, added)
    except OutputError as exc:  # each alone, but not all together: none of this file
        why.append(f"{display}: not written: {_reason(exc, display)}")
        return {}, [], why
    return ok, added, why
