"""A store that cannot write never costs a paid answer (#29): old schemas migrate forward,
any file name is kept, and an answer the store refuses still reaches the caller, with
``store_error`` saying so."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import pytest

import nanoreverse as nr
from nanoreverse.testing import Emulator, Fault

from .helpers import CLIPS, YT, client_for

# The schemas released before the version was kept in PRAGMA user_version.
SCHEMA_1 = """
CREATE TABLE answers (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    markdown TEXT NOT NULL, source TEXT NOT NULL, finished_at REAL NOT NULL,
    PRIMARY KEY (scope, identity, locale));
CREATE TABLE claims (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    owner TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (scope, identity, locale));
CREATE TABLE attempts (
    scope TEXT NOT NULL, identity TEXT NOT NULL, locale TEXT NOT NULL,
    source TEXT NOT NULL, code TEXT, message TEXT NOT NULL, partial TEXT NOT NULL,
    at REAL NOT NULL);
"""
SCHEMA_2 = SCHEMA_1.replace(
    "finished_at REAL NOT NULL,\n", "finished_at REAL NOT NULL,\n    finished_by TEXT NOT NULL,\n"
).replace("at REAL NOT NULL);", "at REAL NOT NULL, owner TEXT NOT NULL);")
# Schema 3 added the identities table and began to keep PRAGMA user_version; its claims
# expired by the wall clock.
SCHEMA_3 = (
    SCHEMA_2
    + "CREATE TABLE identities (path BLOB PRIMARY KEY, stamp TEXT NOT NULL, "
    + "identity TEXT NOT NULL);\nPRAGMA user_version = 3;\n"
)


def old_store(path: Path, schema: str, emulator: Emulator) -> None:
    """A store file as an older release left it, holding one finished answer."""
    key = nr.StoreKey(_scope(emulator), "youtube:W-15-UmGP5s", "en")
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(schema)
        columns = [row[1] for row in db.execute("PRAGMA table_info(answers)")]
        row: dict[str, object] = {"scope": key.scope, "identity": key.identity}
        row |= {"locale": key.locale}
        row |= {"markdown": "| 1 | kept from before |", "source": YT, "finished_at": 1.0}
        row |= {"finished_by": "old"}
        db.execute(
            f"INSERT INTO answers VALUES ({', '.join('?' for _ in columns)})",
            [row[c] for c in columns],
        )
        db.commit()


def _scope(emulator: Emulator) -> str:
    # The scope of the emulator's key, as the client computes it (no private import).
    return nr.AsyncClient(emulator.api_key).scope


@pytest.mark.parametrize(
    "schema", [SCHEMA_1, SCHEMA_2, SCHEMA_3], ids=["schema-1", "schema-2", "schema-3"]
)
async def test_a_store_of_any_released_schema_is_migrated_and_keeps_its_answers(
    emulator: Emulator, tmp_path: Path, schema: str
) -> None:
    path = tmp_path / "analyses.sqlite"
    old_store(path, schema, emulator)
    async with client_for(emulator, nr.SQLiteStore(path)) as client:
        kept = client.analyze(YT)
        assert await kept.text() == "| 1 | kept from before |" and kept.cached
        fresh = client.analyze(CLIPS[0])
        await fresh.text()
        assert fresh.store_error is None and not fresh.cached
        assert (await client.plan(CLIPS[0])).action == "stored"
        emulator.script(Fault.error("VIDEO_PROCESSING_FAILED"))  # logged in attempts
        with pytest.raises(nr.VideoProcessingError):
            await client.analyze(CLIPS[1], locale="ja").text()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (4,)
    assert len(emulator.requests) == 2


async def test_a_store_from_a_newer_release_is_refused_not_written(
    emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "analyses.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 99")
    async with client_for(emulator, nr.SQLiteStore(path)) as client:
        with pytest.raises(nr.StoreError, match="newer nanoreverse"):
            await client.analyze(YT).text()
    assert emulator.requests == []  # nothing paid: the store could not say what is stored


async def test_a_file_name_that_is_not_utf8_is_stored_and_not_paid_again(
    emulator: Emulator, tmp_path: Path
) -> None:
    name = os.fsdecode(b"caf\xe9.mp4")
    video = tmp_path / name
    video.write_bytes(CLIPS[0].read_bytes())
    store = nr.SQLiteStore(tmp_path / "analyses.sqlite")
    async with client_for(emulator, store) as client:
        first = client.analyze(video)
        text = await first.text()
        assert first.store_error is None
        again = client.analyze(video)
        assert await again.text() == text and again.cached
    assert len(emulator.requests) == 1


class RefusingStore(nr.SQLiteStore):
    """A store that looks and claims, but cannot record an answer (a full disk)."""

    async def finish(self, key: nr.StoreKey, owner: str, markdown: str, *, source: str) -> None:
        raise nr.StoreError("database or disk is full")


class BrokenStore(nr.SQLiteStore):
    """A user's store with a bug: not even a StoreError."""

    async def finish(self, key: nr.StoreKey, owner: str, markdown: str, *, source: str) -> None:
        raise UnicodeEncodeError("utf-8", source, 0, 1, "surrogates not allowed")


