"""Each content file's build, kept for the next one (``exporter.state.units`` asks): the
file as loaded and checked, and its notes' fingerprints and fields, by the file's bytes.
Editing one answer in a bank of 40 files parses and renders one file; the other 39 come
from here (docs/BENCHMARKS.md, "Changes in 0.8"). It replaces 0.7's field cache, which
kept only notes with code.

An entry is named by a hash of the code that builds (``record.code_digest``), the file's
name as shown, its content folder and its bytes: a file is reused only when all four are
the same. Its images are resolved again on every build (an image edited since is read
anew), and a note's fields are reused only while its key points keep their numbers and
its images their bytes; anything else is rendered, so ``build`` writes the bytes
``build --no-cache`` writes. Files with problems are never kept.

The entries live in the tool's own marked folder of the user's cache
(``$INTERVIEW_DECK_CACHE``, else ``$XDG_CACHE_HOME/interview-deck``, else
``~/.cache/interview-deck``; the folder is ``files`` inside it, mode 0700, made with a
``CACHEDIR.TAG`` already in it): nothing else under that root is read, changed or removed,
and a ``files`` folder without that tag was not made by the tool and is not used. Not
beside the package: a checkout is not trusted to hold HTML that goes into cards as it is.

An entry is capped in size and carries a SHA-256 of its own content: a missing, damaged,
cut-short or oversized entry, one edited without its digest made to match, one of another
shape, a folder another user owns or others may write, a link where the folder should be —
any doubt is a miss. The digest finds damage, not intent: an entry rewritten with a new
digest is used, and only this user can do that (the folder is theirs alone, and they could
as well edit the content files or the tool). A cache that cannot be written only
costs the next build its shortcut. Entries not used for ``STALE_DAYS`` are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from exporter.content.load import LoadedFile, check_media
from exporter.content.model import DIFFICULTIES, Image, Question, RoleFile
from exporter.content.sources import SourceFile
from exporter.errors import ContentWarning, OutputError
from exporter.files import read_regular, sweep_staged, write_files
from exporter.render.notetype import EXTRA_FIELDS, FIELDS, KEY_POINTS_FIELDS

FORMAT = 1
FOLDER = "files"
# An entry holds its file's text and its notes' HTML, some three times the file's size: a
# file of up to ~40 MB (12,500 questions is 15 MB) is kept, a bigger one is not.
MAX_ENTRY_BYTES = 128 << 20
STALE_DAYS = 30  # an entry not used for this long is removed (only ours, only there)
_TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# interview-deck's file cache\n"
_TAG_NAME = "CACHEDIR.TAG"
_PREFIX = "file-"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# How many fields a note has, by what its key says after '::' (its kind; none: a question).
_WIDTHS = {"": len(FIELDS), "key-points": len(KEY_POINTS_FIELDS), "reverse": len(EXTRA_FIELDS)}


def cache_root(environ: Mapping[str, str], home: Callable[[], Path]) -> Path | None:
    """The user's cache root for this tool, given the environment; ``None`` when there is
    none (no home folder, as for a container's made-up user)."""
    given = environ.get("INTERVIEW_DECK_CACHE")
    if given:
        return Path(given)
    base = environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(home() / ".cache")
        except (RuntimeError, KeyError, OSError):
            return None
    return Path(base) / "interview-deck"


class Made(NamedTuple):
    """A note as a build made it: the key point numbers and images it was made with (beyond
    its file), its fingerprint and its fields."""

    clozes: tuple[int, ...]
    media: tuple[tuple[str, str], ...]
    fingerprint: str
    fields: tuple[str, ...]


def media_of(question: Question) -> tuple[tuple[str, str], ...]:
    """The images a question's notes show: each path as written, with its media file's name
    (which names the image's bytes)."""
    return tuple(sorted(question.media_names().items())) if question.images else ()


class FileCache:
    """The entries of content files: ``entry`` looks one up by the file's bytes, ``keep``
    writes one; ``save`` removes our stale files once a build is done."""

    def __init__(self, folder: Path | None, code: str, keep: bool) -> None:
        self.folder = folder  # None: the folder is not ours to use
        self.code = code
        self.keeps = keep  # False: read entries, never write (a --check)

    @classmethod
    def open(cls, root: Path, code: str, *, keep: bool = True) -> FileCache:
        """The cache under the user's cache ``root`` for builds by ``code`` (without
        ``keep``, its folder is not made either: a ``--check`` writes nothing)."""
        return cls(_own_folder(root / FOLDER, make=keep), code, keep)

    def name(self, source: SourceFile, raw: bytes) -> str:
        """The name of the entry of ``source`` holding ``raw``."""
        return _PREFIX + _key(self.code, source, raw) + ".json"

    def holds(self, name: str) -> bool:
        """True when there is an entry ``name`` (whether it can be used is ``entry``'s to say)."""
        return self.folder is not None and os.path.isfile(self.folder / name)

    def entry(self, name: str, source: SourceFile) -> tuple[LoadedFile, dict[str, Made]] | None:
        """The file of entry ``name`` as an earlier build loaded it, its images resolved
        now, and its notes as made then, by key; ``None`` when there is no usable entry or
        an image has a problem now (the caller loads the file: that says what)."""
        if self.folder is None:
            return None
        try:
            entry = _decode(read_regular(self.folder / name, MAX_ENTRY_BYTES), self.code)
            if entry is None:
                return None
            role_file = _role_file(entry["file"], source.display_path)
            notes = {str(k): _made(v) for k, v in entry["notes"].items()}
            if any(len(n.fields) != _WIDTHS.get(k.partition("::")[2]) for k, n in notes.items()):
                return None  # not a note of ours: its row would not fit its note type
            warnings = tuple(_warning(w) for w in entry["warnings"])
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
        except RecursionError:
            return None
        checked = check_media(source, role_file)
        if checked is None:
            return None
        if self.keeps:  # in use: not stale
            with contextlib.suppress(OSError):
                os.utime(self.folder / name)
        ids = tuple((q.id, q.line) for q in checked.questions)
        return LoadedFile(checked, ids, (), warnings), notes

    def keep(self, name: str, loaded: LoadedFile, notes: Mapping[str, Made]) -> None:
        """Write entry ``name``: a file loaded without a problem and its notes as made."""
        role_file = loaded.role_file
        if self.folder is None or not self.keeps or role_file is None or loaded.errors:
            return
        body = json.dumps(
            {
                "format": FORMAT,
                "code": self.code,
                "file": _role_file_json(role_file),
                "warnings": [[w.path, w.line, w.message, w.code] for w in loaded.warnings],
                "notes": {
                    key: [list(n.clozes), [list(m) for m in n.media], n.fingerprint, n.fields]
                    for key, n in notes.items()
                },
            }
        ).encode()
        data = hashlib.sha256(body).hexdigest().encode() + b"\n" + body
        if len(data) <= MAX_ENTRY_BYTES:
            with contextlib.suppress(OSError, OutputError):
                write_files(
                    [(self.folder / name, data)], new_mode=0o600, own_cache=True, durable=False
                )

    def save(self) -> None:
        """Remove our own stale files (a build is done)."""
        if self.folder is not None and self.keeps:
            self._sweep(time.time())

    def _sweep(self, now: float) -> None:
        """Remove our own entries not used for ``STALE_DAYS``, and what killed builds
        staged beside any of our entries (``files.sweep_staged``); nothing else."""
        assert self.folder is not None
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        targets = set()
        for name in names:
            if name.startswith(_PREFIX) and name.endswith(".json"):
                targets.add(name)
                with contextlib.suppress(OSError):
                    if now - os.lstat(self.folder / name).st_mtime > STALE_DAYS * 86_400:
                        os.unlink(self.folder / name)
            elif name.startswith("." + _PREFIX) and ".json." in name:
                targets.add(name[1 : name.index(".json.") + len(".json")])
        sweep_staged(*(self.folder / target for target in sorted(targets)))


def _key(code: str, source: SourceFile, raw: bytes) -> str:
    """The name of a file's entry: the code, the file's name as shown, its content folder
    and its bytes."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (code, source.display_path, str(source.content_root)):
        digest.update(os.fsencode(part) + b"\0")
    digest.update(raw)
    return digest.hexdigest()


def _role_file_json(role_file: RoleFile) -> list[object]:
    questions = [
        [
            q.id,
            q.difficulty,
            q.question,
            q.answer,
            list(q.tags),
            q.line,
            [[i.src, i.line] for i in q.images],
            q.guid,
            list(q.key_points),
            q.hint,
            list(q.follow_ups),
            q.reverse,
        ]
        for q in role_file.questions
    ]
    return [role_file.role, role_file.deck, role_file.description, role_file.deck_line, questions]


def _role_file(raw: Any, display_path: str) -> RoleFile:
    """A role file from its entry (images not resolved yet); ``ValueError`` or
    ``TypeError`` when the entry does not hold one."""
    role, deck, description, deck_line, questions = raw
    made = []
    for q in questions:
        qid, difficulty, text, answer, tags, line, images, guid, points, hint, follow, rev = q
        if difficulty not in DIFFICULTIES:
            raise ValueError(difficulty)
        made.append(
            Question(
                _str(qid),
                difficulty,
                _str(text),
                _str(answer),
                tuple(map(_str, tags)),
                _int(line),
                tuple(Image(_str(src), _int(at)) for src, at in images),
                _str(guid),
                tuple(map(_str, points)),
                _str(hint),
                tuple(map(_str, follow)),
                rev is True,
            )
        )
    return RoleFile(
        display_path, _str(role), _str(deck), _str(description), tuple(made), _int(deck_line)
    )


def _made(raw: Any) -> Made:
    clozes, media, fingerprint, fields = raw
    return Made(
        tuple(map(_int, clozes)),
        tuple((_str(src), _str(name)) for src, name in media),
        _str(fingerprint),
        tuple(map(_str, fields)),
    )


def _warning(raw: Any) -> ContentWarning:
    path, line, message, code = raw
    return ContentWarning(_str(path), _int(line), _str(message), code=_str(code))


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(value)
    return value


def _own_folder(folder: Path, *, make: bool = True) -> Path | None:
    """``folder``, made if missing (with ``make``); ``None`` when the tool did not make
    it: missing, not a real folder (a link), another user's, open to others, or without
    our ``CACHEDIR.TAG``."""
    try:
        if make:
            folder.parent.mkdir(parents=True, exist_ok=True)
            if not os.path.lexists(folder):
                _make(folder)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o077:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return folder if _tagged(folder) else None


def _make(folder: Path) -> None:
    """Make ``folder`` (0700) with its tag already in it: a tagged temp folder beside it,
    renamed, so a folder of that name without the tag was never the tool's."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.{os.getpid()}.", dir=folder.parent))
    try:
        tag = os.open(tmp / _TAG_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
        try:
            os.write(tag, _TAG)
        finally:
            os.close(tag)
        os.rename(tmp, folder)
    finally:
        if tmp.exists():
            with contextlib.suppress(OSError):
                (tmp / _TAG_NAME).unlink(missing_ok=True)
                tmp.rmdir()


def _tagged(folder: Path) -> bool:
    """True when ``folder`` holds our ``CACHEDIR.TAG``: a regular file (not a link) with
    exactly the words the tool writes."""
    try:
        fd = os.open(folder / _TAG_NAME, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, len(_TAG) + 1) == _TAG
    except OSError:
        return False
    finally:
        os.close(fd)


def _decode(data: bytes, code: str) -> dict[str, Any] | None:
    """An entry, or ``None`` when it is not whole, not ours or not this code's."""
    digest, _, body = data.partition(b"\n")
    if hashlib.sha256(body).hexdigest().encode() != digest:
        return None
    try:
        entry = json.loads(body)
        if entry["format"] != FORMAT or entry["code"] != code:
            return None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    return entry if isinstance(entry, dict) else None
