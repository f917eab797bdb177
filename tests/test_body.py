from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
import os
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

import nanoreverse as nr
from nanoreverse._sources import fileio as _fileio
from nanoreverse._transport import body as _body
from nanoreverse._transport.body import PIECE, RequestBody
from nanoreverse.testing import Emulator, EmulatorProcess

from .helpers import CLIPS, YT, make_mp4, mp4_head


class Collector:
    """Stands in for aiohttp's stream writer and keeps every write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    async def write(self, data: Any) -> None:
        self.writes.append(bytes(data))


async def written(source: nr.Source, locale: str = "en") -> tuple[RequestBody, Collector]:
    prepared = await source.prepare()
    body = RequestBody(prepared, locale=locale)
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
        await RequestBody(prepared, locale="en").write(Collector())  # type: ignore[arg-type]


async def test_four_29_mib_uploads_in_flight_stay_under_24_mib(tmp_path: Path) -> None:
    """Memory per upload is bounded by the piece size, not by the file."""
    path = make_mp4(tmp_path / "big.mp4", 29 * 1024 * 1024)
    with EmulatorProcess("--rate-limit", "none") as emu:
        async with nr.AsyncClient(emu.api_key, base_url=emu.base_url, rate_limit=None) as client:
            await client.analyze(nr.YouTube(YT)).text()  # warm up
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


# -- the fast path: pybase64, one reused buffer, reads without thread hops -------------------


async def _body_bytes(source: nr.Source) -> bytes:
    _, sink = await written(source)
    return b"".join(sink.writes)


@pytest.mark.parametrize("size", [1, 2, 3, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 2])
async def test_pybase64_and_the_stdlib_write_the_same_bytes(
    tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _body._fast_b64encode is not None, "pybase64 should be installed with nanoreverse"
    data = mp4_head() + os.urandom(max(size - len(mp4_head()), 0))
    path = tmp_path / "v.mp4"
    path.write_bytes(data[: max(size, len(mp4_head()))])
    sources = nr.VideoFile(path), nr.VideoBytes(path.read_bytes())
    fast = [await _body_bytes(source) for source in sources]
    monkeypatch.setattr(_body, "_fast_b64encode", None)
    slow = [await _body_bytes(source) for source in sources]
    assert fast == slow
    assert base64.b64decode(json.loads(fast[0])["videoFile"], validate=True) == path.read_bytes()


def reads_by_thread(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Watch every ``preadv`` of the reader: True where it ran on the event loop's thread."""
    on_loop: list[bool] = []
    real = os.preadv
    loop_thread = threading.get_ident()

    def watched(*args: Any) -> int:
        on_loop.append(threading.get_ident() == loop_thread)
        return real(*args)

    monkeypatch.setattr(os, "preadv", watched)
    return on_loop


async def test_reads_through_aiofiles_threads_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_mp4(tmp_path / "v.mp4", 2 * PIECE + 7)
    cached = await _body_bytes(nr.VideoFile(path))
    hops: list[object] = []
    real = _fileio._read_in_thread

    async def counting(*args: Any) -> int:
        hops.append(args)
        return await real(*args)

    monkeypatch.setattr(_fileio, "_read_in_thread", counting)
    monkeypatch.setattr(_fileio, "_NOWAIT", None)  # as on a platform without RWF_NOWAIT
    on_loop = reads_by_thread(monkeypatch)
    assert await _body_bytes(nr.VideoFile(path)) == cached
    assert len(hops) >= 3, "without RWF_NOWAIT every piece is read through aiofiles"
    assert on_loop and not any(on_loop), "no read blocks the event loop"


