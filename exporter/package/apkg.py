"""A finished collection database and its media -> a deterministic ``.apkg`` zip.

The SQLite database is filled by ``exporter.package.collection``; the zip is written here
with stdlib ``zipfile`` (fixed entry order, date, mode and compression level), because
genanki's own ``write_to_file`` stamps entries with a temp file's mtime and leaves that
temp file behind.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from exporter.content.media import read_verified
from exporter.content.model import MediaFile


def write_package(out: BinaryIO, database: Path, media: Sequence[MediaFile]) -> None:
    """The package's zip, to ``out`` (seekable): the finished collection ``database``, each
    media file by number (each read when its turn comes) and the media index."""

    def members() -> Iterator[tuple[str, BinaryIO]]:
        with database.open("rb") as db:
            yield "collection.anki2", db
        for number, file in enumerate(media):
            yield str(number), io.BytesIO(read_verified(file))
        yield "media", io.BytesIO(media_index(media))

    write_zip(out, members())


LEVEL = 1  # fastest; about 4x smaller than genanki's stored zip (docs/BENCHMARKS.md)
_ZIP64_AT = 0x7FFF_0000  # stdlib zipfile's own bound for an entry without ZIP64 sizes


def write_zip(out: BinaryIO, members: Iterator[tuple[str, BinaryIO]]) -> None:
    """A zip of ``members`` (name, readable stream), in order, that depends on their bytes
    alone: a fixed date, mode 0644, DEFLATE at ``LEVEL``, no data descriptors (``out`` must
    be seekable); ZIP64 records only where sizes or counts need them. Public ``zipfile``
    only: an entry opened by name takes the archive's method and level and the date
    1980-01-01; its mode and system, read only from the central directory, are set on its
    ``ZipInfo`` before the archive closes."""
    import zipfile  # only when writing: ``validate`` never needs it

    if not out.seekable():
        raise ValueError("a package is written to a seekable file")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=LEVEL) as archive:
        for name, data in members:
            size = data.seek(0, io.SEEK_END)
            data.seek(0)
            with archive.open(name, "w", force_zip64=size > _ZIP64_AT) as entry:
                shutil.copyfileobj(data, entry, 1 << 20)
            info = archive.infolist()[-1]
            info.create_system = 3  # Unix, so the mode below is read
            info.external_attr = 0o100644 << 16


def media_index(media: Sequence[MediaFile]) -> bytes:
    """The package's ``media`` entry: zip entry number -> file name, as Anki reads it."""
    return json.dumps({str(i): f.name for i, f in enumerate(media)}).encode("utf-8")
