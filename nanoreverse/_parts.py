"""What one AsyncClient owns: its session, rate limiter, store and the answers it reads on
for the store; built from settings already checked, and closed in one place."""

from __future__ import annotations

import aiohttp

from ._clock import Clock
from ._config import API_KEY_ENV, RateLimit, Timeout
from ._errors import AuthenticationError
from ._limits.choice import make_limiter
from ._sources.kinds import Prepared, SourceLike, as_source
from ._store import Store, scope_of
from ._store.follow import InFlight
from ._store.through import open_through_store
from ._transport.answers import Answer
from ._transport.attempt import Requester
from ._transport.caller import Caller
from ._transport.calls import NO_HOOKS, Call, CallHooks, CallRecord
from ._transport.http import Hook, HTTPSettings, ResponseHook
from ._transport.retry import RetryPolicy


class ClientParts:
    """The parts of one client, in the order a call meets them.

    >>> parts = ClientParts(url, key, timeout=Timeout(30), rate_limit=None, ...)  # doctest: +SKIP
    >>> answer = await parts.open("ad.mp4", "en", CallRecord(), None, refresh=False)
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: Timeout,
        rate_limit: RateLimit | None,
        retry: RetryPolicy,
        http: HTTPSettings,
        session: aiohttp.ClientSession | None,
        store: Store | None,
        on_request: Hook | None,
        on_response: ResponseHook | None,
        clock: Clock,
    ) -> None:
        self.session = session
        self.owns_session = session is None
        self.closed = False
        self.store = store
        self.scope = scope_of(api_key or "")
        self.limiter = make_limiter(rate_limit, self.scope, clock)
        self.requester = Requester(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            limiter=self.limiter,
            session=self.get_session,
            on_request=on_request,
            on_response=on_response,
        )
        self.caller = Caller(self.requester, self.limiter, retry)
        self.in_flight = InFlight()
        self._api_key = api_key
        self._clock = clock
        self._http = http
        self._keepalive = timeout.keepalive

    async def prepare(self, source: SourceLike) -> Prepared:
        """Every check that needs no network and is not done yet: the key, and the source
        itself (the locale was checked when the stream was made)."""
        if not self._api_key:
            raise AuthenticationError(
                f"no API key: pass api_key= to AsyncClient or set {API_KEY_ENV}",
                preflight=True,
            )
        return await as_source(source).prepare()

    async def open(
        self,
        source: SourceLike,
        locale: str,
        record: CallRecord,
        hooks: CallHooks | None,
        refresh: bool,
    ) -> Answer:
        """One call's answer: through the store when there is one, else from the API."""
        call = Call(source, locale, await self.prepare(source), record, self._clock)

        async def send() -> Answer:
            return await self.caller.send(call, hooks or NO_HOOKS)

        if self.store is None:
            return await send()
        return await open_through_store(
            self.store, self.scope, self.in_flight, call, refresh, send, hooks
        )

    def get_session(self) -> aiohttp.ClientSession:
        if self.closed:
            raise RuntimeError("this AsyncClient is closed; make a new one")
        if self.session is None:
            self.session = self._http.session(self.requester.url, keepalive=self._keepalive)
        return self.session

    async def aclose(self) -> None:
        """Close every part, each even when one before it fails: a store left open keeps
        its thread, and the interpreter waits for that thread at exit. Answers still being
        read for a store are cut off here, and logged as such."""
        self.closed = True
        try:
            await self.in_flight.aclose()
        finally:
            try:
                if self.owns_session and self.session is not None:
                    await self.session.close()
            finally:
                try:
                    await self.limiter.aclose()
                finally:
                    if self.store is not None:
                        await self.store.aclose()
