"""Notes exported from Anki + the bank + its build history -> what ``pull`` would change.

A note is its question's by the ``ID`` field, else by GUID. A field whose HTML is what the
YAML renders is unedited and keeps its YAML text; an edited one is turned into Markdown and
counts only if that renders differently. The Question field holds the question and its hint,
the Answer field the answer and its follow-up questions (``exporter.authoring.fieldparts``
splits them); a key-points note's clozes are matched to the YAML's points by their number,
through the numbers the build history gave them, and come home in the field's order. A
reverse card is made from the question and the answer: edits to it stay in Anki.
Difficulty: the ``difficulty::`` tag; tags: the rest but ``role::``. Who changed what, from
the build history (each note by its own stamp): a note with the mod the last build stamped
was not edited in Anki (the YAML is newer); a newer mod is an edit in Anki, a conflict if
the YAML's note changed since that build; an older mod is a copy of an earlier
build while the YAML moved on: a conflict, as an edit cannot be ruled out. Without a stamp
(no build history beside the package, or one that never built the question) any difference
is a conflict: it may be the YAML's text that is newer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from exporter.authoring.fieldparts import (
    cloze_points,
    cloze_problems,
    split_answer,
    split_question,
)
from exporter.authoring.html_to_markdown import Converted, html_to_markdown
from exporter.authoring.pagematch import id_for
from exporter.content.media import MediaProblem, resolve
from exporter.content.model import (
    DIFFICULTIES,
    Bank,
    Difficulty,
    Question,
    RoleFile,
    forbidden_char,
    guid_for,
)
from exporter.content.sources import SourceFile
from exporter.content.spec import SLUG_RE
from exporter.errors import ContentError, ContentErrors, PackageReadError
from exporter.markup.markdown import to_html
from exporter.package.history import History, assign_clozes, point_hash
from exporter.reading.exports import ExportedNote, field_text
from exporter.render.notes import cloze_text, fields_for, note_for, notes_of

Prefer = Literal["anki", "yaml"]
# Tags Anki sets itself to mark study state, not content: never pulled.
ANKI_STATE_TAGS = frozenset({"marked", "leech"})
MANAGED_PREFIXES = ("difficulty::", "role::")


@dataclass(frozen=True)
class Pulled:
    """One question whose note differs from the YAML: ``new`` is the question with Anki's
    version; ``conflict`` when the YAML changed too, or when no build history can tell
    (``unstamped``); ``taken``: the side ``--prefer`` chose."""

    role_file: RoleFile
    old: Question
    new: Question
    note: ExportedNote
    conflict: bool = False
    taken: Prefer | None = None
    unstamped: bool = False  # no build history stamps this question: who changed it is unknown

    @property
    def applies(self) -> bool:
        """True when ``--apply`` writes this change."""
        return not self.conflict or self.taken == "anki"

    @property
    def parts(self) -> tuple[str, ...]:
        """Which parts changed: question, answer, difficulty, tags, key points, hint,
        follow-ups."""
        return tuple(
            name.replace("_", " ").replace("follow ups", "follow-ups")
            for name in _PARTS
            if getattr(self.old, name) != getattr(self.new, name)
        )


_PARTS = ("question", "answer", "difficulty", "tags", "key_points", "hint", "follow_ups")


@dataclass(frozen=True)
class NewNote:
    """A note made in Anki with no known id: the question it becomes (appended to
    ``role_file``), or ``None`` and the reason it cannot be added."""

    note: ExportedNote
    role_file: RoleFile | None
    question: Question | None
    problem: str = ""


@dataclass(frozen=True)
class PullPlan:
    """Everything ``pull`` found."""

    pulled: tuple[Pulled, ...] = ()
    new_notes: tuple[NewNote, ...] = ()
    unknown: tuple[tuple[ExportedNote, str], ...] = ()  # (note, its id not in SOURCES)
    warnings: tuple[str, ...] = ()
    history: bool = True  # False: no build history, conflicts could not be told apart
    history_file: str = ""  # where the build history was looked for (for messages)

    @property
    def something(self) -> bool:
        """True when there is anything to pull (the exit code without ``--apply``)."""
        return bool(self.pulled or self.new_notes)


@dataclass
class _Planner:
    bank: Bank
    files: dict[str, SourceFile]
    history: History | None
    export: str
    prefer: Prefer | None
    history_file: str = ""
    errors: list[ContentError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def plan(self, notes: Sequence[ExportedNote]) -> PullPlan:
        by_id = {q.id: (f, q) for f in self.bank.files for q in f.questions}
        by_guid = {q.guid or guid_for(q.id): (f, q) for f, q in by_id.values()}
        seen: dict[str, ExportedNote] = {}
        pulled: list[Pulled] = []
        new: list[NewNote] = []
        unknown: list[tuple[ExportedNote, str]] = []
        points = self.point_notes(notes, by_id)
        matched = bool(points)
        for note in notes:
            if note.kind != "question":
                continue
            qid = note.question_id
            if qid and not SLUG_RE.match(qid):
                self.error(
                    note,
                    f"its ID '{qid}' is not a valid id (a lowercase slug such "
                    "as 'model-drift-2'); fix the ID field in Anki",
                    code="pull-id-invalid",
                )
                continue
            match = by_id.get(qid) if qid else None
            match = match or by_guid.get(note.guid)
            if match is None:
                if qid:
                    unknown.append((note, qid))
                else:
                    new.append(self.new_note(note, by_id))
                continue
            key = match[1].id
            if key in seen:
                self.error(
                    note,
                    f"it and note {seen[key].id} are both question '{key}'; "
                    "delete one of them in Anki (or clear its ID field)",
                    code="pull-id-repeated",
                )
                continue
            seen[key] = note
            change = self.compare(*match, note)
            point_change = self.compare_points(*match, points.pop(key)) if key in points else None
            change = _merged(change, point_change, self.prefer)
            if change is not None:
                pulled.append(change)
        for key, note in points.items():  # key points of a question whose main note is gone
            change = self.compare_points(*by_id[key], note)
            if change is not None:
                pulled.append(change)
        if self.errors:
            raise ContentErrors(self.errors)
        if not seen and not matched and not any(n.role_file is not None for n in new):
            raise PackageReadError(self.foreign(notes), code="pull-export-foreign")
        return PullPlan(
            tuple(pulled),
            tuple(new),
            tuple(unknown),
            tuple(self.warnings),
            history=self.history is not None,
            history_file=self.history_file,
        )

    def foreign(self, notes: Sequence[ExportedNote]) -> str:
        """Why an export that holds none of the bank's questions is refused."""
        ids = sorted({qid for n in notes if (qid := n.question_id)})
        some = f", with ids such as {', '.join(ids[:3])}" if ids else ""
        count = f"{len(notes)} note{'s' if len(notes) != 1 else ''}"
        return (
            f"{self.export}: holds none of SOURCES' questions ({count} of the interview "
            f"note type{some}): a wrong export, or the wrong SOURCES? Nothing to pull"
        )

    def error(self, note: ExportedNote, message: str, *, code: str) -> None:
        self.errors.append(ContentError(self.export, 0, 0, f"{note.label}: {message}", code=code))

    def point_notes(
        self,
        notes: Sequence[ExportedNote],
        by_id: dict[str, tuple[RoleFile, Question]],
    ) -> dict[str, ExportedNote]:
        """The key-points notes of the bank's questions, by question id (by ID field, else
        GUID); the first of two for one question (by note id)."""
        by_guid = {guid_for(f"{qid}::key-points"): qid for qid in by_id}
        found: dict[str, ExportedNote] = {}
        for note in notes:
            if note.kind != "key-points":
                continue
            qid = note.question_id if note.question_id in by_id else by_guid.get(note.guid)
            if qid is not None:
                found.setdefault(qid, note)
        return found

    def compare(self, role_file: RoleFile, q: Question, note: ExportedNote) -> Pulled | None:
        built = fields_for(role_file, q)
        where = (role_file.display_path, q.line)
        question, hint = self.question_and_hint(note, built[0], role_file, q, where)
        answer, follow_ups = self.answer_and_follow_ups(note, built[1], role_file, q, where)
        difficulty = self.difficulty(note, q.difficulty, where)
        tags = self.tags(note, q.tags, where)
        new = q._replace(
            question=question,
            answer=answer,
            difficulty=difficulty,
            tags=tags,
            hint=hint,
            follow_ups=follow_ups,
        )
        return self.judged(role_file, q, new, note, q.id, note_for(role_file, q).fingerprint)

    def question_and_hint(
        self, note: ExportedNote, built: str, role_file: RoleFile, q: Question, where: Where
    ) -> tuple[str, str]:
        """The Question field -> the question and the hint: the YAML's text where the
        field is what the YAML renders, else the field's part turned into Markdown."""
        value = note.fields.get("Question", "")
        if _same(value, built):
            return q.question, q.hint
        own, yaml = split_question(value), split_question(built)
        if self.lost(own.lost, "the Anki note's hint has words in its label", where):
            return q.question, q.hint
        label = "the Anki note's question"
        question = self.part(own.main, yaml.main, q.question, label, role_file, q, where)
        if own.extra == yaml.extra:
            return question, q.hint
        if not isinstance(own.extra, str) or not field_text(own.extra):
            return question, ""  # the hint was deleted in Anki
        built_hint = yaml.extra if isinstance(yaml.extra, str) else ""
        label = "the Anki note's hint"
        return question, self.part(own.extra, built_hint, q.hint, label, role_file, q, where)

    def answer_and_follow_ups(
        self, note: ExportedNote, built: str, role_file: RoleFile, q: Question, where: Where
    ) -> tuple[str, tuple[str, ...]]:
        """The Answer field -> the answer and the follow-up questions, as
        ``question_and_hint`` reads the Question field; a follow-up whose HTML is what its
        YAML text renders keeps that text."""
        value = note.fields.get("Answer", "")
        if _same(value, built):
            return q.answer, q.follow_ups
        own, yaml = split_answer(value), split_answer(built)
        if self.lost(own.lost, "the Anki note's follow-ups have words outside the items", where):
            return q.answer, q.follow_ups
        label = "the Anki note's answer"
        answer = self.part(own.main, yaml.main, q.answer, label, role_file, q, where)
        if own.extra == yaml.extra:
            return answer, q.follow_ups
        if not isinstance(own.extra, tuple):
            return answer, ()  # the follow-ups were deleted in Anki
        built_items = yaml.extra if isinstance(yaml.extra, tuple) else ()
        items = []
        for i, html in enumerate(h for h in own.extra if field_text(h)):  # emptied: deleted
            old, old_html = (q.follow_ups[i], built_items[i]) if i < len(built_items) else ("", "")
            label = f"follow-up question {i + 1} of the Anki note"
            items.append(self.part(html, old_html, old, label, role_file, q, where))
        return answer, tuple(items)

    def judged(
        self,
        role_file: RoleFile,
        q: Question,
        new: Question,
        note: ExportedNote,
        key: str,
        fingerprint: str,
    ) -> Pulled | None:
        """``new`` as an edit made in Anki, a conflict, or nothing, by the note's mod and
        the stamp the build history gave the note ``key``."""
        if new == q:
            return None
        stamp = self.history.notes.get(key) if self.history else None
        if stamp is None:  # the difference may be the YAML's newer text: never guess
            return Pulled(role_file, q, new, note, True, self.prefer, unstamped=True)
        if note.mod == stamp.mod:
            return None  # not edited in Anki: the YAML is newer, and a build delivers it
        conflict = note.mod < stamp.mod or fingerprint != stamp.fingerprint
        taken = self.prefer if conflict else None
        return Pulled(role_file, q, new, note, conflict, taken)

    def part(
        self,
        value: str,
        built: str,
        text: str,
        label: str,
        role_file: RoleFile,
        q: Question,
        where: tuple[str, int],
    ) -> str:
        """One part of a field: the YAML's ``text`` if ``value`` is what it renders, else
        ``value`` in Markdown (``text`` after a problem, which is reported)."""
        if _same(value, built):
            return text
        converted = self.convert(value, role_file, q)
        if self.problems(converted, label, where):
            return text
        if to_html(converted.markdown, converted.images) == built:
            return text  # the editor's HTML for what the YAML already says
        return converted.markdown

    def compare_points(self, role_file: RoleFile, q: Question, note: ExportedNote) -> Pulled | None:
        """A key-points note -> the question with the points as the note holds them, in
        the note's order; a point whose cloze is what its YAML text renders keeps that
        text. Which YAML point a cloze is: the one the last build gave its number."""
        hashes = [point_hash(p) for p in q.key_points]
        clozes = self.history.clozes.get(f"{q.id}::key-points") if self.history else None
        numbers = assign_clozes(clozes, hashes)
        yaml = dict(zip(numbers, q.key_points, strict=True))
        built = cloze_text(q.key_points, numbers)
        where = (role_file.display_path, q.line)
        value = note.fields.get("Text", "")
        if _same(value, built):
            return None
        problems = cloze_problems(value)
        if problems:
            self.errors.append(
                ContentError(
                    *where,
                    0,
                    f"the Anki note's key points hold {'; '.join(problems)}: each point is one "
                    "cloze of its own ({{c1::…}}) in Anki; edit the note so, or the YAML, and "
                    "pull again (the YAML's points stay)",
                    code="pull-field-invalid",
                )
            )
            return None
        points: list[str] = []
        for number, html in cloze_points(value):
            old = yaml.get(number)
            if old is not None and html == dict(cloze_points(cloze_text([old], [1])))[1]:
                points.append(old)
                continue
            converted = self.convert(html, role_file, q)
            if self.problems(converted, f"key point {number} of the Anki note", where):
                return None
            points.append(converted.markdown)
        new = q._replace(key_points=tuple(points))
        (_main, *others) = notes_of(role_file, q, numbers)
        fingerprint = next(n.fingerprint for n in others if n.kind == "key-points")
        return self.judged(role_file, q, new, note, f"{q.id}::key-points", fingerprint)

    def field(
        self,
        note: ExportedNote,
        name: str,
        built: str,
        text: str,
        role_file: RoleFile,
        q: Question,
        where: tuple[str, int],
    ) -> str:
        value = note.fields.get(name, "")
        if unicodedata.normalize("NFC", value) == unicodedata.normalize("NFC", built):
            return text
        converted = self.convert(value, role_file, q)
        label = f"the Anki note's {name.lower()}"
        if self.problems(converted, label, where):
            return text
        if to_html(converted.markdown, converted.images) == built:
            return text  # the editor's HTML for what the YAML already says
        return converted.markdown

    def lost(self, html: str, what: str, where: Where) -> bool:
        """Whether words were found in a block outside the parts a key can hold (reported:
        pull never drops a user's words)."""
        words = field_text(html)
        if not words:
            return False
        shown = words if len(words) <= 40 else words[:39] + "…"
        self.errors.append(
            ContentError(
                *where,
                0,
                f"{what} ('{shown}'), which no key holds: move them in Anki (or edit the "
                "YAML) and pull again (the YAML's text stays)",
                code="pull-field-invalid",
            )
        )
        return True

    def problems(self, converted: Converted, label: str, where: tuple[str, int]) -> bool:
        path, line = where
        found = [f"{label}: {p}" for p in converted.problems]
        bad = forbidden_char(converted.markdown)
        if bad:
            found.append(
                f"{label} contains the control character {bad}, which a card cannot hold; "
                "remove it in Anki"
            )
        if not found and not converted.markdown.strip():
            found.append(f"{label} is empty: write it in Anki, or delete the note")
        self.errors += [ContentError(path, line, 0, m, code="pull-field-invalid") for m in found]
        return bool(found)

    def convert(self, value: str, role_file: RoleFile, q: Question | None) -> Converted:
        source = self.files.get(role_file.display_path)
        known = q.media_names() if q is not None else {}

        def mapper(src: str, path: str | None) -> str | None:
            if path is None:
                return None
            if known.get(path) == src:
                return path
            if source is None:
                return None
            try:
                return path if resolve(path, source.path, source.content_root).name == src else None
            except MediaProblem:
                return None

        return html_to_markdown(value, mapper)

    def difficulty(
        self, note: ExportedNote, current: Difficulty, where: tuple[str, int] | None
    ) -> Difficulty:
        values = {t.lower()[12:] for t in note.tags if t.lower().startswith("difficulty::")}
        for value in DIFFICULTIES:
            if values == {value}:
                return value
        if values and where is not None:
            self.warnings.append(
                f"{where[0]}:{where[1]}: the Anki note's difficulty tags "
                f"({', '.join(sorted(values))}) are not one of {', '.join(DIFFICULTIES)}; "
                "the YAML's difficulty stays"
            )
        return current

    def tags(
        self, note: ExportedNote, current: tuple[str, ...], where: tuple[str, int]
    ) -> tuple[str, ...]:
        mine: list[str] = []
        for tag in note.tags:
            lower = tag.lower()
            if lower.startswith(MANAGED_PREFIXES) or lower in ANKI_STATE_TAGS or lower in mine:
                continue
            if SLUG_RE.match(lower):
                mine.append(lower)
            else:
                self.warnings.append(
                    f"{where[0]}:{where[1]}: tag '{tag}' of the Anki note is not a slug "
                    "(letters a-z, digits, single '-'), so it stays out of the YAML and a "
                    "build that updates the note drops it; rename it in Anki"
                )
        if set(mine) == set(current):
            return current
        kept = [t for t in current if t in mine]
        return (*kept, *sorted(t for t in mine if t not in kept))

    def new_note(self, note: ExportedNote, by_id: dict[str, tuple[RoleFile, Question]]) -> NewNote:
        role_file = next((f for f in self.bank.files if f.deck == note.deck), None)
        if role_file is None:
            decks = ", ".join(sorted({f.deck for f in self.bank.files}))
            reason = f"its deck '{note.deck}' is built by no content file (move it to: {decks})"
            return NewNote(note, None, None, reason)
        texts = []
        for name in ("Question", "Answer"):
            converted = self.convert(note.fields.get(name, ""), role_file, None)
            problem = next(iter(converted.problems), None) or (
                f"the control character {bad} cannot go on a card"
                if (bad := forbidden_char(converted.markdown))
                else ("it is empty" if not converted.markdown.strip() else None)
            )
            if problem:
                return NewNote(note, role_file, None, f"its {name.lower()}: {problem}")
            texts.append(converted.markdown)
        difficulty = self.difficulty(note, "medium", None)
        field_value = field_text(note.fields.get("Difficulty", "")).lower()
        if not any(t.lower().startswith("difficulty::") for t in note.tags):
            if field_value not in DIFFICULTIES:
                return NewNote(
                    note,
                    role_file,
                    None,
                    "it has no difficulty: tag it "
                    "difficulty::easy, difficulty::medium or difficulty::hard",
                )
            difficulty = next(d for d in DIFFICULTIES if d == field_value)
        qid = _fresh_id(texts[0], set(by_id) | set(self.history.notes if self.history else ()))
        by_id[qid] = (role_file, Question(qid, difficulty, texts[0], texts[1]))
        tags = self.tags(note, (), (self.export, 0))
        question = Question(qid, difficulty, texts[0], texts[1], tags, guid=note.guid)
        return NewNote(note, role_file, question)