@pytest.mark.parametrize("store_class", [RefusingStore, BrokenStore])
async def test_an_answer_the_store_cannot_keep_still_reaches_the_caller(
    emulator: Emulator, tmp_path: Path, store_class: type[nr.SQLiteStore]
) -> None:
    async with client_for(emulator, store_class(tmp_path / "a.sqlite")) as client:
        stream = client.analyze(YT)
        text = await stream.text()
        assert text == emulator.requests[0].answer
        assert isinstance(stream.store_error, nr.StoreError)
        async with client.analyze_many([CLIPS[0]]) as results:
            [result] = [r async for r in results]
        assert result.ok and result.paid and isinstance(result.store_error, nr.StoreError)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:pa55word@127.0.0.1:1/0",
        "redis://user:pa55word@127.0.0.1:1/0",
        "redis://127.0.0.1:1/0?password=pa55word",
        "rediss://127.0.0.1:1/0?db=0&password=pa55word",
    ],
)
async def test_a_redis_password_is_in_no_text_repr_or_error(emulator: Emulator, url: str) -> None:
    store = nr.RedisStore(url)
    rate = nr.RateLimit(5, shared=url)
    assert "pa55word" not in repr(store) + repr(rate)
    async with client_for(emulator, store) as client:
        with pytest.raises(nr.StoreError) as caught:
            await client.analyze(YT).text()
    assert "pa55word" not in str(caught.value) and "***" in str(caught.value)
    assert emulator.requests == []


async def test_a_redis_that_evicts_keys_is_warned_about(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    from nanoreverse.testing import RedisServer, redis_server_binary

    with RedisServer(redis_server_binary(), "--maxmemory-policy", "allkeys-lru") as server:
        async with client_for(emulator, nr.RedisStore(server.url)) as client:
            await client.analyze(YT).text()
    warned = [r.getMessage() for r in caplog.records if "evicts keys" in r.getMessage()]
    assert len(warned) == 1 and "allkeys-lru" in warned[0]


async def test_the_shared_limit_reconnects_after_a_redis_restart(emulator: Emulator) -> None:
    # #29 item 5: after a restart, calls failed with StoreError until the process ended.
    from nanoreverse.testing import RedisServer

    with RedisServer() as server:
        rate = nr.RateLimit(100, per=3600, shared=server.url, namespace="restart")
        async with nr.AsyncClient(
            emulator.api_key, base_url=emulator.base_url, rate_limit=rate
        ) as client:
            await client.analyze(YT).text()
            server.restart()
            await client.analyze("https://youtu.be/aaaaaaaaaaa").text()
    assert len(emulator.requests) == 2


async def test_the_shared_limit_stays_under_the_servers_after_a_redis_restart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # #29 item 5: a restart emptied the shared window, and the fleet started a window's
    # worth of calls the server still counted: 429s. Each process puts its places back.
    from nanoreverse.testing import RedisServer

    server_limit = nr.RateLimit(4, per=3.0)
    async with Emulator(rate_limit=server_limit) as emulator:
        with RedisServer() as server:
            rate = nr.RateLimit(4, per=3.0, shared=server.url, namespace="restart")
            async with nr.AsyncClient(
                emulator.api_key, base_url=emulator.base_url, rate_limit=rate
            ) as client:
                links = [f"https://youtu.be/restart{n:04d}" for n in range(8)]
                async with client.analyze_many(links[:4], concurrency=4) as results:
                    assert all([r.ok async for r in results])
                server.restart()  # no persistence: the window, the epoch, all gone
                async with client.analyze_many(links[4:], concurrency=4) as results:
                    assert all([r.ok async for r in results])
        assert emulator.statuses()[429] == 0 and emulator.statuses()[200] == 8
    assert any("put its 4 places back" in r.getMessage() for r in caplog.records)
