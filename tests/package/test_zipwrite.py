"""Our zip writer: archives any zip reader reads, bytes that do not depend on the number of
cores that compressed them, and a clear refusal past what a zip without ZIP64 holds."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

import exporter.package.zipwrite as zipwrite
from exporter.errors import OutputError
from exporter.package.zipwrite import PIECE, write_zip


def archive(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    write_zip(out, [(name, io.BytesIO(data)) for name, data in members.items()])
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, PIECE - 1, PIECE, PIECE + 1, 5 * PIECE + 7])
def test_any_size_reads_back_the_same_on_any_number_of_cores(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(size)
    data = (rng.randbytes(4096) + b"<p>text &amp; more</p>\n" * 200) * (size // 8000 + 1)
    members = {"collection.anki2": data[:size], "0": b"\x89PNG", "media": b'{"0": "a.png"}'}
    made = set()
    for cores in (1, 2, 3, 16):
        monkeypatch.setattr(zipwrite, "usable_cores", lambda cores=cores: cores)
        made.add(archive(members))
    assert len(made) == 1
    with zipfile.ZipFile(io.BytesIO(made.pop())) as z:
        assert z.testzip() is None
        assert [i.filename for i in z.infolist()] == list(members)
        assert {n: z.read(n) for n in members} == members
        for info in z.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_past_four_gib_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipwrite, "_LIMIT", 1000)
    with pytest.raises(OutputError, match="4 GiB") as raised:
        archive({"collection.anki2": random.Random(0).randbytes(5000)})
    assert raised.value.code == "output-too-large"


def test_more_files_than_a_zip_holds_are_refused() -> None:
    with pytest.raises(OutputError, match="65,535") as raised:
        archive({str(i): b"x" for i in range(0x10000)})
    assert raised.value.code == "output-too-large"
