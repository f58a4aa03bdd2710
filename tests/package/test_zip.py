"""The package's zip: any zip reader reads it back, its bytes depend on its members alone
(fixed order, date, mode, compression), and big counts get ZIP64 records, not a refusal."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from pathlib import Path

import pytest

from exporter.package.apkg import write_zip


def archive(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    write_zip(out, iter([(name, io.BytesIO(data)) for name, data in members.items()]))
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, 4095, 1 << 20, 5 * (1 << 20) + 7])
def test_any_size_reads_back_the_same_every_time(size: int) -> None:
    """Members of any size read back exactly; the same members give the same bytes."""
    rng = random.Random(size)
    data = (rng.randbytes(4096) + b"<p>text &amp; more</p>\n" * 200) * (size // 8000 + 1)
    members = {"collection.anki2": data[:size], "0": b"\x89PNG", "media": b'{"0": "a.png"}'}
    made = archive(members)
    assert archive(members) == made
    with zipfile.ZipFile(io.BytesIO(made)) as z:
        assert z.testzip() is None
        assert [i.filename for i in z.infolist()] == list(members)
        assert {n: z.read(n) for n in members} == members
        for info in z.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert not info.flag_bits & 0x08  # no data descriptor
            assert info.extra == b""


@pytest.mark.slow  # 65,540 entries: the full tier
def test_more_files_than_a_plain_zip_holds_get_zip64_records() -> None:
    """Past 65,535 entries the archive is still whole: ZIP64 end records, all entries read."""
    members = {str(i): b"x" for i in range(0x10000 + 5)}
    made = archive(members)
    with zipfile.ZipFile(io.BytesIO(made)) as z:
        assert len(z.infolist()) == len(members)
        assert z.read("65540") == b"x"


def test_entries_are_compressed_at_the_stated_level() -> None:
    """Each entry's data is raw DEFLATE at ``LEVEL``, exactly: the level is the package's
    bytes, and a level left at zipfile's default (6) costs about 3.5x the time."""
    import zlib

    from exporter.package.apkg import LEVEL

    rng = random.Random(7)
    text = b"".join(
        b"<p>%d &amp; %x</p>\n" % (rng.randrange(10**6), rng.getrandbits(40)) for _ in range(20_000)
    )
    made = archive({"collection.anki2": text})
    with zipfile.ZipFile(io.BytesIO(made)) as z:
        info = z.infolist()[0]
    name_len, extra_len = struct.unpack(
        "<HH", made[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    stored = made[start : start + info.compress_size]
    deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    assert stored == deflate.compress(text) + deflate.flush()
    assert LEVEL == 1


def golden_members() -> dict[str, bytes]:
    rng = random.Random(32)
    text = b"".join(
        b"<p>%d &amp; %x</p>\n" % (rng.randrange(10**6), rng.getrandbits(40)) for _ in range(30_000)
    )
    return {
        "collection.anki2": text,
        "0": rng.randbytes(5000),
        "1": b"",
        "media": b'{"0": "a.png", "1": "\xc3\xa9.svg"}',
    }


# The archive of ``golden_members`` as 0.6 wrote it (a ZipInfo per entry, its level set
# through the private ``_compresslevel``), the same on Python 3.11, 3.12 and 3.13.
GOLDEN = "97f80c9f1c6f229469634e94e44734b3a1e5c8515a36046f1a8209f1d8a78dac"


def test_the_bytes_are_those_of_the_writer_before(tmp_path: Path) -> None:
    """Public zipfile only, the same bytes as the 0.6 writer, into memory or straight into
    a file."""
    import hashlib

    members = golden_members()
    assert hashlib.sha256(archive(members)).hexdigest() == GOLDEN
    path = tmp_path / "a.apkg"
    with path.open("w+b") as out:
        write_zip(out, iter([(name, io.BytesIO(data)) for name, data in members.items()]))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == GOLDEN


def test_an_output_that_cannot_seek_is_refused() -> None:
    """Without seeking, zipfile would add data descriptors (other bytes): refused."""

    class Pipe(io.BytesIO):
        def seekable(self) -> bool:
            return False

    with pytest.raises(ValueError, match="seekable"):
        write_zip(Pipe(), iter([("media", io.BytesIO(b"{}"))]))
