"""Test helpers: a faithful local emulator of the API, and a pytest fixture for it.

>>> from nanoreverse.testing import Emulator, Fault
>>> async with Emulator() as emu:                                    # doctest: +SKIP
...     emu.script(Fault.rate_limited(retry_after=1))
...     async with nr.AsyncClient(emu.api_key, base_url=emu.base_url) as client:
...         text = await client.analyze("clip.mp4").text()
"""

from ._answers import plan_shots, shot_count
from ._clock import InstantClock
from ._emulator import DEFAULT_KEY, Emulator
from ._faults import Fault, RequestRecord
from ._redis import RedisServer, redis_server_binary
from ._serve import EmulatorProcess

__all__ = [
    "DEFAULT_KEY",
    "Emulator",
    "EmulatorProcess",
    "Fault",
    "InstantClock",
    "RedisServer",
    "RequestRecord",
    "plan_shots",
    "redis_server_binary",
    "shot_count",
]
