"""The store of analyses: pay once per video across calls, tasks and clients (real SQLite file,
real redis-server), against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from aiohttp import web

import nanoreverse as nr
from nanoreverse._store import Claimed, Held, Hit, StoreKey, scope_of
from nanoreverse.testing import Emulator, Fault, RedisServer

from .helpers import CLIPS, YT, client_for, eventually

CLIP = CLIPS[0]

StoreFactory = Callable[..., nr.Store]


def paid(emulator: Emulator) -> int:
    return sum(1 for r in emulator.requests if r.status == 200)


async def test_a_stored_answer_replays_with_no_request(
    emulator: Emulator, store_factory: StoreFactory
) -> None:
    async with client_for(emulator, store_factory()) as client:
        first = client.analyze(CLIP)
        text = await first.text()
        assert not first.cached and first.attempts == 1
        again = client.analyze(CLIP)
        shots = [shot async for shot in again.shots()]
        assert again.cached and again.attempts == 0
        assert again.received_text == text and len(shots) >= 1
    assert len(emulator.requests) == 1


async def test_a_new_client_on_the_same_store_pays_nothing(
    emulator: Emulator, store_factory: StoreFactory
) -> None:
    async with client_for(emulator, store_factory()) as client:
        text = await client.analyze(CLIP).text()
    async with client_for(emulator, store_factory()) as client:
        stream = client.analyze(CLIP)
        assert await stream.text() == text and stream.cached
    assert len(emulator.requests) == 1


async def test_refresh_asks_again_and_replaces(
    emulator: Emulator, store_factory: StoreFactory
) -> None:
    async with client_for(emulator, store_factory()) as client:
        await client.analyze(YT).text()
        fresh = client.analyze(YT, refresh=True)
        await fresh.text()
        assert not fresh.cached and fresh.attempts == 1
        assert (await _cached(client, YT)).cached
    assert len(emulator.requests) == 2


async def _cached(client: nr.AsyncClient, source: nr.SourceLike) -> nr.AnalysisStream:
    stream = client.analyze(source)
    await stream.text()
    return stream


async def test_the_key_is_what_the_video_is_and_the_locale(
    emulator: Emulator, store_factory: StoreFactory, tmp_path: Path
) -> None:
    copy = tmp_path / "renamed-copy.mp4"
    copy.write_bytes(CLIP.read_bytes())
    async with client_for(emulator, store_factory()) as client:
        await client.analyze(CLIP).text()
        assert (await _cached(client, copy)).cached  # same bytes, another path
        assert (await _cached(client, nr.VideoBytes(CLIP.read_bytes()))).cached
        assert not (
            await _cached(
                client,
                CLIP,
            )
        ).attempts
        ja = client.analyze(CLIP, locale="ja")
        await ja.text()
        assert not ja.cached  # another language is another answer
        await client.analyze("https://www.youtube.com/watch?v=W-15-UmGP5s&t=3").text()
        assert (await _cached(client, YT)).cached  # another form of the same YouTube link
    assert len(emulator.requests) == 3


async def test_identical_calls_at_once_share_one_request_live(
    store_factory: StoreFactory,
) -> None:
    async with Emulator(rate_limit=None, chars_per_second=4000, chunk_bytes=64) as emulator:
        async with client_for(emulator, store_factory()) as client:
            first_chunks: list[bool] = []

            async def one() -> str:
                async with client.analyze(CLIP) as stream:
                    parts: list[str] = []
                    async for chunk in stream:
                        if not parts:  # the server is still writing when the first piece arrives
                            first_chunks.append(not emulator.requests[0].completed)
                        parts.append(chunk)
                    return "".join(parts)

            texts = await asyncio.gather(*(one() for _ in range(5)))
    assert len(emulator.requests) == 1
    assert len(set(texts)) == 1 and "| 1 |" in texts[0]
    assert first_chunks == [True] * 5


async def test_another_holders_claim_is_waited_for_not_paid_again(
    store_factory: StoreFactory,
) -> None:
    async with Emulator(rate_limit=None, chars_per_second=20000) as emulator:
        # Two clients with their own stores stand for two processes.
        async with (
            client_for(emulator, store_factory()) as one,
            client_for(emulator, store_factory()) as two,
        ):
            first = asyncio.create_task(one.analyze(CLIP).text())
            await eventually(lambda: emulator.requests)
            second = two.analyze(CLIP)
            text = await second.text()
            assert text == await first
            assert second.cached
    assert len(emulator.requests) == 1


async def test_a_claim_whose_holder_died_is_taken_over_after_its_lease(
    emulator: Emulator, store_factory: StoreFactory, tmp_path: Path
) -> None:
    store = store_factory(lease=0.3)
    key = StoreKey(scope_of(emulator.api_key), "youtube:W-15-UmGP5s", "en")
    async with store:
        assert not isinstance(await store.lookup(key, "a-process-that-dies"), Hit)
    async with client_for(emulator, store_factory(lease=0.3)) as client:
        stream = client.analyze(YT)
        await stream.text()
        assert stream.attempts == 1  # it waited for the lease to run out, then paid once
    assert len(emulator.requests) == 1


async def test_a_long_answer_keeps_its_claim_alive(store_factory: StoreFactory) -> None:
    # The answer takes more than three leases to stream: the holder renews (every third of a
    # lease), so nobody takes over. Leases of 0.2 s and 0.3 s flaked on loaded machines (a
    # renewal, a thread's round trip, came that late); 1 s leaves room and the answer still
    # spans several leases.
    async with Emulator(rate_limit=None, chars_per_second=200, ttfb=0.3) as emulator:
        async with (
            client_for(emulator, store_factory(lease=1.0)) as one,
            client_for(emulator, store_factory(lease=1.0)) as two,
        ):
            first = asyncio.create_task(one.analyze(CLIP).text())
            await eventually(lambda: emulator.requests)
            assert await two.analyze(CLIP).text() == await first
            assert emulator.requests[0].ended - emulator.requests[0].started > 3 * 1.0  # type: ignore[operator]
    assert len(emulator.requests) == 1


async def test_a_dropped_stream_still_stores_its_answer_for_the_next_caller(
    store_factory: StoreFactory,
) -> None:
    # A paying stream dropped unread and never closed: its answer is paid for, so the
    # client reads it to its end and stores it; the next caller (another process) waits
    # for that answer instead of paying again. The claim ends with the answer. Nobody dies
    # here: the lease need only outlast a renewal made late on a loaded machine (at 0.3 s,
    # one lapsed in CI and the second caller paid again).
    async with Emulator(rate_limit=None, chars_per_second=200) as emulator:
        async with (
            client_for(emulator, store_factory(lease=5)) as one,
            client_for(emulator, store_factory(lease=5)) as two,
        ):
            dropped = one.analyze(CLIP)
            await dropped.__aenter__()
            await dropped.__anext__()
            del dropped
            gc.collect()
            stream = two.analyze(CLIP)
            assert await stream.text() == emulator.requests[0].answer
            assert stream.attempts == 0 and stream.cached
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("ending", ["whole", "broken off"])
async def test_a_store_lost_mid_answer_costs_the_caller_nothing_it_paid_for(
    emulator: Emulator, redis_url: str, ending: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The store goes away while the paid answer streams. The caller still gets the whole
    # answer, or the answer's own error with its text: a StoreError in their place would
    # throw away what was paid for. The lost record is only logged.
    if ending == "broken off":
        emulator.script(Fault.drop_after(300))
    with RedisServer() as server:
        client = client_for(emulator, nr.RedisStore(server.url, namespace="lost"))
        async with client:
            stream = client.analyze(CLIP)
            first = await stream.__anext__()
            server.__exit__(None, None, None)  # redis-server stopped, mid-answer
            if ending == "whole":
                text = await stream.text()
                length = emulator.requests[0].video_duration
                assert text == emulator.answer_for(CLIP.read_bytes(), duration=length)
                assert "received but could not be stored" in caplog.text
            else:
                with pytest.raises(nr.StreamInterruptedError) as caught:
                    await stream.text()
                assert caught.value.partial_text.startswith(first)
                assert "could not be logged" in caplog.text
    assert len(emulator.requests) == 1


async def test_only_whole_answers_are_stored(
    emulator: Emulator, store_factory: StoreFactory
) -> None:
    store = store_factory()
    async with client_for(emulator, store) as client:
        emulator.script(Fault.drop_after(200))
        with pytest.raises(nr.StreamInterruptedError) as caught:
            await client.analyze(YT).text()
        key = StoreKey(scope_of(emulator.api_key), "youtube:W-15-UmGP5s", "en")
        attempts = await store.attempts(key)
        assert [attempt.partial for attempt in attempts] == [caught.value.partial_text]
        assert all(isinstance(attempt, nr.FailedAttempt) for attempt in attempts)
        stream = client.analyze(YT)
        await stream.text()
        assert not stream.cached and stream.attempts == 1  # the broken answer was not served
        assert (await _cached(client, YT)).cached
    assert len(emulator.requests) == 2


async def test_a_paid_answer_nobody_reads_to_its_end_is_still_stored(
    emulator: Emulator, store_factory: StoreFactory
) -> None:
    # The consumer stops after one chunk (a web request whose browser went away): the
    # answer is paid for, so the client reads it to its end and stores it.
    async with client_for(emulator, store_factory()) as client:
        async with client.analyze(YT) as stream:
            await stream.__anext__()
        again = client.analyze(YT)
        text = await again.text()
        assert again.cached and text == emulator.requests[0].answer
    assert len(emulator.requests) == 1


async def test_a_cancelled_paying_call_still_stores_its_answer(
    store_factory: StoreFactory,
) -> None:
    # Cancelled mid-answer: the answer is paid for, so it is read to its end and stored,
    # and the next caller gets it at once instead of waiting out a lease of a minute.
    store = store_factory(lease=60)
    async with Emulator(rate_limit=None, chars_per_second=2000) as emulator:
        async with client_for(emulator, store) as client:
            stream = client.analyze(YT)
            # An anyio scope, as a task group's: its cancellation hits every await after it.
            async with anyio.create_task_group() as group:
                group.start_soon(stream.text)
                await eventually(lambda: stream.received_text)
                group.cancel_scope.cancel()
            with anyio.fail_after(10):  # far under the lease: nobody waits for it
                again = client.analyze(YT)
                assert await again.text() == emulator.requests[0].answer
                assert again.cached
            key = StoreKey(scope_of(emulator.api_key), "youtube:W-15-UmGP5s", "en")
            assert await store.attempts(key) == []
    assert len(emulator.requests) == 1


async def test_one_callers_disconnect_never_cuts_off_the_calls_that_follow_it(
    store_factory: StoreFactory,
) -> None:
    # #28: the first caller's browser goes away mid-answer; the identical calls that follow
    # the one paid request still get the whole answer.
    async with Emulator(rate_limit=None, chars_per_second=3000, chunk_bytes=64) as emulator:
        async with client_for(emulator, store_factory()) as client:
            first = client.analyze(CLIP)
            gone = anyio.CancelScope()
            texts: list[str] = []

            async def leader() -> None:
                with gone:
                    async with first:
                        async for _ in first:
                            pass

            async def follow(stream: nr.AnalysisStream) -> None:
                texts.append(await stream.text())

            followers = [client.analyze(CLIP) for _ in range(3)]
            async with anyio.create_task_group() as group:
                group.start_soon(leader)
                await eventually(lambda: first.received_text)
                for stream in followers:
                    group.start_soon(follow, stream)
                await anyio.sleep(0.05)
                gone.cancel()  # the first caller goes away, mid-answer
            assert not emulator.requests[0].completed or first.received_text
            assert texts == [emulator.requests[0].answer] * 3
            assert all(s.cached and s.attempts == 0 for s in followers)
    assert len(emulator.requests) == 1


async def test_a_failure_is_recorded_with_its_error_code(
    emulator: Emulator, store_factory: StoreFactory
) -> None:
    store = store_factory()
    async with client_for(emulator, store) as client:
        emulator.script(Fault.error("VIDEO_PROCESSING_FAILED"))
        with pytest.raises(nr.VideoProcessingError):
            await client.analyze(YT).text()
        key = StoreKey(scope_of(emulator.api_key), "youtube:W-15-UmGP5s", "en")
        assert [a.code for a in await store.attempts(key)] == ["VIDEO_PROCESSING_FAILED"]
        assert not (await _cached(client, YT)).cached  # and the next call may try again


async def test_bad_input_is_refused_before_the_store_or_the_network(
    emulator: Emulator, store_factory: StoreFactory, tmp_path: Path
) -> None:
    async with client_for(emulator, store_factory()) as client:
        with pytest.raises(nr.InvalidFormatError) as caught:
            await client.analyze(nr.VideoBytes(b"not a video at all")).text()
    assert caught.value.preflight and not emulator.requests


async def test_an_unreachable_redis_is_a_store_error_and_nothing_is_paid(
    emulator: Emulator,
) -> None:
    store = nr.RedisStore("redis://:secret@127.0.0.1:1/0")  # nothing listens on port 1
    async with client_for(emulator, store) as client:
        with pytest.raises(nr.StoreError) as caught:
            await client.analyze(YT).text()
    assert not emulator.requests
    assert "secret" not in str(caught.value) and "secret" not in repr(store)


@pytest.mark.parametrize("damage", ["parent is a file", "not a database"])
async def test_an_unusable_sqlite_file_is_a_store_error_and_nothing_is_paid(
    emulator: Emulator, tmp_path: Path, damage: str
) -> None:
    if damage == "parent is a file":
        (tmp_path / "file").write_text("x")
        path = tmp_path / "file" / "analyses.sqlite"
    else:
        path = tmp_path / "analyses.sqlite"
        path.write_bytes(b"this is not SQLite" * 100)
    async with client_for(emulator, nr.SQLiteStore(path)) as client:
        with pytest.raises(nr.StoreError):
            await client.analyze(YT).text()
    assert not emulator.requests


def test_an_answer_stored_just_before_its_process_is_killed_is_kept(tmp_path: Path) -> None:
    # Commits do not wait for the disk, yet nothing a killed process committed is lost:
    # only the machine's power going could take it back.
    path = tmp_path / "analyses.sqlite"
    child = textwrap.dedent(
        f"""
        import asyncio, os, signal
        import nanoreverse as nr
        from nanoreverse._store import Claimed, StoreKey

        async def main():
            store = nr.SQLiteStore({str(path)!r})
            key = StoreKey("scope", "yt:abcdefghijk", "en")
            assert isinstance(await store.lookup(key, "owner"), Claimed)
            await store.finish(key, "owner", "| 1 | kept |", source="link")
            os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint, no exit handler

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert (tmp_path / "analyses.sqlite-wal").stat().st_size > 0  # still only in the log

    async def read_back() -> object:
        async with nr.SQLiteStore(path) as store:
            return await store.lookup(StoreKey("scope", "yt:abcdefghijk", "en"), "someone else")

    assert asyncio.run(read_back()) == Hit("| 1 | kept |")


