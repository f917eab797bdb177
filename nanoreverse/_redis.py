"""Redis plumbing shared by the store and the shared rate limit: connecting, one call with
its errors mapped to StoreError, and URLs with their password hidden."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import StoreError

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")

logger = logging.getLogger("nanoreverse")

_INSTALL = "pip install 'nanoreverse[redis]'"


def connect(url: str) -> Redis:
    """A redis-py asyncio client for ``url`` (connects on first use).

    >>> redis = connect("redis://127.0.0.1:6379/0")   # doctest: +SKIP
    """
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise ImportError(f"a Redis store or limiter needs redis-py: {_INSTALL}") from None
    return Redis.from_url(url, socket_connect_timeout=5.0, socket_timeout=30.0)


async def call_redis(url: str, what: str, work: Awaitable[T]) -> T:
    """Await ``work``, turning every Redis failure into one typed error that names the server
    (without its password)."""
    from redis.exceptions import RedisError

    try:
        return await work
    except RedisError as exc:
        raise StoreError(f"Redis at {redact(url)} could not {what}: {exc}") from exc


class RedisConnection:
    """One redis-py client opened on first use, the Lua scripts registered on it, and every
    Redis failure turned into one typed error: what the store and the shared limiter share.

    >>> redis = RedisConnection("redis://127.0.0.1:6379/0")   # doctest: +SKIP
    >>> await redis.eval("count", "return 1", [], [])          # doctest: +SKIP
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._policy_checked = False

    def client(self) -> Redis:
        if self._redis is None:
            self._redis = connect(self.url)
            self._scripts.clear()
        return self._redis

    async def run(self, what: str, work: Awaitable[T]) -> T:
        return await call_redis(self.url, what, work)

    async def eval(self, what: str, source: str, keys: list[str], args: list[Any]) -> Any:
        """Run a Lua script (registered once, then called by its hash): one round trip.
        A connection lost since the last call (a restart) is made again, once."""
        from redis.exceptions import ConnectionError as Lost

        redis = self.client()
        await self._check_policy(redis)
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = redis.register_script(source)
        try:
            return await self.run(what, script(keys=keys, args=args))
        except StoreError as exc:
            if not isinstance(exc.__cause__, Lost):
                raise
        # The script cache went with the old server: redis-py loads the script again.
        return await self.run(what, script(keys=keys, args=args))

    async def _check_policy(self, redis: Redis) -> None:
        """Warn once when the server evicts keys: answers and claims could vanish, and be
        paid for again. Managed servers may refuse CONFIG: then nothing is known."""
        if self._policy_checked:
            return
        self._policy_checked = True
        try:
            found: dict[Any, Any] = dict(await redis.config_get("maxmemory-policy"))
        except Exception:  # CONFIG disabled (managed Redis): nothing is known, nothing said
            return
        policy = found.get("maxmemory-policy") or found.get(b"maxmemory-policy")
        if isinstance(policy, bytes):
            policy = policy.decode()
        if policy and policy != "noeviction":
            logger.warning(
                "Redis at %s evicts keys when full (maxmemory-policy %s): stored answers, "
                "claims and the shared limit may vanish, and answers be paid for again. "
                "Use a Redis with maxmemory-policy noeviction for nanoreverse.",
                redact(self.url),
                policy,
            )

    async def aclose(self) -> None:
        redis, self._redis = self._redis, None
        self._scripts.clear()
        if redis is not None:
            await redis.aclose()


def redact(url: str) -> str:
    """The URL without a password (in the user part or a ``password=`` parameter), for
    messages, reprs and files.

    >>> redact("redis://:s3cret@cache:6379/0?password=s3cret&db=1")
    'redis://***@cache:6379/0?password=***&db=1'
    """
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    rest = re.sub(r"(?i)([?&;](?:password|pass|pwd)=)[^&;#]*", r"\1***", rest)
    return f"{scheme}{sep}{rest}"
