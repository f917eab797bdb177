"""Analyse every MP4 in a folder, four at a time, and save one Markdown file per video.

python examples/bulk_folder.py [FOLDER] [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nanoreverse as nr

from _run import run


async def main(
    base_url: str,
    api_key: str,
    folder: Path = Path("examples/videos"),
    out: Path = Path("nanoreverse-example-out"),
) -> list[nr.Result]:
    videos = sorted(folder.rglob("*.mp4"))
    out.mkdir(parents=True, exist_ok=True)
    finished = []
    async with nr.AsyncClient(api_key, base_url=base_url) as client:
        async with client.analyze_many(videos, concurrency=4) as results:
            async for result in results:  # in the order they finish
                if result.ok:
                    target = out / (Path(str(result.source)).stem + ".md")
                    target.write_text(result.markdown, encoding="utf-8")
                    print(f"saved {target} ({len(result.analysis.shots)} shots)")
                else:
                    print(f"failed {result.source}: {result.error}")
                finished.append(result)
    return finished


if __name__ == "__main__":
    run(lambda base_url, api_key: main(base_url, api_key, *map(Path, sys.argv[1:3])))
