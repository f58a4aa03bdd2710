"""A deterministic zip archive, with its biggest cost spread over every core.

Each entry's DEFLATE stream is made of independent 1 MiB pieces: each piece is compressed
on its own (level 1) and ends on a byte boundary, so pieces can be compressed at once on
all cores (zlib lets go of the GIL while it works) and joined into one valid stream. The
bytes depend on the data alone, never on how many cores did the work. Entries carry a
fixed date (1980-01-01), Unix mode 0644, no extra fields and no data descriptors; an
archive of 4 GiB or more is refused rather than written as ZIP64.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from exporter.errors import OutputError
from exporter.workers import usable_cores

PIECE = 1 << 20  # bytes of input per independent piece of a DEFLATE stream
LEVEL = 1  # fastest; about 4x smaller than genanki's stored zip (docs/BENCHMARKS.md)
_LIMIT = 0xFFFF_FFFF  # sizes and offsets must fit 32 bits (no ZIP64)
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0
_MODE = 0o100644 << 16  # a regular file, rw-r--r--
_MADE_BY = (3 << 8) | 20  # Unix, zip 2.0
_NEEDED = 20
_DEFLATED = 8


@dataclass(frozen=True)
class _Written:
    name: bytes
    offset: int
    crc: int
    compressed: int
    size: int


def write_zip(out: BinaryIO, members: Iterable[tuple[str, BinaryIO]]) -> None:
    """Write a zip of ``members`` (name, readable binary stream), in the order given, to
    ``out`` (which must be seekable: each local header is filled in after its data)."""
    written = [_member(out, name, data) for name, data in members]
    start = out.tell()
    for w in written:
        out.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                _MADE_BY,
                _NEEDED,
                0,
                _DEFLATED,
                _DOS_TIME,
                _DOS_DATE,
                w.crc,
                w.compressed,
                w.size,
                len(w.name),
                0,
                0,
                0,
                0,
                _MODE,
                w.offset,
            )
            + w.name
        )
    end = out.tell()
    _fits(end, 0)
    if len(written) > 0xFFFF:
        raise OutputError(
            f"the package would hold {len(written):,} files, more than a zip without ZIP64 "
            "holds (65,535); show fewer images, or build in slices (--role, --difficulty)",
            code="output-too-large",
        )
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(written), len(written), end - start, start, 0
        )
    )


def _member(out: BinaryIO, name: str, data: BinaryIO) -> _Written:
    encoded = name.encode("ascii")  # our names: collection.anki2, media, 0, 1, …
    offset = out.tell()
    out.write(_local_header(encoded, 0, 0, 0))
    crc = size = compressed = 0
    for piece, raw_size, piece_crc_input in _deflated(data):
        out.write(piece)
        compressed += len(piece)
        size += raw_size
        crc = zlib.crc32(piece_crc_input, crc)
    _fits(offset + compressed, size)
    end = out.tell()
    out.seek(offset)
    out.write(_local_header(encoded, crc, compressed, size))
    out.seek(end)
    return _Written(encoded, offset, crc, compressed, size)


def _local_header(name: bytes, crc: int, compressed: int, size: int) -> bytes:
    return (
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            _NEEDED,
            0,
            _DEFLATED,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            compressed,
            size,
            len(name),
            0,
        )
        + name
    )


def _deflated(data: BinaryIO) -> Iterator[tuple[bytes, int, bytes]]:
    """(compressed piece, input size, input) for each piece of ``data``, in order; the
    last piece ends the stream. Pieces are compressed a batch at a time on every core."""
    pending = data.read(PIECE)
    # One piece (a small bank) needs no threads, nor the ~10 ms of importing them.
    cores = min(usable_cores(), 16) if len(pending) == PIECE else 1
    with _executor(cores) as pool:
        while True:
            batch = [pending]
            while len(batch) < 2 * cores and len(batch[-1]) == PIECE:
                batch.append(data.read(PIECE))
            pending = data.read(PIECE) if len(batch[-1]) == PIECE else b""
            last = not pending
            finals = [False] * (len(batch) - 1) + [last]
            yield from zip(pool.map(_compress, batch, finals), map(len, batch), batch, strict=True)
            if last:
                return


def _compress(piece: bytes, final: bool) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(piece) + compressor.flush(
        zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH
    )


class _Serial:
    """A stand-in for a thread pool when there is one core."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, func: object, *iterables: Iterable[object]) -> Iterator[bytes]:
        return map(func, *iterables)  # type: ignore[call-overload, no-any-return]


def _executor(cores: int) -> _Serial:
    if cores == 1:
        return _Serial()
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(cores)  # type: ignore[return-value]


def _fits(end: int, size: int) -> None:
    if end > _LIMIT or size > _LIMIT:
        raise OutputError(
            "the package would be 4 GiB or more, more than a zip without ZIP64 holds and "
            "more than Anki imports comfortably; build it in slices (--role, --difficulty)",
            code="output-too-large",
        )
