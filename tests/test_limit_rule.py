"""One learning rule, two backends: every behaviour below runs against the in-process
limiter and the one shared on a real Redis (#27). Windows of an hour: nothing slides
while a test runs, so the decisions depend on the rule alone."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import nanoreverse as nr
from nanoreverse._limits.choice import RateLimiter, make_limiter


@pytest.fixture(params=["local", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    shared = None
    if request.param == "redis":
        shared = request.getfixturevalue("redis_url")
    rate = nr.RateLimit(10, per=3600.0, shared=shared, namespace=f"rule-{uuid.uuid4().hex[:8]}")
    made = make_limiter(rate, "scope")
    yield made
    await made.aclose()


async def calls(limiter: RateLimiter, *verdicts: bool) -> None:
    """Start one call per verdict, all at once, then answer them in order."""
    slots: list[Any] = [await limiter.acquire() for _ in verdicts]
    for slot in slots:
        limiter.sent(slot)
    for slot, accepted in zip(slots, verdicts, strict=True):
        limiter.answered(slot, accepted=accepted)
    await limiter.flush()


async def test_two_refusals_at_one_count_teach_that_count(limiter: RateLimiter) -> None:
    await calls(limiter, True, True, True, True, False)
    assert await limiter.learned_limit() is None  # one refusal is no evidence yet
    await calls(limiter, False)
    assert await limiter.learned_limit() == 4


async def test_refusals_at_about_one_count_teach_the_larger(limiter: RateLimiter) -> None:
    await calls(limiter, True, True, True, True, False, True, False)  # 4, then 5: a burst
    assert await limiter.learned_limit() == 5


async def test_refusals_far_apart_in_count_teach_nothing(limiter: RateLimiter) -> None:
    await calls(limiter, True, False, True, True, True, True, True, False)  # 1, then 6
    assert await limiter.learned_limit() is None


async def test_refusals_while_none_was_accepted_teach_nothing(limiter: RateLimiter) -> None:
    await calls(limiter, False, False, False)
    assert await limiter.learned_limit() is None


async def test_more_accepted_than_learned_raises_the_limit(limiter: RateLimiter) -> None:
    # Two refusals at two accepted teach 2; then a call already on its way when the limit
    # was learned is accepted too: the server took more than we thought.
    await calls(limiter, True, True, False, False, True)
    assert await limiter.learned_limit() == 3


async def test_a_learned_limit_holds_calls_back(limiter: RateLimiter) -> None:
    await calls(limiter, True, True, False, False)
    waits: list[float] = []
    with pytest.raises(TimeoutError), anyio.fail_after(0.3):
        await limiter.acquire(on_wait=waits.append)
    assert waits and waits[0] > 60  # the window's next place, not now


async def test_a_refused_call_gives_its_place_back(limiter: RateLimiter) -> None:
    await calls(limiter, *([True] * 9), False)
    slot = await limiter.acquire()  # the tenth place, freed by the refusal
    limiter.release(slot)
    await limiter.flush()


CLOSE_AFTER_A_LAST_UPDATE = """
import asyncio, sys
import nanoreverse as nr
from nanoreverse._limits.shared import RedisLimiter

async def at_once() -> None:
    pass

async def main() -> None:
    limiter = RedisLimiter(nr.RateLimit(10, per=60, shared=sys.argv[1]), "scope")
    limiter._later(at_once())
    await asyncio.sleep(0)  # the update ends on this turn; its done callback runs after us
    await limiter.aclose()

asyncio.run(main())
"""


def test_closing_right_after_the_last_update_ends(redis_url: str) -> None:
    # A fleet process printed its summary and never exited (CI, Python 3.12 and 3.13):
    # closing waited on an update that had ended but was not yet forgotten, and since 3.12
    # gather() over done tasks returns without yielding, so the loop never turned to forget
    # it. In a process of its own: that bug spins the event loop, which no timeout escapes.
    done = subprocess.run(
        [sys.executable, "-c", CLOSE_AFTER_A_LAST_UPDATE, redis_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
