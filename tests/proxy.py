"""A real forward proxy on 127.0.0.1 for tests: CONNECT tunnels (https) and absolute-form
requests (http), as corporate proxies do. It records what it was asked and every byte it
carried, so a test can tell that a call went through it and what it could read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Proxy:
    url: str = ""
    #: "CONNECT host:port" or "POST http://host:port/path", one per request it was asked.
    asked: list[str] = field(default_factory=list)
    #: Every byte it carried, both ways.
    carried: bytearray = field(default_factory=bytearray)


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: bytearray
) -> None:
    try:
        while data := await reader.read(65536):
            seen += data
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _handle(proxy: Proxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    method, target, version = head.split(b"\r\n", 1)[0].decode().split(" ")
    proxy.asked.append(f"{method} {target}")
    if method == "CONNECT":
        host, port = target.rsplit(":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    else:
        parts = urlsplit(target)
        assert parts.hostname and parts.port
        upstream_reader, upstream_writer = await asyncio.open_connection(parts.hostname, parts.port)
        # Origin form for the server; the rest of the head and the body pass unchanged.
        rest = head.split(b"\r\n", 1)[1]
        upstream_writer.write(f"{method} {parts.path} {version}\r\n".encode() + rest)
        proxy.carried += head
    await asyncio.gather(
        _pipe(reader, upstream_writer, proxy.carried),
        _pipe(upstream_reader, writer, proxy.carried),
    )


@contextlib.asynccontextmanager
async def running_proxy() -> AsyncIterator[Proxy]:
    proxy = Proxy()
    server = await asyncio.start_server(lambda r, w: _handle(proxy, r, w), "127.0.0.1", 0)
    proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield proxy
        server.close()
