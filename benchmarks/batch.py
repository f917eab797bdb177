"""Batch scheduling: how close analyze_many comes to the ideal, with and without rate limits.

1. Latency-bound: N YouTube analyses, a fixed 50 ms answer time, concurrency 32:
   wall time against the ideal N × latency / concurrency (target efficiency ≥ 0.9).
2. A server limit of R calls/s that the client knows: wall time against the ideal, and
   not one 429. The ideal counts the sliding window's first burst: R calls start at once,
   and call R + k no sooner than ceil(k / R) windows later, so (N − R) / R windows for N a
   multiple of R (N / R, used before, flattered the result by a whole window).
3. The same limit, unknown to the client (told 10 × R): 429s wasted, wall time against
   the same ideal.

    python benchmarks/batch.py [--quick] [--repeat N]
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from pathlib import Path

import aiohttp

import nanoreverse as nr
from nanoreverse.testing import EmulatorProcess

sys.path.insert(0, str(Path(__file__).parent))
from _common import arguments, median, report, table


def links(count: int) -> list[str]:
    return [f"https://youtu.be/{i:011d}" for i in range(count)]


async def run_batch(
    emu: EmulatorProcess, count: int, concurrency: int, rate: nr.RateLimit | None
) -> float:
    async with nr.AsyncClient(
        emu.api_key,
        base_url=emu.base_url,
        rate_limit=rate,
        backoff=nr.Backoff(initial=0.05, maximum=0.5, jitter=0.05),
    ) as client:
        started = time.perf_counter()
        async with client.analyze_many(links(count), concurrency=concurrency) as results:
            async for result in results:
                if not result.ok:
                    raise RuntimeError(f"{result.source}: {result.error}")
        return time.perf_counter() - started


async def run_plain(emu: EmulatorProcess, count: int, concurrency: int) -> float:
    """The same latency-bound job as a bare aiohttp loop: what the machine allows."""
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    url = emu.base_url + "/api/sora-2/reverse-prompt"
    queue = iter(links(count))
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()

        async def worker() -> None:
            for link in queue:
                body = {"videoSource": "youtube", "videoUrl": link, "locale": "en"}
                async with session.post(url, json=body, headers=headers) as response:
                    assert response.status == 200
                    await response.text()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def main() -> None:
    args = arguments(__doc__ or "")
    count = 100 if args.quick else 1000
    latency, concurrency = 0.05, 32
    rate_calls = 50 if args.quick else 100
    latency_walls, plain_walls, known, unknown = [], [], [], []
    for _ in range(args.repeat):
        with EmulatorProcess(
            "--rate-limit", "none", "--ttfb", str(latency), "--chunk-bytes", "4096"
        ) as emu:
            latency_walls.append(asyncio.run(run_batch(emu, count, concurrency, None)))
            plain_walls.append(asyncio.run(run_plain(emu, count, concurrency)))
        with EmulatorProcess("--rate-limit", f"{rate_calls}/1", "--chunk-bytes", "4096") as emu:
            wall = asyncio.run(
                run_batch(emu, count, concurrency, nr.RateLimit(rate_calls, per=1.0))
            )
            known.append((wall, emu.stats()["statuses"].get("429", 0)))
        with EmulatorProcess(
            "--rate-limit", f"{rate_calls}/1", "--retry-after", "none", "--chunk-bytes", "4096"
        ) as emu:
            wall = asyncio.run(
                run_batch(emu, count, concurrency, nr.RateLimit(10 * rate_calls, per=1.0))
            )
            unknown.append((wall, emu.stats()["statuses"].get("429", 0)))
    ideal = count * latency / concurrency
    wall, plain_wall = median(latency_walls), median(plain_walls)
    per_rate = math.ceil((count - rate_calls) / rate_calls)  # windows of 1 s
    known_wall, known_429 = median([w for w, _ in known]), max(n for _, n in known)
    unknown_wall, unknown_429 = median([w for w, _ in unknown]), median([n for _, n in unknown])
    rows = [
        [
            f"{count} × 50 ms, concurrency {concurrency}",
            f"{wall:.2f} s",
            f"ideal {ideal:.2f} s",
            f"efficiency {ideal / wall:.2f}",
            "-",
            "≥ 0.9",
        ],
        [
            "  same job, bare aiohttp loop",
            f"{plain_wall:.2f} s",
            f"ideal {ideal:.2f} s",
            f"efficiency {ideal / plain_wall:.2f}",
            "-",
            "(reference)",
        ],
        [
            f"{count} at {rate_calls}/s, limit known",
            f"{known_wall:.2f} s",
            f"ideal {per_rate:.2f} s",
            f"× ideal {known_wall / per_rate:.3f}",
            f"{known_429} × 429",
            "≤ 1.02, 0 × 429",
        ],
        [
            f"{count} at {rate_calls}/s, limit unknown",
            f"{unknown_wall:.2f} s",
            f"ideal {per_rate:.2f} s",
            f"× ideal {unknown_wall / per_rate:.3f}",
            f"{unknown_429:g} × 429",
            f"429s/calls {unknown_429 / count:.3f}",
        ],
    ]
    text = table(
        f"Batch scheduling (median of {args.repeat})",
        ["case", "wall", "reference", "ratio", "429s", "target"],
        rows,
    )
    report(
        "batch",
        args,
        text,
        {
            "count": count,
            "concurrency": concurrency,
            "latency_s": latency,
            "rate_per_s": rate_calls,
            "latency_bound": {
                "wall_s": wall,
                "ideal_s": ideal,
                "efficiency": ideal / wall,
                "plain_aiohttp_wall_s": plain_wall,
                "plain_aiohttp_efficiency": ideal / plain_wall,
            },
            "known_limit": {
                "wall_s": known_wall,
                "ideal_s": per_rate,
                "ratio": known_wall / per_rate,
                "max_429": known_429,
            },
            "unknown_limit": {
                "wall_s": unknown_wall,
                "ideal_s": per_rate,
                "ratio": unknown_wall / per_rate,
                "median_429": unknown_429,
            },
        },
    )


if __name__ == "__main__":
    main()