def test_a_claim_made_with_a_wrong_wall_clock_holds_others_off_only_its_lease(
    tmp_path: Path,
) -> None:
    # A process whose wall clock was an hour ahead takes a 1 s claim and is killed. The
    # lease runs on the machine's monotonic clock, so another process takes the claim
    # over after 1 s, not after an hour (it had waited past 60 s on a 3 s lease).
    path = tmp_path / "analyses.sqlite"
    child = textwrap.dedent(
        f"""
        import asyncio, os, signal, time
        import nanoreverse as nr
        from nanoreverse._store import Claimed, StoreKey

        real = time.time
        time.time = lambda: real() + 3600  # this process's wall clock is an hour ahead

        async def main():
            store = nr.SQLiteStore({str(path)!r}, lease=1)
            key = StoreKey("scope", "yt:abcdefghijk", "en")
            assert isinstance(await store.lookup(key, "skewed"), Claimed)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()

    async def take_over() -> list[object]:
        key = StoreKey("scope", "yt:abcdefghijk", "en")
        async with nr.SQLiteStore(path, lease=1) as store:
            seen: list[object] = [await store.lookup(key, "me")]
            while not isinstance(seen[-1], Claimed):
                assert isinstance(seen[-1], Held) and seen[-1].retry_in <= 1.0
                assert len(seen) < 50, seen  # bounded: at most the lease, then it is ours
                await asyncio.sleep(seen[-1].retry_in + 0.05)
                seen.append(await store.lookup(key, "me"))
            return seen

    seen = asyncio.run(take_over())
    assert isinstance(seen[0], Held) and len(seen) <= 3


async def test_the_api_key_is_in_no_store_file_key_or_value(
    emulator: Emulator, store_factory: StoreFactory, redis_url: str, tmp_path: Path
) -> None:
    store = store_factory()
    async with client_for(emulator, store) as client:
        await client.analyze(CLIP).text()
        emulator.script(Fault.drop_after(100))
        with pytest.raises(nr.StreamInterruptedError):
            await client.analyze(YT).text()
    secret = emulator.api_key.encode()
    if isinstance(store, nr.SQLiteStore):
        for path in tmp_path.glob("analyses.sqlite*"):
            assert secret not in path.read_bytes()
        with contextlib.closing(sqlite3.connect(store.path)) as db:
            dump = "\n".join(db.iterdump()).encode()
        assert secret not in dump and b"success" not in dump
        return
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        names = [name async for name in redis.scan_iter(match=f"{store.namespace}:*")]  # type: ignore[attr-defined]
        assert names
        for name in names:
            assert secret not in name
            kind = await redis.type(name)
            if kind == b"hash":
                values = list((await redis.hgetall(name)).values())
            elif kind == b"list":
                values = await redis.lrange(name, 0, -1)
            else:
                values = [await redis.get(name) or b""]
            assert all(secret not in value for value in values)
    finally:
        await redis.aclose()


async def test_a_json_error_in_a_200_is_raised_not_stored(tmp_path: Path) -> None:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        body = {"success": False, "error": "quota", "errorCode": "INSUFFICIENT_CREDITS"}
        return web.json_response(body, status=200)

    app = web.Application()
    app.router.add_post("/api/sora-2/reverse-prompt", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    store = nr.SQLiteStore(tmp_path / "a.sqlite")
    try:
        async with nr.AsyncClient(
            "key", base_url=f"http://127.0.0.1:{port}", rate_limit=None, store=store
        ) as client:
            for _ in range(2):
                with pytest.raises(nr.InsufficientCreditsError):
                    await client.analyze(YT).text()
    finally:
        await runner.cleanup()
    with contextlib.closing(sqlite3.connect(store.path)) as db:
        assert db.execute("SELECT count(*) FROM answers").fetchone() == (0,)


async def test_answers_lists_what_is_stored(
    emulator: Emulator, store_factory: StoreFactory
) -> None:
    store = store_factory()
    async with client_for(emulator, store) as client:
        await client.analyze(CLIP).text()
        await client.analyze(YT, locale="ja").text()
        listed = [a async for a in store.answers(scope_of(emulator.api_key))]
    assert sorted((a.locale, a.source) for a in listed) == [("en", str(CLIP)), ("ja", YT)]
    assert all("| 1 |" in a.markdown for a in listed)


async def test_many_different_videos_at_once_through_one_store(
    emulator: Emulator, store_factory: StoreFactory, tmp_path: Path
) -> None:
    paths = []
    for index in range(12):
        path = tmp_path / f"v{index}.mp4"
        path.write_bytes(CLIPS[index % 3].read_bytes() + bytes([index]))
        paths.append(path)
    async with client_for(emulator, store_factory()) as client:
        async with client.analyze_many(paths * 2, concurrency=8) as results:
            done = [result async for result in results]
    assert all(result.ok for result in done), [r.error for r in done if not r.ok]
    assert sum(not result.cached for result in done) == 12
    assert len(emulator.requests) == 12


async def test_a_store_cancelled_while_connecting_closes_what_it_opened(tmp_path: Path) -> None:
    # Every path closes its connection: Python 3.13 turns one left open into a
    # ResourceWarning, which this suite raises as an error.
    key = StoreKey(scope_of("k"), "youtube:W-15-UmGP5s", "en")
    for delay in (0, 0.001, 0.005):
        store = nr.SQLiteStore(tmp_path / f"cancelled-{delay}.sqlite")
        with anyio.move_on_after(delay):
            await store.lookup(key, "me")
        await store.aclose()
        gc.collect()


async def test_a_store_whose_file_is_not_a_database_closes_on_the_error(tmp_path: Path) -> None:
    path = tmp_path / "analyses.sqlite"
    path.write_bytes(b"this is not an SQLite file at all" * 100)
    store = nr.SQLiteStore(path)
    with pytest.raises(nr.StoreError):
        await store.lookup(StoreKey(scope_of("k"), "youtube:W-15-UmGP5s", "en"), "me")
    await store.aclose()
    gc.collect()


async def test_plan_says_what_a_call_would_do_and_sends_nothing(
    emulator: Emulator, store_factory: StoreFactory, tmp_path: Path
) -> None:
    (tmp_path / "notes.mp4").write_text("not a video")
    async with client_for(emulator, store_factory()) as client:
        first = await client.plan(CLIP)
        assert first.action == "pay" and first.key is not None
        assert first.key.identity.startswith("sha256:")
        refused = await client.plan(tmp_path / "notes.mp4")
        assert refused.action == "refused" and isinstance(refused.error, nr.InvalidFormatError)
        assert emulator.requests == []
        await client.analyze(CLIP).text()
        assert (await client.plan(CLIP)).action == "stored"
        assert (await client.plan(CLIP, refresh=True)).action == "pay"
        assert (await client.plan(CLIP, locale="ja")).action == "pay"
    assert len(emulator.requests) == 1


async def test_one_contents_failure_goes_to_all_its_paths_with_one_call(
    emulator: Emulator, store_factory: StoreFactory, tmp_path: Path
) -> None:
    # #29 item 15: a content that failed (a 422) was sent again through its second path
    # in the same run: two calls, perhaps two credits, for one video.
    first, second = tmp_path / "a.mp4", tmp_path / "copy-of-a.mp4"
    first.write_bytes(CLIP.read_bytes())
    second.write_bytes(CLIP.read_bytes())
    emulator.script(Fault.error("VIDEO_PROCESSING_FAILED"))
    async with client_for(emulator, store_factory()) as client:
        async with client.analyze_many([first, second], concurrency=1) as results:
            done = [r async for r in results]
    assert [type(r.error) for r in done] == [nr.VideoProcessingError] * 2
    assert [r.attempts for r in done] == [1, 0] and [r.paid for r in done] == [True, False]
    assert len(emulator.requests) == 1


@pytest.mark.parametrize("with_store", [True, False])
async def test_an_empty_200_is_an_error_and_never_stored(tmp_path: Path, with_store: bool) -> None:
    # #29 item 14: an empty 200 was stored as a finished answer and served for ever.
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200, text="")

    app = web.Application()
    app.router.add_post("/api/sora-2/reverse-prompt", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    store = nr.SQLiteStore(tmp_path / "a.sqlite") if with_store else None
    try:
        async with nr.AsyncClient(
            "key", base_url=f"http://127.0.0.1:{port}", rate_limit=None, store=store
        ) as client:
            for _ in range(2):  # the second asks again: nothing was stored
                stream = client.analyze(YT)
                with pytest.raises(nr.StreamInterruptedError, match="no text at all"):
                    await stream.text()
                assert stream.attempts == 1 and not stream.cached
    finally:
        await runner.cleanup()
