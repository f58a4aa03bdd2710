"""Images a question shows -> media files for the package, each checked and named by its
content. A path is resolved relative to the content file and must stay inside the content
folder the file was found in; remote images (``https://…``) are not media: they stay links.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote

from exporter.content.model import MediaFile
from exporter.errors import ExporterError
from exporter.files import display, read_regular

# Anki's own limit is 100 MiB a file; a phone downloads, decodes and scales every image of a
# card it shows, and a diagram worth studying is well under a megabyte.
MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WebP"}
IMAGE_TYPES[".svg"] = "SVG"
_REMOTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:|//")  # 'C:' is a drive, not a scheme
_STEM = re.compile(r"[^a-z0-9]+")


class MediaProblem(ExporterError):
    """An image path that cannot become a media file; the message says why."""

    code = "image-unreadable"


def is_remote(src: str) -> bool:
    """True for a web address (or any URL with a scheme): shown as a link, never embedded."""
    return bool(_REMOTE.match(src))


def resolve(src: str, content_file: Path, root: Path) -> MediaFile:
    """The media file for image path ``src`` written in ``content_file``; ``MediaProblem`` if
    it is missing, outside ``root``, of another type, too large or not what it claims."""
    written = unquote(src)
    if PurePosixPath(written).is_absolute() or PureWindowsPath(written).is_absolute():
        raise MediaProblem(
            f"image path '{written}' is absolute; write it relative to the content file",
            code="image-outside",
        )
    if "\0" in written:  # (from '%00': the system refuses such a name outright)
        raise MediaProblem(
            f"image '{src}' not found: no file name holds the NUL character (%00)",
            code="image-missing",
        )
    unresolved = content_file.parent / written
    try:
        path = unresolved.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long, ...
        raise MediaProblem(
            f"image '{written}' cannot be read ({exc})", code="image-unreadable"
        ) from None
    if not path.is_relative_to(root):
        raise MediaProblem(
            f"image '{written}' is outside the content folder (by '..', a link or an "
            "absolute path); keep images inside the content folder",
            code="image-outside",
        )
    if not path.exists():
        raise MediaProblem(
            f"image '{written}' not found; the path is relative to this content file",
            code="image-missing",
        )
    kind = IMAGE_TYPES.get(path.suffix.lower())
    if kind is None:
        allowed = ", ".join(sorted({k.lstrip(".") for k in IMAGE_TYPES} - {"jpeg"}))
        raise MediaProblem(
            f"image '{written}' has an unsupported type '{path.suffix or '(none)'}': use {allowed}",
            code="image-type-unsupported",
        )
    if not path.is_file():
        raise MediaProblem(f"image '{written}' is not a regular file", code="image-unreadable")
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        raise MediaProblem(
            f"image '{written}' is {size / 2**20:.1f} MiB; the limit is "
            f"{MAX_IMAGE_BYTES // 2**20} MiB an image (phones load every image of a card): "
            "scale it down or compress it",
            code="image-oversize",
        )
    try:
        data = read_regular(path, MAX_IMAGE_BYTES)
    except OSError as exc:
        raise MediaProblem(
            f"image '{written}' cannot be read ({exc})", code="image-unreadable"
        ) from None
    if not _looks_like(kind, data):
        raise MediaProblem(
            f"image '{written}' is not {_a(kind)} {kind} file: {_what_it_is(data, path.name)}",
            code="image-not-what-it-claims",
        )
    digest = hashlib.sha256(data).hexdigest()
    return MediaFile(media_name(path.name, digest), path, digest, len(data), unresolved)


def media_name(filename: str, sha256: str) -> str:
    """``drift-1a2b3c4d5e6f7a8b.png``: a readable stem and the content hash; safe in Anki's
    flat media folder (ASCII, no separators, far below its 120-byte cut)."""
    path = PurePosixPath(filename)
    stem = _STEM.sub("-", path.stem.lower()).strip("-")[:40].strip("-") or "image"
    return f"{stem}-{sha256[:16]}{path.suffix.lower()}"


def _a(word: str) -> str:
    return "an" if word[0] in "AEFHILMNORSX" else "a"


# Signatures of what an image file turns out to be: (start of the bytes, what they are).
_OTHER_TYPES = (
    (b"BM", "BMP image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\x00\x00\x01\x00", "Windows icon"),
    (b"%PDF", "PDF document"),
    (b"PK\x03\x04", "zip archive"),
)


def _what_it_is(data: bytes, name: str) -> str:
    """What the bytes of an image file really are, and the fix: a rename for a type cards
    show, else what to do."""
    stem = PurePosixPath(name).stem
    for suffix, kind in (
        (".png", "PNG"),
        (".jpg", "JPEG"),
        (".gif", "GIF"),
        (".webp", "WebP"),
        (".svg", "SVG"),
    ):
        if _looks_like(kind, data):
            return f"its bytes are {_a(kind)} {kind} image: rename it to {stem}{suffix}"
    if data[4:12] in (b"ftypavif", b"ftypheic", b"ftypheix", b"ftypmif1"):
        return (
            "its bytes are an AVIF/HEIC image, which cards cannot show: convert it to PNG or JPEG"
        )
    for signature, kind in _OTHER_TYPES:
        if data.startswith(signature):
            fix = ", which cards cannot show: convert it to PNG" if "image" in kind else ""
            return f"its bytes are {_a(kind)} {kind}{fix or ', not an image'}"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "its bytes are an HTML page, not an image (saved from a browser?)"
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        return "its bytes are text, not an image"
    return "its bytes are of no type cards can show"


def _looks_like(kind: str, data: bytes) -> bool:
    if kind == "PNG":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "JPEG":
        return data.startswith(b"\xff\xd8\xff")
    if kind == "GIF":
        return data[:6] in (b"GIF87a", b"GIF89a")
    if kind == "WebP":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    try:  # SVG: UTF-8 XML text with an <svg> element
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return "<svg" in text[:4096]


def read_verified(media: MediaFile) -> bytes:
    """The media file's bytes, refused if they changed since they were checked."""
    shown = display(str(media.path))
    try:
        data = read_regular(media.path, MAX_IMAGE_BYTES)
    except OSError as exc:
        raise MediaProblem(
            f"{shown}: cannot be read any more ({exc}); build again", code="image-changed"
        ) from None
    if hashlib.sha256(data).hexdigest() != media.sha256:
        raise MediaProblem(
            f"{shown}: changed while the build ran; build again", code="image-changed"
        )
    return data
