"""``nanoreverse analyze | export | emulator``: the parser and the entry point.

Exit codes of ``analyze``: 0 all done; 1 some failed; 2 bad usage, or every
source refused before sending; 130 interrupted (after finishing file writes
and printing the summary).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_LEASE,
    LOCALES,
    __version__,
)
from ._layout import EXPORTS, STORE
from ._usage import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from rich.console import Console

# The commands' modules (and so aiohttp, rich, the store) load after the arguments are
# parsed: `--version` and `--help` answer without them.

EXIT_BROKEN_PIPE = 141  # what a shell reports for a program ended by SIGPIPE


EXAMPLES = """examples:
  nanoreverse analyze ads/ --out prompts/             a folder, one Markdown file per video
  nanoreverse analyze clip.mp4 > clip.md              one video, streamed to stdout
  nanoreverse analyze https://youtu.be/ID --locale ja a YouTube video, in Japanese
  nanoreverse analyze - --out prompts/ < links.txt    a list (also @links.txt); # comments
  nanoreverse analyze ads/ --emulator --report        try it all with no key, then look
  nanoreverse export prompts/ --csv shots.csv         every shot in one CSV
  nanoreverse export prompts/ --srt --edl             subtitles and an edit list per video
  nanoreverse report prompts/ --open                  a storyboard of the folder
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nanoreverse",
        description="Turn videos into shot-by-shot Markdown prompt sheets "
        "with NanoPhoto.AI's Video Reverse Prompt API.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nanoreverse {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _analyze_arguments(commands)

    export = commands.add_parser(
        "export",
        help="the shots of an output folder's analyses as one CSV, or per video as "
        "subtitles (SRT, WebVTT) and edit lists (EDL, OTIO)",
    )
    export.add_argument("out", type=Path, metavar="OUT_DIR")
    export.add_argument("--csv", help="CSV file to write (- for stdout)")
    for kind, what in (
        ("srt", "SubRip subtitles, one cue per shot"),
        ("vtt", "WebVTT subtitles, one cue per shot"),
        ("edl", "a CMX 3600 edit list, one cut per shot"),
        ("otio", "an OpenTimelineIO timeline (pip install 'nanoreverse[otio]')"),
    ):
        export.add_argument(f"--{kind}", action="store_true", help=f"{what}, per video")
    export.add_argument(
        "--to", type=Path, help="folder for the per-video files (default: OUT_DIR/exports)"
    )
    export.add_argument(
        "--snap",
        type=float,
        nargs="?",
        const=0.5,
        metavar="SECONDS",
        help="move each shot boundary to the nearest real cut in the MP4 within SECONDS "
        "(default 0.5; pip install 'nanoreverse[snap]')",
    )
    export.add_argument("--store", help="the store to read (default: the one in OUT_DIR)")

    report = commands.add_parser(
        "report",
        help="write a storyboard of an output folder: OUT_DIR/report/index.html",
        description="Static pages, one per video, with a frame of each shot beside its "
        "framing, movement, description, audio, timing and prompt (pip install "
        "'nanoreverse[report]').",
    )
    report.add_argument("out", type=Path, metavar="OUT_DIR")
    report.add_argument("--open", action="store_true", help="open it in a browser")
    report.add_argument("--store", help="the store the run used (default: the one in OUT_DIR)")

    # `nanoreverse emulator ...` is nanoreverse.testing's own command (main() hands it over
    # before parsing); listed here so that --help names it.
    commands.add_parser(
        "emulator",
        help="run the API emulator in the foreground (emulator --help for its options)",
        add_help=False,
    )
    return parser


