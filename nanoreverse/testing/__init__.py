"""Test helpers: a faithful local emulator of the API, and a pytest fixture for it.

>>> from nanoreverse.testing import Emulator, Fault
>>> async with Emulator() as emu:                                    # doctest: +SKIP
...     emu.script(Fault.rate_limited(retry_after=1))
...     async with nr.AsyncClient(emu.api_key, base_url=emu.base_url) as client:
...         text = await client.analyze("clip.mp4").text()
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from ._answers import plan_shots, shot_count
    from ._clock import InstantClock
    from ._emulator import DEFAULT_KEY, Emulator
    from ._faults import Fault, RequestRecord
    from ._redis import RedisServer, redis_server_binary
    from ._serve import EmulatorProcess, emulator_command

__all__ = [
    "DEFAULT_KEY",
    "Emulator",
    "EmulatorProcess",
    "Fault",
    "InstantClock",
    "RedisServer",
    "RequestRecord",
    "emulator_command",
    "plan_shots",
    "redis_server_binary",
    "shot_count",
]

# Each name loads on first use: the pytest plugin and the command line's parser import
# this package, and neither should pay for aiohttp.web until an emulator is made.
_WHERE = {
    "DEFAULT_KEY": "._emulator",
    "Emulator": "._emulator",
    "EmulatorProcess": "._serve",
    "emulator_command": "._serve",
    "Fault": "._faults",
    "InstantClock": "._clock",
    "RedisServer": "._redis",
    "RequestRecord": "._faults",
    "plan_shots": "._answers",
    "redis_server_binary": "._redis",
    "shot_count": "._answers",
}


def __getattr__(name: str) -> _typing.Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
