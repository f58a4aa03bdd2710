"""A local record of the last build, so that rebuilding unchanged content writes nothing.

A build is a pure function of the content files' bytes and places (each file's resolved
path, the name messages give it and the content folder its images must stay in: a moved
file's images resolve elsewhere), the images they show, the build options, this program and
its libraries, and the build history. The record (kept next to the package in a
``.interview-deck-cache/`` folder that git ignores by itself) holds a digest of all of
those inputs but the history, and digests of the package and history that build wrote.
When the inputs digest matches and both files on disk still hash to what was written, a
full build would write exactly those bytes again (the history is its own fixed point: no
note changed, so no stamp moves), and it can be skipped without even parsing the YAML.

The record is a cache, never a contract: it is machine-specific, not committed, and any
doubt (missing, unreadable, different) just means a full build.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import stat
import sys
import zlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

from exporter.content.media import MAX_IMAGE_BYTES
from exporter.content.sources import SourceFile
from exporter.errors import OutputError
from exporter.files import CONTENT_CAP, display, read_regular, write_files

CACHE_DIR = ".interview-deck-cache"
RECORD_FORMAT = 4  # 2: the media files a build read, 3: their paths as written and the
# warnings, 4: each content file's path, shown name and content folder in the inputs
# Code whose change can change a package: ours, and the libraries that shape the bytes.
_PACKAGES = ("exporter", "genanki", "chevron", "yaml", "pyromark", "pygments")
_CHUNK = 1 << 20
_RECORD_CAP = 64 << 20  # the record lists every image: small, even for a big bank
_IGNORE = b"# interview-deck's build cache: never commit it\n*\n"


class Record(NamedTuple):
    """What the last build wrote, and from what."""

    inputs: str
    package: str
    history: str
    notes: int
    content: str
    media: tuple[tuple[str, str, str], ...] = ()  # (path as written, file read, sha256)
    warnings: tuple[str, ...] = ()  # what the full build warned about, said again on a skip


class Inputs(NamedTuple):
    """The digest of one build's inputs (history aside), taken before it reads them."""

    output: Path
    history_path: Path
    digest: str
    stats: tuple[tuple[str, int, int], ...]

    @property
    def record_path(self) -> Path:
        """Where this output's record lives."""
        return record_path_for(self.output)

    def current_record(self) -> Record | None:
        """The last build's record if rebuilding would write the same bytes, else ``None``."""
        try:
            raw = json.loads(read_regular(self.record_path, _RECORD_CAP))
            if raw.pop("format") != RECORD_FORMAT:
                return None
            raw["media"] = tuple((str(w), str(p), str(h)) for w, p, h in raw.get("media", ()))
            raw["warnings"] = tuple(str(w) for w in raw.get("warnings", ()))
            record = Record(**raw)
            if (
                record.inputs == self.digest
                and _file_digest(self.output) == record.package
                and _file_digest(self.history_path) == record.history
                and all(_same_image(Path(w), Path(p), h) for w, p, h in record.media)
            ):
                return record
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass
        return None

    def remember(
        self,
        package: bytes | Path,
        history_data: bytes,
        notes: int,
        content: str,
        media: Sequence[tuple[str, str, str]] = (),
        warnings: Sequence[str] = (),
    ) -> None:
        """Record a build just written; skipped if a content file changed while it ran."""
        if _stats([Path(p) for p, _size, _mtime in self.stats]) != self.stats:
            return
        record = Record(
            inputs=self.digest,
            package=_digest(package),
            history=_digest(history_data),
            notes=notes,
            content=content,
            media=tuple(media),
            warnings=tuple(warnings),
        )
        data = json.dumps({"format": RECORD_FORMAT, **record._asdict()}, indent=1) + "\n"
        # (a record that cannot be written only costs the next build its shortcut)
        with contextlib.suppress(OutputError):
            if cache_folder(self.output) is not None:
                write_files([(self.record_path, data.encode("utf-8"))], own_cache=True)


def record_path_for(output: Path) -> Path:
    """Where the record of the build of ``output`` lives."""
    return output.parent / CACHE_DIR / (output.name + ".json")


def lock_path_for(output: Path) -> Path:
    """Where the build lock of ``output`` lives."""
    return output.parent / CACHE_DIR / (output.name + ".lock")


