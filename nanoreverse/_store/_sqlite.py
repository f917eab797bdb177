"""The embedded store: one SQLite file, in WAL mode, shared safely by processes on one machine.

A claim is taken in one ``BEGIN IMMEDIATE`` transaction (SQLite's write lock), so two
processes can never both find the key free. Times are wall-clock, because leases are
compared across processes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Literal, TypeVar

import aiosqlite
import anyio

from .._errors import StoreError
from ._base import (
    DEFAULT_LEASE,
    Claimed,
    Held,
    Hit,
    Lookup,
    Store,
    StoredAnswer,
    StoreKey,
    check_lease,
)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    markdown TEXT NOT NULL, source TEXT NOT NULL, finished_at REAL NOT NULL,
    PRIMARY KEY (scope, identity, locale));
CREATE TABLE IF NOT EXISTS claims (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    owner TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (scope, identity, locale));
CREATE TABLE IF NOT EXISTS attempts (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    source TEXT NOT NULL, code TEXT, message TEXT NOT NULL, partial TEXT NOT NULL,
    at REAL NOT NULL);
"""

_KEY = "scope = ? AND identity = ? AND locale = ?"


def _key(key: StoreKey) -> tuple[str, str, str]:
    return key.scope, key.identity, key.locale


class SQLiteStore(Store):
    """Analyses in one SQLite file (WAL mode), safe for several processes on one machine.

    >>> client = nr.AsyncClient(store=nr.SQLiteStore("analyses.sqlite"))   # doctest: +SKIP
    """

    def __init__(self, path: str | Path, *, lease: float = DEFAULT_LEASE) -> None:
        self.path = Path(path)
        self.lease = check_lease(lease)
        self._db: aiosqlite.Connection | None = None
        # One connection serves every task of the process: a transaction must not
        # interleave with another task's statements.
        self._lock: anyio.Lock | None = None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    async def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create {self.path.parent}: {exc.strerror}") from None
            db = await aiosqlite.connect(self.path, isolation_level=None, timeout=30.0)
            try:
                await db.execute("PRAGMA busy_timeout = 30000")
                await db.execute("PRAGMA journal_mode = WAL")
                await db.executescript(_SCHEMA)
            except BaseException:
                await db.close()
                raise
            self._db = db
        return self._db

    async def _run(self, what: str, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Every access goes through here, one at a time; SQLite's errors become one typed error."""
        if self._lock is None:
            self._lock = anyio.Lock()
        try:
            async with self._lock:
                return await work(await self._connection())
        except sqlite3.Error as exc:
            raise StoreError(f"the store {self.path} could not {what}: {exc}") from exc

    async def _transaction(
        self, what: str, work: Callable[[aiosqlite.Connection], Awaitable[T]]
    ) -> T:
        async def atomically(db: aiosqlite.Connection) -> T:
            await db.execute("BEGIN IMMEDIATE")
            try:
                result = await work(db)
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")
            return result

        return await self._run(what, atomically)

    async def lookup(self, key: StoreKey, owner: str, *, refresh: bool = False) -> Lookup:
        async def work(db: aiosqlite.Connection) -> Lookup:
            now = time.time()
            if not refresh:
                found = await _one(db, f"SELECT markdown FROM answers WHERE {_KEY}", _key(key))
                if found is not None:
                    return Hit(found[0])
            claim = await _one(db, f"SELECT owner, expires_at FROM claims WHERE {_KEY}", _key(key))
            if claim is not None and claim[0] != owner and claim[1] > now:
                return Held(claim[1] - now)
            await db.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?)",
                (*_key(key), owner, now + self.lease),
            )
            return Claimed()

        return await self._transaction("look up an analysis", work)

    async def renew(self, key: StoreKey, owner: str) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                f"UPDATE claims SET expires_at = ? WHERE {_KEY} AND owner = ?",
                (time.time() + self.lease, *_key(key), owner),
            )
            return cursor.rowcount == 1

        return await self._run("renew a claim", work)

    async def finish(self, key: StoreKey, owner: str, markdown: str, *, source: str) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (*_key(key), markdown, source, time.time()),
            )
            await db.execute(f"DELETE FROM claims WHERE {_KEY} AND owner = ?", (*_key(key), owner))

        await self._transaction("store an answer", work)

    async def abandon(
        self,
        key: StoreKey,
        owner: str,
        *,
        source: str,
        code: str | None,
        message: str,
        partial: str = "",
    ) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*_key(key), source, code, message, partial, time.time()),
            )
            await db.execute(f"DELETE FROM claims WHERE {_KEY} AND owner = ?", (*_key(key), owner))

        await self._transaction("record a failed attempt", work)

    async def status(self, key: StoreKey) -> Literal["stored", "claimed"] | None:
        async def work(db: aiosqlite.Connection) -> Literal["stored", "claimed"] | None:
            if await _one(db, f"SELECT 1 FROM answers WHERE {_KEY}", _key(key)):
                return "stored"
            live = f"SELECT 1 FROM claims WHERE {_KEY} AND expires_at > ?"
            if await _one(db, live, (*_key(key), time.time())):
                return "claimed"
            return None

        return await self._run("look up an analysis", work)

    async def answers(self, scope: str | None = None) -> AsyncIterator[StoredAnswer]:
        query = (
            "SELECT identity, locale, source, markdown, finished_at FROM answers "
            "WHERE ? IS NULL OR scope = ? ORDER BY source, locale"
        )
        rows = await self._run("list answers", lambda db: _all(db, query, (scope, scope)))
        for row in rows:
            yield StoredAnswer(*row)

    async def attempts(self, key: StoreKey) -> list[tuple[str | None, str, str]]:
        """The failed or interrupted attempts logged for a key: (code, message, partial)."""
        query = f"SELECT code, message, partial FROM attempts WHERE {_KEY} ORDER BY at"
        rows = await self._run("list attempts", lambda db: _all(db, query, _key(key)))
        return [(row[0], row[1], row[2]) for row in rows]

    async def aclose(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()


async def _one(
    db: aiosqlite.Connection, query: str, parameters: tuple[object, ...]
) -> sqlite3.Row | None:
    async with db.execute(query, parameters) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
        return row


async def _all(
    db: aiosqlite.Connection, query: str, parameters: tuple[object, ...]
) -> list[sqlite3.Row]:
    async with db.execute(query, parameters) as cursor:
        return list(await cursor.fetchall())
