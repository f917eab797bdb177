"""The embedded store: one SQLite file, in WAL mode, shared safely by processes on one machine.

A claim is taken by one ``INSERT … ON CONFLICT … RETURNING`` statement, atomic under
SQLite's write lock, so two processes can never both find the key free; storing an
answer ends the claim in the same statement (a trigger). Each statement is one trip to
aiosqlite's thread, which is most of what a store costs a call. A lease runs on the
machine's monotonic clock and names its boot (``machine.py``), never on the wall clock,
which a process may have wrong. A file's remembered sha256 is keyed by
its path as bytes (``os.fsencode``): a name that is not valid UTF-8 is still a name.

Commits do not wait for the disk (``synchronous = NORMAL``, SQLite's advice for WAL
mode): a process killed at any moment loses nothing it committed, and the file is never
corrupted, but a power cut or a crash of the machine may take back the last seconds'
answers, as Redis loses what it had not yet written. Waiting for the disk at every
answer more than doubled what the store costs a miss (0.27 → 0.6–0.7 ms of client
CPU).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Literal, TypeVar

import aiosqlite
import anyio

from .._config import DEFAULT_LEASE
from .._errors import StoreError
from .._keys import StoreKey
from .._sources.fileio import Stamp
from .base import Claimed, FailedAttempt, Held, Hit, Lookup, Store, StoredAnswer, storable
from .machine import boot_id, machine_now
from .schema import all_rows, migrate, one

T = TypeVar("T")

# One statement, so atomic with no transaction around it: the claim is taken when no
# answer is stored (unless refreshing) and no one else holds a live claim.
# Named placeholders with a dict: Python 3.14 refuses a sequence bound to numbered ones.
_CLAIM = """
INSERT INTO claims SELECT :scope, :identity, :locale, :owner, :expires, :boot
WHERE :refresh OR NOT EXISTS (
    SELECT 1 FROM answers WHERE scope = :scope AND identity = :identity AND locale = :locale)
