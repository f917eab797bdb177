"""Report: how fast the storyboard takes its frames, and how little a re-run costs.

- Thumbnails of a 60 s, ~30 MiB MP4 with 12 shots (plus its first frame), the process
  pinned to one core: seek to the keyframe before each shot's middle, decode forward,
  shrink (target: the whole video's frames in ≤ 1 s).
- A re-run over 200 finished videos when nothing changed (target ≤ 2 s).

    python benchmarks/report.py [--quick] [--repeat N]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nanoreverse as nr
from nanoreverse._answer.timeline import shot_ranges
from nanoreverse._store import StoreKey
from nanoreverse.report import build_report
from nanoreverse.report._frames import frames_at, video_length
from nanoreverse.testing._videos import make_video

sys.path.insert(0, str(Path(__file__).parent))
from _common import arguments, median, report, table

SHOTS = 12


def answer(shots: int, seconds: float) -> str:
    rows = [
        f"| {n + 1} | Wide | Static | shot {n + 1} | None | {seconds / shots:.1f}s |"
        for n in range(shots)
    ]
    head = "| Shot | Framing | Movement | Description | Audio | Duration |\n" + "|---" * 6 + "|\n"
    return head + "\n".join(rows) + "\n\nSummary.\n"


def thumbnails(path: Path) -> float:
    length = video_length(path)
    ranges = shot_ranges([length / SHOTS] * SHOTS, length)
    moments = [0.0] + [(start + end) / 2 for start, end in ranges]
    started = time.perf_counter()
    images = frames_at(path, moments)
    elapsed = time.perf_counter() - started
    assert len(images) == SHOTS + 1
    return elapsed


async def folder_of(out: Path, clips: list[Path], count: int) -> None:
    out.mkdir()
    async with nr.SQLiteStore(out / "analyses.sqlite") as store:
        for index in range(count):
            key = StoreKey("bench", f"sha256:{index:064x}", "en")
            clip = clips[index % len(clips)]
            await store.lookup(key, "bench")
            await store.finish(key, "bench", answer(4, 6.0), source=str(clip))


def main() -> None:
    args = arguments(__doc__ or "", default_repeat=5)
    seconds, noise = (10, 640 * 3 * 60) if args.quick else (60, 640 * 3 * 240)
    videos = 20 if args.quick else 200
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        colours = [(i * 20 % 255, 80, 200 - i * 15) for i in range(SHOTS)]
        big = make_video(
            folder / "big.mp4",
            seconds=seconds,
            fps=25,
            size=(640, 360),
            noise=noise,
            colours=colours,
        )
        size_mib = big.stat().st_size / 2**20
        thumbs = [thumbnails(big) for _ in range(args.repeat)]
        clips = []
        for index in range(4):
            clip = folder / f"clip{index}.mp4"
            clips.append(make_video(clip, seconds=6, colours=colours[index:]))
        out = folder / "out"
        asyncio.run(folder_of(out, clips, videos))
        first = time.perf_counter()
        made = asyncio.run(build_report(out))
        first = time.perf_counter() - first
        reruns = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            again = asyncio.run(build_report(out))
            reruns.append(time.perf_counter() - started)
            assert again.made == 0 and again.kept == videos
        shutil.rmtree(out)
    thumb_s = median(thumbs)
    rows = [
        [
            f"{SHOTS + 1} thumbnails of a {seconds} s, {size_mib:.0f} MiB MP4, one core",
            f"{thumb_s:.3f} s",
            f"{(SHOTS + 1) / thumb_s:.0f} / s",
            "≤ 1 s",
        ],
        [f"first build of {videos} videos", f"{first:.2f} s", f"{made.made} pages", "—"],
        [
            f"re-run over {videos} unchanged videos",
            f"{median(reruns):.3f} s",
            f"{videos} kept",
            "≤ 2 s",
        ],
    ]
    text = table(f"Report (median of {args.repeat})", ["what", "time", "rate", "target"], rows)
    figures = {
        "video_mib": size_mib,
        "video_seconds": seconds,
        "thumbnails_s": thumb_s,
        "thumbnails_per_s": (SHOTS + 1) / thumb_s,
        "first_build_s": first,
        "rerun_s": median(reruns),
        "videos": videos,
    }
    report("report", args, text, figures)


if __name__ == "__main__":
    main()
