"""Per-call overhead: analyses per second of instant answers, the client pinned to one core.

nanoreverse against a plain aiohttp loop making the same requests (same concurrency,
same JSON body, reading the same answer), interleaved; the emulator runs on the other
core. Target: ≥ 0.8 × the plain loop. Also the client's CPU time per call, and its
ratio: with the emulator on the other core sometimes the slower side, calls/s can
hide client cost that CPU per call shows.

    python benchmarks/overhead.py [--quick] [--repeat N]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aiohttp

import nanoreverse as nr
from nanoreverse.testing import EmulatorProcess

sys.path.insert(0, str(Path(__file__).parent))
from _common import arguments, median, report, table

URL = "https://www.youtube.com/watch?v=W-15-UmGP5s"
CONCURRENCY = 8


async def ours(base_url: str, key: str, count: int) -> tuple[float, float]:
    async with nr.AsyncClient(key, base_url=base_url, rate_limit=None) as client:
        await client.analyze(URL).text()
        cpu, wall = time.process_time(), time.perf_counter()
        async with client.analyze_many([URL] * count, concurrency=CONCURRENCY) as results:
            async for result in results:
                assert result.ok, result.error
        return time.perf_counter() - wall, time.process_time() - cpu


async def plain(base_url: str, key: str, count: int) -> tuple[float, float]:
    body = json.dumps({"videoSource": "youtube", "videoUrl": URL, "locale": "en"})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:

        async def one() -> str:
            async with session.post(
                base_url + "/api/sora-2/reverse-prompt", data=body, headers=headers
            ) as r:
                assert r.status == 200
                return await r.text()

        await one()
        remaining = count
        cpu, wall = time.process_time(), time.perf_counter()

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await one()

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    args = arguments(__doc__ or "")
    count = 300 if args.quick else 6000  # runs of seconds: shorter ones were mostly noise
    pairs = 1 if args.quick else max(args.repeat, 7)
    pinned = hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2
    samples: dict[str, list[tuple[float, float]]] = {"nanoreverse": [], "plain aiohttp": []}
    ratios = []
    with EmulatorProcess("--rate-limit", "none", "--chunk-bytes", "4096") as emu:
        if pinned:
            os.sched_setaffinity(0, {0})
            os.sched_setaffinity(emu.pid, {1})
        for index in range(pairs):
            # Pairs run back to back, in alternating order: this machine's speed drifts by a
            # quarter over minutes, so only a ratio taken within a pair means anything.
            first, second = (ours, plain) if index % 2 == 0 else (plain, ours)
            a = asyncio.run(first(emu.base_url, emu.api_key, count))
            b = asyncio.run(second(emu.base_url, emu.api_key, count))
            mine, theirs = (a, b) if first is ours else (b, a)
            samples["nanoreverse"].append(mine)
            samples["plain aiohttp"].append(theirs)
            ratios.append(theirs[0] / mine[0])
    rates = {name: median([count / wall for wall, _ in runs]) for name, runs in samples.items()}
    cpu = {name: median([cpu / count * 1e3 for _, cpu in runs]) for name, runs in samples.items()}
    ratio = median(ratios)
    rows = [[name, f"{rates[name]:.0f}", f"{cpu[name]:.3f}"] for name in samples]
    cpu_ratio = cpu["plain aiohttp"] / cpu["nanoreverse"]
    rows.append(["nanoreverse / plain (median of pair ratios)", f"{ratio:.2f}", f"{cpu_ratio:.2f}"])
    rows.append(["target", "≥ 0.8", "(client alone; ≥ 0.8)"])
    text = table(
        f"Per-call overhead, {count} instant answers, concurrency {CONCURRENCY}, "
        f"client on one core ({pairs} pairs; pinned: {pinned}; "
        f"pair ratios {min(ratios):.2f}–{max(ratios):.2f})",
        ["client", "calls/s", "CPU ms/call"],
        rows,
    )
    report(
        "overhead",
        args,
        text,
        {
            "count": count,
            "pairs": pairs,
            "calls_per_s": rates,
            "cpu_ms_per_call": cpu,
            "ratio": ratio,
            "cpu_ratio": cpu_ratio,
            "pair_ratios": ratios,
            "pinned": pinned,
        },
    )


if __name__ == "__main__":
    main()