ON CONFLICT (scope, identity, locale)
DO UPDATE SET owner = :owner, expires_at = :expires, boot = :boot
WHERE claims.owner = :owner OR claims.boot <> :boot OR claims.expires_at <= :now
RETURNING owner
"""

_KEY = "scope = ? AND identity = ? AND locale = ?"


def _key(key: StoreKey) -> tuple[str, str, str]:
    return key.scope, key.identity, key.locale


class SQLiteStore(Store):
    """Analyses in one SQLite file (WAL mode), safe for several processes on one machine.

    Args:
        path: The file (made, with its folder, when missing).
        lease: Seconds a claim holds others off without being renewed (its holder died).

    >>> client = nr.AsyncClient(store=nr.SQLiteStore("analyses.sqlite"))   # doctest: +SKIP
    """

    def __init__(self, path: str | Path, *, lease: float = DEFAULT_LEASE) -> None:
        super().__init__(lease=lease)
        self.path = Path(path)
        # One connection serves every task of the process: aiosqlite runs its statements
        # one after another, and no statement needs another's company in a transaction.
        self._db: aiosqlite.Connection | None = None
        self._connecting: anyio.Lock | None = None

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    async def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            if self._connecting is None:
                self._connecting = anyio.Lock()
            async with self._connecting:  # the first calls arrive together: connect once
                if self._db is None:
                    self._db = await self._connect()
        return self._db

    async def _connect(self) -> aiosqlite.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.path.parent}: {exc.strerror}") from None
        # Shielded: a connection half-made when the caller is cancelled would be dropped
        # unclosed (its thread and file left behind; Python 3.13 warns of it).
        with anyio.CancelScope(shield=True):
            db = await aiosqlite.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            await db.execute("PRAGMA busy_timeout = 30000")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await migrate(db, self.path)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await db.close()
            raise
        return db

    async def _run(self, what: str, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Every access goes through here; SQLite's errors become one typed error."""
        try:
            return await work(await self._connection())
        except sqlite3.Error as exc:
            raise StoreError(f"the store {self.path} could not {what}: {exc}") from exc

    async def lookup(self, key: StoreKey, owner: str, *, refresh: bool = False) -> Lookup:
        async def work(db: aiosqlite.Connection) -> Lookup:
            now, boot = machine_now(), boot_id()
            # The claim first: a miss (the call that pays) then costs one statement.
            claim = {
                "scope": key.scope,
                "identity": key.identity,
                "locale": key.locale,
                "owner": owner,
                "expires": now + self.lease,
                "refresh": refresh,
                "now": now,
                "boot": boot,
            }
            if await one(db, _CLAIM, claim) is not None:
                return Claimed()
            answer = f"SELECT markdown FROM answers WHERE {_KEY}"
            if not refresh and (found := await one(db, answer, _key(key))) is not None:
                return Hit(found[0])
            expiry = f"SELECT expires_at FROM claims WHERE {_KEY} AND boot = ?"
            held = await one(db, expiry, (*_key(key), boot))
            return Held(min(max(held[0] - now, 0.0), self.lease) if held is not None else 0.0)

        return await self._run("look up an analysis", work)

    async def renew(self, key: StoreKey, owner: str) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                f"UPDATE claims SET expires_at = ?, boot = ? WHERE {_KEY} AND owner = ?",
                (machine_now() + self.lease, boot_id(), *_key(key), owner),
            )
            return cursor.rowcount == 1

        return await self._run("renew a claim", work)

    async def finish(self, key: StoreKey, owner: str, markdown: str, *, source: str) -> None:
        row = (*_key(key), storable(markdown), storable(source), time.time(), owner)
        insert = "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)"
        await self._run("store an answer", lambda db: db.execute(insert, row))

    async def abandon(
        self, key: StoreKey, owner: str, attempt: FailedAttempt, *, source: str
    ) -> None:
        code, message, partial = attempt
        texts = (storable(source), code, storable(message), storable(partial))
        row = (*_key(key), *texts, time.time(), owner)
        insert = "INSERT INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        await self._run("record a failed attempt", lambda db: db.execute(insert, row))

    async def status(self, key: StoreKey) -> Literal["stored", "claimed"] | None:
        async def work(db: aiosqlite.Connection) -> Literal["stored", "claimed"] | None:
            if await one(db, f"SELECT 1 FROM answers WHERE {_KEY}", _key(key)):
                return "stored"
            live = f"SELECT 1 FROM claims WHERE {_KEY} AND boot = ? AND expires_at > ?"
            if await one(db, live, (*_key(key), boot_id(), machine_now())):
                return "claimed"
            return None

        return await self._run("look up an analysis", work)

    async def answers(self, scope: str | None = None) -> AsyncIterator[StoredAnswer]:
        query = (
            "SELECT identity, locale, source, markdown, finished_at FROM answers "
            "WHERE ? IS NULL OR scope = ? ORDER BY source, locale"
        )
        rows = await self._run("list answers", lambda db: all_rows(db, query, (scope, scope)))
        for row in rows:
            yield StoredAnswer(*row)

    async def attempts(self, key: StoreKey) -> list[FailedAttempt]:
        query = f"SELECT code, message, partial FROM attempts WHERE {_KEY} ORDER BY at"
        rows = await self._run("list attempts", lambda db: all_rows(db, query, _key(key)))
        return [FailedAttempt(*row) for row in rows]

    async def recall_identity(self, path: Path, stamp: Stamp) -> str | None:
        """What the file at ``path`` was named when it had this very stamp, if remembered."""
        query = "SELECT identity FROM identities WHERE path = ? AND stamp = ?"
        parameters = (os.fsencode(path), stamp.state())
        found = await self._run("look up a file", lambda db: one(db, query, parameters))
        return None if found is None else str(found[0])

    async def remember_identity(self, path: Path, stamp: Stamp, identity: str) -> None:
        """Remember what the file at ``path`` is while it keeps ``stamp`` (one row a path)."""
        insert = "INSERT OR REPLACE INTO identities VALUES (?, ?, ?)"
        row = (os.fsencode(path), stamp.state(), identity)
        await self._run("remember a file", lambda db: db.execute(insert, row))

    async def aclose(self) -> None:
        # A connection being made as the store closes is waited for, then closed too.
        if self._connecting is not None:
            async with self._connecting:
                db, self._db = self._db, None
        else:
            db, self._db = self._db, None
        if db is not None:
            with anyio.CancelScope(shield=True):
                await db.close()
