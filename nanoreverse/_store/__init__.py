"""Stores of finished analyses: the interface, and one module per backend."""

from .base import (
    DEFAULT_LEASE,
    Claimed,
    FailedAttempt,
    Held,
    Hit,
    Lookup,
    Store,
    StoredAnswer,
    StoreKey,
    scope_of,
)
from .redis import RedisStore
from .sqlite import SQLiteStore

__all__ = [
    "DEFAULT_LEASE",
    "Claimed",
    "FailedAttempt",
    "Held",
    "Hit",
    "Lookup",
    "RedisStore",
    "SQLiteStore",
    "Store",
    "StoreKey",
    "StoredAnswer",
    "scope_of",
]