@pytest.mark.skipif(_fileio._NOWAIT is None, reason="the fast path is off (--portable-reads)")
async def test_a_cached_file_is_checked_and_read_without_a_thread_hop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_mp4(tmp_path / "v.mp4", 2 * PIECE)
    path.read_bytes()  # now in the page cache

    async def no_threads(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a cached read went to a thread")

    monkeypatch.setattr(anyio.to_thread, "run_sync", no_threads)
    monkeypatch.setattr(_fileio, "_read_in_thread", no_threads)
    on_loop = reads_by_thread(monkeypatch)
    await _body_bytes(nr.VideoFile(path))
    assert on_loop and all(on_loop)


async def test_memory_is_one_buffer_per_upload_not_one_per_piece(tmp_path: Path) -> None:
    path = make_mp4(tmp_path / "v.mp4", 16 * PIECE)
    prepared = await nr.VideoFile(path).prepare()

    class Sink:
        async def write(self, data: Any) -> None:
            pass  # the connection takes each piece at once

    tracemalloc.start()
    try:
        await RequestBody(prepared, locale="en").write(Sink())  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One read buffer and one encoded piece at a time: under 0.5 MiB, not the 3 MiB of the file.
    assert peak < 0.75 * 2**20, f"peak {peak / 2**20:.2f} MiB"


# -- a file that changes under the upload -------------------------------------------------------


async def _upload_after(
    emulator: Emulator, path: Path, change: Callable[[], object]
) -> nr.NanoReverseError:
    async with nr.AsyncClient(
        emulator.api_key, base_url=emulator.base_url, rate_limit=None
    ) as client:
        stream = client.analyze(path)
        real_prepare = nr.VideoFile.prepare

        async def prepare_then_change(self: nr.VideoFile) -> Any:
            prepared = await real_prepare(self)
            change()
            return prepared

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(nr.VideoFile, "prepare", prepare_then_change)
            with pytest.raises(nr.NanoReverseError) as caught:
                await stream.text()
    return caught.value


async def test_a_file_that_grows_is_stopped_before_its_last_byte(
    tmp_path: Path, emulator: Emulator
) -> None:
    path = make_mp4(tmp_path / "grows.mp4", 3 * PIECE)

    def grow() -> None:
        with path.open("ab") as handle:
            handle.write(b"more frames" * 1000)

    error = await _upload_after(emulator, path, grow)
    assert isinstance(error, nr.InvalidInputError) and "changed" in str(error)
    assert "while it was being uploaded" in str(error) and not error.preflight
    # The server never received a whole request, so it answered nothing and charged nothing.
    assert emulator.credits_used() == 0
    for record in emulator.requests:
        assert record.status is None and record.body_bytes < (record.content_length or 0)


async def test_a_file_replaced_by_one_of_the_same_size_is_not_sent(
    tmp_path: Path, emulator: Emulator
) -> None:
    path = make_mp4(tmp_path / "replaced.mp4", 2 * PIECE)
    other = tmp_path / "other.mp4"
    other.write_bytes(path.read_bytes()[:-4] + b"edit")

    error = await _upload_after(emulator, path, lambda: other.replace(path))
    assert isinstance(error, nr.InvalidInputError) and "replaced" in str(error)
    assert emulator.credits_used() == 0


async def test_a_file_rewritten_in_place_is_stopped(tmp_path: Path, emulator: Emulator) -> None:
    path = make_mp4(tmp_path / "rewritten.mp4", 2 * PIECE)

    def rewrite() -> None:
        with path.open("r+b") as handle:
            handle.seek(PIECE)
            handle.write(b"edited")
        stamp = path.stat()
        os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000))

    error = await _upload_after(emulator, path, rewrite)
    assert isinstance(error, nr.InvalidInputError) and "changed" in str(error)
    assert emulator.credits_used() == 0


# -- a server that stops reading the upload ------------------------------------------------------


async def test_an_upload_the_server_stops_reading_times_out_and_is_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    path = make_mp4(tmp_path / "big.mp4", 20 * 2**20)
    connections: list[asyncio.StreamWriter] = []
    done = asyncio.Event()

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await done.wait()  # holds the connection and reads nothing
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with nr.AsyncClient(
            "key",
            base_url=f"http://127.0.0.1:{port}",
            rate_limit=None,
            max_retries=1,
            backoff=nr.Backoff(initial=0.01, maximum=0.01, jitter=0),
            timeout=nr.Timeout(write=0.3),
        ) as client:
            with pytest.raises(nr.APITimeoutError, match=r"Timeout\.write") as caught:
                # A bound, so that a client without a write timeout fails instead of hanging.
                await asyncio.wait_for(client.analyze(path).text(), 20)
    finally:
        done.set()
        server.close()
        await server.wait_closed()
    assert caught.value.request_sent is False
    assert len(connections) == 2  # nothing was charged, so it was tried once more
    for _ in range(3):  # the futures of the lost connections are collected: none unread
        gc.collect()
        await asyncio.sleep(0.05)
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