def _folder(text: str) -> Path:
    """``--out``: a folder's name; '' would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name; give a folder (. for this one)")
    return Path(text)


def _lease(text: str) -> float:
    """``--lease``: finite, above 0, at most a day (a killed run's claim holds that long)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds <= 86_400:  # also refuses inf and nan
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 86400 s, got {text!r}")
    return seconds


def _analyze_arguments(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    analyze = commands.add_parser(
        "analyze",
        help="analyse videos: files, folders, YouTube links, URLs, - (stdin), @list.txt",
        description="Analyse videos. One source without --out streams the Markdown to stdout; "
        "otherwise one file per video goes to --out (NAME.md in English, NAME.ja.md in "
        "Japanese...), and each content is paid for once: the store knows what is finished, "
        "even after files move.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    analyze.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="an MP4 file, a folder (its .mp4 files), a YouTube link, an https:// .mp4 URL, "
        "- (one a line on stdin) or @FILE (one a line)",
    )
    analyze.add_argument(
        "--out",
        type=_folder,
        help="output folder (default: ./nanoreverse-out; with --emulator ./nanoreverse-demo)",
    )
    analyze.add_argument(
        "--mix",
        action="store_true",
        help="let one --out hold the emulator's made-up answers beside real ones, or two "
        "keys' answers (refused otherwise)",
    )
    analyze.add_argument(
        "--locale", choices=LOCALES, default="en", help="output language (default en)"
    )
    analyze.add_argument("--concurrency", type=int, default=4, help="calls at once (default 4)")
    analyze.add_argument(
        "--rate", default="100/3600", help="client-side limit CALLS/SECONDS (default 100/3600)"
    )
    analyze.add_argument(
        "--shared-rate",
        metavar="REDIS_URL",
        help="keep --rate on Redis, shared by every process and machine using this key",
    )
    analyze.add_argument("--max-credits", type=int, help="never start more calls than this")
    analyze.add_argument(
        "--format",
        choices=["md", "json", "both"],
        default="md",
        help="Markdown as the API wrote it, shots as JSON, or both (default md)",
    )
    analyze.add_argument(
        "--dry-run", action="store_true", help="say what would be paid; send nothing"
    )
    analyze.add_argument("--force", action="store_true", help="ask the API again for every video")
    analyze.add_argument(
        "--store",
        help="where finished analyses are kept: redis://host:6379/0 to share between machines, "
        "or an SQLite file (default: analyses.sqlite in --out)",
    )
    analyze.add_argument(
        "--lease",
        type=_lease,
        default=DEFAULT_LEASE,
        help="seconds a killed run's claim on a video holds off other runs "
        f"(default {DEFAULT_LEASE:g})",
    )
    analyze.add_argument(
        "--base-url",
        help=f"the API's address (default: ${BASE_URL_ENV}, else {DEFAULT_BASE_URL})",
    )
    analyze.add_argument("--api-key-file", type=Path, help=f"read the key here, not ${API_KEY_ENV}")
    analyze.add_argument(
        "--emulator", action="store_true", help="run against the built-in emulator (no key needed)"
    )
    analyze.add_argument("-q", "--quiet", action="store_true", help="only failures and the summary")
    analyze.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what the client does (retries, waits); -vv for more",
    )
    analyze.add_argument(
        "--report", action="store_true", help="write the storyboard (see `report`) at the end"
    )


class _ToStderr(logging.Handler):
    """Log lines on whatever ``sys.stderr`` is when they are emitted: the live progress
    display swaps it for one that prints above the bars."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"nanoreverse: {record.getMessage()}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nanoreverse`` command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["emulator"]:
        from ..testing import emulator_command

        return emulator_command(arguments[1:])
    args = _parser().parse_args(arguments)
    import asyncio

    from rich.console import Console

    err = Console(stderr=True)
    # The library's warnings (a paid answer the store could not keep, a retry) reach the
    # screen without -v; -v adds what the client does, -vv everything.
    verbose = getattr(args, "verbose", 0)
    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    library = logging.getLogger("nanoreverse")
    library.setLevel(level)
    if not any(isinstance(handler, _ToStderr) for handler in library.handlers):
        library.addHandler(_ToStderr())
    try:
        if args.command == "export":
            return asyncio.run(_export(args, err))
        if args.command == "report":
            from ._report import write_report

            return asyncio.run(write_report(args.out, err, open_it=args.open, store=args.store))
        from ._analyze import analyze

        return asyncio.run(analyze(args, err))
    except UsageError as exc:
        err.print(f"nanoreverse: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        # The store (corrupt, read-only, Redis down) for export, report or a dry run:
        # one line, as for every other mistake (last: a broken pipe is handled above).
        from .. import StoreError

        if not isinstance(exc, StoreError):
            raise
        err.print(f"nanoreverse: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_FAILED


async def _export(args: argparse.Namespace, err: Console) -> int:
    from ._export import FORMATS, check_formats, export_csv, export_files
    from ._layout import open_store

    if args.store is None and not (args.out / STORE).exists():
        raise UsageError(f"{args.out} has no store of analyses (no {STORE} in it)")
    formats = [kind for kind in FORMATS if getattr(args, kind)]
    if args.csv is None and not formats:
        raise UsageError("say what to export: --csv FILE, --srt, --vtt, --edl or --otio")
    if args.snap is not None and (not formats or not 0 < args.snap <= 10):
        raise UsageError("--snap SECONDS (0 to 10) goes with --srt, --vtt, --edl or --otio")
    check_formats(formats, snapping=args.snap is not None)
    videos = 0
    if args.csv is not None:
        videos = await export_csv(open_store(args.store, args.out), args.csv, err)
    if formats:
        folder = args.to or args.out / EXPORTS
        store = open_store(args.store, args.out)
        videos = await export_files(store, formats, folder, err, snap_within=args.snap)
    if not videos:
        raise UsageError(f"the store of {args.out} holds no finished analyses")
    return EXIT_OK
