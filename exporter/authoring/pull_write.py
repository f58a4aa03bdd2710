"""A ``PullPlan`` -> the new text of each content file it touches, and a readable diff of
the YAML per question (what ``pull`` prints, and what ``--apply`` writes)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exporter.authoring.pull import Pulled, PullPlan
from exporter.authoring.yamlwrite import splice
from exporter.content.model import Question
from exporter.content.sources import SourceFile, read_text
from exporter.errors import ContentErrors


@dataclass(frozen=True)
class Shown:
    """One entry of the output: a heading line and the diff under it."""

    heading: str
    diff: tuple[str, ...]


@dataclass(frozen=True)
class FileChange:
    """A content file's new text, and how many questions it changes and adds."""

    path: Path
    display_path: str
    text: str
    changed: int
    added: int


def _text(source: SourceFile) -> str:
    text, err = read_text(source)
    if err is not None:
        raise ContentErrors([err])
    return text


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
            texts[display] = _text(by_display[display])
        return texts[display]

    out = []
    for p in plan.pulled:
        display = p.role_file.display_path
        before = original(display)
        after = splice(before, display, {p.old.id: p.new}, ())
        out.append(Shown(_heading(p), _diff(display, before, after)))
    for n in plan.new_notes:
        if n.question is None or n.role_file is None:
            out.append(Shown(f"new in Anki: {n.note.label}: cannot be added: {n.problem}", ()))
            continue
        display = n.role_file.display_path
        before = original(display)
        after = splice(before, display, {}, (n.question,))
        heading = (
            f"new in Anki: {n.note.label} -> {display} as '{n.question.id}' "
            "(add it with --apply --add-new)"
        )
        out.append(Shown(heading, _diff(display, before, after)))
    return tuple(out)


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


def changes(plan: PullPlan, files: Sequence[SourceFile], add_new: bool) -> tuple[FileChange, ...]:
    """The new text of every content file that ``--apply`` (with ``add_new``) changes."""
    edits: dict[str, dict[str, Question]] = {}
    appended: dict[str, list[Question]] = {}
    for p in plan.pulled:
        if p.applies:
            edits.setdefault(p.role_file.display_path, {})[p.old.id] = p.new
    for n in plan.new_notes:
        if add_new and n.question is not None and n.role_file is not None:
            appended.setdefault(n.role_file.display_path, []).append(n.question)
    out = []
    for source in files:
        display = source.display_path
        if display in edits or display in appended:
            before = _text(source)
            after = splice(before, display, edits.get(display, {}), appended.get(display, ()))
            out.append(
                FileChange(
                    source.path,
                    display,
                    after,
                    len(edits.get(display, {})),
                    len(appended.get(display, ())),
                )
            )
    return tuple(out)
