from __future__ import annotations

import asyncio
import base64
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import nanoreverse as nr
from nanoreverse._body import PIECE, RequestBody
from nanoreverse.testing import EmulatorProcess

from .helpers import CLIPS, make_mp4


class Collector:
    """Stands in for aiohttp's stream writer and keeps every write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    async def write(self, data: Any) -> None:
        self.writes.append(bytes(data))


async def written(source: nr.Source, locale: str = "en") -> tuple[RequestBody, Collector]:
    prepared = await source.prepare()
    prepared.fields["locale"] = locale
    body = RequestBody(prepared)
    sink = Collector()
    await body.write(sink)  # type: ignore[arg-type]
    return body, sink


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.name)
async def test_body_is_the_json_the_api_expects(clip: Path) -> None:
    body, sink = await written(nr.VideoFile(clip))
    raw = b"".join(sink.writes)
    assert len(raw) == body.size  # the Content-Length is exact
    payload = json.loads(raw)
    assert payload["videoSource"] == "file" and payload["locale"] == "en"
    assert payload["videoFileName"] == clip.name
    assert base64.b64decode(payload["videoFile"], validate=True) == clip.read_bytes()
    assert body.sent_at is not None


async def test_pieces_join_into_one_base64_string(tmp_path: Path) -> None:
    path = make_mp4(tmp_path / "big.mp4", PIECE * 3 + 5)
    _, sink = await written(nr.VideoFile(path))
    b64_writes = sink.writes[1:-1]
    assert len(b64_writes) == 4
    assert all(len(w) == PIECE // 3 * 4 and b"=" not in w for w in b64_writes[:-1])
    assert b64_writes[-1].endswith(b"=")  # padding only at the very end


@pytest.mark.parametrize(
    "name",
    [
        'quote".mp4',
        "back\\slash.mp4",
        "tab\tnew\nline.mp4",
        "日本語の動画.mp4",
        "emoji 🎬.mp4",
        "ctrl\x01\x1f.mp4",
        "\udcff-undecodable.mp4",
    ],
)
async def test_file_names_are_json_escaped(tmp_path: Path, name: str) -> None:
    data = CLIPS[0].read_bytes()
    body, sink = await written(nr.VideoBytes(data, filename=name))
    raw = b"".join(sink.writes)
    assert raw.isascii() and len(raw) == body.size
    payload = json.loads(raw)
    assert payload["videoFileName"] == name.encode("utf-8", "replace").decode("utf-8")


async def test_link_body_is_small_json() -> None:
    body, sink = await written(nr.VideoURL('https://example.com/a"b.mp4'), locale="zh-TW")
    raw = b"".join(sink.writes)
    assert json.loads(raw) == {
        "videoSource": "url",
        "videoUrl": 'https://example.com/a"b.mp4',
        "locale": "zh-TW",
    }
    assert len(raw) == body.size


async def test_a_file_that_shrinks_mid_upload_is_an_error(tmp_path: Path) -> None:
    path = make_mp4(tmp_path / "shrinks.mp4", PIECE * 2)
    prepared = await nr.VideoFile(path).prepare()
    path.write_bytes(path.read_bytes()[: PIECE // 2])
    with pytest.raises(nr.InvalidInputError, match="shrank"):
        await RequestBody(prepared).write(Collector())  # type: ignore[arg-type]


async def test_four_29_mib_uploads_in_flight_stay_under_24_mib(tmp_path: Path) -> None:
    """Memory per upload is bounded by the piece size, not by the file."""
    path = make_mp4(tmp_path / "big.mp4", 29 * 1024 * 1024)
    with EmulatorProcess("--rate-limit", "none") as emu:
        async with nr.AsyncClient(emu.api_key, base_url=emu.base_url, rate_limit=None) as client:
            await client.analyze(nr.YouTube("https://youtu.be/W-15-UmGP5s")).text()  # warm up
            tracemalloc.start()
            try:
                texts = await asyncio.gather(*(client.analyze(path).text() for _ in range(4)))
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        stats = emu.stats()
    assert all("| 1 |" in text for text in texts)
    assert stats["max_in_flight"] == 4  # the four really were in flight together
    assert peak < 24 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
