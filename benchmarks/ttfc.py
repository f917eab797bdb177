"""Time to chunk: from the server writing a piece of the answer to the caller holding it as text.

A small server (in its own process) streams a timestamped line every few milliseconds;
the caller notes when each line reaches it through ``AnalysisStream`` (and, for
reference, through a bare aiohttp read). Both processes read the same monotonic clock.
Target: p99 ≤ 2 ms on loopback.

    python benchmarks/ttfc.py [--quick] [--repeat N]
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

import nanoreverse as nr

sys.path.insert(0, str(Path(__file__).parent))
from _common import arguments, report, table

ENDPOINT = "/api/sora-2/reverse-prompt"
URL = "https://youtu.be/W-15-UmGP5s"


def serve(lines: int, gap: float) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(lines):
            await asyncio.sleep(gap)
            await response.write(f"{time.monotonic_ns()} | 镜头 | ショット |\n".encode())
        await response.write_eof()
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_post(ENDPOINT, handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(json.dumps({"base_url": f"http://127.0.0.1:{port}"}), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def delays(text_pieces: list[tuple[int, str]]) -> list[float]:
    """Milliseconds from each line's stamp to when the piece that completed it arrived."""
    found, pending = [], ""
    for arrived, piece in text_pieces:
        pending += piece
        *lines, pending = pending.split("\n")
        found += [(arrived - int(line.split(" ", 1)[0])) / 1e6 for line in lines]
    return found


async def measure(base_url: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    async with nr.AsyncClient("key", base_url=base_url, rate_limit=None) as client:
        pieces = []
        async with client.analyze(URL) as stream:
            async for chunk in stream:
                pieces.append((time.monotonic_ns(), chunk))
        out["nanoreverse"] = delays(pieces)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            base_url + ENDPOINT, json={"videoSource": "youtube", "videoUrl": URL}
        ) as response:
            raw = []
            async for data in response.content.iter_any():
                raw.append((time.monotonic_ns(), data.decode("utf-8", "replace")))
        out["plain aiohttp"] = delays(raw)
    return out


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    args = arguments(__doc__ or "")
    lines = 50 if args.quick else 400
    gap = 0.005
    collected: dict[str, list[float]] = {"nanoreverse": [], "plain aiohttp": []}
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(lines), str(gap)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = json.loads(server.stdout.readline())["base_url"]
        for _ in range(args.repeat):
            for name, values in asyncio.run(measure(base_url)).items():
                collected[name] += values
    finally:
        server.terminate()
        server.wait(10)
    rows = [
        [name, len(v), f"{percentile(v, 0.5):.3f}", f"{percentile(v, 0.99):.3f}", f"{max(v):.3f}"]
        for name, v in collected.items()
    ]
    text = table(
        f"Time from the server's write to the caller's chunk, ms "
        f"({lines} lines × {args.repeat} runs, "
        "target p99 ≤ 2 ms)",
        ["reader", "lines", "p50 ms", "p99 ms", "max ms"],
        rows,
    )
    report(
        "ttfc",
        args,
        text,
        {
            name: {
                "p50_ms": percentile(v, 0.5),
                "p99_ms": percentile(v, 0.99),
                "max_ms": max(v),
                "lines": len(v),
            }
            for name, v in collected.items()
        },
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), float(sys.argv[3]))
    else:
        main()
