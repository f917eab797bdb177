"""analyze_many against the emulator: fan-out, laziness, order, limits, budgets, events."""

from __future__ import annotations

import asyncio
import gc
import itertools
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest

import nanoreverse as nr
from nanoreverse.testing import Emulator, EmulatorProcess, Fault, InstantClock

from .helpers import CLIPS, eventually

Make = Callable[..., nr.AsyncClient]


def links(count: int, start: int = 0) -> list[str]:
    return [f"https://youtu.be/{i:011d}" for i in range(start, start + count)]


async def collect(client: nr.AsyncClient, sources: Any, **kw: Any) -> list[nr.Result]:
    async with client.analyze_many(sources, **kw) as results:
        return [result async for result in results]


async def test_concurrency_is_reached_and_never_exceeded(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.ttfb = 0.1
    results = await collect(client, links(12), concurrency=4)
    assert emulator.max_in_flight == 4
    assert sorted(r.index for r in results) == list(range(12))
    assert all(r.ok and r.attempts == 1 and "| 1 |" in r.markdown for r in results)


async def test_results_come_in_completion_order_or_input_order(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    # The first video is slow: unordered, it comes last; ordered, first.
    emulator.script(Fault.stall(0.3), *[None] * 5)
    unordered = await collect(client, links(6), concurrency=3)
    assert unordered[-1].index == 0
    emulator.script(Fault.stall(0.3), *[None] * 5)
    ordered = await collect(client, links(6), concurrency=3, ordered=True)
    assert [r.index for r in ordered] == list(range(6))


async def test_one_failure_never_stops_the_batch(
    client: nr.AsyncClient, emulator: Emulator, tmp_path: Any
) -> None:
    emulator.script(None, Fault.internal_error())
    sources = [*links(2), "https://www.youtube.com/@channel", tmp_path / "missing.mp4", 42, *CLIPS]
    results = {r.index: r for r in await collect(client, sources, concurrency=1)}
    assert len(results) == len(sources)
    assert isinstance(results[1].error, nr.InternalServerError)
    assert isinstance(results[2].error, nr.InvalidYouTubeURLError) and results[2].attempts == 0
    assert isinstance(results[3].error, nr.InvalidInputError) and results[3].error.preflight
    assert isinstance(results[4].error, TypeError)
    assert all(results[i].ok for i in (0, 5, 6, 7))
    # Preflight errors cost no network call.
    assert len(emulator.requests) == 2 + len(CLIPS)
    assert results[5].analysis.shots  # parsed on demand


async def test_sources_are_pulled_lazily(client: nr.AsyncClient, emulator: Emulator) -> None:
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        for i in itertools.count():
            pulled += 1
            yield f"https://youtu.be/{i:011d}"

    async with client.analyze_many(endless(), concurrency=4) as results:
        got = 0
        async for _ in results:
            got += 1
            if got == 10:
                break
    assert 10 <= pulled <= 10 + 4 + 1
    assert len(emulator.requests) <= 10 + 4


async def test_async_iterables_work(client: nr.AsyncClient) -> None:
    async def feed() -> AsyncIterator[str]:
        for link in links(5):
            await asyncio.sleep(0)
            yield link

    results = await collect(client, feed(), concurrency=2, locale="fr")
    assert len(results) == 5 and all(r.ok and r.locale == "fr" for r in results)
    assert "Mouvement de caméra" in results[0].markdown


@pytest.fixture
async def far_client() -> AsyncIterator[tuple[nr.AsyncClient, Emulator]]:
    """A client of an emulator in another thread, so this loop's tasks are the client's alone."""
    with Emulator(rate_limit=None).in_thread() as emu:
        async with nr.AsyncClient(emu.api_key, base_url=emu.base_url, rate_limit=None) as client:
            yield client, emu


async def test_leaving_early_cancels_in_flight_work_and_leaves_no_task(
    far_client: tuple[nr.AsyncClient, Emulator],
) -> None:
    client, emulator = far_client
    emulator.script(None, *[Fault.stall(10.0)] * 10)
    before = asyncio.all_tasks()
    async with client.analyze_many(links(20), concurrency=4) as results:
        async for _ in results:
            break
    await asyncio.sleep(0.05)
    assert asyncio.all_tasks() == before
    # The client is still usable at once: nothing it holds waits on the stalled calls.
    emulator.reset()
    assert "| 1 |" in await asyncio.wait_for(client.analyze(links(1)[0]).text(), 2.0)


async def test_cancelling_the_consumer_cancels_the_batch(
    far_client: tuple[nr.AsyncClient, Emulator],
) -> None:
    client, emulator = far_client
    emulator.script(*[Fault.stall(10.0)] * 10)
    before = asyncio.all_tasks()

    async def consume() -> None:
        async with client.analyze_many(links(10), concurrency=3) as results:
            async for _ in results:
                pass  # pragma: no cover - nothing finishes

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.05)
    assert asyncio.all_tasks() == before


async def test_max_credits_never_starts_more_than_the_budget(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.ttfb = 0.05
    emulator.script(Fault.error("INVALID_VIDEO_URL"))  # a refused call costs nothing
    async with client.analyze_many(links(20), concurrency=4, max_credits=5) as results:
        got = [r async for r in results]
    assert sum(r.ok for r in got) == 5 and len(got) == 6
    assert results.stats.budget_exhausted and results.stats.credits_spent == 5
    assert emulator.credits_used() == 5 and emulator.max_in_flight <= 4


@pytest.mark.parametrize("fault", [Fault.internal_error(), Fault.bad_gateway()])
async def test_a_5xx_after_the_whole_request_counts_against_the_budget(
    client: nr.AsyncClient, emulator: Emulator, fault: Fault
) -> None:
    # Not retried (the server had the whole request: it may have charged), so it must not
    # be handed back to max_credits either: the two rules are one (nr.may_have_been_paid).
    emulator.script(fault, fault)
    async with client.analyze_many(links(5), concurrency=1, max_credits=3) as results:
        got = [r async for r in results]
    assert [r.paid for r in got] == [True, True, True]
    assert sum(r.ok for r in got) == 1 and results.stats.credits_spent == 3
    assert len(emulator.requests) == 3  # the budget of 3 was never overspent


def test_one_rule_decides_may_have_been_paid() -> None:
    paid = nr.may_have_been_paid
    assert paid(None) and paid(nr.StreamInterruptedError("cut", partial_text="| 1 |"))
    assert paid(nr.InternalServerError("page", status=502))
    assert paid(nr.VideoProcessingError("bad", status=422))
    assert paid(nr.APIConnectionError("lost after sending"))
    assert not paid(nr.APIConnectionError("refused", request_sent=False))
    assert not paid(nr.RateLimitError("slow", status=429))
    assert not paid(nr.ServiceUnavailableError("busy", status=503))
    assert not paid(nr.InvalidFormatError("not mp4", status=400))
    assert not paid(nr.InvalidFormatError("not mp4", preflight=True))
    assert not paid(nr.StoreError("locked")) and not nr.StoreError("locked").preflight


async def test_zero_credits_starts_nothing(client: nr.AsyncClient, emulator: Emulator) -> None:
    async with client.analyze_many(links(3), max_credits=0) as results:
        assert [r async for r in results] == []
    assert results.stats.budget_exhausted and emulator.requests == []


async def test_live_chunks_and_progress_events(client: nr.AsyncClient, emulator: Emulator) -> None:
    emulator.chunk_bytes = 40
    emulator.chars_per_second = 20_000
    emulator.script(Fault.service_unavailable())
    events: list[Any] = []
    results = await collect(client, links(3), concurrency=2, on_event=events.append)
    kinds = {type(e).__name__ for e in events}
    assert {"Queued", "Started", "Retrying", "Chunk", "Finished"} <= kinds
    for result in results:
        text = "".join(
            e.text for e in events if isinstance(e, nr.Chunk) and e.index == result.index
        )
        assert text == result.markdown
    retry = next(e for e in events if isinstance(e, nr.Retrying))
    assert isinstance(retry.error, nr.ServiceUnavailableError) and retry.wait >= 0
    assert sum(isinstance(e, nr.Finished) for e in events) == 3


def test_bad_arguments_are_refused_at_once() -> None:
    client = nr.AsyncClient("k", base_url="https://example.com")
    wrong: list[tuple[str, Any, type[Exception]]] = [
        ("concurrency", 0, ValueError),
        ("concurrency", True, ValueError),
        ("max_credits", -1, ValueError),
        ("locale", "xx", nr.InvalidInputError),
    ]
    for name, value, error in wrong:
        with pytest.raises(error, match=name):
            client.analyze_many([], **{name: value})  # the call itself: no `async with` needed
    with pytest.raises(TypeError, match="many sources"):
        asyncio.run(_enter(client, "one.mp4"))


async def _enter(client: nr.AsyncClient, sources: Any) -> None:
    async with client.analyze_many(sources):
        pass  # pragma: no cover


# -- the rate limit, end to end ----------------------------------------------------


async def test_a_known_limit_is_never_exceeded() -> None:
    rate = nr.RateLimit(5, per=1.0)  # 0.5 s met a 429 at a window edge on a loaded CI
    async with Emulator(rate_limit=rate) as emu:
        async with nr.AsyncClient(emu.api_key, base_url=emu.base_url, rate_limit=rate) as client:
            async with client.analyze_many(links(16), concurrency=8) as batch:
                assert batch.eta(16) is None  # nothing measured yet
                results = []
                async for result in batch:
                    results.append(result)
                    if len(results) == 5:
                        # 11 to go at 5 a second: the ETA is the rate limit's, not latency's.
                        eta = batch.eta(11)
                assert batch.eta(0) == 0.0
    assert all(r.ok and r.attempts == 1 for r in results)
    assert emu.statuses() == {200: 16}  # not a single 429
    assert eta is not None and eta >= 0.4
    waited = [r for r in results if r.rate_limit_wait > 0.3]
    assert len(waited) >= 10  # the later ones did wait for the window


async def test_a_429_with_retry_after_pauses_every_worker() -> None:
    async with Emulator(rate_limit=None, ttfb=0.05) as emu:
        async with nr.AsyncClient(
            emu.api_key,
            base_url=emu.base_url,
            rate_limit=nr.RateLimit(100, per=60),
            backoff=nr.Backoff(initial=0.01, jitter=0),
        ) as client:
            emu.script(Fault.rate_limited(retry_after=2))
            results = await collect(client, links(8), concurrency=4)
    assert all(r.ok for r in results)
    rejected = next(r for r in emu.requests if r.status == 429)
    assert rejected.ended is not None
    later = [r for r in emu.requests if r.started > rejected.ended]
    # Requests already on their way when the 429 was sent may still land; after that,
    # nobody starts anything until Retry-After has passed.
    in_transit = [r for r in later if r.started < rejected.ended + 0.2]
    waited = [r for r in later if r.started >= rejected.ended + 1.95]
    assert len(in_transit) <= 3 and len(in_transit) + len(waited) == len(later)
    assert len(waited) >= 5 and len(emu.requests) == 9


async def test_an_unknown_lower_limit_is_found_with_few_429s() -> None:
    async with Emulator(rate_limit=nr.RateLimit(4, per=1.0), retry_after=None) as emu:
        async with nr.AsyncClient(
            emu.api_key,
            base_url=emu.base_url,
            rate_limit=nr.RateLimit(100, per=1.0),
            backoff=nr.Backoff(initial=0.02, maximum=0.05, jitter=0),
        ) as client:
            results = await collect(client, links(24), concurrency=6)
            learned = client._parts.limiter.limit  # type: ignore[attr-defined]  # the in-process Limiter
    assert all(r.ok for r in results)
    statuses = emu.statuses()
    assert statuses[200] == 24
    assert statuses[429] * 4 <= sum(statuses.values())  # at most 1 call in 4 wasted
    assert learned == 4
    # Once found, the limit holds: the only 429s in the second half are the probes for a
    # higher limit, whose waits double (two windows, then four: at most two in this run).
    tail = emu.requests[len(emu.requests) // 2 :]
    assert sum(r.status == 429 for r in tail) <= 2


@pytest.mark.slow
async def test_ten_thousand_instant_answers_with_flat_memory() -> None:
    with EmulatorProcess("--rate-limit", "none", "--chunk-bytes", "4096") as emu:
        async with nr.AsyncClient(emu.api_key, base_url=emu.base_url, rate_limit=None) as client:
            count, blocks = 0, {}
            async with client.analyze_many(
                itertools.repeat(links(1)[0], 10_000), concurrency=16
            ) as results:
                async for result in results:
                    assert result.ok
                    count += 1
                    if count in (1_000, 10_000):
                        gc.collect()
                        blocks[count] = sys.getallocatedblocks()
        assert emu.stats()["max_in_flight"] <= 16
    assert count == 10_000
    # Live memory blocks after 10,000 results are what they were after 1,000: anything
    # kept per call would add at least 9,000 (tracemalloc would triple the run time).
    assert blocks[10_000] - blocks[1_000] < 3_000, blocks


async def test_stop_on_account_error_starts_no_new_call(emulator: Emulator) -> None:
    async with nr.AsyncClient(
        "sk-wrong", base_url=emulator.base_url, rate_limit=None, clock=InstantClock()
    ) as client:
        async with client.analyze_many(
            links(20), concurrency=2, stop_on_account_error=True
        ) as results:
            got = [r async for r in results]
    assert isinstance(results.stats.stopped_by, nr.AuthenticationError)
    assert len(got) <= 2 and len(emulator.requests) <= 2  # those already started, then none


# -- what may stop a batch, and what it costs ---------------------------------------


def completed(emulator: Emulator) -> int:
    """Answers the emulator sent in full."""
    return sum(record.completed for record in emulator.requests)


async def test_a_bad_source_of_any_shape_is_one_failed_result(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    bad: list[Any] = [
        nr.VideoURL(None),  # type: ignore[arg-type]
        nr.YouTube(3),  # type: ignore[arg-type]
        nr.VideoBytes(None),  # type: ignore[arg-type]
        nr.VideoBytes(b"x", filename=None),  # type: ignore[arg-type]
        "clip\0.mp4",
        None,
    ]
    results = {r.index: r for r in await collect(client, [*bad, *links(2)], concurrency=3)}
    assert len(results) == len(bad) + 2
    kinds = [type(results[i].error) for i in range(len(bad))]
    assert kinds == [
        nr.InvalidVideoURLError,
        nr.InvalidYouTubeURLError,
        nr.InvalidInputError,
        nr.InvalidInputError,
        nr.InvalidInputError,
        TypeError,
    ]
    assert all(r.ok for i, r in results.items() if i >= len(bad))
    assert len(emulator.requests) == 2


async def test_a_raising_source_generator_ends_the_batch_after_the_calls_in_flight(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.ttfb = 0.2

    def sources() -> Iterator[str]:
        yield from links(3)
        raise RuntimeError("the database cursor went away")

    got: list[nr.Result] = []
    with pytest.raises(RuntimeError, match="cursor went away"):  # itself, not a group
        async with client.analyze_many(sources(), concurrency=3) as results:
            async for result in results:
                got.append(result)
    # The three calls in flight when the generator raised were finished and delivered.
    assert sorted(r.index for r in got) == [0, 1, 2] and all(r.ok for r in got)
    assert completed(emulator) == 3


async def test_a_raising_async_source_ends_the_batch_the_same_way(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    async def sources() -> AsyncIterator[str]:
        for link in links(2):
            yield link
        raise LookupError("no more pages")

    with pytest.raises(LookupError):
        await collect(client, sources(), concurrency=2)
    assert completed(emulator) == 2


async def test_a_raising_callback_stops_new_calls_and_finishes_those_in_flight(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.ttfb = 0.1
    after_raising = 0
    raised = False

    def on_event(event: nr.Event) -> None:
        nonlocal after_raising, raised
        after_raising += raised
        if isinstance(event, nr.Finished):
            raised = True
            raise KeyError("a bug in the progress bar")

    got: list[nr.Result] = []
    with pytest.raises(KeyError, match="progress bar"):
        async with client.analyze_many(links(10), concurrency=3, on_event=on_event) as results:
            async for result in results:
                got.append(result)
    # No call was cut short: each one started was answered in full and delivered.
    assert len(got) == completed(emulator) == len(emulator.requests) < 10
    assert all(r.ok for r in got)
    assert after_raising == 0  # a callback that broke is not called again


async def test_the_callers_own_exception_comes_out_as_itself(client: nr.AsyncClient) -> None:
    with pytest.raises(ValueError, match="mine"):
        async with client.analyze_many(links(3)) as results:
            async for _ in results:
                raise ValueError("mine")


async def test_stop_lets_the_calls_in_flight_finish(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.ttfb = 0.2
    async with client.analyze_many(links(20), concurrency=4) as results:
        got = []
        async for result in results:
            got.append(result)
            results.stop()
    assert len(got) == 4 and all(r.ok and not r.stopped for r in got)
    assert completed(emulator) == 4


async def test_stop_now_delivers_the_calls_in_flight_with_their_text(
    client: nr.AsyncClient, emulator: Emulator
) -> None:
    emulator.chars_per_second = 2000
    emulator.chunk_bytes = 50
    started = 0

    def on_event(event: nr.Event) -> None:
        nonlocal started
        started += isinstance(event, nr.Chunk)

    async with client.analyze_many(links(20), concurrency=3, on_event=on_event) as results:
        await eventually(lambda: started >= 6)  # every call has begun to answer
        results.stop(now=True)
        got = [result async for result in results]
    assert len(got) == 3
    for result in got:
        assert result.stopped and result.paid and result.markdown
        assert isinstance(result.error, nr.StreamInterruptedError)
        assert result.error.partial_text == result.markdown
    assert results.stats.credits_spent == 3


async def test_stop_sends_nothing_more_for_calls_still_waiting_their_turn(
    make_client: Make, emulator: Emulator
) -> None:
    emulator.ttfb = 0.2
    client = make_client(rate_limit=nr.RateLimit(2, per=3600))
    async with client.analyze_many(links(6), concurrency=4) as results:
        got = []
        async for result in results:
            got.append(result)
            results.stop()
    # Two calls were sent and finish; the two waiting for the limiter never go out.
    assert len(got) == 2 and all(r.ok for r in got)
    assert len(emulator.requests) == 2


@pytest.mark.parametrize("retry_after", [None, "seconds"])
async def test_the_first_bursts_refusals_teach_the_limit_without_another_storm(
    retry_after: Any,
) -> None:
    # #29 item 16: a server limit the client was not told (4/s), 16 calls at concurrency
    # 8. The first burst's refusals are evidence enough; after it, only probes may fail.
    limit = nr.RateLimit(4, per=1.0)
    async with Emulator(rate_limit=limit, retry_after=retry_after) as emu:
        async with nr.AsyncClient(
            emu.api_key,
            base_url=emu.base_url,
            rate_limit=nr.RateLimit(100, per=1.0),
            backoff=nr.Backoff(initial=0.05, maximum=0.2, jitter=0),
        ) as client:
            results = await collect(client, links(16), concurrency=8)
            learned = client._parts.limiter.limit  # type: ignore[attr-defined]
    assert all(r.ok for r in results) and learned == 4
    first_refusal = min(r.started for r in emu.requests if r.status == 429)
    later = [r for r in emu.requests if r.status == 429 and r.started > first_refusal + 0.5]
    burst = sum(r.status == 429 for r in emu.requests) - len(later)
    assert burst <= 8 - 4  # no more than were in flight beyond the limit at once
    assert len(later) <= 1  # then one probe at most in this short run: no second storm


@pytest.mark.parametrize("kind", ["list", "generator"])
async def test_a_huge_concurrency_starts_no_more_tasks_than_there_are_sources(
    client: nr.AsyncClient, kind: str
) -> None:
    # #29 item 8: one task per unit of concurrency, up front: 10**6 for one source took
    # 71 s and 3.4 GiB, 10**7 was killed for memory.
    tasks: list[int] = []
    sources = links(3) if kind == "list" else (link for link in links(3))

    def on_event(event: nr.Event) -> None:
        tasks.append(len(asyncio.all_tasks()))

    with anyio.fail_after(20):
        async with client.analyze_many(sources, concurrency=10**12, on_event=on_event) as results:
            done = [r async for r in results]
    assert len(done) == 3 and all(r.ok for r in done)
    assert max(tasks) < 40, max(tasks)
