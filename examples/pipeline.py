"""An asyncio pipeline: a producer queues videos, the client analyses them in a bounded batch,
and consumers turn each answer's shots into generation prompts.

    python examples/pipeline.py
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import nanoreverse as nr

from _run import run

VIDEOS = sorted(Path("examples/videos").rglob("*.mp4"))
LINKS = ["https://youtu.be/W-15-UmGP5s", "https://www.youtube.com/shorts/aqz-KE-bpKQ"]
DONE = object()


async def produce(queue: asyncio.Queue[object]) -> None:
    for source in [*VIDEOS, *LINKS]:
        await queue.put(source)  # in a real app: new uploads, a crawler, a message bus…
    await queue.put(DONE)


async def drain(queue: asyncio.Queue[object]) -> AsyncIterator[nr.SourceLike]:
    while (item := await queue.get()) is not DONE:
        yield item  # type: ignore[misc]


async def consume(name: str, results: asyncio.Queue[nr.Result | None], prompts: list[str]) -> None:
    while (result := await results.get()) is not None:
        for shot in result.analysis.shots:
            prompts.append(shot.prompt())
        print(f"[{name}] {result.source}: {len(result.analysis.shots)} prompts")


async def main(base_url: str, api_key: str) -> list[str]:
    sources: asyncio.Queue[object] = asyncio.Queue(maxsize=4)
    results: asyncio.Queue[nr.Result | None] = asyncio.Queue()
    prompts: list[str] = []
    consumers = [asyncio.create_task(consume(f"consumer-{i}", results, prompts)) for i in range(2)]
    async with nr.AsyncClient(api_key, base_url=base_url) as client:
        producer = asyncio.create_task(produce(sources))
        async with client.analyze_many(drain(sources), concurrency=3) as analysed:
            async for result in analysed:
                await results.put(result)
        await producer
    for _ in consumers:
        await results.put(None)
    await asyncio.gather(*consumers)
    return prompts


if __name__ == "__main__":
    run(main)
