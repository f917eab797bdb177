from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import nanoreverse as nr
from nanoreverse.testing import Emulator

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
