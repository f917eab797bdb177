"""Scale: a thousand answers streaming at once, slowly — client memory, and no errors.

python benchmarks/scale.py [--quick] [--repeat N]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import nanoreverse as nr
from nanoreverse.testing import EmulatorProcess

sys.path.insert(0, str(Path(__file__).parent))
from _common import arguments, current_rss_mib, median, report, run_worker, table


async def run(base_url: str, api_key: str, count: int) -> dict[str, float]:
    async with nr.AsyncClient(
        api_key, base_url=base_url, rate_limit=None, timeout=nr.Timeout(connect=30, read=60)
    ) as client:
        await client.analyze("https://youtu.be/W-15-UmGP5s").text()
        baseline = peak = current_rss_mib()
        started, chars, errors = time.perf_counter(), 0, 0

        async def sample() -> None:
            nonlocal peak
            while True:
                peak = max(peak, current_rss_mib())
                await asyncio.sleep(0.05)

        sampler = asyncio.create_task(sample())
        links = [f"https://youtu.be/{i:011d}" for i in range(count)]
        async with client.analyze_many(links, concurrency=count) as results:
            async for result in results:
                errors += not result.ok
                chars += len(result.markdown)
        wall = time.perf_counter() - started
        sampler.cancel()
    return {"wall_s": wall, "errors": errors, "rss_growth_mib": peak - baseline, "chars": chars}


def main() -> None:
    args = arguments(__doc__ or "")
    count = 100 if args.quick else 1000
    pace = "400"  # characters per second per answer: each answer streams for several seconds
    runs = []
    for _ in range(args.repeat):
        with EmulatorProcess(
            "--rate-limit", "none", "--chars-per-second", pace, "--chunk-bytes", "128"
        ) as emu:
            # A fresh client process each time: memory a previous run freed would hide growth.
            result = run_worker(__file__, emu.base_url, emu.api_key, str(count))
            result["server_max_in_flight"] = emu.stats()["max_in_flight"]
            runs.append(result)
    figures = {key: median([r[key] for r in runs]) for key in runs[0]}
    rows = [
        [
            count,
            f"{figures['server_max_in_flight']:g}",
            f"{figures['wall_s']:.2f}",
            f"{figures['errors']:g}",
            f"{figures['rss_growth_mib']:.1f}",
            f"{figures['rss_growth_mib'] * 1024 / count:.1f}",
        ]
    ]
    text = table(
        f"{count} answers streaming at once at {pace} chars/s each (median of {args.repeat})",
        [
            "streams",
            "server saw at once",
            "wall s",
            "errors",
            "client RSS growth MiB",
            "KiB per stream",
        ],
        rows,
    )
    report("scale", args, text, {"streams": count, **figures})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(asyncio.run(run(sys.argv[2], sys.argv[3], int(sys.argv[4])))))
    else:
        main()
