"""The limiter's decisions, on a fake clock (no waiting)."""

from __future__ import annotations

import math

import anyio
import pytest

import nanoreverse as nr
from nanoreverse._limits.local import Limiter, Slot


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(calls: int = 3, per: float = 10.0) -> tuple[Limiter, Clock]:
    clock = Clock()
    return Limiter(nr.RateLimit(calls, per=per, margin=0.5), clock=clock), clock


def take(lim: Limiter) -> Slot:
    """A slot the test expects to be free now."""
    slot = lim.try_take()
    assert slot is not None
    return slot


def test_rate_limit_value_object() -> None:
    assert nr.RateLimit(100, per=3600) == nr.RateLimit(100, per=3600.0)
    assert nr.RateLimit(100, per=3600).margin == pytest.approx(3.62)
    assert "calls=100" in repr(nr.RateLimit(100))
    assert nr.RateLimit.parse("5/1") == nr.RateLimit(5, per=1.0)
    for bad in ("x/1", "5/y"):
        with pytest.raises(ValueError, match="CALLS/SECONDS"):
            nr.RateLimit.parse(bad)
    with pytest.raises(ValueError, match="calls"):
        nr.RateLimit(0)
    with pytest.raises(ValueError, match="per"):
        nr.RateLimit(1, per=0)


def test_a_burst_up_to_the_limit_starts_at_once() -> None:
    lim, _ = limiter(3)
    slots = [lim.try_take() for _ in range(3)]
    assert all(slots) and lim.try_take() is None


def test_the_window_slides_from_when_each_call_was_sent() -> None:
    lim, clock = limiter(2, per=10.0)
    first, second = take(lim), take(lim)
    assert first and second
    assert lim.delay() == math.inf  # nothing sent yet: no telling when a place frees
    lim.sent(first)
    clock.now += 2
    lim.sent(second)
    assert lim.delay() == pytest.approx(8.5)  # first sent + per + margin
    clock.now += 8.5
    assert lim.delay() == 0 and lim.try_take() is not None
    assert lim.try_take() is None
    assert lim.delay() == pytest.approx(2.0)


def test_a_call_that_never_left_frees_its_place() -> None:
    lim, _ = limiter(1)
    slot = lim.try_take()
    assert slot and lim.try_take() is None
    lim.release(slot)
    assert lim.try_take() is not None


def test_pause_holds_everyone() -> None:
    lim, clock = limiter(3)
    lim.pause(5)
    assert lim.delay() == pytest.approx(5) and lim.try_take() is None
    clock.now += 5
    assert lim.try_take() is not None


def test_no_rate_limit_means_only_pauses() -> None:
    lim = Limiter(None)
    assert all(lim.try_take() for _ in range(1000))
    assert lim.limit is None and lim.estimate(50) == 0


def test_a_429_without_retry_after_teaches_the_real_limit() -> None:
    lim, clock = limiter(10, per=10.0)
    slots = [take(lim) for _ in range(6)]
    for slot in slots[:4]:
        lim.answered(slot, accepted=True)
    lim.answered(slots[4], accepted=False)
    assert lim.limit == 10  # one refusal is no evidence yet
    lim.answered(slots[5], accepted=False)
    assert lim.limit == 4  # two at the same count: the server takes four in this window
    assert lim.try_take() is None
    clock.now += 10.5
    assert [lim.try_take() is not None for _ in range(5)] == [True] * 4 + [False]


def test_a_429_with_retry_after_does_not_lower_the_rate() -> None:
    lim, _ = limiter(10)
    slot = take(lim)
    lim.answered(slot, accepted=False)  # a 429 with Retry-After: one is no evidence
    assert lim.limit == 10


def test_probing_back_up_after_a_learned_limit() -> None:
    lim, clock = limiter(10, per=10.0)
    slots = [take(lim) for _ in range(4)]
    lim.answered(slots[0], accepted=True)
    lim.answered(slots[1], accepted=True)
    lim.answered(slots[2], accepted=False)
    lim.answered(slots[3], accepted=False)
    assert lim.limit == 2
    # The window slides; fill it again with accepted calls.
    clock.now = 1011.0
    for _ in range(2):
        slot = take(lim)
        assert slot is not None and not slot.probe
        lim.answered(slot, accepted=True)
    assert lim.try_take() is None
    # A probe is due two windows after the 429, even though the window is full.
    clock.now = 1020.0
    probe = take(lim)
    assert probe is not None and probe.probe
    assert lim.try_take() is None  # one probe at a time
    lim.answered(probe, accepted=True)
    assert lim.limit == 3  # the server took one more: the limit goes up


def test_a_refused_probe_doubles_the_wait_before_the_next() -> None:
    lim, clock = limiter(10, per=10.0)
    first, second, third = take(lim), take(lim), take(lim)
    lim.answered(first, accepted=True)
    lim.answered(second, accepted=False)
    lim.answered(third, accepted=False)
    assert lim.limit == 1
    clock.now += 20
    lim.answered(take(lim), accepted=True)  # the window slid: a normal call
    probe = take(lim)
    assert probe is not None and probe.probe
    lim.answered(probe, accepted=False)
    assert lim.limit == 1  # unchanged by a refused probe
    assert lim.delay() == pytest.approx(10.5)  # the window, not the next probe (40 s away)
    clock.now += 10.5
    lim.answered(take(lim), accepted=True)
    assert lim.try_take() is None


def test_estimate_counts_whole_windows() -> None:
    lim, _ = limiter(2, per=10.0)
    assert lim.estimate(2) == 0
    for _ in range(2):
        lim.sent(take(lim))
    assert lim.estimate(1) == pytest.approx(10.5)
    assert lim.estimate(3) == pytest.approx(21.0)


def test_one_429_without_retry_after_does_not_stall_for_a_window() -> None:
    lim, _ = limiter(100, per=3600.0)
    slot = take(lim)
    lim.answered(slot, accepted=False)  # the very first call refused, none accepted yet
    assert lim.limit == 100 and lim.delay() == 0.0
    for _ in range(3):  # several refusals while none is accepted teach nothing either
        lim.answered(take(lim), accepted=False)
    assert lim.limit == 100 and lim.delay() == 0.0


def test_a_refused_call_gives_its_place_back() -> None:
    lim, _ = limiter(3, per=3600.0)
    slots = [take(lim) for _ in range(3)]
    assert lim.try_take() is None
    lim.answered(slots[0], accepted=False)
    assert lim.try_take() is not None  # the server did not count it, nor do we


async def test_a_few_stray_429s_leave_throughput_alone() -> None:
    from nanoreverse.testing import Emulator, Fault

    async with Emulator(rate_limit=None, retry_after=None) as emu:
        emu.script(*([None] * 20), Fault.rate_limited(), *([None] * 40), Fault.rate_limited())
        fast = nr.Backoff(initial=0.01, maximum=0.02, jitter=0)
        async with nr.AsyncClient(
            emu.api_key,
            base_url=emu.base_url,
            backoff=fast,
            rate_limit=nr.RateLimit(1000, per=3600.0),
        ) as client:
            links = [f"https://youtu.be/{n:011d}" for n in range(100)]
            with anyio.fail_after(30):  # a bound: the old limiter waited an hour here
                async with client.analyze_many(links, concurrency=4) as results:
                    done = [r async for r in results]
            limiter = client._parts.limiter
            assert isinstance(limiter, Limiter)
            limit, delay = limiter.limit, limiter.delay()
    assert all(r.ok for r in done) and len(done) == 100
    assert limit == 1000 and delay == 0.0  # no limit learned from two stray refusals
