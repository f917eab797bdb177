"""Analyse one video and print its Markdown as it streams in, then its shots as prompts.

python examples/stream_one.py [VIDEO_OR_LINK]
"""

from __future__ import annotations

import sys

import nanoreverse as nr

from _run import run


async def main(
    base_url: str, api_key: str, source: str = "examples/videos/ads/bars_5s.mp4"
) -> nr.Analysis:
    async with nr.AsyncClient(api_key, base_url=base_url) as client:
        async with client.analyze(source) as stream:
            async for chunk in stream:
                print(chunk, end="", flush=True)
        analysis = nr.parse_analysis(stream.received_text)
    print("\nPrompts:")
    for shot in analysis.shots:
        print(f"  {shot.number}. {shot.prompt()}")
    return analysis


if __name__ == "__main__":
    run(lambda base_url, api_key: main(base_url, api_key, *sys.argv[1:2]))
