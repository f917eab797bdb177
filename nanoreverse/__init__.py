"""nanoreverse: an asyncio-first client for NanoPhoto.AI's Video Reverse Prompt API.

>>> import nanoreverse as nr
>>> async with nr.AsyncClient() as client:                       # doctest: +SKIP
...     async with client.analyze("ad.mp4", locale="ja") as stream:
...         async for chunk in stream:
...             print(chunk, end="")
"""

import types

from ._answer.shots import Analysis, Shot, parse_analysis
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
from ._client import AsyncClient
from ._config import LOCALES, MAX_UPLOAD_BYTES, Backoff, RateLimit, Timeout, __version__
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
)
from ._sources.kinds import Source, SourceLike, VideoBytes, VideoFile, VideoURL, YouTube, as_source
from ._store import RedisStore, SQLiteStore, Store
from ._sync import Client, Results, Stream
from ._transport.http import RequestInfo, ResponseInfo
from ._transport.stream import AnalysisStream

__all__ = [
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
    "Client",
    "Event",
    "FileTooLargeError",
    "Finished",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidFormatError",
    "InvalidInputError",
    "InvalidRequestError",
    "InvalidVideoURLError",
    "InvalidYouTubeURLError",
    "NanoReverseError",
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
    "Started",
    "Store",
    "StoreError",
    "Stream",
    "StreamInterruptedError",
    "StreamTimeoutError",
    "Timeout",
    "VideoBytes",
    "VideoDownloadError",
    "VideoFile",
    "VideoProcessingError",
    "VideoURL",
    "YouTube",
    "__version__",
    "as_source",
    "parse_analysis",
]

# Public classes and functions say they are nanoreverse's, as httpx's do: reprs,
# tracebacks and documentation show nr.APIError, not nanoreverse._errors.APIError.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type | types.FunctionType):
        _value.__module__ = __name__
del _name, _value
