"""The shared store on Redis, for processes on several machines.

Each decision is one Lua script, so it is atomic on the server and costs one round
trip. Key names are ``NAMESPACE:SCOPE:...`` where SCOPE is a hash of the API key:
the key itself is never sent to Redis.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

from .._config import DEFAULT_LEASE
from .._keys import StoreKey
from .._redis import RedisConnection, redact
from .base import Claimed, FailedAttempt, Held, Hit, Lookup, Store, StoredAnswer, storable

if TYPE_CHECKING:
    from redis.asyncio import Redis

_LOOKUP = """
if ARGV[3] == '0' then
  local answer = redis.call('HGET', KEYS[1], 'markdown')
  if answer then return {1, answer} end
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {3, redis.call('PTTL', KEYS[2])} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {2}
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_FINISH = """
redis.call('HSET', KEYS[1], 'markdown', ARGV[2], 'source', ARGV[3], 'finished_at', ARGV[4],
           'identity', ARGV[5], 'locale', ARGV[6])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""

_ABANDON = """
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], -100, -1)
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""


class RedisStore(Store):
    """Analyses on a Redis server, shared by processes on several machines.

    Args:
        url: The Redis URL (``redis://host:6379/0``; a password in it is never shown).
        namespace: Prefixes every key name (after it comes a hash of the API key).
        lease: Seconds a claim holds others off without being renewed (its holder died).

    >>> client = nr.AsyncClient(store=nr.RedisStore("redis://cache:6379/0"))   # doctest: +SKIP
    """

    def __init__(
        self, url: str, *, namespace: str = "nanoreverse", lease: float = DEFAULT_LEASE
    ) -> None:
        super().__init__(lease=lease)
        self.url = url
        self.namespace = namespace
        self._redis = RedisConnection(url)

    def __repr__(self) -> str:
        return f"RedisStore({redact(self.url)!r}, namespace={self.namespace!r})"

    def _name(self, key: StoreKey, kind: str) -> str:
        return f"{self.namespace}:{key.scope}:{kind}:{key.identity}:{key.locale}"

    async def _eval(self, what: str, source: str, keys: list[str], args: list[Any]) -> Any:
        return await self._redis.eval(what, source, keys, args)

    def _claim_keys(self, key: StoreKey, kind: str) -> list[str]:
        return [self._name(key, kind), self._name(key, "claim")]

    async def lookup(self, key: StoreKey, owner: str, *, refresh: bool = False) -> Lookup:
        lease_ms = int(self.lease * 1000)
        result = await self._eval(
            "look up an analysis",
            _LOOKUP,
            self._claim_keys(key, "answer"),
            [owner, lease_ms, "1" if refresh else "0"],
        )
        if result[0] == 1:
            return Hit(_text(result[1]))
        if result[0] == 2:
            return Claimed()
        return Held(max(int(result[1]), 0) / 1000)

    async def renew(self, key: StoreKey, owner: str) -> bool:
        lease_ms = int(self.lease * 1000)
        keys = [self._name(key, "claim")]
        return bool(await self._eval("renew a claim", _RENEW, keys, [owner, lease_ms]))

    async def finish(self, key: StoreKey, owner: str, markdown: str, *, source: str) -> None:
        texts = [storable(markdown), storable(source)]
        args = [owner, *texts, repr(time.time()), key.identity, key.locale]
        await self._eval("store an answer", _FINISH, self._claim_keys(key, "answer"), args)

    async def abandon(
        self, key: StoreKey, owner: str, attempt: FailedAttempt, *, source: str
    ) -> None:
        entry = {"source": source, **attempt._asdict()}
        entry = {name: value and storable(value) for name, value in entry.items()}
        args = [owner, json.dumps({**entry, "at": time.time()}, ensure_ascii=False)]
        keys = self._claim_keys(key, "attempts")
        await self._eval("record a failed attempt", _ABANDON, keys, args)

    async def status(self, key: StoreKey) -> Literal["stored", "claimed"] | None:
        redis = self._redis.client()
        answer, claim = self._name(key, "answer"), self._name(key, "claim")
        if await self._redis.run("look up an analysis", redis.exists(answer)):
            return "stored"
        if await self._redis.run("look up an analysis", redis.exists(claim)):
            return "claimed"
        return None

    async def answers(self, scope: str | None = None) -> AsyncIterator[StoredAnswer]:
        redis = self._redis.client()
        pattern = f"{self.namespace}:{scope or '*'}:answer:*"
        names = await self._redis.run("list answers", _scan(redis, pattern))
        for name in sorted(names):
            fields = await self._redis.run("list answers", redis.hgetall(name))
            text = {_text(k): _text(v) for k, v in fields.items()}
            if "markdown" in text:
                yield StoredAnswer(
                    text.get("identity", ""),
                    text.get("locale", ""),
                    text.get("source", ""),
                    text["markdown"],
                    float(text.get("finished_at", 0.0)),
                )

    async def attempts(self, key: StoreKey) -> list[FailedAttempt]:
        redis = self._redis.client()
        name = self._name(key, "attempts")
        raw = await self._redis.run("list attempts", redis.lrange(name, 0, -1))
        entries = [json.loads(item) for item in raw]
        return [FailedAttempt(e["code"], e["message"], e["partial"]) for e in entries]

    async def aclose(self) -> None:
        await self._redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


async def _scan(redis: Redis, pattern: str) -> list[bytes]:
    return [name async for name in redis.scan_iter(match=pattern, count=500)]
