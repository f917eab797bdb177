"""Retry decisions, checked fast with aioresponses (no server)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aioresponses import aioresponses

import nanoreverse as nr

from .helpers import ERRORS, YT

URL = "https://api.example.com/api/sora-2/reverse-prompt"


def error(code: str) -> str:
    return json.dumps({"success": False, "error": "x", "errorCode": code})


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


@pytest.fixture
async def client() -> AsyncIterator[nr.AsyncClient]:
    async with nr.AsyncClient(
        "sk-test",
        base_url="https://api.example.com",
        rate_limit=None,
        backoff=nr.Backoff(initial=0.001, maximum=0.002, jitter=0.0),
    ) as client:
        yield client


def calls(mocked: aioresponses) -> int:
    return sum(len(v) for v in mocked.requests.values())


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "API_KEY_RATE_LIMIT_EXCEEDED"),
        (503, "AI_SERVICE_ERROR"),
        (503, "SERVICE_UNAVAILABLE"),
        (503, None),
        (503, "INTERNAL_ERROR"),  # the status decides: a 503 is a refusal, whatever its code
    ],
)
async def test_retried(
    mocked: aioresponses, client: nr.AsyncClient, status: int, code: str | None
) -> None:
    mocked.post(URL, status=status, body=error(code) if code else "<html>busy</html>")
    mocked.post(URL, status=200, body="| Shot |\n|---|\n| 1 |\n")
    stream = client.analyze(YT)
    assert await stream.text() == "| Shot |\n|---|\n| 1 |\n"
    assert stream.attempts == 2 and calls(mocked) == 2


async def test_a_configuration_issue_is_retried_once_a_busy_service_fully(
    mocked: aioresponses, client: nr.AsyncClient
) -> None:
    for _ in range(4):
        mocked.post(URL, status=503, body=error("SERVICE_UNAVAILABLE"))
    with pytest.raises(nr.ServiceUnavailableError) as caught:
        await client.analyze(YT).text()
    assert caught.value.code == "SERVICE_UNAVAILABLE" and calls(mocked) == 2
    mocked.clear()
    for _ in range(4):
        mocked.post(URL, status=503, body=error("AI_SERVICE_ERROR"))
    mocked.post(URL, status=200, body="| Shot |\n")
    stream = client.analyze(YT)
    await stream.text()
    assert stream.attempts == 5  # max_retries=4: all of them for a service that is busy


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        *[(status, code, cls) for code, status, cls in ERRORS if status not in (429, 503)],
        (500, "AI_SERVICE_ERROR", nr.ServiceUnavailableError),  # the work may have been done
        (502, None, nr.InternalServerError),
        (504, None, nr.InternalServerError),
        (524, None, nr.APIError),  # a CDN's timeout: the request was whole, it may be paid
    ],
)
async def test_not_retried(
    mocked: aioresponses,
    client: nr.AsyncClient,
    status: int,
    code: str | None,
    cls: type[nr.APIError],
) -> None:
    mocked.post(URL, status=status, body=error(code) if code else "<html>gateway</html>")
    stream = client.analyze(YT)
    with pytest.raises(cls) as info:
        await stream.text()
    assert stream.attempts == 1 and calls(mocked) == 1
    assert info.value.status == status and info.value.code == code


async def test_retry_after_header_becomes_the_wait(
    mocked: aioresponses, client: nr.AsyncClient
) -> None:
    mocked.post(
        URL, status=429, body=error("API_KEY_RATE_LIMIT_EXCEEDED"), headers={"Retry-After": "0"}
    )
    mocked.post(
        URL, status=429, body=error("API_KEY_RATE_LIMIT_EXCEEDED"), headers={"Retry-After": "7200"}
    )
    stream = client.analyze(YT)
    with pytest.raises(nr.RateLimitError) as info:
        await stream.text()
    assert info.value.retry_after == 7200  # over Backoff.max_retry_after: raised, not waited
    assert stream.attempts == 2


async def test_connection_error_before_sending_is_retried(
    mocked: aioresponses, client: nr.AsyncClient
) -> None:
    mocked.post(URL, exception=aiohttp.ClientConnectionError("refused"))
    mocked.post(URL, status=200, body="ok")
    stream = client.analyze(YT)
    assert await stream.text() == "ok" and stream.attempts == 2


async def test_all_attempts_fail(mocked: aioresponses, client: nr.AsyncClient) -> None:
    for _ in range(5):
        mocked.post(URL, status=503, body=error("AI_SERVICE_ERROR"))
    stream = client.analyze(YT)
    with pytest.raises(nr.ServiceUnavailableError):
        await stream.text()
    assert stream.attempts == 5 and calls(mocked) == 5  # max_retries=4 → 5 attempts


async def test_the_key_goes_only_in_the_header(
    mocked: aioresponses, client: nr.AsyncClient
) -> None:
    mocked.post(URL, status=200, body="ok")
    await client.analyze(YT).text()
    (request,) = next(iter(mocked.requests.values()))
    assert request.kwargs["headers"]["Authorization"] == "Bearer sk-test"
    assert "sk-test" not in repr(request.kwargs["data"])


@pytest.mark.parametrize(
    ("status", "code", "retried"),
    [(503, "INTERNAL_ERROR", True), (429, None, True), (500, "AI_SERVICE_ERROR", False)],
)
async def test_every_call_holds_off_exactly_when_one_is_retried(
    mocked: aioresponses, status: int, code: str | None, retried: bool
) -> None:
    # One rule: the client pauses all its calls for the very answers the retry repeats.
    async with nr.AsyncClient(
        "sk-test",
        base_url="https://api.example.com",
        backoff=nr.Backoff(initial=0.001, maximum=0.002, jitter=0.0),
    ) as client:
        paused: list[float] = []
        client._parts.limiter.pause = paused.append  # type: ignore[assignment]
        mocked.post(URL, status=status, body=error(code) if code else "busy")
        mocked.post(URL, status=200, body="| Shot |\n|---|\n| 1 |\n")
        stream = client.analyze(YT)
        with contextlib.suppress(nr.APIError):
            await stream.text()
    assert (stream.attempts == 2) is retried
    assert bool(paused) is retried
