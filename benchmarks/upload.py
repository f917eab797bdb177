"""Upload: 1, 4 and 16 concurrent uploads of a 30 MiB MP4 — throughput, CPU and memory.

Three ways, each run in a fresh client process, against a server in another process:
- nanoreverse: the video streamed from disk as base64 in pieces;
- vendor: the vendor helper's real way: read the whole file, base64 it, json.dumps,
  blocking urllib, one thread per upload;
- limit: the same request already encoded in memory, written in 512 KiB slices with a
  Content-Length: what the loopback, aiohttp and the server allow at best.

The three are interleaved run by run (this machine's speed drifts), and every ratio is
the median (min–max) of ``--repeat`` paired runs. A run uploads at least ``RUN_BYTES``
(the file again and again, ``count`` always in flight): one 30 MiB upload to the raw sink
takes 15 ms, too short for the noise not to decide the ratio. Memory is the peak RSS growth over the
state after a warm-up call, with the peak reset first (``/proc/self/clear_refs``): a
child process inherits its parent's ``ru_maxrss``, which hides any growth under it.
CPU is the client process's own (all threads) per GiB of video uploaded.

Two servers: a raw sink (reads and discards each body; the real yardstick) and the
emulator with --skip-decode (checks each upload, decodes only its first 256 KiB).

    python benchmarks/upload.py [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

import nanoreverse as nr
from nanoreverse.testing import EmulatorProcess

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    arguments,
    cpu_seconds,
    make_mp4,
    median,
    paired,
    peak_rss_mib,
    report,
    reset_peak_rss,
    run_worker,
    spread,
    table,
)
from _sink import SinkProcess

ENDPOINT = "/api/sora-2/reverse-prompt"
VARIANTS = ("nanoreverse", "vendor", "limit")
WARM_UP = "https://www.youtube.com/watch?v=W-15-UmGP5s"
SLICE = 512 * 1024
RUN_BYTES, QUICK_RUN_BYTES = 1024 * 2**20, 64 * 2**20


def uploads_per_run(count: int, size: int, run_bytes: int) -> int:
    """Enough uploads for ``run_bytes``, a whole number of ``count`` at least once."""
    rounds = max(1, -(-run_bytes // (count * size)))
    return rounds * count


class Sliced(Payload):
    """A body already in memory, written in slices with an exact Content-Length."""

    def __init__(self, data: bytes) -> None:
        super().__init__(None, content_type="application/json")
        self._data = memoryview(data)
        self._size = len(data)

    async def write(self, writer: AbstractStreamWriter) -> None:
        for start in range(0, len(self._data), SLICE):
            await writer.write(self._data[start : start + SLICE])

    async def write_with_length(self, writer: AbstractStreamWriter, length: int | None) -> None:
        await self.write(writer)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("not text")


def vendor_upload(url: str, key: str, path: Path) -> str:
    """What the vendor's Python helper does for one video, in one thread."""
    data = path.read_bytes()
    body = json.dumps(
        {
            "videoSource": "file",
            "videoFile": base64.b64encode(data).decode(),
            "videoFileName": path.name,
            "locale": "en",
        }
    )
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        text: str = response.read().decode()
        return text


def _request_json(path: Path) -> bytes:
    encoded = base64.b64encode(path.read_bytes()).decode()
    fields = {"videoSource": "file", "videoFileName": path.name, "locale": "en"}
    return json.dumps({**fields, "videoFile": encoded}).encode()


async def worker(
    variant: str, count: int, total: int, path: Path, base_url: str, key: str
) -> dict[str, float]:
    url = base_url + ENDPOINT
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    prebuilt = _request_json(path) if variant == "limit" else b""
    async with (
        nr.AsyncClient(key, base_url=base_url, rate_limit=None) as client,
        aiohttp.ClientSession() as session,
    ):
        with ThreadPoolExecutor(max_workers=count) as pool:
            loop = asyncio.get_running_loop()
            # Warm up each way once, so imports and first connections are not measured.
            await client.analyze(nr.YouTube(WARM_UP)).text()
            async with session.post(
                url, data=Sliced(b'{"videoSource":"youtube"}'), headers=headers
            ):
                pass
            await loop.run_in_executor(pool, vendor_upload, url, key, path)

            async def one() -> str:
                if variant == "nanoreverse":
                    return await client.analyze(nr.VideoFile(path)).text()
                if variant == "vendor":
                    return await loop.run_in_executor(pool, vendor_upload, url, key, path)
                async with session.post(url, data=Sliced(prebuilt), headers=headers) as response:
                    return await response.text()

            in_flight = asyncio.Semaphore(count)

            async def held() -> str:
                async with in_flight:
                    return await one()

            baseline = reset_peak_rss()
            cpu, started = cpu_seconds(), time.perf_counter()
            await asyncio.gather(*(held() for _ in range(total)))
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            growth = peak_rss_mib() - baseline
    gib = total * path.stat().st_size / 2**30
    return {
        "throughput_mib_s": gib * 1024 / wall,
        "cpu_s_per_gib": cpu / gib,
        "peak_growth_mib_per_upload": growth / count,
    }


