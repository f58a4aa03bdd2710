"""Work a build can take from the last one: each content file's checked questions, and each
note's fingerprint and rendered fields, so that editing one question re-reads one file and
renders one note.

There is one entry per content file, keyed by a digest of the file's bytes, its path and
name as shown, and the code that builds (``record.code_digest``). It is used whole only
for a file with exactly those bytes, and holds what a full build computes from them, so a
build that uses it writes the same bytes (a Hypothesis test compares them). When the file
changed, its old entry still gives the fields of every note whose fingerprint is unchanged
(the fingerprint covers all a note is rendered from, the code included), so editing one
answer renders one note. Files with images or problems are never kept: an image can change
without its YAML changing, and problems are cheap to find again.

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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from exporter.content.load import LoadedFile
from exporter.content.model import DIFFICULTIES, Question, RoleFile
from exporter.content.sources import SourceFile
from exporter.errors import ContentWarning
from exporter.render.notes import KnownNote, NoteSpec
from exporter.state.privatefolder import private_folder

WORK_FORMAT = 1
STALE_DAYS = 30  # an output not built for this long loses its work folder
_DIFFICULTY = {d: d for d in DIFFICULTIES}


def work_root(environ: Mapping[str, str], home: Callable[[], Path]) -> Path | None:
    """The folder that holds every output's work folders, given the environment; ``None``
    when there is none (no home folder, as for a container's made-up user)."""
    given = environ.get("INTERVIEW_DECK_CACHE")
    if given:
        return Path(given)
    base = environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(home() / ".cache")
        except (RuntimeError, KeyError, OSError):
            return None
    return Path(base) / "interview-deck" / "work"


@dataclass
class _Entry:
    """One content file's entry, as it will be saved: by question id, each note's
    fingerprint, GUID and rendered Question and Answer (``None`` until rendered)."""

    key: str
    role_file: RoleFile
    warnings: tuple[ContentWarning, ...]
    notes: dict[str, tuple[str, str, tuple[str, str]] | None]
    missing: int = 0  # notes not rendered yet


class WorkCache:
    """The work folder of one output: read when loading, filled while rendering. Writes go
    only under the folder; a failure to read or write is never an error, only slower."""

    def __init__(self, folder: Path, code: str) -> None:
        self.folder = folder
        self.code = code
        self.known: dict[str, KnownNote] = {}  # question id -> note, for unchanged files
        self.by_fingerprint: dict[str, tuple[str, str]] = {}  # from changed files' entries
        self._pending: dict[str, _Entry] = {}  # entry name -> entry not saved yet
        self._entry_of: dict[str, str] = {}  # question id -> its pending entry's name
        self._seen: set[str] = set()  # entry names of every file this build read

    @classmethod
    def for_output(cls, root: Path, output: Path, code: str) -> WorkCache:
        """The work cache under ``root`` of the package at ``output`` (by absolute path)."""
        return cls(root / _hex(os.fsencode(output.absolute()), 16), code)

    def loaded(self, source: SourceFile, digest: bytes) -> LoadedFile | None:
        """The file as loaded by an earlier build from the same bytes, or ``None``."""
        name = _entry_name(source)
        self._seen.add(name)
        try:
            with private_folder(self.folder) as folder:
                data = json.loads(folder.read(f"{name}.json"))
            if data["format"] != WORK_FORMAT or data["code"] != self.code:
                return None  # another program: not even its fields can be trusted
            if data["key"] != self._key(source, digest):
                self.by_fingerprint.update(_fields_by_fingerprint(data))
                return None
            role_file, warnings, known = _decode(data)
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
        except RecursionError:  # JSON nested too deeply
            return None
        self.known.update(known)
        ids = tuple((q.id, q.line) for q in role_file.questions)
        return LoadedFile(role_file, ids, (), warnings)

    def remember(self, source: SourceFile, digest: bytes, loaded: LoadedFile) -> None:
        """Note a file loaded in full: its entry is saved once its notes are rendered."""
        role_file = loaded.role_file
        if role_file is None or loaded.errors or any(q.images for q in role_file.questions):
            return
        name = _entry_name(source)
        notes = dict.fromkeys((q.id for q in role_file.questions), None)
        key = self._key(source, digest)
        self._pending[name] = _Entry(key, role_file, loaded.warnings, notes, len(notes))
        self._entry_of.update(dict.fromkeys(notes, name))

    def rendered(self, note: NoteSpec, fields: tuple[str, ...]) -> None:
        """Keep a note's fingerprint, GUID and Question and Answer fields; a file's entry is
        saved once all its notes are in."""
        name = self._entry_of.pop(note.question_id, None)
        if name is None:
            return
        entry = self._pending[name]
        entry.notes[note.question_id] = (note.fingerprint, note.guid, (fields[0], fields[1]))
        entry.missing -= 1
        if not entry.missing:
            del self._pending[name]
            self._save(name, entry)

    def finish(self, now: float) -> None:
        """After a build: drop entries of files it did not read and temp files of builds
        killed an hour ago or more; mark this output's folder used, and remove the folders
        of outputs not built for ``STALE_DAYS`` (``now``: the wall clock, in seconds)."""
        try:
            with private_folder(self.folder) as folder:
                for name in folder.names():
                    dead = _TEMP.fullmatch(name) and folder.older(name, now - 3600)
                    entry = _ENTRY.fullmatch(name)
                    if dead or (entry and name[:-5] not in self._seen):
                        folder.remove(name)
                folder.touch(now)
        except OSError:
            return
        _remove_stale(self.folder.parent, now - STALE_DAYS * 86_400)

    def _key(self, source: SourceFile, digest: bytes) -> str:
        head = [WORK_FORMAT, self.code, str(source.path), source.display_path, digest.hex()]
        return _hex(json.dumps(head).encode(), 20)

    def _save(self, name: str, entry: _Entry) -> None:
        entry_with_code = {**_encode(entry), "code": self.code}
        data = json.dumps(entry_with_code, ensure_ascii=False).encode("utf-8")
        with contextlib.suppress(OSError), private_folder(self.folder) as folder:
            folder.write(f"{name}.json", f".{name}.{os.getpid()}.tmp", data)
        # (a cache that cannot be written only costs the next build its shortcut)


_ENTRY = re.compile(r"[0-9a-f]{40}\.json")
_TEMP = re.compile(r"\.[0-9a-f]{40}\.[0-9]+\.tmp")


def touch_work(root: Path, output: Path, now: float) -> None:
    """Mark the work folder of ``output`` used (a build skipped as up to date reads none of
    it), so that it does not look abandoned."""
    folder = WorkCache.for_output(root, output, "").folder
    with contextlib.suppress(OSError), private_folder(folder, create=False) as private:
        private.touch(now)


def _remove_stale(root: Path, limit: float) -> None:
    """Remove the work folders under ``root`` last used before ``limit``: only folders of
    ours (32 hex digits, ``privatefolder`` checked), only our entries and temp files in
    them, and the folder itself only if nothing else is left."""
    try:
        names = [e.name for e in os.scandir(root) if _WORK_FOLDER.fullmatch(e.name)]
    except OSError:
        return
    for name in names:
        try:
            with private_folder(root / name, create=False) as folder:
                if os.stat(root / name, follow_symlinks=False).st_mtime >= limit:
                    continue
                for entry in folder.names():
                    if _ENTRY.fullmatch(entry) or _TEMP.fullmatch(entry):
                        folder.remove(entry)
            (root / name).rmdir()  # fails, as it should, if anything else is in it
        except OSError:
            continue


_WORK_FOLDER = re.compile(r"[0-9a-f]{32}")


def _hex(data: bytes, size: int) -> str:
    return hashlib.blake2b(data, digest_size=size).hexdigest()


def _entry_name(source: SourceFile) -> str:
    """The entry of a content file, by its path and name as shown."""
    return _hex(json.dumps([str(source.path), source.display_path]).encode(), 20)


def _encode(entry: _Entry) -> dict[str, Any]:
    r = entry.role_file
    questions = []
    for q in r.questions:
        known = entry.notes[q.id]
        assert known is not None
        fingerprint, guid, html = known
        row = [q.id, q.difficulty, q.question, q.answer, q.tags, q.line, q.guid]
        questions.append([*row, fingerprint, guid, *html])
    return {
        "format": WORK_FORMAT,
        "key": entry.key,
        "file": [r.display_path, r.role, r.deck, r.description, r.deck_line],
        "questions": questions,
        "warnings": [[w.path, w.line, w.message, w.code] for w in entry.warnings],
    }


def _fields_by_fingerprint(data: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    return {str(q[7]): (str(q[9]), str(q[10])) for q in data["questions"]}


def _decode(
    data: Mapping[str, Any],
) -> tuple[RoleFile, tuple[ContentWarning, ...], dict[str, KnownNote]]:
    display_path, role, deck, description, deck_line = data["file"]
    questions = []
    known: dict[str, KnownNote] = {}
    for qid, difficulty, text, answer, tags, line, guid, fingerprint, note_guid, q, a in data[
        "questions"
    ]:
        questions.append(
            Question(str(qid), _DIFFICULTY[difficulty], str(text), str(answer), tuple(tags), line)
        )
        if guid:
            questions[-1] = replace(questions[-1], guid=str(guid))
        known[qid] = KnownNote(str(fingerprint), (str(q), str(a)), str(note_guid))
    role_file = RoleFile(
        str(display_path), str(role), str(deck), str(description), tuple(questions), deck_line
    )
    warnings = tuple(ContentWarning(p, int(n), m, code=c) for p, n, m, c in data["warnings"])
    return role_file, warnings, known
