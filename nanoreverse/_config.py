"""Small configuration values: Timeout, RateLimit, Backoff, and the API's documented limits."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._errors import InvalidInputError

__version__ = "0.1.0.dev0"

#: The key the emulator accepts unless told otherwise (``nanoreverse emulator --api-key``).
EMULATOR_KEY = "nr-emulator-key"
#: Seconds a claim on a video holds off other callers after its owner stops renewing it.
DEFAULT_LEASE = 30.0

DEFAULT_BASE_URL = "https://nanophoto.ai"
ENDPOINT = "/api/sora-2/reverse-prompt"
API_KEY_ENV = "NANOPHOTO_API_KEY"
BASE_URL_ENV = "NANOPHOTO_BASE_URL"

#: The 11 output languages the API documents.
LOCALES: tuple[str, ...] = ("en", "zh", "zh-TW", "ja", "ko", "es", "fr", "de", "pt", "ru", "ar")

#: Largest upload the API accepts, counted before base64 encoding.
MAX_UPLOAD_BYTES = 30 * 1024 * 1024
#: The longest answer read, in characters: some hundred times a long video's shot list
#: (tens of KB). The whole answer is kept (for ``partial_text``, the store and the
#: batch's ``Result``), so this is also what one answer may cost in memory.
MAX_ANSWER_CHARS = 4 * 1024 * 1024


def _seconds(
    what: str, value: object, *, allow_none: bool = False, allow_zero: bool = False
) -> None:
    """A number of seconds, checked where it is given rather than where it misbehaves."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = " (None for no limit)" if allow_none else ""
        raise TypeError(f"{what} must be a number of seconds{hint}, got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        hint = "; use None for no limit" if allow_none else ""
        raise ValueError(f"{what} must be a finite number of seconds {bound}{hint}, got {value!r}")


def check_whole(what: str, value: object, minimum: int, *, allow_none: bool = False) -> None:
    """A whole number ≥ ``minimum`` (True and False are not counts), checked where given.

    >>> check_whole("concurrency", 0, 1)
    Traceback (most recent call last):
    ValueError: concurrency must be a whole number ≥ 1, got 0
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        either = "None or " if allow_none else ""
        raise ValueError(f"{what} must be {either}a whole number ≥ {minimum}, got {value!r}")


_UNSET: float = float("nan")  # "not given": NaN is never a valid number of seconds


@dataclass(frozen=True, init=False)
class Timeout:
    """How long the client waits, in seconds (None: no limit).

    A plain number sets ``connect``, ``read`` and ``write`` at once, as in httpx
    (``AsyncClient(timeout=30)`` means ``Timeout(30)``); a keyword sets one phase.

    ``read`` is the longest silence allowed between two pieces of the answer
    (the wait for the first one included); an answer for a long video may
    stream for minutes, so there is no ``total`` by default. ``write`` is the
    longest the upload may wait for the connection to take its next piece (a
    server that stops reading); nothing was charged then, so it is retried.

    ``keepalive`` is the longest a connection may sit idle and still be reused.
    Servers close idle connections without a word (after 2 to 75 s, by server); a
    request sent on one just as it closes is lost in a way the client cannot prove
    unpaid, so connections are dropped before any common server's limit (0: never
    reused). It costs a new connection per call only to calls more than a second apart.

    >>> Timeout(connect=5.0, read=60.0)
    Timeout(connect=5.0, read=60.0, write=60.0, total=None, keepalive=1.0)
    >>> Timeout(30)
    Timeout(connect=30, read=30, write=30, total=None, keepalive=1.0)
    """

    connect: float | None
    read: float | None
    write: float | None
    total: float | None
    keepalive: float

    def __init__(
        self,
        timeout: float | None = _UNSET,
        *,
        connect: float | None = _UNSET,
        read: float | None = _UNSET,
        write: float | None = _UNSET,
        total: float | None = None,
        keepalive: float = 1.0,
    ) -> None:
        given = timeout is not _UNSET
        defaults = {"connect": 10.0, "read": 300.0, "write": 60.0}
        phases = {"connect": connect, "read": read, "write": write}
        for name, value in phases.items():
            if value is _UNSET:
                value = timeout if given else defaults[name]
            object.__setattr__(self, name, value)
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "keepalive", keepalive)
        for name in ("connect", "read", "write", "total"):
            _seconds(f"Timeout {name}", getattr(self, name), allow_none=True)
        _seconds("Timeout keepalive", self.keepalive, allow_zero=True)


@dataclass(frozen=True)
class RateLimit:
    """At most ``calls`` requests start in any window of ``per`` seconds (a sliding window).

    Bursts of up to ``calls`` are allowed. ``margin`` (seconds) is added to the
    window so that network jitter never lands a call in the server's previous
    window; by default 20 ms plus 0.1 % of ``per``.

    ``shared="redis://host:6379/0"`` keeps the window on Redis, shared by every
    process and machine that uses the same API key (key names: ``namespace``,
    then a hash of the API key, never the key itself).

    >>> RateLimit(100, per=3600.0)
    RateLimit(calls=100, per=3600.0, margin=3.62)
    """

    calls: int
    per: float = 3600.0
    margin: float | None = None
    shared: str | None = None
    namespace: str = "nanoreverse"

    def __post_init__(self) -> None:
        check_whole("RateLimit calls", self.calls, 1)
        _seconds("RateLimit per", self.per)
        if self.margin is None:
            object.__setattr__(self, "margin", round(0.02 + self.per * 0.001, 6))
        else:
            _seconds("RateLimit margin", self.margin, allow_zero=True)
        if self.shared is not None and not isinstance(self.shared, str):
            raise TypeError(
                f"RateLimit shared must be a Redis URL as a str, got {type(self.shared).__name__}"
            )
        if self.shared is not None and not self.shared.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError(
                f"RateLimit shared must be a Redis URL (redis://host:6379/0), got {self.shared!r}"
            )

    @property
    def period(self) -> float:
        """Seconds a call keeps its place: the window and the margin."""
        return self.per + (self.margin or 0.0)

    def __repr__(self) -> str:
        text = f"RateLimit(calls={self.calls}, per={self.per}, margin={self.margin}"
        if self.shared is not None:
            from ._redis import redact

            text += f", shared={redact(self.shared)!r}, namespace={self.namespace!r}"
        return text + ")"

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Read ``"CALLS/SECONDS"`` (e.g. ``"100/3600"``), as the command line takes it."""
        calls, sep, per = text.partition("/")
        try:
            return cls(int(calls), per=float(per) if sep else 3600.0)
        except ValueError:
            raise ValueError(
                f"rate must look like CALLS/SECONDS, e.g. 100/3600; got {text!r}"
            ) from None


