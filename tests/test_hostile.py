"""Servers that misbehave in ways the emulator does not: idle connections closed without a
word, and answers with no end. Each is a raw asyncio server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

import nanoreverse as nr

from .helpers import YT

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
ANSWER = b"| Shot | Framing |\n|---|---|\n| 1 | Wide |\n"


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return await reader.readexactly(length)


def answer_head(length: int | None = None) -> bytes:
    size = b"Content-Length: %d\r\n" % length if length is not None else b""
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n" + size + b"\r\n"


def client(base_url: str, **kwargs: object) -> nr.AsyncClient:
    return nr.AsyncClient(
        "key",
        base_url=base_url,
        rate_limit=None,
        backoff=nr.Backoff(initial=0.01, maximum=0.01, jitter=0),
        **kwargs,  # type: ignore[arg-type]
    )


# -- keep-alive -------------------------------------------------------------------------


async def test_a_connection_idle_past_the_keepalive_is_never_reused() -> None:
    """The server drops a kept-alive connection idle for 1 s or more when the next request
    arrives on it, unread: what a server's idle close crossing a request looks like. A
    client that reuses such a connection loses the call (sent, so counted as paid)."""
    served = 0
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served, connections
        connections += 1
        idle_since = None
        while True:
            try:
                await reader.readuntil(b"\r\n")  # the request line
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            if idle_since is not None and time.monotonic() - idle_since >= 1.0:
                break  # closed without reading it
            await read_request(reader)
            served += 1
            writer.write(answer_head(len(ANSWER)) + ANSWER)
            await writer.drain()
            idle_since = time.monotonic()
        writer.close()

    async def lane(c: nr.AsyncClient, n: int) -> None:
        await c.analyze(f"https://youtu.be/{n:011d}").text()
        await asyncio.sleep(0.1)
        await c.analyze(f"https://youtu.be/{n + 1:011d}").text()  # reused: idle 0.1 s
        await asyncio.sleep(1.1)
        await c.analyze(f"https://youtu.be/{n + 2:011d}").text()  # idle 1.1 s: a fresh one

    async with serving(handler) as url, client(url) as c:
        await asyncio.gather(*(lane(c, 10 * n) for n in range(3)))
    assert served == 9  # every call answered: none went out on a connection the server dropped
    # Connections were reused (fewer than one a call), and not only one (the idle ones were
    # left). Which lane's connection a call picks up depends on timing: 6 when the lanes
    # keep in step, 5 when one lane's last call finds another's connection barely idle.
    assert 3 < connections < 9


def test_the_default_keepalive_is_below_every_common_server_idle_limit() -> None:
    # gunicorn's 2 s is the shortest in common use (uvicorn, Node, Apache: 5 s).
    assert 0 < nr.Timeout().keepalive < 2
    with pytest.raises(ValueError, match="keepalive"):
        nr.Timeout(keepalive=-1)


async def test_peer_closed_tells_a_closed_connection_from_a_quiet_or_talking_one() -> None:
    from nanoreverse._transport.body import peer_closed

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        for server_does, expected in [("nothing", False), ("talks", False), ("closes", True)]:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            accepted, _ = listener.accept()
            if server_does == "talks":
                accepted.sendall(b"HTTP/1.1 413 Payload Too Large\r\n")
            elif server_does == "closes":
                accepted.close()
            time.sleep(0.05)  # noqa: ASYNC251 - a busy loop: the kernel has it, the loop has not run
            assert peer_closed(writer) is expected, server_does  # type: ignore[arg-type]
            writer.close()
            accepted.close()
    finally:
        listener.close()


def threaded_server(handle: Callable[[socket.socket], bool]) -> tuple[str, threading.Thread]:
    """A blocking server in a thread of its own: it goes on while the test's loop is busy.

    ``handle`` serves one connection and says whether to wait for another."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            while True:
                connection, _ = listener.accept()
                with connection:
                    if not handle(connection):
                        return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", thread


def read_blocking(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += connection.recv(65536)
    return body


async def test_a_request_on_a_connection_the_server_has_closed_is_not_sent() -> None:
    """The server closes a kept-alive connection 20 ms after answering; the client's event
    loop is busy then, so the close waits unseen in the kernel when the next call takes
    that connection. Its last byte is held back, and the call is retried on a fresh one:
    the server cannot have had the whole request, so nothing was paid."""
    bodies: list[bytes] = []

    def handle(connection: socket.socket) -> bool:
        bodies.append(read_blocking(connection))
        connection.sendall(answer_head(len(ANSWER)) + ANSWER)
        time.sleep(0.02)
        return len(bodies) < 2  # closes, and serves one more connection

    url, thread = threaded_server(handle)
    async with client(url) as c:
        assert await c.analyze(YT).text() == ANSWER.decode()
        time.sleep(0.2)  # noqa: ASYNC251 - busy: the close arrives, the loop does not run
        stream = c.analyze("https://youtu.be/aaaaaaaaaaa")
        assert await stream.text() == ANSWER.decode()
    thread.join(5)
    assert stream.attempts == 2 and len(bodies) == 2 and b"aaaaaaaaaaa" in bodies[1]


# -- an answer with no end --------------------------------------------------------------


async def test_an_endless_answer_stops_at_the_limit_with_bounded_memory() -> None:
    sent = 0
    finished = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await read_request(reader)
        writer.write(answer_head())  # no length: the answer ends when the connection does
        piece = b"| 1 | Wide | Static | " + b"x" * 65_000 + b" |\n"
        try:
            while sent < 100 * 2**20:
                writer.write(piece)
                sent += len(piece)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            finished.set()

    async with serving(handler) as url, client(url) as c:
        tracemalloc.start()
        tracemalloc.reset_peak()
        try:
            with pytest.raises(nr.StreamInterruptedError, match="characters") as caught:
                await c.analyze(YT).text()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await asyncio.wait_for(finished.wait(), 10)  # the client hung up: the server stops
    limit = nr._config.MAX_ANSWER_CHARS
    assert limit // 2 < len(caught.value.partial_text) <= limit
    assert peak < 4 * limit  # the text kept and one copy of it, not the 100 MiB sent
    assert sent < 50 * 2**20


# -- connecting -------------------------------------------------------------------------


async def test_a_connect_timeout_is_an_api_timeout_retried_as_not_sent() -> None:
    # A listener whose accept queue is full: the kernel drops further SYNs, so connecting
    # hangs, as it does to a host that is down.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        c = client(f"http://127.0.0.1:{port}", timeout=nr.Timeout(connect=0.2), max_retries=1)
        async with c:
            stream = c.analyze(YT)
            with pytest.raises(nr.APITimeoutError, match="connecting") as caught:
                await asyncio.wait_for(stream.text(), 10)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert caught.value.request_sent is False and stream.attempts == 2