Where = tuple[str, int]  # a question's file and line, for messages


def _same(value: str, built: str) -> bool:
    """True when a field's HTML is what the build wrote (Anki stores text NFC)."""
    return unicodedata.normalize("NFC", value) == unicodedata.normalize("NFC", built)


def _merged(main: Pulled | None, points: Pulled | None, prefer: Prefer | None) -> Pulled | None:
    """One question's changes from its main note and from its key-points note, as one."""
    if main is None or points is None:
        return main or points
    conflict = main.conflict or points.conflict
    return replace(
        main,
        new=main.new._replace(key_points=points.new.key_points),
        conflict=conflict,
        taken=prefer if conflict else None,
        unstamped=main.unstamped or points.unstamped,
    )


def _fresh_id(question: str, taken: set[str]) -> str:
    """An id from the question's first words, unused by the bank and its history."""
    base = id_for(re.sub(r"[$\\`*_]", " ", question))
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def best_histories(
    notes: Sequence[ExportedNote], candidates: Sequence[tuple[Path, History]]
) -> list[tuple[Path, History]]:
    """The candidate histories that best account for ``notes`` (the build that stamped
    them): most notes whose mod is the stamp's mod, then most whose note id is the stamp's
    id (Anki keeps the id of the first import, and each build's newest mod). ``[]`` when
    none stamps any note; one; or several that fit equally and disagree on some note's
    stamp. Candidates that fit equally and agree are one (the first given)."""
    scored = []
    for path, history in candidates:
        mods = ids = 0
        for note in notes:
            stamp = history.notes.get(note.key)
            if stamp is not None:
                mods += note.mod == stamp.mod
                ids += note.id == stamp.id
        if mods or ids:
            scored.append(((mods, ids), path, history))
    if not scored:
        return []
    best = max(score for score, _path, _history in scored)
    fitting = [(path, history) for score, path, history in scored if score == best]
    wanted = {n.question_id for n in notes}
    distinct: list[tuple[Path, History]] = []
    for path, history in fitting:
        mine = {q: s for q, s in history.notes.items() if q in wanted}
        if not any({q: s for q, s in h.notes.items() if q in wanted} == mine for _p, h in distinct):
            distinct.append((path, history))
    return distinct


def plan_pull(
    bank: Bank,
    files: Sequence[SourceFile],
    notes: Sequence[ExportedNote],
    history: History | None,
    export: Path,
    prefer: Prefer | None = None,
    *,
    history_file: str = "",
) -> PullPlan:
    """What pulling ``notes`` into ``bank`` changes; ``ContentErrors`` for notes that cannot
    come back (an invalid or repeated id, an unmappable image, a control character).
    ``history_file`` names where ``history`` was read from (or looked for), for messages."""
    by_display = {f.display_path: f for f in files}
    return _Planner(bank, by_display, history, str(export), prefer, history_file).plan(notes)
