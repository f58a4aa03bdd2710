"""Fields a build can take from the last one: each code-showing note's rendered Question and
Answer, by the note's fingerprint, so that editing one answer highlights one note. Only
notes with a fenced block are kept: Pygments costs ~1.3 ms a block, while prose renders in
~20 µs a field, less than keeping it costs (docs/BENCHMARKS.md, "Field cache").

The fingerprint covers everything a note is rendered from, the rendering code included
(``exporter.render.notes``), so a field is reused only for a note made from exactly the
same input; the entry also names the code that wrote it (``record.code_digest``). One entry
per output path, in the tool's own marked folder of the user's cache
(``$INTERVIEW_DECK_CACHE``, else ``$XDG_CACHE_HOME/interview-deck``, else
``~/.cache/interview-deck``; the folder is ``fields`` inside it, mode 0700, with a
``CACHEDIR.TAG``): nothing else under that root is read, changed or removed. Not beside
the package: a checkout is not trusted to hold HTML that goes into cards as it is.

An entry is capped in size and carries a SHA-256 of its own content: a missing, damaged,
oversized or hand-edited entry, a folder another user owns or others may write, a link
where the folder should be — any doubt is a miss, and the build renders every note, so
``build`` writes the same bytes as ``build --no-cache``. A cache that cannot be written
only costs the next build its shortcut.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from exporter.errors import OutputError
from exporter.files import read_regular, sweep_staged, write_files
from exporter.render.notes import NoteSpec

FORMAT = 1
FOLDER = "fields"
# ~2.5 KiB of HTML a note: some 25,000 notes with code. A bigger entry is not kept: holding
# every field of 100k such notes would double the build's memory (docs/BENCHMARKS.md).
MAX_ENTRY_BYTES = 64 << 20
STALE_DAYS = 30  # an entry not written for this long is removed (only ours, only there)
_TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# interview-deck's field cache\n"
_PREFIX = "fields-"


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


class FieldCache:
    """The fields of one output's last build, read before rendering and written after."""

    def __init__(self, folder: Path | None, name: str, code: str) -> None:
        self.folder = folder  # None: the folder is not ours to use
        self.name = name
        self.code = code
        self.fields: dict[str, tuple[str, str]] = {}
        self._new: dict[str, tuple[str, str]] | None = {}  # None: over the cap, not kept
        self._size = 0

    @classmethod
    def open(cls, root: Path, output: Path, code: str) -> FieldCache:
        """The cache of the package at ``output`` (by absolute path), its entry read."""
        digest = hashlib.sha256(os.fsencode(output.absolute())).hexdigest()[:32]
        cache = cls(_own_folder(root / FOLDER), f"{_PREFIX}{digest}.json", code)
        cache.fields = cache._read()
        return cache

    def rendered(self, note: NoteSpec, fields: tuple[str, ...]) -> None:
        """Keep a note's Question and Answer under its fingerprint, if it shows code (until
        the entry would pass its cap: then nothing is kept, and the old entry is left to age
        out). Prose is rendered again each time: faster than keeping it."""
        if self._new is None or not note.has_code:
            return
        self._size += len(fields[0]) + len(fields[1]) + 100
        if self._size > MAX_ENTRY_BYTES:
            self._new = None
            return
        self._new[note.fingerprint] = (fields[0], fields[1])

    def save(self) -> None:
        """Write this build's fields as the entry (and remove our own stale files)."""
        if self.folder is None or self._new is None:
            return
        body = json.dumps(
            {"format": FORMAT, "code": self.code, "fields": self._new},
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")
        data = hashlib.sha256(body).hexdigest().encode() + b"\n" + body
        if len(data) <= MAX_ENTRY_BYTES:
            with contextlib.suppress(OSError, OutputError):
                write_files([(self.folder / self.name, data)], new_mode=0o600)
        self._sweep(time.time())

    def _read(self) -> dict[str, tuple[str, str]]:
        if self.folder is None:
            return {}
        try:
            data = read_regular(self.folder / self.name, MAX_ENTRY_BYTES)
        except OSError:
            return {}
        return _decode(data, self.code)

    def _sweep(self, now: float) -> None:
        """Remove our own entries not written for ``STALE_DAYS``, and what killed builds
        staged beside any of our entries (``files.sweep_staged``); nothing else."""
        assert self.folder is not None
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        targets = {self.name}
        for name in names:
            if name.startswith(_PREFIX) and name.endswith(".json"):
                targets.add(name)
                with contextlib.suppress(OSError):
                    if now - os.lstat(self.folder / name).st_mtime > STALE_DAYS * 86_400:
                        os.unlink(self.folder / name)
            elif name.startswith("." + _PREFIX) and ".json." in name:
                targets.add(name[1 : name.index(".json.") + len(".json")])
        sweep_staged(*(self.folder / target for target in sorted(targets)))


def _own_folder(folder: Path) -> Path | None:
    """``folder``, made if missing (0700, tagged); ``None`` when it is not ours to use: not
    a real folder, another user's, open to others, or without our tag (another program's
    ``fields``; an empty one, left by a build killed before it tagged it, is tagged)."""
    tag = folder / "CACHEDIR.TAG"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o077:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    try:
        if read_regular(tag, len(_TAG)) == _TAG:
            return folder
    except OSError:
        pass
    try:
        if os.listdir(folder):
            return None  # someone else's folder, or a tag not ours: not ours to use
        write_files([(tag, _TAG)])
    except (OSError, OutputError):
        return None
    return folder


def _decode(data: bytes, code: str) -> dict[str, tuple[str, str]]:
    """An entry's fields, or nothing when it is not whole, not ours or not this code's."""
    digest, _, body = data.partition(b"\n")
    if hashlib.sha256(body).hexdigest().encode() != digest:
        return {}
    try:
        entry = json.loads(body)
        if entry["format"] != FORMAT or entry["code"] != code:
            return {}
        return {
            str(fingerprint): (str(q), str(a))
            for fingerprint, (q, a) in entry["fields"].items()
            if isinstance(q, str) and isinstance(a, str)
        }
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return {}
