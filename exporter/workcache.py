"""Work a build can take from the last one: each content file's checked questions, and each
note's fingerprint and rendered fields, so that editing one question re-reads one file and
renders one note.

An entry is keyed by a digest of the file's bytes, its path and name as shown, and the code
that builds (``buildcache.code_digest``); it is only ever used for a file with exactly those
bytes, and it holds what a full build computes from them, so a build that uses it writes
the same bytes (a Hypothesis test compares them). Files with images or problems are never
kept: an image can change without its YAML changing, and problems are cheap to find again.

Entries live in the user's own cache folder (``$INTERVIEW_DECK_CACHE``, else
``$XDG_CACHE_HOME/interview-deck/work``, else ``~/.cache/interview-deck/work``), one folder
per output path, and not beside the package: a checkout is not trusted to hold HTML that
goes into cards as it is. Any doubt (missing, unreadable, another format) is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporter.errors import ContentWarning
from exporter.load import LoadedFile
from exporter.model import DIFFICULTIES, Question, RoleFile
from exporter.notes import KnownNote, NoteSpec
from exporter.sources import SourceFile

WORK_FORMAT = 1
_DIFFICULTY = {d: d for d in DIFFICULTIES}


def work_root(environ: Mapping[str, str], home: Path) -> Path:
    """The folder that holds every output's work folders, given the environment."""
    given = environ.get("INTERVIEW_DECK_CACHE")
    if given:
        return Path(given)
    base = environ.get("XDG_CACHE_HOME") or str(home / ".cache")
    return Path(base) / "interview-deck" / "work"


@dataclass
class _Entry:
    """One content file's entry, as it will be saved."""

    role_file: RoleFile
    warnings: tuple[ContentWarning, ...]
    fields: dict[str, tuple[str, str] | None]
    fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(v is not None for v in self.fields.values()) and len(self.fingerprints) == len(
            self.fields
        )


class WorkCache:
    """The work folder of one output: read when loading, filled while rendering, saved by
    ``finish``. Writes go only under the folder; a failure to write is never an error."""

    def __init__(self, folder: Path, code: str) -> None:
        self.folder = folder
        self.code = code
        self.known: dict[str, KnownNote] = {}
        self._entries: dict[str, _Entry] = {}  # key -> entry, for every file seen
        self._key_of: dict[str, str] = {}  # question id -> its file's key

    @classmethod
    def for_output(cls, root: Path, output: Path, code: str) -> WorkCache:
        """The work cache under ``root`` of the package at ``output`` (by absolute path)."""
        name = hashlib.blake2b(str(output.absolute()).encode(), digest_size=16).hexdigest()
        return cls(root / name, code)

    def key(self, source: SourceFile, raw: bytes) -> str:
        """The entry key of a content file with bytes ``raw``."""
        digest = hashlib.blake2b(digest_size=20)
        head = [WORK_FORMAT, self.code, str(source.path), source.display_path]
        digest.update(json.dumps(head).encode() + b"\0")
        digest.update(raw)
        return digest.hexdigest()

    def loaded(self, source: SourceFile, raw: bytes) -> LoadedFile | None:
        """The file as loaded by an earlier build, or ``None``."""
        key = self.key(source, raw)
        try:
            with (self.folder / f"{key}.json").open(encoding="utf-8") as f:
                data = json.load(f)
            entry = _decode(data, key)
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
        self._add(key, entry)
        for qid, fingerprint in entry.fingerprints.items():
            self.known[qid] = KnownNote(fingerprint, entry.fields[qid])
        role_file = entry.role_file
        ids = tuple((q.id, q.line) for q in role_file.questions)
        return LoadedFile(role_file, ids, (), entry.warnings)

    def remember(self, source: SourceFile, raw: bytes, loaded: LoadedFile) -> None:
        """Note a file loaded in full: it is saved once its notes are rendered."""
        role_file = loaded.role_file
        if role_file is None or loaded.errors or any(q.images for q in role_file.questions):
            return
        fields: dict[str, tuple[str, str] | None] = {q.id: None for q in role_file.questions}
        self._add(self.key(source, raw), _Entry(role_file, loaded.warnings, fields))

    def _add(self, key: str, entry: _Entry) -> None:
        self._entries[key] = entry
        for qid in entry.fields:
            self._key_of[qid] = key

    def rendered(self, note: NoteSpec, fields: tuple[str, ...]) -> None:
        """Keep a note's fingerprint and rendered Question and Answer fields; a file's entry
        is saved once all its notes are in."""
        key = self._key_of.get(note.question_id)
        if key is None:
            return
        entry = self._entries[key]
        entry.fields[note.question_id] = (fields[0], fields[1])
        entry.fingerprints[note.question_id] = note.fingerprint
        if entry.complete:
            self._save(key, entry)

    def finish(self) -> None:
        """Drop the entries of files this build did not read (after a build that wrote)."""
        try:
            names = [e.name for e in os.scandir(self.folder)]
        except OSError:
            return
        for name in names:
            if name.endswith(".json") and name[:-5] not in self._entries:
                with contextlib.suppress(OSError):
                    (self.folder / name).unlink()

    def _save(self, key: str, entry: _Entry) -> None:
        text = json.dumps(_encode(entry), ensure_ascii=False)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.{os.getpid()}.tmp"
            tmp.write_text(text, encoding="utf-8")
            try:
                os.rename(tmp, self.folder / f"{key}.json")
            except FileExistsError:  # Windows: the same key always holds the same entry
                tmp.unlink()
        except OSError:
            pass  # a cache that cannot be written only costs the next build its shortcut
        # Once saved, the entry's text need not stay in memory (a big bank's fields).
        entry.fields = dict.fromkeys(entry.fields, ("", ""))


def _encode(entry: _Entry) -> dict[str, Any]:
    r = entry.role_file
    return {
        "format": WORK_FORMAT,
        "file": [r.display_path, r.role, r.deck, r.description, r.deck_line],
        "questions": [
            [
                q.id,
                q.difficulty,
                q.question,
                q.answer,
                list(q.tags),
                q.line,
                q.guid,
                entry.fingerprints[q.id],
                entry.fields[q.id],
            ]
            for q in r.questions
        ],
        "warnings": [[w.path, w.line, w.message, w.code] for w in entry.warnings],
    }


def _decode(data: Mapping[str, Any], key: str) -> _Entry:
    if data["format"] != WORK_FORMAT:
        raise ValueError(key)
    display_path, role, deck, description, deck_line = data["file"]
    questions = []
    fields: dict[str, tuple[str, str] | None] = {}
    fingerprints: dict[str, str] = {}
    for qid, difficulty, question, answer, tags, line, guid, fingerprint, html in data["questions"]:
        questions.append(
            Question(
                id=str(qid),
                difficulty=_DIFFICULTY[difficulty],
                question=str(question),
                answer=str(answer),
                tags=tuple(str(t) for t in tags),
                line=int(line),
                guid=str(guid),
            )
        )
        fields[qid] = None if html is None else (str(html[0]), str(html[1]))
        fingerprints[qid] = str(fingerprint)
    role_file = RoleFile(
        str(display_path), str(role), str(deck), str(description), tuple(questions), deck_line
    )
    warnings = tuple(ContentWarning(p, int(n), m, code=c) for p, n, m, c in data["warnings"])
    return _Entry(role_file, warnings, fields, fingerprints)
