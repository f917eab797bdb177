"""Shared start-up for the examples: the real API with a key, else the built-in emulator."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from nanoreverse.testing import Emulator

Main = Callable[[str, str], Awaitable[object]]


def run(main: Main) -> None:
    """Run ``main(base_url, api_key)``: against the real API if NANOPHOTO_API_KEY is set."""

    async def start() -> None:
        key = os.environ.get("NANOPHOTO_API_KEY")
        if key:
            await main("https://nanophoto.ai", key)
            return
        print("(no NANOPHOTO_API_KEY: using the built-in emulator)\n")
        async with Emulator(ttfb=0.2, chars_per_second=4000) as emulator:
            await main(emulator.base_url, emulator.api_key)

    asyncio.run(start())
