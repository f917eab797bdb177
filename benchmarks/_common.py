"""Shared by the benchmarks: arguments, medians, tables, JSON, machine facts."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

import nanoreverse

RESULTS = Path(os.environ.get("NANOREVERSE_BENCH_RESULTS") or Path(__file__).parent / "results")


def arguments(description: str, *, default_repeat: int = 3) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a small smoke run (CI): completes, proves nothing"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=default_repeat,
        help=f"runs per figure; the median is reported (default {default_repeat})",
    )
    args = parser.parse_args()
    if args.quick:
        args.repeat = 1
    return args


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "nanoreverse": nanoreverse.__version__,
        "platform": platform.platform(),
    }


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> float:
    """Reset this process's peak RSS to its current RSS (Linux) and return that, in MiB.

    ``ru_maxrss`` cannot do this: a child inherits its parent's peak, and growth under
    that inherited peak reads as 0. ``/proc/self/clear_refs`` resets ``VmHWM`` instead.
    """
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmHWM") / 1024


def peak_rss_mib() -> float:
    """This process's peak resident memory since the last reset, in MiB."""
    return _status_kib("VmHWM") / 1024


def cpu_seconds() -> float:
    """CPU time of this process so far, every thread, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def paired(ours: Sequence[float], theirs: Sequence[float]) -> dict[str, float]:
    """The ratio of paired runs: median and range of ``ours[i] / theirs[i]``."""
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    return {"median": median(ratios), "min": min(ratios), "max": max(ratios)}


def spread(figure: dict[str, float], digits: int = 2) -> str:
    """``median (min–max)``, as the README reports paired ratios."""
    return f"{figure['median']:.{digits}f} ({figure['min']:.{digits}f}–{figure['max']:.{digits}f})"


def current_rss_mib() -> float:
    """This process's resident memory now, in MiB (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in header]] + [
        [f"{c:.3g}" if isinstance(c, float) else str(c) for c in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, ""]
    for index, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(name: str, args: argparse.Namespace, text: str, figures: dict[str, Any]) -> None:
    print(text)
    RESULTS.mkdir(exist_ok=True)
    document = {
        "benchmark": name,
        "quick": args.quick,
        "repeat": args.repeat,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        **figures,
    }
    path = RESULTS / f"{name}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\n(figures written to {path})")


def make_mp4(path: Path, size: int, duration: float = 30.0) -> Path:
    """A structurally valid MP4 of ``size`` bytes: ftyp, a moov with mvhd, and filler."""
    import struct

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    mvhd = box(
        b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, int(duration * 1000)) + bytes(80)
    )
    head = box(b"ftyp", b"isom\0\0\2\0isomiso2mp41") + box(b"moov", mvhd)
    with path.open("wb") as handle:
        handle.write(head + struct.pack(">I4s", size - len(head), b"mdat"))
        # Real bytes, not a sparse hole: the disk read is part of what an upload costs.
        remaining = size - len(head) - 8
        block = os.urandom(1 << 20)
        while remaining > 0:
            handle.write(block[: min(remaining, len(block))])
            remaining -= len(block)
    return path


def run_worker(script: str, *args: str) -> dict[str, Any]:
    """Run ``script --worker ARGS`` in a fresh process and read the JSON it prints last."""
    import subprocess

    output = subprocess.run(
        [sys.executable, script, "--worker", *args], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result
