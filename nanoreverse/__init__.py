"""nanoreverse: an asyncio-first client for NanoPhoto.AI's Video Reverse Prompt API.

>>> import nanoreverse as nr
>>> async with nr.AsyncClient() as client:                       # doctest: +SKIP
...     async with client.analyze("ad.mp4", locale="ja") as stream:
...         async for chunk in stream:
...             print(chunk, end="")
"""

import importlib as _importlib
import typing as _typing

from ._config import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_LEASE,
    LOCALES,
    MAX_UPLOAD_BYTES,
    __version__,
)

if _typing.TYPE_CHECKING:
    from ._answer.exports import to_edl, to_otio, to_srt, to_vtt
    from ._answer.shots import Analysis, Shot, parse_analysis
    from ._answer.timeline import shot_ranges, snap_to_cuts
    from ._batch.events import (
        BatchStats,
        Chunk,
        Event,
        Finished,
        Queued,
        RateLimited,
        Result,
        Retrying,
        Started,
    )
    from ._batch.results import BatchResults
    from ._blocking import Results, Stream
    from ._client import AsyncClient
    from ._config import Backoff, RateLimit, Timeout
    from ._errors import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        FileTooLargeError,
        InsufficientCreditsError,
        InternalServerError,
        InvalidFormatError,
        InvalidInputError,
        InvalidRequestError,
        InvalidVideoURLError,
        InvalidYouTubeURLError,
        NanoReverseError,
        RateLimitError,
        ServiceUnavailableError,
        StoreError,
        StreamInterruptedError,
        StreamTimeoutError,
        VideoDownloadError,
        VideoProcessingError,
        may_have_been_paid,
    )
    from ._sources.fileio import Stamp
    from ._sources.kinds import (
        Prepared,
        Source,
        SourceLike,
        Upload,
        VideoBytes,
        VideoFile,
        VideoURL,
        YouTube,
        as_source,
    )
    from ._store import (
        Claimed,
        FailedAttempt,
        Held,
        Hit,
        Lookup,
        RedisStore,
        SQLiteStore,
        Store,
        StoredAnswer,
        StoreKey,
    )
    from ._store.plan import Plan
    from ._sync import Client
    from ._transport.http import RequestInfo, ResponseInfo
    from ._transport.stream import AnalysisStream

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_LEASE",
    "LOCALES",
    "MAX_UPLOAD_BYTES",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Analysis",
    "AnalysisStream",
    "AsyncClient",
    "AuthenticationError",
    "Backoff",
    "BatchResults",
    "BatchStats",
    "Chunk",
    "Claimed",
    "Client",
    "Event",
    "FailedAttempt",
    "FileTooLargeError",
    "Finished",
    "Held",
    "Hit",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidFormatError",
    "InvalidInputError",
    "InvalidRequestError",
    "InvalidVideoURLError",
    "InvalidYouTubeURLError",
    "Lookup",
    "NanoReverseError",
    "Plan",
    "Prepared",
    "Queued",
    "RateLimit",
    "RateLimitError",
    "RateLimited",
    "RedisStore",
    "RequestInfo",
    "ResponseInfo",
    "Result",
    "Results",
    "Retrying",
    "SQLiteStore",
    "ServiceUnavailableError",
    "Shot",
    "Source",
    "SourceLike",
    "Stamp",
    "Started",
    "Store",
    "StoreError",
    "StoreKey",
    "StoredAnswer",
    "Stream",
    "StreamInterruptedError",
    "StreamTimeoutError",
    "Timeout",
    "Upload",
    "VideoBytes",
    "VideoDownloadError",
    "VideoFile",
    "VideoProcessingError",
    "VideoURL",
    "YouTube",
    "__version__",
    "as_source",
    "may_have_been_paid",
    "parse_analysis",
    "shot_ranges",
    "snap_to_cuts",
    "to_edl",
    "to_otio",
    "to_srt",
    "to_vtt",
]

# The modules the public names come from. The names load on first use, all together, so
# that `import nanoreverse` (and `nanoreverse --version`) costs no network stack: a first
# call loads what it needs, and the command line's rich, the report, the emulator and
# Redis load only when used. `__all__` is the one list of names; a test checks that each
# name is one object wherever these modules hold it.
_MODULES = (
    "._answer.exports",
    "._answer.shots",
    "._answer.timeline",
    "._batch.events",
    "._batch.results",
    "._blocking",
    "._client",
    "._config",
    "._errors",
    "._sources.fileio",
    "._sources.kinds",
    "._store",
    "._store.plan",
    "._sync",
    "._transport.http",
    "._transport.stream",
)
_LAZY = frozenset(__all__) - globals().keys()


def _load() -> None:
    from types import FunctionType

    modules = [_importlib.import_module(module, __name__) for module in _MODULES]
    for name in _LAZY:
        value = next(getattr(module, name) for module in modules if hasattr(module, name))
        # Public classes and functions say they are nanoreverse's, as httpx's do: reprs,
        # tracebacks and documentation show nr.APIError, not nanoreverse._errors.APIError.
        if isinstance(value, type | FunctionType):
            value.__module__ = __name__
        globals()[name] = value


def __getattr__(name: str) -> _typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _load()
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
