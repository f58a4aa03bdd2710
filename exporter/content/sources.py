"""Where the content is: files and folders given by the user -> the YAML files to read,
each read once and decoded as UTF-8, with a ``ContentError`` for anything unreadable."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from exporter.content.yamlnodes import count_lines
from exporter.errors import ContentError
from exporter.files import (
    CONTENT_CAP,
    YAML_SUFFIXES,
    InputError,
    display,
    kind_of,
    read_regular,
)


class SourceFile(NamedTuple):
    """One content file: its resolved path, its name as the user sees it in messages, and
    the content folder it was found in (images it shows must stay inside that folder)."""

    path: Path
    display_path: str
    root: Path | None = None  # None: the file's own folder

    @property
    def content_root(self) -> Path:
        """The folder images must stay inside."""
        return self.root if self.root is not None else self.path.parent


class Sources(NamedTuple):
    """The content files of a build, sorted by resolved path, and what could not be found."""

    files: tuple[SourceFile, ...]
    errors: tuple[ContentError, ...]

    def contains(self, target: Path) -> bool:
        """True when ``target`` is one of the content files."""
        resolved = target.resolve()
        return any(f.path == resolved for f in self.files)


def discover(sources: Sequence[str]) -> Sources:
    """Expand files and folders (recursively) into YAML files sorted by resolved path.

    Nothing is skipped in silence: a ``*.yaml`` that is not a regular file, a link that leads
    nowhere, a link to a folder inside a content folder (not followed) and a folder that
    cannot be read are problems naming the path. A link to a YAML file is followed.
    """
    found: dict[Path, tuple[str, Path]] = {}
    errors: list[ContentError] = []
    folder_roots: list[Path] = []
    for source in sources:
        shown = display(source)
        path = Path(source)
        try:
            info = path.stat()
        except OSError as exc:
            errors.append(ContentError(shown, 0, 0, _missing(path, exc), code="source-missing"))
            continue
        if stat.S_ISDIR(info.st_mode):
            root = path.resolve()
            folder_roots.append(root)
            seen = _walk(path, root, found, errors)
            if not seen and not any(e.path.startswith(shown) for e in errors):
                errors.append(
                    ContentError(
                        shown,
                        0,
                        0,
                        "no .yaml or .yml files in this folder",
                        code="folder-without-yaml",
                    )
                )
        elif stat.S_ISREG(info.st_mode):
            resolved = path.resolve()
            found.setdefault(resolved, (shown, resolved.parent))
        else:
            errors.append(
                ContentError(
                    shown, 0, 0, f"is {kind_of(info.st_mode)}, not a file", code="source-not-a-file"
                )
            )
    # A file's content folder is the widest folder given that holds it, however it was named.
    folders = sorted(set(folder_roots), key=lambda r: len(r.parts))
    files = tuple(
        SourceFile(p, found[p][0], next((r for r in folders if p.is_relative_to(r)), p.parent))
        for p in sorted(found)
    )
    return Sources(files, tuple(errors))


def _missing(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long for this file system"
    if path.is_symlink():
        return "is a link that leads nowhere (its target is missing, or links loop)"
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    return f"cannot read ({exc.strerror})"


def _walk(
    folder: Path, root: Path, found: dict[Path, tuple[str, Path]], errors: list[ContentError]
) -> int:
    """Add the YAML files under ``folder`` to ``found``; return how many there are."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        message = f"cannot read this folder ({exc.strerror})"
        errors.append(ContentError(display(str(folder)), 0, 0, message, code="folder-unreadable"))
        return 0
    seen = 0
    for entry in entries:
        path = Path(entry.path)
        shown = display(entry.path)
        is_yaml = path.suffix.lower() in YAML_SUFFIXES
        try:
            linked = entry.is_symlink()
            info = path.stat()
        except OSError as exc:
            if is_yaml or linked:
                errors.append(ContentError(shown, 0, 0, _missing(path, exc), code="source-missing"))
            continue
        if stat.S_ISDIR(info.st_mode) and linked:
            errors.append(ContentError(shown, 0, 0, _LINKED_FOLDER, code="folder-linked"))
        elif stat.S_ISDIR(info.st_mode):
            seen += _walk(path, root, found, errors)
        elif is_yaml and stat.S_ISREG(info.st_mode):
            found.setdefault(path.resolve(), (shown, root))
            seen += 1
        elif is_yaml:
            errors.append(
                ContentError(
                    shown, 0, 0, f"is {kind_of(info.st_mode)}, not a file", code="source-not-a-file"
                )
            )
    return seen


_LINKED_FOLDER = (
    "is a link to a folder, which is not followed; name that folder as a source, or move "
    "its files here"
)


def size_of(path: Path) -> int:
    """The file's size in bytes (0 when it cannot be read: the load will say why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_bytes(source: SourceFile) -> tuple[bytes, ContentError | None]:
    """The file's bytes, or the error that stops it being read."""
    try:
        return read_regular(source.path, CONTENT_CAP), None
    except InputError as exc:
        return b"", ContentError(source.display_path, 0, 0, str(exc), code="file-unreadable")
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            raise  # the process's limit, not the file's problem: the command says so once
        return b"", ContentError(
            source.display_path, 0, 0, f"cannot read file: {exc.strerror}", code="file-unreadable"
        )


def decode(raw: bytes, display_path: str) -> tuple[str, ContentError | None]:
    """UTF-8 text (a BOM is fine), or the error naming the first bad byte's line and column
    (or saying the file is UTF-16, which editors on Windows still write)."""
    utf16 = _utf16(raw)
    if utf16:
        return "", ContentError(
            display_path, 1, 0, f"the file is {utf16}, not UTF-8; save it as UTF-8", code="not-utf8"
        )
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace")
        line = count_lines(before, len(before))
        column = len(before) - max(before.rfind("\n"), before.rfind("\r"))
        bad = raw[exc.start : exc.start + 1].hex()
        return "", ContentError(
            display_path,
            line,
            column,
            f"not valid UTF-8 (byte 0x{bad}); save the file as UTF-8",
            code="not-utf8",
        )


def _utf16(raw: bytes) -> str:
    """'UTF-16 (little-endian)' and the like when ``raw`` looks like UTF-16, else ''."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16" + (" (little-endian)" if raw[:2] == b"\xff\xfe" else " (big-endian)")
    head = raw[:200]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > even * 3:
            return "UTF-16 without a byte order mark (little-endian)"
        if even > odd * 3:
            return "UTF-16 without a byte order mark (big-endian)"
    return ""