DEFAULT_RATE_LIMIT = RateLimit(100, per=3600.0)
DEFAULT_TIMEOUT = Timeout()


@dataclass(frozen=True)
class Backoff:
    """Waits between retries of 429/503 answers.

    Without a ``Retry-After`` header the wait grows exponentially from
    ``initial`` up to ``maximum`` seconds, with up to ``jitter`` seconds of
    randomness. A ``Retry-After`` longer than ``max_retry_after`` is not waited
    out: the error is raised instead.
    """

    initial: float = 1.0
    maximum: float = 60.0
    jitter: float = 1.0
    max_retry_after: float = 3600.0

    def __post_init__(self) -> None:
        for name in ("initial", "maximum", "jitter", "max_retry_after"):
            _seconds(f"Backoff {name}", getattr(self, name), allow_zero=True)


DEFAULT_BACKOFF = Backoff()


# -- plain values accepted where a config object is expected (as httpx does) --------------


def as_timeout(value: Timeout | float | None) -> Timeout:
    """``30`` is ``Timeout(30)``; ``None`` is no limit on any phase."""
    if isinstance(value, Timeout):
        return value
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return Timeout(value)
    raise TypeError(f"timeout must be a Timeout, a number of seconds or None, got {value!r}")


def as_rate_limit(value: RateLimit | int | None) -> RateLimit | None:
    """``100`` is ``RateLimit(100)``: 100 calls an hour, the API's default for a key."""
    if value is None or isinstance(value, RateLimit):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return RateLimit(value)
    raise TypeError(
        f"rate_limit must be a RateLimit, a number of calls per hour or None, got {value!r}"
    )


def as_backoff(value: Backoff | float) -> Backoff:
    """``5`` is ``Backoff(initial=5)``: the first wait, doubling from there."""
    if isinstance(value, Backoff):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Backoff(initial=value)
    raise TypeError(f"backoff must be a Backoff or a number of seconds, got {value!r}")


# -- checks of what the client is given, made where it is given -------------------------


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise InvalidInputError(
            f"locale {locale!r} is not supported; use one of {', '.join(LOCALES)}",
            preflight=True,
        )
    return locale


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name such as 127.example.com is not this machine


def clean_key(raw: str | None) -> str | None:
    """The key without the whitespace or byte-order mark a file or ``export`` may add;
    a key with control characters inside is refused (the key itself is never shown)."""
    if raw is None:
        return None
    key = raw.strip().lstrip("\ufeff").strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise ValueError(
            f"the API key has a control character inside it (at position "
            f"{next(i for i, c in enumerate(key) if ord(c) < 32 or ord(c) == 127)}); "
            f"check {API_KEY_ENV} or the key file"
        )
    return key or None


def check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str):
        raise TypeError(f"base_url must be a str, got {type(base_url).__name__}")
    parts = urlsplit(base_url)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            "base_url must be a plain address such as https://nanophoto.ai, with no query, "
            "fragment, user name or password (the key would go to the wrong place)"
        )
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return base_url.rstrip("/")
    if parts.scheme == "http" and _is_loopback(host):
        return base_url.rstrip("/")
    raise ValueError(
        f"base_url must be https:// (or http:// to this machine: 127.0.0.1, localhost, [::1]) "
        f"so the API key never crosses a network in clear text; got {base_url!r}"
    )
