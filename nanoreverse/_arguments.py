"""The client's arguments that are objects, checked at construction, before any traffic:
a wrong type is a ``TypeError`` that says what to pass (the numbers and URLs are
checked by the config objects in ``_config.py``)."""

from __future__ import annotations

import aiohttp

from ._clock import Clock
from ._config import API_KEY_ENV, check_whole
from ._store import Store


def check_arguments(
    max_retries: object, clock: object, api_key: object, session: object, store: object
) -> None:
    """Raise ``ValueError``/``TypeError`` for the first argument of the wrong kind."""
    check_whole("max_retries", max_retries, 0)
    if not isinstance(clock, Clock):
        raise TypeError(f"clock must be a Clock (e.g. testing.InstantClock), got {clock!r}")
    if api_key is not None and not isinstance(api_key, str):
        kind = type(api_key).__name__  # never the value: it may be a key
        raise TypeError(f"api_key must be a str (or None to read {API_KEY_ENV}), got {kind}")
    if session is not None and not isinstance(session, aiohttp.ClientSession):
        raise TypeError(f"session must be an aiohttp.ClientSession, got {type(session).__name__}")
    if store is not None and not isinstance(store, Store):
        raise TypeError(f"store must be a nr.Store (e.g. nr.SQLiteStore), got {store!r}")