Samples = dict[tuple[str, int], list[dict[str, float]]]


def measure(
    args: argparse.Namespace,
    path: Path,
    counts: tuple[int, ...],
    server: AbstractContextManager[Any],
) -> Samples:
    samples: Samples = {}
    run_bytes = QUICK_RUN_BYTES if args.quick else RUN_BYTES
    with server as running:
        for _ in range(args.repeat):
            for count in counts:
                total = uploads_per_run(count, path.stat().st_size, run_bytes)
                for variant in VARIANTS:  # interleaved: the machine's drift hits all three alike
                    figures = run_worker(
                        __file__,
                        variant,
                        str(count),
                        str(total),
                        str(path),
                        running.base_url,
                        running.api_key,
                    )
                    samples.setdefault((variant, count), []).append(figures)
    return samples


def _series(samples: Samples, variant: str, count: int, key: str) -> list[float]:
    return [s[key] for s in samples[(variant, count)]]


def summarise(
    samples: Samples, counts: tuple[int, ...]
) -> Iterator[tuple[list[object], dict[str, Any]]]:
    for count in counts:
        speed = {v: _series(samples, v, count, "throughput_mib_s") for v in VARIANTS}
        cpu = {v: median(_series(samples, v, count, "cpu_s_per_gib")) for v in VARIANTS}
        memory = {
            v: median(_series(samples, v, count, "peak_growth_mib_per_upload")) for v in VARIANTS
        }
        x_limit = paired(speed["nanoreverse"], speed["limit"])
        x_vendor = paired(speed["nanoreverse"], speed["vendor"])
        row: list[object] = [
            count,
            median(speed["nanoreverse"]),
            median(speed["limit"]),
            median(speed["vendor"]),
            spread(x_limit),
            spread(x_vendor),
            f"{cpu['nanoreverse']:.2f} / {cpu['limit']:.2f} / {cpu['vendor']:.2f}",
            f"{memory['nanoreverse']:.2f} / {memory['vendor']:.0f}",
        ]
        figures = {
            "throughput_mib_s": {v: median(speed[v]) for v in VARIANTS},
            "x_limit": x_limit,
            "x_vendor": x_vendor,
            "cpu_s_per_gib": cpu,
            "peak_growth_mib_per_upload": memory,
        }
        yield row, figures


HEADER = [
    "in flight",
    "ours MiB/s",
    "limit MiB/s",
    "vendor MiB/s",
    "× limit (≥ 0.9)",
    "× vendor (≥ 3 at 4, 16)",
    "CPU s/GiB ours / limit / vendor (ours ≤ 1.0)",
    "peak MiB per upload ours / vendor (ours ≤ 1)",
]


def main() -> None:
    args = arguments(__doc__ or "", default_repeat=7)
    size = (4 if args.quick else 30) * 1024 * 1024
    counts = (1, 4) if args.quick else (1, 4, 16)
    run_mib = (QUICK_RUN_BYTES if args.quick else RUN_BYTES) // 2**20
    texts, out = [], {}
    with tempfile.TemporaryDirectory() as folder:
        path = make_mp4(Path(folder) / "video.mp4", size)
        servers: list[tuple[str, str, AbstractContextManager[Any]]] = [
            ("raw_sink", "a raw sink", SinkProcess()),
            (
                "emulator_skip_decode",
                "the emulator with --skip-decode",
                EmulatorProcess("--rate-limit", "none", "--skip-decode"),
            ),
        ]
        for name, label, server in servers:
            rows, figures = [], {}
            for row, figure in summarise(measure(args, path, counts, server), counts):
                rows.append(row)
                figures[str(row[0])] = figure
            texts.append(
                table(
                    f"Upload of a {size // 2**20} MiB MP4 to {label}, ≥ {run_mib} MiB a run; "
                    f"medians of {args.repeat} paired runs, ratios as median (min–max)",
                    HEADER,
                    rows,
                )
            )
            out[name] = figures
    report("upload", args, "\n\n".join(texts), {"file_mib": size / 2**20, **out})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        variant, count, total, path, base_url, key = sys.argv[2:8]
        figures = worker(variant, int(count), int(total), Path(path), base_url, key)
        print(json.dumps(asyncio.run(figures)))
    else:
        main()
