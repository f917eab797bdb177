"""The streamed answer: decoding, early chunks, closing, interruptions, timeouts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest

import nanoreverse as nr
from nanoreverse._transport.answers import HTTPAnswer
from nanoreverse._transport.stream import AnalysisStream
from nanoreverse.testing import Emulator, Fault

from .helpers import YT

TEXTS = {
    "chinese": "镜头一：远景，黄昏的街道。",
    "japanese": "ショット：夕暮れの濡れた通り。",
    "arabic": "لقطة واسعة لشارع ممطر",
    "emoji": "🎬 shot 1 👩‍🍳🌊 done 🚗",
}


class FakeContent:
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = list(pieces)

    async def readany(self) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""

    def at_eof(self) -> bool:
        return not self.pieces


class FakeResponse:
    def __init__(self, pieces: list[bytes]) -> None:
        self.content = FakeContent(pieces)
        self.released = self.closed = False

    def release(self) -> None:
        self.released = True

    def close(self) -> None:
        self.closed = True


def stream_of(pieces: list[bytes]) -> tuple[AnalysisStream, FakeResponse]:
    response = FakeResponse(pieces)

    async def opener() -> Any:
        return HTTPAnswer(response)  # type: ignore[arg-type]

    return AnalysisStream(opener, source="x", locale="en"), response


@pytest.mark.parametrize("name", TEXTS)
async def test_characters_split_at_every_byte_are_never_broken(name: str) -> None:
    data = TEXTS[name].encode()
    for cut in range(1, len(data)):
        stream, _ = stream_of([data[:cut], data[cut:]])
        assert await stream.text() == TEXTS[name]
    one_byte_each = [data[i : i + 1] for i in range(len(data))]
    stream, response = stream_of(one_byte_each)
    chunks = [chunk async for chunk in stream]
    assert "".join(chunks) == TEXTS[name] and all(chunks)
    assert response.released


@pytest.mark.parametrize("locale", ["zh", "ja", "ar", "ko", "ru"])
async def test_one_byte_network_writes_decode_cleanly(locale: str) -> None:
    async with Emulator(rate_limit=None, chunk_bytes=1) as emu:
        async with nr.AsyncClient(emu.api_key, base_url=emu.base_url, rate_limit=None) as client:
            text = await client.analyze(YT, locale=locale).text()
    assert text == emu.requests[0].answer and "\ufffd" not in text


async def test_first_chunk_arrives_before_the_server_finishes(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.script(Fault.stall(0.5, after_bytes=40))
    async with client.analyze(YT) as stream:
        first = await stream.__anext__()
        record = emulator.requests[0]
        assert first and not record.completed  # the server is still answering
        rest = [chunk async for chunk in stream]
    assert record.completed and first + "".join(rest) == record.answer


async def test_breaking_out_releases_the_connection(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.script(Fault.stall(5.0, after_bytes=40))
    async with client.analyze(YT) as stream:
        async for _ in stream:
            break
    # The connection is closed at once, not after the stall: a second call goes through.
    assert "| 1 |" in await asyncio.wait_for(client.analyze(YT).text(), 2.0)


async def test_aclose_stops_early_and_iteration_then_ends(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.script(Fault.stall(5.0, after_bytes=40))
    stream = client.analyze(YT)
    first = await stream.__anext__()
    await stream.aclose()
    assert [chunk async for chunk in stream] == []
    assert stream.received_text == first


async def test_a_drop_mid_answer_keeps_the_partial_text_and_is_not_retried(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.script(Fault.drop_after(150))
    stream = client.analyze(YT)
    received = []
    with pytest.raises(nr.StreamInterruptedError) as info:
        async for chunk in stream:
            received.append(chunk)
    assert info.value.partial_text == "".join(received) == emulator.requests[0].answer
    assert len(info.value.partial_text.encode()) == 150
    assert len(emulator.requests) == 1 and stream.attempts == 1
    assert emulator.credits_used() == 1  # the server charged it: that is why it is not retried


async def test_silence_mid_answer_is_a_stream_timeout(make_client: Any, emulator: Emulator) -> None:
    client = make_client(timeout=nr.Timeout(read=0.3))
    emulator.script(Fault.stall(3.0, after_bytes=64))
    with pytest.raises(nr.StreamTimeoutError) as info:
        await client.analyze(YT).text()
    assert not isinstance(info.value, nr.APIConnectionError)
    assert len(info.value.partial_text.encode()) == 64
    assert len(emulator.requests) == 1


async def test_silence_before_the_answer_is_a_timeout_not_retried(
    make_client: Any, emulator: Emulator
) -> None:
    client = make_client(timeout=nr.Timeout(read=0.3))
    emulator.script(Fault.stall(3.0))
    stream = client.analyze(YT)
    with pytest.raises(nr.APITimeoutError) as info:
        await stream.text()
    assert not isinstance(info.value, nr.StreamInterruptedError)
    assert info.value.request_sent and len(emulator.requests) == 1 and stream.attempts == 1


async def test_errors_are_raised_on_entering_the_context(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.script(Fault.error("INVALID_VIDEO_URL"))
    with pytest.raises(nr.InvalidVideoURLError):
        async with client.analyze(YT):
            pytest.fail("the body must not run")  # pragma: no cover


async def test_nothing_is_sent_until_the_stream_is_used(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    stream = client.analyze(YT)
    await asyncio.sleep(0.05)
    assert emulator.requests == [] and "not started" in repr(stream)
    await stream.aclose()


async def test_text_after_partial_iteration_returns_everything(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.chunk_bytes = 16
    emulator.chars_per_second = 4000
    stream = client.analyze(YT)
    first = await stream.__anext__()
    whole = await stream.text()
    assert whole.startswith(first) and whole == emulator.requests[0].answer


async def test_session_errors_do_not_leak_aiohttp_types(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.script(Fault.close_before_answer())
    with pytest.raises(nr.APIConnectionError) as info:
        await client.analyze(YT).text()
    assert not isinstance(info.value, aiohttp.ClientError)


async def test_without_a_store_an_answer_left_unread_is_logged_with_its_size(
    emulator: Emulator, client: nr.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nanoreverse")
    emulator.chars_per_second = 2000
    async with client.analyze(YT) as stream:
        await stream.__anext__()
    dropped = [r.getMessage() for r in caplog.records if "left unread" in r.getMessage()]
    assert dropped == [
        f"an answer was left unread after {len(stream.received_text)} characters and dropped "
        "(a store would have read it to its end and kept it)"
    ]
