"""Upload: 1, 4 and 16 concurrent uploads of a 30 MiB MP4 — memory and throughput.

Three ways, side by side against one emulator in another process:
- nanoreverse: the video streamed from disk as base64 in pieces;
- vendor: the vendor helper's way: read the whole file, base64 it, build the JSON
  string, post it;
- limit: an already-encoded in-memory body of the same size, posted the same way:
  what the loopback and the server allow at best.

Each figure is the median of --repeat runs, each in a fresh client process, whose
peak RSS growth (over its state after a warm-up call) is what the uploads cost.

Twice: against the faithful emulator, which decodes and hashes every upload in pure
CPython (about 150 MiB/s on a 2-core machine, so it sets the pace), and against the
emulator with --skip-decode, which checks uploads without decoding them, so that the
client sets the pace (a real API server is not the bottleneck of one client).

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
import warnings
from pathlib import Path

import aiohttp

import nanoreverse as nr
from nanoreverse.testing import EmulatorProcess

sys.path.insert(0, str(Path(__file__).parent))
from _common import arguments, make_mp4, median, peak_rss_mib, report, run_worker, table

ENDPOINT = "/api/sora-2/reverse-prompt"
VARIANTS = ("nanoreverse", "vendor", "limit")
WARM_UP = {"videoSource": "youtube", "videoUrl": "https://www.youtube.com/watch?v=W-15-UmGP5s"}


async def _post(session: aiohttp.ClientSession, url: str, key: str, body: bytes | str) -> str:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with session.post(url, data=body, headers=headers) as response:
        text = await response.text()
        assert response.status == 200, text[:200]
        return text


async def worker(variant: str, count: int, path: Path, base_url: str, key: str) -> dict[str, float]:
    warnings.simplefilter("ignore")  # aiohttp warns about large bytes bodies: that is the point
    url = base_url + ENDPOINT
    async with (
        nr.AsyncClient(key, base_url=base_url, rate_limit=None) as client,
        aiohttp.ClientSession() as session,
    ):
        await client.analyze(nr.YouTube(WARM_UP["videoUrl"])).text()
        await _post(session, url, key, json.dumps(WARM_UP))
        prebuilt = b""
        if variant == "limit":
            encoded = base64.b64encode(path.read_bytes()).decode()
            prebuilt = json.dumps(
                {"videoSource": "file", "videoFile": encoded, "locale": "en"}
            ).encode()
            del encoded
        baseline = peak_rss_mib()
        started = time.perf_counter()

        async def one() -> str:
            if variant == "nanoreverse":
                return await client.analyze(nr.VideoFile(path)).text()
            if variant == "vendor":
                data = path.read_bytes()
                body = json.dumps(
                    {
                        "videoSource": "file",
                        "videoFile": base64.b64encode(data).decode(),
                        "videoFileName": path.name,
                        "locale": "en",
                    }
                )
                return await _post(session, url, key, body)
            return await _post(session, url, key, prebuilt)

        await asyncio.gather(*(one() for _ in range(count)))
        wall = time.perf_counter() - started
    size_mib = path.stat().st_size / 2**20
    return {
        "throughput_mib_s": count * size_mib / wall,
        "rss_growth_mib": peak_rss_mib() - baseline,
        "wall_s": wall,
    }


def measure(
    args: argparse.Namespace, path: Path, counts: tuple[int, ...], server: tuple[str, ...]
) -> dict[tuple[str, int], list[dict[str, float]]]:
    samples: dict[tuple[str, int], list[dict[str, float]]] = {}
    with EmulatorProcess("--rate-limit", "none", "--chunk-bytes", "4096", *server) as emu:
        for _ in range(args.repeat):
            for count in counts:
                for variant in VARIANTS:  # interleaved: the machine's noise hits all three alike
                    figures = run_worker(
                        __file__, variant, str(count), str(path), emu.base_url, emu.api_key
                    )
                    samples.setdefault((variant, count), []).append(figures)
    return samples


def summarise(
    samples: dict[tuple[str, int], list[dict[str, float]]], counts: tuple[int, ...]
) -> tuple[list[list[object]], dict[str, object]]:
    rows: list[list[object]] = []
    figures: dict[str, object] = {}
    for count in counts:
        med = {
            v: {
                k: median([s[k] for s in samples[(v, count)]])
                for k in ("throughput_mib_s", "rss_growth_mib")
            }
            for v in VARIANTS
        }
        ours, vendor, limit = med["nanoreverse"], med["vendor"], med["limit"]
        rows.append(
            [
                count,
                ours["throughput_mib_s"],
                vendor["throughput_mib_s"],
                limit["throughput_mib_s"],
                ours["throughput_mib_s"] / vendor["throughput_mib_s"],
                ours["throughput_mib_s"] / limit["throughput_mib_s"],
                ours["rss_growth_mib"] / count,
                vendor["rss_growth_mib"] / count,
            ]
        )
        figures[str(count)] = med
    return rows, figures


def main() -> None:
    args = arguments(__doc__ or "")
    size = (4 if args.quick else 30) * 1024 * 1024
    counts = (1, 4) if args.quick else (1, 4, 16)
    header = [
        "in flight",
        "ours MiB/s",
        "vendor MiB/s",
        "limit MiB/s",
        "× vendor",
        "× limit",
        "ours RSS MiB/upload",
        "vendor RSS MiB/upload",
    ]
    texts, out = [], {}
    with tempfile.TemporaryDirectory() as folder:
        path = make_mp4(Path(folder) / "video.mp4", size)
        for label, server in (
            ("client-bound (--skip-decode)", ("--skip-decode",)),
            ("faithful emulator (decodes every upload)", ()),
        ):
            rows, figures = summarise(measure(args, path, counts, server), counts)
            texts.append(
                table(
                    f"Upload of a {size // 2**20} MiB MP4, {label}, median of {args.repeat} "
                    "(targets: ≥3× vendor at 4 and 16, ≥0.9× limit, ≤3 MiB RSS per upload)",
                    header,
                    rows,
                )
            )
            out["client_bound" if server else "faithful"] = figures
    report("upload", args, "\n\n".join(texts), {"file_mib": size / 2**20, **out})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        variant, count, path, base_url, key = sys.argv[2:7]
        print(json.dumps(asyncio.run(worker(variant, int(count), Path(path), base_url, key))))
    else:
        main()
