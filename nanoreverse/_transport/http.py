"""The HTTP side a user configures: proxy, TLS, the environment, and hooks that watch calls.

aiohttp ignores ``HTTPS_PROXY`` and ``SSL_CERT_FILE`` unless told to trust the
environment; other SDKs' users lost days to that (a custom transport silently dropping
the proxy), so here the environment is honoured unless ``trust_env=False``, and a
setting that would not act (a proxy beside a session of the user's own) is refused.
"""

from __future__ import annotations

import functools
import logging
import os
import ssl as _ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp

logger = logging.getLogger("nanoreverse")


@dataclass(frozen=True)
class RequestInfo:
    """What ``on_request`` sees of one attempt: never the key, never the video's bytes.

    Attributes:
        method: The HTTP method.
        url: The endpoint's URL.
        attempt: 1 for the first attempt of a call, 2 for its first retry, …
        body_bytes: Size of the JSON body (for an upload, mostly the base64 of the file).
        upload: Whether the body carries a file (else a link).

    >>> nr.AsyncClient(on_request=lambda r: print(r.method, r.url, r.attempt))  # doctest: +SKIP
    """

    method: str
    url: str
    #: 1 for the first attempt of a call, 2 for its first retry, …
    attempt: int
    #: Size of the JSON body (for an upload, mostly the base64 of the file).
    body_bytes: int
    #: Whether the body carries a file (else a link).
    upload: bool


@dataclass(frozen=True)
class ResponseInfo:
    """What ``on_response`` sees when an attempt's answer begins, or the attempt fails.

    Attributes:
        request: The attempt, as ``on_request`` saw it.
        status: The HTTP status; None when no answer came (connection failure, timeout).
        seconds: From the start of the attempt (after the rate limiter) to the answer's
            headers, or to the failure.
        upload_seconds: Seconds the body took to send; None when it was not sent whole.
        error: The error's type and errorCode when the attempt failed.

    >>> nr.AsyncClient(on_response=lambda r: print(r.status, r.seconds))  # doctest: +SKIP
    """

    request: RequestInfo
    #: The HTTP status; None when no answer came (connection failure, timeout).
    status: int | None
    #: Seconds from the start of the attempt (after the rate limiter) to the answer's
    #: headers, or to the failure.
    seconds: float
    #: Seconds the body took to send; None when it was not sent whole.
    upload_seconds: float | None
    #: The error's type and errorCode when the attempt failed (``"RateLimitError 429"``).
    error: str | None


_Info = TypeVar("_Info", RequestInfo, ResponseInfo)
Hook = Callable[[RequestInfo], object]
ResponseHook = Callable[[ResponseInfo], object]


class Watch:
    """One attempt, as the hooks see it. A hook that raises is logged and ignored: a
    watcher must never cost a call that may already be paid."""

    def __init__(
        self, on_request: Hook | None, on_response: ResponseHook | None, info: RequestInfo
    ) -> None:
        self._on_response = on_response
        self.info = info
        self.started = time.monotonic()
        if on_request is not None:
            _call(on_request, info)

    def answered(self, status: int | None, sent_at: float | None, error: str | None) -> None:
        if self._on_response is None:
            return
        now = time.monotonic()
        upload = None if sent_at is None else sent_at - self.started
        _call(self._on_response, ResponseInfo(self.info, status, now - self.started, upload, error))


def _call(hook: Callable[[_Info], object], info: _Info) -> None:
    try:
        hook(info)
    except Exception:
        logger.exception("a hook raised (ignored: the call goes on)")


def check_hook(name: str, hook: object) -> None:
    if hook is not None and not callable(hook):
        raise TypeError(f"{name} must be a function or None, got {type(hook).__name__}")


# -- the session ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HTTPSettings:
    """How the client's own session reaches the API."""

    proxy: str | None = None
    ssl: _ssl.SSLContext | bool = True
    trust_env: bool = True

    def __post_init__(self) -> None:
        if self.proxy is not None:
            _check_proxy(self.proxy)
        if not isinstance(self.ssl, (_ssl.SSLContext, bool)):
            raise TypeError(
                "ssl must be an ssl.SSLContext (e.g. ssl.create_default_context(cafile=...)), "
                f"True or False, got {type(self.ssl).__name__}"
            )
        if not isinstance(self.trust_env, bool):
            raise TypeError(f"trust_env must be True or False, got {self.trust_env!r}")
        if self.ssl is False:
            logger.warning("ssl=False: the server's certificate is not checked")

    @property
    def default(self) -> bool:
        return self == HTTPSettings()

    def session(self, url: str, *, keepalive: float) -> aiohttp.ClientSession:
        """A session for requests to ``url``, the API's endpoint (it never changes)."""
        # Concurrency is bounded by analyze_many and the rate limiter, not the pool.
        connector = aiohttp.TCPConnector(
            limit=0, keepalive_timeout=keepalive, ssl=self._ssl_context(url)
        )
        # Not aiohttp's trust_env: it looks the proxy up in a thread on every request and
        # reads ~/.netrc, whose credentials would clash with the key's header.
        return aiohttp.ClientSession(connector=connector, proxy=self._proxy_for(url))

    def _proxy_for(self, url: str) -> str | None:
        if self.proxy is not None or not self.trust_env:
            return self.proxy
        parts = urlsplit(url)
        if proxy_bypass(parts.hostname or ""):  # NO_PROXY
            return None
        found = getproxies().get(parts.scheme)  # HTTPS_PROXY for https://, HTTP_PROXY for http://
        return found or None

    def _ssl_context(self, url: str) -> _ssl.SSLContext | bool:
        if self.ssl is not True or not self.trust_env or not url.startswith("https:"):
            return self.ssl
        variables = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        return True if variables == (None, None) else _context_for(*variables)


@functools.lru_cache(maxsize=4)
def _context_for(cafile: str | None, capath: str | None) -> _ssl.SSLContext:
    """A verifying context with the CAs that SSL_CERT_FILE / SSL_CERT_DIR name now.

    aiohttp's own context was made when it was imported, so variables set later would not
    act; loading a bundle costs ~20 ms, hence one context per pair of values."""
    return _ssl.create_default_context(cafile=cafile, capath=capath)


def _check_proxy(proxy: object) -> None:
    if not isinstance(proxy, str):
        raise TypeError(f"proxy must be a URL str such as http://proxy:3128, got {type(proxy)}")
    parts = urlsplit(proxy)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # Not the URL itself: it may hold the proxy's password.
        raise ValueError("proxy must be an http:// or https:// URL with a host")
