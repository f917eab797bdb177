"""Running the emulator in the foreground (``nanoreverse emulator``) or as a child process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._config import EMULATOR_KEY, RateLimit
from ._styles import ANSWER_STYLES

if TYPE_CHECKING:
    from ._emulator import Emulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    parser.add_argument("--api-key", default=EMULATOR_KEY, help="the key it accepts")
    parser.add_argument(
        "--rate-limit",
        default="100/3600",
        help="CALLS/SECONDS per key, sliding window, or 'none'",
    )
    parser.add_argument(
        "--retry-after",
        choices=["seconds", "http-date", "none"],
        default="seconds",
        help="how a 429 says when to come back",
    )
    parser.add_argument("--credits", type=int, default=None, help="credits per key (none: no end)")
    parser.add_argument("--ttfb", type=float, default=0.0, help="seconds before the answer starts")
    parser.add_argument(
        "--chars-per-second", type=float, default=None, help="pace of the answer (none: at once)"
    )
    parser.add_argument("--chunk-bytes", type=int, default=64, help="bytes per network write")
    parser.add_argument(
        "--skip-decode",
        action="store_true",
        help="benchmarks only: check uploads but do not decode them past 256 KiB",
    )
    parser.add_argument(
        "--max-records",
        type=int,
        default=10_000,
        help="requests kept for inspection, the latest (0: all; the counters stay exact)",
    )
    parser.add_argument(
        "--answer-style",
        choices=ANSWER_STYLES,
        default="table",
        help="layout of the answers, as models vary it (mixed: one per video)",
    )
    parser.add_argument("--json", action="store_true", help="print the address as one JSON line")
    parser.add_argument("--quiet", action="store_true", help="no line per request")


def emulator_from(args: argparse.Namespace) -> Emulator:
    from ._emulator import Emulator  # aiohttp.web loads when an emulator is made, not parsed

    rate = None if args.rate_limit.lower() == "none" else RateLimit.parse(args.rate_limit)
    return Emulator(
        api_keys=(args.api_key,),
        host=args.host,
        port=args.port,
        rate_limit=rate,
        retry_after=None if args.retry_after == "none" else args.retry_after,
        credits=args.credits,
        ttfb=args.ttfb,
        chars_per_second=args.chars_per_second,
        chunk_bytes=args.chunk_bytes,
        decode_uploads=not args.skip_decode,
        max_records=args.max_records or None,
        answer_style=args.answer_style,
    )


async def serve(emulator: Emulator, *, as_json: bool = False) -> None:
    async with emulator:
        if as_json:
            print(
                json.dumps({"base_url": emulator.base_url, "api_key": emulator.api_key}), flush=True
            )
        else:
            print(f"nanoreverse emulator listening on {emulator.base_url}", flush=True)
            print(f"API key: {emulator.api_key}", flush=True)
            print("Stop with Ctrl-C.", flush=True)
        await asyncio.Event().wait()


DESCRIPTION = f"""\
A faithful local emulator of the Video Reverse Prompt API, for tests and demos: the
same endpoint, authentication, validation, errors, rate limit and streamed Markdown,
on this machine. Its answers are made up (and marked so); no credit is spent. It
listens on 127.0.0.1:8765 and accepts the key {EMULATOR_KEY!r} unless told otherwise;
point a client at it with NANOPHOTO_BASE_URL=http://127.0.0.1:8765 and that key as
NANOPHOTO_API_KEY. Each request is logged on one line."""


def emulator_command(argv: Sequence[str] | None = None) -> int:
    """The ``nanoreverse emulator`` command (also ``python -m nanoreverse.testing``).

    Args:
        argv: Its arguments (by default the process's).

    >>> emulator_command(["--port", "0", "--json"])              # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(
        prog="nanoreverse emulator",
        description=DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(emulator_from(args), as_json=args.json))
    return 0


main = emulator_command


class EmulatorProcess:
    """The emulator in a child process, so the caller's process is measured alone.

    >>> with EmulatorProcess("--rate-limit", "none") as emu:   # doctest: +SKIP
    ...     print(emu.base_url, emu.stats()["requests"])
    """

    def __init__(self, *args: str) -> None:
        self.args = args
        self.base_url = ""
        self.api_key = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "nanoreverse.testing", "--port", "0", "--json", "--quiet"]
        command += self.args
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.kill()
            raise RuntimeError("the emulator process did not start")
        info = json.loads(line)
        self.base_url, self.api_key = info["base_url"], info["api_key"]
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None, "the emulator process is not running"
        return self._process.pid

    def stats(self) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(self.base_url + "/_emulator/stats", timeout=10) as answer:
            stats: dict[str, Any] = json.load(answer)
            return stats

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            if self._process.stdout is not None:
                self._process.stdout.close()
