"""The client against the emulator: what really crosses the wire."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

import nanoreverse as nr
from nanoreverse._clock import REAL_CLOCK
from nanoreverse.testing import Emulator, EmulatorProcess, Fault, InstantClock

from .helpers import CLIPS, DATA, YT, sha256

Make = Callable[..., nr.AsyncClient]


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.name)
async def test_exact_bytes_of_real_mp4s_arrive(
    client: nr.AsyncClient, emulator: Emulator, clip: Path
) -> None:
    text = await client.analyze(clip).text()
    (record,) = emulator.requests
    assert record.video_sha256 == sha256(clip.read_bytes())
    assert record.video_size == clip.stat().st_size
    assert record.content_length == record.body_bytes  # Content-Length equals the body
    assert not record.chunked
    assert record.file_name == clip.name and record.source == "file"
    assert text == record.answer


async def test_user_agent_and_locale(client: nr.AsyncClient, emulator: Emulator) -> None:
    await client.analyze(YT, locale="ko").text()
    (record,) = emulator.requests
    assert record.user_agent == f"nanoreverse/{nr.__version__}"
    assert (
        record.locale == "ko" and record.video_url == "https://www.youtube.com/watch?v=W-15-UmGP5s"
    )


async def test_retried_bodies_are_whole(client: nr.AsyncClient, emulator: Emulator) -> None:
    clip = CLIPS[-1]
    emulator.script(
        Fault.service_unavailable(),
        Fault.rate_limited(retry_after="0.05"),
        Fault.service_unavailable(),
    )
    stream = client.analyze(clip)
    text = await stream.text()
    assert stream.attempts == 4
    assert [r.status for r in emulator.requests] == [503, 429, 503, 200]
    assert "| 1 |" in text
    # Every attempt that the server read sent the whole file again, byte for byte.
    digest = sha256(clip.read_bytes())
    for record in (emulator.requests[0], *emulator.requests[2:]):
        assert record.body_bytes == record.content_length
        assert record.video_sha256 == digest


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.internal_error(), nr.InternalServerError),
        (Fault.bad_gateway(), nr.InternalServerError),
        (Fault.error("VIDEO_PROCESSING_FAILED"), nr.VideoProcessingError),
        (Fault.error("INSUFFICIENT_CREDITS"), nr.InsufficientCreditsError),
        (Fault.close_before_answer(), nr.APIConnectionError),
    ],
)
async def test_not_retried_when_the_server_may_have_done_the_work(
    client: nr.AsyncClient, emulator: Emulator, fault: Fault, error: type
) -> None:
    emulator.script(fault)
    stream = client.analyze(YT)
    with pytest.raises(error) as info:
        await stream.text()
    assert len(emulator.requests) == 1 and stream.attempts == 1
    assert not info.value.preflight if isinstance(info.value, nr.APIError) else True


async def test_retry_after_seconds_is_honoured(
    client: nr.AsyncClient, emulator: Emulator, clock: InstantClock
) -> None:
    # The client's clock is an InstantClock: the wait is what the server said, and it
    # passes at once, for the retry and for the pause the 429 put on every call.
    emulator.script(Fault.rate_limited(retry_after="30"))
    await client.analyze(YT).text()
    assert clock.slept == [30.0]
    assert [r.status for r in emulator.requests] == [429, 200]


async def test_retry_after_http_date_is_honoured(
    client: nr.AsyncClient, emulator: Emulator, clock: InstantClock
) -> None:
    emulator.script(Fault.rate_limited_until(20.0))
    await client.analyze(YT).text()
    # An HTTP date has whole seconds: the wait is up to a second short of 20 s.
    (wait,) = clock.slept
    assert 19.0 - 0.1 <= wait <= 20.0
    assert [r.status for r in emulator.requests] == [429, 200]


async def test_on_the_real_clock_the_wait_really_passes(
    make_client: Make, emulator: Emulator
) -> None:
    client = make_client(clock=REAL_CLOCK)
    emulator.script(Fault.rate_limited(retry_after="0.3"))
    await client.analyze(YT).text()
    first, second = emulator.requests
    assert second.started - first.started >= 0.3


async def test_retry_after_longer_than_the_cap_is_raised_at_once(
    make_client: Make, emulator: Emulator
) -> None:
    client = make_client(backoff=nr.Backoff(max_retry_after=10.0))
    emulator.script(Fault.rate_limited(retry_after=3600))
    with pytest.raises(nr.RateLimitError) as info:
        await client.analyze(YT).text()
    assert info.value.retry_after == 3600 and len(emulator.requests) == 1


async def test_gives_up_after_max_retries(make_client: Make, emulator: Emulator) -> None:
    client = make_client(max_retries=2)
    emulator.script(*[Fault.service_unavailable()] * 5)
    stream = client.analyze(YT)
    with pytest.raises(nr.ServiceUnavailableError):
        await stream.text()
    assert stream.attempts == 3 and len(emulator.requests) == 3


async def test_how_a_call_went_is_read_only_on_its_stream(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    # The client alone writes how the call went; the stream (and a batch) only read it.
    emulator.script(Fault.rate_limited(retry_after="0.05"))
    stream = client.analyze(YT)
    await stream.text()
    assert stream.attempts == 2 and not stream.cached
    for name, value in [("attempts", 9), ("cached", True), ("rate_limit_wait", 0.0)]:
        with pytest.raises(AttributeError):
            setattr(stream, name, value)


async def test_max_retries_zero_turns_retries_off(make_client: Make, emulator: Emulator) -> None:
    client = make_client(max_retries=0)
    emulator.script(Fault.rate_limited(retry_after=0))
    with pytest.raises(nr.RateLimitError):
        await client.analyze(YT).text()
    assert len(emulator.requests) == 1


async def test_each_retry_is_logged_without_the_key(
    client: nr.AsyncClient, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.script(Fault.service_unavailable("SERVICE_UNAVAILABLE"))
    with caplog.at_level(logging.DEBUG):
        await client.analyze(YT).text()
    warnings = [
        r for r in caplog.records if r.name == "nanoreverse" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "503 SERVICE_UNAVAILABLE" in warnings[0].getMessage()
    assert "attempt 2 of 5" in warnings[0].getMessage()
    assert emulator.api_key not in caplog.text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_retried_then_raised() -> None:
    async with nr.AsyncClient(
        "k",
        base_url=f"http://127.0.0.1:{free_port()}",
        max_retries=2,
        backoff=nr.Backoff(initial=0.01, jitter=0),
        rate_limit=None,
    ) as client:
        stream = client.analyze(YT)
        with pytest.raises(nr.APIConnectionError) as info:
            await stream.text()
    assert stream.attempts == 3
    assert info.value.request_sent is False
    assert "k" not in str(info.value).replace("127.0.0.1", "").split("could not send")[0]


async def test_missing_key_is_a_preflight_error_at_first_call(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NANOPHOTO_API_KEY", raising=False)
    async with nr.AsyncClient(base_url=emulator.base_url) as client:  # constructing is fine
        with pytest.raises(nr.AuthenticationError) as info:
            await client.analyze(YT).text()
    assert info.value.preflight and "NANOPHOTO_API_KEY" in str(info.value)
    assert emulator.requests == []


async def test_key_from_the_environment(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NANOPHOTO_API_KEY", emulator.api_key)
    async with nr.AsyncClient(base_url=emulator.base_url) as client:
        assert "| 1 |" in await client.analyze(YT).text()


async def test_wrong_key_is_an_authentication_error(make_client: Make, emulator: Emulator) -> None:
    client = make_client(api_key="sk-wrong-key-123")
    with pytest.raises(nr.AuthenticationError) as info:
        await client.analyze(YT).text()
    assert info.value.status == 401 and not info.value.preflight
    assert "sk-wrong-key-123" not in str(info.value) and "sk-wrong-key-123" not in repr(info.value)


async def test_preflight_errors_make_no_request(
    client: nr.AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    cases: list[tuple[nr.SourceLike, type[nr.APIError]]] = [
        ("https://www.youtube.com/@channel", nr.InvalidYouTubeURLError),
        (nr.VideoURL("ftp://x/a.mp4"), nr.InvalidVideoURLError),
        (tmp_path / "missing.mp4", nr.InvalidInputError),
        (DATA, nr.InvalidInputError),
    ]
    for source, error in cases:
        with pytest.raises(error) as info:
            await client.analyze(source).text()
        assert info.value.preflight
    with pytest.raises(nr.InvalidInputError, match="locale"):
        await client.analyze(YT, locale="xx").text()
    assert emulator.requests == []


def test_key_is_not_in_repr() -> None:
    client = nr.AsyncClient("sk-very-secret", base_url="https://example.com")
    assert "sk-very-secret" not in repr(client) and "example.com" in repr(client)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://10.0.0.5:8000",
        "ftp://nanophoto.ai",
        "http://127.evil.example",
        "http://localhost.evil.example",
        "https://",
    ],
)
def test_plain_http_beyond_this_machine_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="clear text"):
        nr.AsyncClient("k", base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9",
        "http://127.1.2.3:9",
        "http://localhost:9",
        "http://[::1]:9",
        "https://nanophoto.ai",
    ],
)
def test_loopback_http_and_https_are_allowed(url: str) -> None:
    assert nr.AsyncClient("k", base_url=url).base_url == url


def test_bad_default_locale_is_refused() -> None:
    with pytest.raises(nr.InvalidInputError):
        nr.AsyncClient("k", locale="klingon")


async def test_a_given_session_is_not_closed(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with nr.AsyncClient(
            emulator.api_key, base_url=emulator.base_url, session=session
        ) as client:
            await client.analyze(YT).text()
        assert not session.closed


async def test_own_session_is_closed(emulator: Emulator) -> None:
    client = nr.AsyncClient(emulator.api_key, base_url=emulator.base_url)
    await client.analyze(YT).text()
    session = client._parts.session
    await client.aclose()
    assert session is not None and session.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.analyze(YT).text()


def test_parse_retry_after() -> None:
    from nanoreverse._transport.retry import parse_retry_after

    now = time.time()
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_the_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NANOPHOTO_BASE_URL", "http://127.0.0.1:9/")
    assert nr.AsyncClient("k").base_url == "http://127.0.0.1:9"
    assert nr.AsyncClient("k", base_url="https://example.org").base_url == "https://example.org"
    monkeypatch.delenv("NANOPHOTO_BASE_URL")
    assert nr.AsyncClient("k").base_url == "https://nanophoto.ai"


def test_a_client_used_from_a_second_event_loop_names_the_fix(
    emulator_process: EmulatorProcess,
) -> None:
    client = nr.AsyncClient(emulator_process.api_key, base_url=emulator_process.base_url)

    async def first() -> str:
        text = await client.analyze(YT).text()
        await client.aclose()
        return text

    async def second() -> str:
        return await client.analyze(YT).text()

    assert asyncio.run(first())  # its own loop, then closed on it: nothing leaks
    with pytest.raises(RuntimeError, match=r"another event loop.*one client per loop.*nr\.Client"):
        asyncio.run(second())
    assert emulator_process.stats()["requests"] == 1  # refused before anything was sent
