"""Fleet: P processes sharing one API key's limit on Redis, against a server limit of R per window.

P = 1, 2, 4, 8 processes each make N calls (distinct links, instant answers, concurrency
4), all told the server's real limit and sharing it through a real redis-server. They
start together at an agreed moment; the fleet's wall time is compared with the ideal:
the first R start at once (a sliding window allows that burst), and call R + k can start
no sooner than ceil(k / R) windows later, so the ideal is ceil((N·P − R) / R) windows
((N·P − R) / R, as a fluid rate would have it, is below what any sliding window allows
when N·P − R is not a multiple of R).
Also the 429s the server answered (target: none), the Redis round trips per call, and
the limiter time per call: the time spent in the round trips that decide whether a call
may start (those a call waits on; target ≤ 1 ms on loopback).

    python benchmarks/fleet.py [--quick] [--repeat N]
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nanoreverse as nr
from nanoreverse._limits.shared import RedisLimiter
from nanoreverse.testing import EmulatorProcess, RedisServer

sys.path.insert(0, str(Path(__file__).parent))
from _common import arguments, median, report, table


async def worker(
    index: int, calls: int, rate: str, base_url: str, key: str, redis: str | None, at: float
) -> dict[str, float]:
    limit = nr.RateLimit.parse(rate)
    # One namespace per fleet run: the emulator of each run starts with an empty window,
    # so the shared one must too (the previous run's last places would otherwise hold
    # this run's first calls for up to a window, a cost of the harness, not the limiter).
    shared = nr.RateLimit(limit.calls, per=limit.per, shared=redis, namespace=f"bench-{at}")
    spent = 0.0
    real_eval = RedisLimiter._eval

    async def timed(self: RedisLimiter, what: str, *args: Any) -> Any:
        # Only the decision a call waits on; the updates after an answer run in the
        # background and delay no call.
        nonlocal spent
        started = time.perf_counter()
        try:
            return await real_eval(self, what, *args)
        finally:
            if what == "take a rate-limit slot":
                spent += time.perf_counter() - started

    RedisLimiter._eval = timed  # type: ignore[method-assign, assignment]
    sources = [f"https://www.youtube.com/watch?v={index:04d}{n:07d}" for n in range(calls)]
    async with nr.AsyncClient(key, base_url=base_url, rate_limit=shared) as client:
        limiter = client._parts.limiter
        if isinstance(limiter, RedisLimiter):
            warm = [real_eval(limiter, "connect", "return 1", [], []) for _ in range(8)]
            await asyncio.gather(*warm)  # the pool's connections, opened before the clock
            limiter.round_trips = 0
        await asyncio.sleep(max(at - time.time(), 0))
        cpu = time.process_time()
        async with client.analyze_many(sources, concurrency=4) as results:
            async for result in results:
                assert result.ok, result.error
        await limiter.aclose()  # the answers' updates, sent in the background, count too
        cpu = time.process_time() - cpu
        trips = limiter.round_trips if isinstance(limiter, RedisLimiter) else 0
    return {"finished": time.time(), "round_trips": trips, "redis_s": spent, "cpu_s": cpu}


def run_fleet(
    processes: int, calls: int, rate: str, emu: EmulatorProcess, redis: str | None
) -> dict[str, float]:
    at = time.time() + 1.5  # every process has started and connected by then
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                json.dumps([p, calls, rate, emu.base_url, emu.api_key, redis, at]),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in range(processes)
    ]
    outputs = [json.loads(run.communicate(timeout=600)[0].strip().splitlines()[-1]) for run in runs]
    total = processes * calls
    return {
        "wall_s": max(o["finished"] for o in outputs) - at,
        "round_trips_per_call": sum(o["round_trips"] for o in outputs) / total,
        "redis_ms_per_call": sum(o["redis_s"] for o in outputs) / total * 1e3,
        "cpu_ms_per_call": sum(o["cpu_s"] for o in outputs) / total * 1e3,
    }


def limiter_cpu(calls: int, rate: str, redis: str, repeat: int) -> dict[str, float]:
    """Client CPU per call that sharing the limit costs: one process, paired runs with the
    shared and the in-process limiter (a limit the calls never reach, so both run freely)."""
    shared, local = [], []
    for _ in range(repeat):
        with EmulatorProcess("--rate-limit", "none") as emu:
            shared.append(run_fleet(1, calls, rate, emu, redis)["cpu_ms_per_call"])
            local.append(run_fleet(1, calls, rate, emu, None)["cpu_ms_per_call"])
    extra = [a - b for a, b in zip(shared, local, strict=True)]
    return {"median": median(extra), "min": min(extra), "max": max(extra)}


def main() -> None:
    args = arguments(__doc__ or "")
    calls_per_window, window = (10, 0.5) if args.quick else (20, 2.0)
    calls = 10 if args.quick else 30
    counts = (1, 2) if args.quick else (1, 2, 4, 8)
    rate = f"{calls_per_window}/{window}"
    rows, figures = [], {}
    with RedisServer() as redis:
        cost = limiter_cpu(50 if args.quick else 400, "100000/1", redis.url, args.repeat)
        for processes in counts:
            samples, refused = [], []
            for _ in range(args.repeat):
                with EmulatorProcess("--rate-limit", rate, "--retry-after", "seconds") as emu:
                    samples.append(run_fleet(processes, calls, rate, emu, redis.url))
                    refused.append(int(emu.stats()["statuses"].get("429", 0)))
            total = processes * calls
            ideal = math.ceil(max(total - calls_per_window, 0) / calls_per_window) * window
            wall = median([s["wall_s"] for s in samples])
            figure = {
                "wall_s": wall,
                "ideal_s": ideal,
                "x_ideal": wall / ideal if ideal else None,
                "429s": max(refused),
                "round_trips_per_call": median([s["round_trips_per_call"] for s in samples]),
                "decision_wall_ms_per_call": median([s["redis_ms_per_call"] for s in samples]),
            }
            figures[str(processes)] = figure
            rows.append(
                [
                    processes,
                    total,
                    f"{wall:.2f}",
                    f"{ideal:.2f}",
                    f"{figure['x_ideal']:.3f}" if ideal else "—",
                    max(refused),
                    f"{figure['round_trips_per_call']:.2f}",
                    f"{figure['decision_wall_ms_per_call']:.3f}",
                ]
            )
    text = table(
        f"Fleet: processes × {calls} calls sharing a key, server limit {rate} s "
        f"(median of {args.repeat}; targets ≤ 1.05 × ideal, no 429). Limiter CPU per call, "
        f"shared minus in-process, paired runs: {cost['median']:.3f} ms "
        f"({cost['min']:.3f}–{cost['max']:.3f}; target ≤ 1 ms)",
        [
            "processes",
            "calls",
            "wall s",
            "ideal s",
            "× ideal",
            "429s",
            "Redis trips/call",
            "deciding trip, wall ms/call",
        ],
        rows,
    )
    figures_all = {"rate": rate, "calls_per_process": calls, "limiter_cpu_ms_per_call": cost}
    report("fleet", args, text, {**figures_all, "by_processes": figures})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(asyncio.run(worker(*json.loads(sys.argv[2])))))
    else:
        main()
