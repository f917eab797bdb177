"""A store of your own, from public names only: answers kept in a dict, for one process.

Everything a store decides is one step under one lock here; a store shared by several
processes must make each of those steps atomic on its backend (as SQLiteStore does with
one SQL statement and RedisStore with one Lua script).

python examples/memory_store.py
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Literal

import anyio

import nanoreverse as nr

from _run import run


class MemoryStore(nr.Store):
    """Finished answers and claims in memory: each video paid once per process."""

    def __init__(self, *, lease: float = nr.DEFAULT_LEASE) -> None:
        super().__init__(lease=lease)  # checks it: finite, above 0
        self._answers: dict[nr.StoreKey, nr.StoredAnswer] = {}
        self._claims: dict[nr.StoreKey, tuple[str, float]] = {}  # owner, expires at
        self._attempts: dict[nr.StoreKey, list[nr.FailedAttempt]] = {}
        self._lock = anyio.Lock()

    async def lookup(self, key: nr.StoreKey, owner: str, *, refresh: bool = False) -> nr.Lookup:
        async with self._lock:
            now = time.monotonic()
            if not refresh and key in self._answers:
                return nr.Hit(self._answers[key].markdown)
            holder, expires = self._claims.get(key, (owner, 0.0))
            if holder == owner or expires <= now:
                self._claims[key] = (owner, now + self.lease)
                return nr.Claimed()
            return nr.Held(retry_in=expires - now)

    async def renew(self, key: nr.StoreKey, owner: str) -> bool:
        async with self._lock:
            if self._claims.get(key, ("", 0.0))[0] != owner:
                return False
            self._claims[key] = (owner, time.monotonic() + self.lease)
            return True

    async def finish(self, key: nr.StoreKey, owner: str, markdown: str, *, source: str) -> None:
        async with self._lock:
            self._answers[key] = nr.StoredAnswer(
                key.identity, key.locale, source, markdown, time.time()
            )
            if self._claims.get(key, ("", 0.0))[0] == owner:
                del self._claims[key]

    async def abandon(
        self, key: nr.StoreKey, owner: str, attempt: nr.FailedAttempt, *, source: str
    ) -> None:
        async with self._lock:
            self._attempts.setdefault(key, []).append(attempt)
            if self._claims.get(key, ("", 0.0))[0] == owner:
                del self._claims[key]

    async def status(self, key: nr.StoreKey) -> Literal["stored", "claimed"] | None:
        if key in self._answers:
            return "stored"
        claim = self._claims.get(key)
        return "claimed" if claim and claim[1] > time.monotonic() else None

    async def answers(self, scope: str | None = None) -> AsyncIterator[nr.StoredAnswer]:
        for key, answer in list(self._answers.items()):
            if scope is None or key.scope == scope:
                yield answer

    async def attempts(self, key: nr.StoreKey) -> list[nr.FailedAttempt]:
        return list(self._attempts.get(key, []))

    async def aclose(self) -> None:
        pass  # nothing to close: the answers live as long as the object


async def main(base_url: str, api_key: str) -> list[nr.AnalysisStream]:
    """Analyse one video three times at once and once more: it is paid for once."""
    store = MemoryStore()
    async with nr.AsyncClient(api_key, base_url=base_url, store=store) as client:
        video = "examples/videos/ads/bars_5s.mp4"
        streams = [client.analyze(video) for _ in range(3)]
        async with anyio.create_task_group() as group:
            for stream in streams:
                group.start_soon(stream.text)
        again = client.analyze(video)
        await again.text()
        streams.append(again)
    paid = sum(stream.attempts for stream in streams)
    print(f"4 calls, {paid} paid; the last one from the store: {again.cached}")
    return streams


if __name__ == "__main__":
    run(main)
