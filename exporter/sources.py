"""Where the content is: files and folders given by the user -> the YAML files to read,
each read once and decoded as UTF-8, with a ``ContentError`` for anything unreadable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exporter.errors import ContentError

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SourceFile:
    """One content file: its resolved path, its name as the user sees it in messages, and
    the content folder it was found in (images it shows must stay inside that folder)."""

    path: Path
    display_path: str
    root: Path | None = None  # None: the file's own folder

    @property
    def content_root(self) -> Path:
        """The folder images must stay inside."""
        return self.root if self.root is not None else self.path.parent


@dataclass(frozen=True)
class Sources:
    """The content files of a build, sorted by resolved path, and what could not be found."""

    files: tuple[SourceFile, ...]
    errors: tuple[ContentError, ...]

    def contains(self, target: Path) -> bool:
        """True when ``target`` is one of the content files."""
        resolved = target.resolve()
        return any(f.path == resolved for f in self.files)


def discover(sources: Sequence[str]) -> Sources:
    """Expand files and folders (recursively) into YAML files sorted by resolved path."""
    found: dict[Path, tuple[str, Path]] = {}
    errors: list[ContentError] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            inside = [
                p for p in path.rglob("*") if p.suffix.lower() in YAML_SUFFIXES and p.is_file()
            ]
            if not inside:
                errors.append(ContentError(source, 0, 0, "no .yaml or .yml files in this folder"))
            root = path.resolve()
            for p in inside:
                found.setdefault(p.resolve(), (str(p), root))
        elif path.is_file():
            resolved = path.resolve()
            found.setdefault(resolved, (source, resolved.parent))
        elif path.exists():
            errors.append(ContentError(source, 0, 0, "not a regular file or folder"))
        else:
            errors.append(ContentError(source, 0, 0, "no such file or folder"))
    files = tuple(SourceFile(p, *found[p]) for p in sorted(found))
    return Sources(files, tuple(errors))


def size_of(path: Path) -> int:
    """The file's size in bytes (0 when it cannot be read: the load will say why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_text(source: SourceFile) -> tuple[str, ContentError | None]:
    """The file's text, or the error that stops it being read."""
    try:
        raw = source.path.read_bytes()
    except OSError as exc:
        return "", ContentError(source.display_path, 0, 0, f"cannot read file: {exc.strerror}")
    return decode(raw, source.display_path)


def decode(raw: bytes, display_path: str) -> tuple[str, ContentError | None]:
    """UTF-8 text (a BOM is fine), or the error naming the first bad byte's line and column."""
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        return "", ContentError(
            display_path, line, column, f"not valid UTF-8 (byte 0x{bad}); save the file as UTF-8"
        )
