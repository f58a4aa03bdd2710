"""The package's zip: any zip reader reads it back, its bytes depend on its members alone
(fixed order, date, mode, compression), and big counts get ZIP64 records, not a refusal."""

from __future__ import annotations

import io
import random
import zipfile

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


def test_more_files_than_a_plain_zip_holds_get_zip64_records() -> None:
    """Past 65,535 entries the archive is still whole: ZIP64 end records, all entries read."""
    members = {str(i): b"x" for i in range(0x10000 + 5)}
    made = archive(members)
    with zipfile.ZipFile(io.BytesIO(made)) as z:
        assert len(z.infolist()) == len(members)
        assert z.read("65540") == b"x"
