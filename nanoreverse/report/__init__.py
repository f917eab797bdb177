"""Storyboards: an output folder of ``nanoreverse analyze`` as static pages people look at.

Needs the ``report`` extra: ``pip install 'nanoreverse[report]'`` (PyAV, Pillow, Jinja2).

>>> from nanoreverse.report import build_report
>>> report = await build_report(Path("nanoreverse-out"))     # doctest: +SKIP
>>> print(report.index)                                        # nanoreverse-out/report/index.html
"""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread

from .. import Store
from ._build import Builder, Report
from ._collect import NotAnOutputFolder, Video, collect

__all__ = ["NotAnOutputFolder", "Report", "Video", "build_report"]


async def build_report(out: Path, *, store: Store | None = None) -> Report:
    """Write ``OUT/report/index.html`` and a page per video; returns what was done.

    ``store`` is where the folder's answers are kept when it is not the folder's own
    ``analyses.sqlite`` (``analyze --store redis://…``); the caller closes it.

    Videos whose answer and file did not change since the last build keep their page.
    Decoding runs in a worker thread, so the event loop stays free.

    >>> report = await build_report(Path("nanoreverse-out"))   # doctest: +SKIP
    """
    videos = await collect(out, store)
    return await anyio.to_thread.run_sync(lambda: Builder(out).build(videos, out))