def cache_folder(output: Path) -> Path | None:
    """The folder of machine-local files beside ``output`` (made if needed, with a
    ``.gitignore`` telling git to ignore it), or ``None`` when it cannot be made (a
    read-only folder). ``OutputError`` when it is a link (``refuse_links``)."""
    folder = output.parent / CACHE_DIR
    refuse_links(output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    refuse_links(output)  # (a link put there while the folder was made)
    ignore = folder / ".gitignore"
    if not os.path.lexists(ignore):
        try:
            write_files([(ignore, _IGNORE)], own_cache=True)
        except OutputError:
            return None
    return folder


def refuse_links(output: Path) -> None:
    """``OutputError`` when the build cache beside ``output``, or a file a build writes in it
    (``.gitignore``, the lock, the record), is a symbolic link: git stores links, so a
    checkout can ship one, and nothing is ever written through a link the tool did not make."""
    folder = output.parent / CACHE_DIR
    for path, what in (
        (folder, "the build cache goes"),
        (folder / ".gitignore", "the build cache's .gitignore goes"),
        (lock_path_for(output), "the build lock goes"),
        (record_path_for(output), "the build record goes"),
    ):
        try:
            if not stat.S_ISLNK(os.lstat(path).st_mode):
                continue
            target = display(os.readlink(path))
        except OSError:
            continue  # not there (yet)
        raise OutputError(
            f"{display(str(path))}: is a symbolic link (to {target}) where {what}; a build "
            "never writes through a link it did not make: remove the link and build again",
            code="output-linked",
        )


def inputs_for(
    files: Sequence[SourceFile], output: Path, history_path: Path, options: Sequence[str]
) -> Inputs:
    """Digest the content ``files`` (in build order: where each is and what it holds),
    ``options`` and the code that builds."""
    stats = _stats([f.path for f in files])
    digest = hashlib.blake2b(digest_size=32)
    digest.update(json.dumps([RECORD_FORMAT, code_digest(), list(options)]).encode())
    for file in files:
        # Where the file is decides what its image paths name, and its shown name is in
        # every warning a skipped build says again.
        place = json.dumps([str(file.path), file.display_path, str(file.content_root)])
        data = read_regular(file.path, CONTENT_CAP)  # (over the cap: the load says so)
        for part in (place.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return Inputs(output, history_path, "blake2b:" + digest.hexdigest(), stats)


def _stats(files: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for path in files:
        st = path.stat()
        out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


@cache
def code_digest() -> str:
    """A digest of the code that builds (``_code_identity``), once per process."""
    return hashlib.blake2b(json.dumps(_code_identity()).encode(), digest_size=20).hexdigest()


def _code_identity() -> list[object]:
    """Python, SQLite and zlib versions, the distributions installed on the path (names and
    versions), where each library that shapes a build is loaded from, and the size and
    mtime of every file of ours and of a library found without installed metadata (a
    checkout, an editable install)."""
    import sqlite3  # only a build needs it, not validate

    installed = _distributions()  # (a Pygments plugin lexer is a distribution too)
    with_metadata = {name.rpartition("/")[0] for name in installed}
    parts: list[object] = [sys.version, sqlite3.sqlite_version, zlib.ZLIB_RUNTIME_VERSION]
    parts.append(["installed", installed])
    for name in _PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            parts.append([name, None])
            continue
        origin = Path(spec.origin)
        root = origin.parent if spec.submodule_search_locations else None
        # A library installed beside its metadata is known by its version, above: a stat of
        # each of its files (~470 a build, Pygments' 343 of them) cost ~7 ms a build.
        if name != "exporter" and str((root or origin).parent) in with_metadata:
            parts.append([name, str(origin)])
            continue
        files = [origin] if root is None else sorted(_walk(root))
        parts.append([name, [(str(p), *_size_mtime(p)) for p in files]])
    return parts


def _distributions() -> list[str]:
    """The ``*.dist-info`` and ``*.egg-info`` names in every folder of ``sys.path``."""
    names = []
    for folder in sys.path:
        with contextlib.suppress(OSError):
            names += [
                f"{folder}/{n}" for n in os.listdir(folder or ".") if n.endswith(("-info", ".pth"))
            ]
    return sorted(names)


def _walk(root: Path) -> list[Path]:
    out = []
    with os.scandir(root) as listing:  # closed before going deeper: one descriptor at a time
        entries = [(entry.path, entry.is_dir()) for entry in listing if entry.name != "__pycache__"]
    for path, is_dir in entries:
        if is_dir:
            out.extend(_walk(Path(path)))
        else:
            out.append(Path(path))
    return out


def _size_mtime(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _digest(data: bytes | Path) -> str:
    """The digest of ``data``, or of the bytes of the file ``data`` (read a chunk at a time)."""
    digest = hashlib.blake2b(digest_size=32)
    if isinstance(data, Path):
        with data.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    else:
        digest.update(data)
    return "blake2b:" + digest.hexdigest()


def _same_image(written: Path, path: Path, sha256: str) -> bool:
    """True when the image path still leads to the same file with the same bytes."""
    if written.resolve() != path:
        return False
    return hashlib.sha256(read_regular(path, MAX_IMAGE_BYTES)).hexdigest() == sha256


def _file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=32)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return "blake2b:" + digest.hexdigest()
