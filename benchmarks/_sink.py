"""A raw HTTP sink on 127.0.0.1: reads each request body and throws it away, then answers.

The yardstick server for uploads: no JSON scanning, no base64 decoding, nothing an
application server does — only what the loopback and one asyncio socket cost. It prints
its address as one JSON line, as the emulator process does.

    python benchmarks/_sink.py
"""

from __future__ import annotations

import asyncio
import json

ANSWER = "| 1 | wide | static | a sink | none | 1s |\n"
RESPONSE = (
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    f"Content-Length: {len(ANSWER)}\r\n\r\n{ANSWER}"
).encode()


class Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.left = -1  # body bytes still to come; -1 while reading the head

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        while data:
            if self.left < 0:
                self.head += data
                end = self.head.find(b"\r\n\r\n")
                if end < 0:
                    return
                data, head = self.head[end + 4 :], self.head[:end].decode("latin-1")
                self.head = b""
                self.left = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        self.left = int(value)
            take = min(self.left, len(data))
            self.left -= take
            data = data[take:]
            if self.left == 0:
                self.left = -1
                assert self.transport is not None
                self.transport.write(RESPONSE)


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Sink, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"base_url": f"http://127.0.0.1:{port}", "api_key": "sink"}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())


class SinkProcess:
    """The sink in a child process (same shape as ``nanoreverse.testing.EmulatorProcess``)."""

    def __enter__(self) -> SinkProcess:
        import subprocess
        import sys

        self._process = subprocess.Popen(
            [sys.executable, __file__], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        info = json.loads(self._process.stdout.readline())
        self.base_url, self.api_key = info["base_url"], info["api_key"]
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._process.terminate()
        self._process.wait(10)
        if self._process.stdout is not None:
            self._process.stdout.close()
