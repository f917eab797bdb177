"""``nanoreverse report``: the storyboard of an output folder (the ``report`` extra)."""

from __future__ import annotations

import webbrowser
from pathlib import Path

from rich.console import Console

from ._usage import EXIT_OK, UsageError

INSTALL = "pip install 'nanoreverse[report]'"


async def write_report(
    out: Path, err: Console, *, open_it: bool = False, store: str | None = None
) -> int:
    """Build ``OUT/report/`` and say where it is; ``open_it`` opens it where a browser is.
    ``store`` is the ``--store`` URL the folder's run used (None: the folder's own)."""
    try:
        from ..report import NotAnOutputFolder, build_report
    except ImportError as exc:
        raise UsageError(
            f"the report needs {exc.name or 'extra packages'}, which is not installed: {INSTALL}"
        ) from None
    try:
        if store is None:
            report = await build_report(out)
        else:
            from ._layout import open_store

            async with open_store(store, out) as opened:
                report = await build_report(out, store=opened)
    except NotAnOutputFolder as exc:
        raise UsageError(str(exc)) from None
    for problem in report.problems:
        err.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
    err.print(
        f"Storyboard: {report.index} ({report.made} pages made, {report.kept} unchanged)",
        markup=False,
        highlight=False,
        soft_wrap=True,  # a path cut in two cannot be copied
    )
    if open_it and not webbrowser.open(report.index.resolve().as_uri()):
        err.print("No browser found here: open that file in one.", markup=False)
    return EXIT_OK
