"""The SQLite store's schema, its version, and bringing an older file up to it.

Every released schema is migrated forward on open, under SQLite's write lock, so two
processes opening an old file at once migrate it once; a file of a newer release is
refused before anything is paid.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from .._errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    markdown TEXT NOT NULL, source TEXT NOT NULL, finished_at REAL NOT NULL,
    finished_by TEXT NOT NULL,
    PRIMARY KEY (scope, identity, locale));
CREATE TABLE IF NOT EXISTS claims (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    owner TEXT NOT NULL, expires_at REAL NOT NULL, boot TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (scope, identity, locale));
CREATE TABLE IF NOT EXISTS attempts (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    source TEXT NOT NULL, code TEXT, message TEXT NOT NULL, partial TEXT NOT NULL,
    at REAL NOT NULL, owner TEXT NOT NULL);
-- What each local file is (its sha256), while it keeps the stamp ("dev:ino:size:mtime:ctime").
CREATE TABLE IF NOT EXISTS identities (
    path BLOB PRIMARY KEY, stamp TEXT NOT NULL, identity TEXT NOT NULL);
-- Storing an answer, or logging an attempt, ends its owner's claim in the same statement.
CREATE TRIGGER IF NOT EXISTS answer_ends_claim AFTER INSERT ON answers BEGIN
    DELETE FROM claims WHERE scope = NEW.scope AND identity = NEW.identity
        AND locale = NEW.locale AND owner = NEW.finished_by;
END;
CREATE TRIGGER IF NOT EXISTS attempt_ends_claim AFTER INSERT ON attempts BEGIN
    DELETE FROM claims WHERE scope = NEW.scope AND identity = NEW.identity
        AND locale = NEW.locale AND owner = NEW.owner;
END;
"""

#: The schema this code writes, kept in ``PRAGMA user_version``. Released ones: 1 (the
#: first store: no ``finished_by``, no ``attempts.owner``), 2 (claims ended by triggers),
#: 3 (``identities``), 4 (``claims.boot``: leases on the machine's monotonic clock; an
#: older claim, timed by the wall clock, counts as expired). Files made before the
#: version was kept read 0 and are told apart by their columns.
SCHEMA_VERSION = 4

# Columns added since schema 1, each with the value an older row gets.
_ADDED_COLUMNS = (
    ("answers", "finished_by", "TEXT NOT NULL DEFAULT ''"),
    ("attempts", "owner", "TEXT NOT NULL DEFAULT ''"),
    ("claims", "boot", "TEXT NOT NULL DEFAULT ''"),
)


async def migrate(db: aiosqlite.Connection, path: Path) -> None:
    """Bring a store file of any released schema up to ``SCHEMA_VERSION``, once, under
    SQLite's write lock (two processes opening an old file at once migrate it once)."""
    found = await one(db, "PRAGMA user_version", ())
    if found is not None and found[0] == SCHEMA_VERSION:
        return
    if found is not None and found[0] > SCHEMA_VERSION:
        raise StoreError(
            f"the store {path} was written by a newer nanoreverse (schema {found[0]}; this "
            f"one knows {SCHEMA_VERSION}): upgrade, or use another --store"
        )
    await db.execute("BEGIN IMMEDIATE")
    try:
        for table, column, kind in _ADDED_COLUMNS:
            columns = {row[1] for row in await all_rows(db, f"PRAGMA table_info({table})", ())}
            if columns and column not in columns:
                await db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.executescript(SCHEMA)  # what is missing (every statement is IF NOT EXISTS)
    await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


Parameters = tuple[object, ...] | dict[str, object]


async def one(db: aiosqlite.Connection, query: str, parameters: Parameters) -> sqlite3.Row | None:
    rows = await all_rows(db, query, parameters)
    return rows[0] if rows else None


async def all_rows(
    db: aiosqlite.Connection, query: str, parameters: Parameters
) -> list[sqlite3.Row]:
    # One trip to aiosqlite's thread per statement (execute, then fetch, would be two).
    return list(await db.execute_fetchall(query, parameters))
