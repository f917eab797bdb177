"""The pytest plugin (registered as ``nanoreverse`` through the ``pytest11`` entry point).

It gives the ``nanoreverse_emulator`` fixture: a running :class:`Emulator` in a
background thread, so it serves sync and async tests alike, with its own event
loop that no test's loop can block.

.. code-block:: python

    async def test_my_pipeline(nanoreverse_emulator):
        async with nr.AsyncClient(nanoreverse_emulator.api_key,
                                  base_url=nanoreverse_emulator.base_url) as client:
            assert "| 1 |" in await client.analyze("tests/clip.mp4").text()
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._emulator import Emulator


@pytest.fixture
def nanoreverse_emulator() -> Iterator[Emulator]:
    """A fresh emulator for this test (documented API behaviour, generous default limits)."""
    with Emulator().in_thread() as emulator:
        yield emulator
