"""Parsing answers: time per answer in each layout the emulator writes, for 12 and 200
shots, and how soon the live parser hands out a shot once its last byte has arrived.

Whole answers: ``parse_analysis`` on the same text, repeated; each figure is the median
per call with the min–max of the rounds, cold (the memoised readings of lines forgotten
before each call: an answer never seen) and warm (the same answer again).

Live: the answer fed to ``ShotParser`` in 256-byte pieces (a network read). Per piece,
the time ``feed()`` takes (the delay the parser adds to a shot); per shot, how many
bytes after its last one arrived before it was handed out (what the layout makes it
wait for: a table row is complete at the next row, a heading block at the next
heading). Target: ≤ 2 ms per 12-shot answer.

    python benchmarks/parse.py [--quick] [--repeat N]
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from nanoreverse import parse_analysis
from nanoreverse._answer.shots import ShotParser, _read, clear_caches
from nanoreverse.testing._answers import plan_answer, seed_of
from nanoreverse.testing._styles import ANSWER_STYLES, render
from nanoreverse.testing._words import words_for

from _common import arguments, median, report, table

STYLES = [s for s in ANSWER_STYLES if s != "mixed"]
PIECE = 256


def answer(style: str, count: int, locale: str = "en") -> str:
    base = plan_answer(seed_of(b"benchmark"), 30.0, locale)
    shots, start = [], 0.0
    for index in range(count):
        shot = replace(base[index % len(base)], number=index + 1, start=round(start, 1))
        shots.append(shot)
        start += shot.length
    return render(style, words_for(locale), locale, shots, "A summary line.")


def whole(text: str, calls: int, cold: bool) -> float:
    """ms per call; cold: the memoised line readings are forgotten before each call, as
    for an answer whose lines this process has never seen."""
    spent = 0.0
    for _ in range(calls):
        if cold:
            clear_caches()
        start = time.perf_counter()
        parse_analysis(text)
        spent += time.perf_counter() - start
    return spent / calls * 1e3


def live(text: str) -> tuple[list[float], list[int]]:
    lines = text.split("\n")
    units, _ = _read(lines, final=True)
    ends = [sum(len(line) + 1 for line in lines[: unit.last + 1]) for unit in units]
    parser, feeds, waits, given = ShotParser(), [], [], 0
    for offset in range(0, len(text), PIECE):
        start = time.perf_counter()
        found = parser.feed(text[offset : offset + PIECE])
        feeds.append((time.perf_counter() - start) * 1e3)
        arrived = min(offset + PIECE, len(text))
        for _ in found:
            waits.append(max(0, arrived - ends[given]))
            given += 1
    parser.close()
    return feeds, waits


def main() -> None:
    args = arguments(__doc__ or "", default_repeat=5)
    rounds = args.repeat
    rows, figures = [], {}
    for count in (12, 200):
        for style in STYLES:
            text = answer(style, count)
            assert len(parse_analysis(text).shots) == count, (style, count)
            calls = 3 if args.quick else (200 if count == 12 else 20)
            runs = [whole(text, calls, cold=True) for _ in range(rounds)]
            warm = [whole(text, calls, cold=False) for _ in range(rounds)]
            clear_caches()
            feeds, waits = live(text)
            figures[f"{style}-{count}"] = {
                "bytes": len(text.encode()),
                "parse_ms_median": median(runs),
                "parse_ms_min": min(runs),
                "parse_ms_max": max(runs),
                "warm_parse_ms_median": median(warm),
                "feed_ms_median": median(feeds),
                "feed_ms_max": max(feeds),
                "wait_bytes_median": median(waits),
                "wait_bytes_max": max(waits),
            }
            rows.append(
                [
                    style,
                    str(count),
                    f"{len(text.encode()):,}",
                    f"{median(runs):.2f} ({min(runs):.2f}–{max(runs):.2f})",
                    f"{median(warm):.2f}",
                    f"{median(feeds):.2f} / {max(feeds):.2f}",
                    f"{median(waits):.0f} / {max(waits):.0f}",
                ]
            )
    text = table(
        f"Parsing answers ({rounds} rounds; live: {PIECE}-byte pieces)",
        [
            "layout",
            "shots",
            "bytes",
            "parse_analysis ms, cold: median (min–max)",
            "warm",
            "feed() ms, median / max",
            "bytes waited after a shot's last, median / max",
        ],
        rows,
    )
    report("parse", args, text, {"rounds": rounds, "piece_bytes": PIECE, "layouts": figures})


if __name__ == "__main__":
    main()
