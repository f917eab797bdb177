"""Every exception nanoreverse raises, in one place.

    NanoReverseError
    ├── APIConnectionError            could not connect, or the connection broke before the answer
    │   └── APITimeoutError           connect, upload or read timeout before the answer began
    ├── StreamInterruptedError        the answer began, then broke off (.partial_text)
    │   └── StreamTimeoutError        ... because the server fell silent (Timeout.read)
    ├── StoreError                    the store of analyses cannot be read or written (no call made)
    └── APIError                      the server (or preflight) refused the request
        ├── AuthenticationError       LOGIN_REQUIRED                        401
        ├── RateLimitError            API_KEY_RATE_LIMIT_EXCEEDED           429
        ├── InsufficientCreditsError  INSUFFICIENT_CREDITS                  402
        ├── InvalidRequestError       (any other 400)                       400
        │   ├── InvalidInputError     INVALID_INPUT
        │   ├── InvalidYouTubeURLError INVALID_YOUTUBE_URL
        │   ├── InvalidVideoURLError  INVALID_VIDEO_URL
        │   ├── InvalidFormatError    INVALID_FORMAT
        │   ├── FileTooLargeError     FILE_TOO_LARGE
        │   └── VideoDownloadError    VIDEO_DOWNLOAD_FAILED
        ├── VideoProcessingError      VIDEO_PROCESSING_FAILED               422
        ├── ServiceUnavailableError   AI_SERVICE_ERROR, SERVICE_UNAVAILABLE 503
        └── InternalServerError       INTERNAL_ERROR and any other 5xx      500

Preflight errors (found before any network traffic, so no credit was spent) are
the same classes the server would raise, with ``preflight=True`` and ``status=None``.

Server answers (and aiohttp's failures) are turned into these classes in exactly one
place: ``_transport/errors.py``.
"""

from __future__ import annotations

from typing import Any, ClassVar


def _restore(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class NanoReverseError(Exception):
    """Base class of every error raised by nanoreverse.

    Args:
        message: What went wrong, in words (never holding the API key).

    Attributes:
        message: The same text, without the decorations ``str(error)`` adds.
        preflight: True when the mistake was found before any network traffic (no
            request made, no credit spent); every error answers it.

    >>> try:
    ...     await client.analyze("notes.txt").text()                  # doctest: +SKIP
    ... except nr.NanoReverseError as error:
    ...     print(error.preflight, may_have_been_paid(error))
    """

    preflight: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Our constructors take keyword arguments, which the default
        # Exception pickling (cls(*args)) cannot replay.
        return (_restore, (type(self), self.args, self.__dict__))


class APIConnectionError(NanoReverseError):
    """The client could not connect, or the connection broke before the answer began.

    Args:
        message: What went wrong.
        request_sent: False when the request never fully left the machine (the server
            cannot have done the work, so it was safe to retry).
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """Connecting, or waiting for the answer, took longer than the client's Timeout."""


class StreamInterruptedError(NanoReverseError):
    """The answer began and then broke off.

    Never retried automatically: the server may already have charged the credit.

    Args:
        message: What happened.
        partial_text: Everything received before it broke off.
    """

    def __init__(self, message: str, *, partial_text: str = "") -> None:
        super().__init__(message)
        self.partial_text = partial_text


class StreamTimeoutError(StreamInterruptedError):
    """The answer began, then the server was silent for longer than ``Timeout.read``.

    Not an ``APITimeoutError``: that one means no answer had begun (``except
    APIConnectionError`` must never catch a paid answer that broke off)."""


class StoreError(NanoReverseError):
    """The store of analyses (SQLite file, Redis) cannot be read or written.

    Raised before any request is made: a store that cannot say whether a video was
    already paid for never leads to paying for it again.
    """


# Lets a preflight error default to its class's code while a server answer
# without an errorCode keeps code=None.
_CLASS_CODE: Any = object()


class APIError(NanoReverseError):
    """The API (or the client's preflight check standing in for it) refused the request.

    Each server ``errorCode`` has a subclass; an unknown code or an HTML error page gives
    the subclass its HTTP status points to.

    Args:
        message: The server's message (the API key blanked out of it).
        code: The server's ``errorCode`` (the subclass's own by default).
        status: The HTTP status, or None for a refusal found in preflight.
        preflight: True when found before sending anything.
        body: The start of the answer's body, for diagnosis (the key blanked out).
        retry_after: Seconds the server asked to wait (its ``Retry-After``), if it said.

    >>> try:
    ...     await client.analyze("https://youtu.be/x").text()          # doctest: +SKIP
    ... except nr.APIError as error:
    ...     print(error.code, error.status, error.preflight)
    """

    #: The ``errorCode`` this class stands for, set from ``ERROR_CODES`` below (the first
    #: code listed for it): a refusal raised here without a code carries it.
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = _CLASS_CODE,
        status: int | None = None,
        preflight: bool = False,
        body: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code: str | None = self.default_code if code is _CLASS_CODE else code
        self.status = status
        self.preflight = preflight
        self.body = body
        #: Seconds the server asked to wait (its Retry-After header), if it said.
        self.retry_after = retry_after
        prefix = f"[{self.code}] " if self.code else ""
        where = " (found before sending: no request made, no credit spent)" if preflight else ""
        status_text = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{prefix}{message}{status_text}{where}")
        # .message is the plain text, str(error) the decorated one.
        self.message = message


class AuthenticationError(APIError):
    """LOGIN_REQUIRED: the API key is missing, wrong or revoked."""


class RateLimitError(APIError):
    """API_KEY_RATE_LIMIT_EXCEEDED: too many calls for this key; see ``retry_after``."""


class InsufficientCreditsError(APIError):
    """INSUFFICIENT_CREDITS: the account has no credits left."""


class InvalidRequestError(APIError):
    """A 400 answer: the request itself is wrong and retrying it cannot help."""


class InvalidInputError(InvalidRequestError):
    """INVALID_INPUT: a required field is missing or a value (e.g. the locale) is not allowed."""


class InvalidYouTubeURLError(InvalidRequestError):
    """INVALID_YOUTUBE_URL: not a link to one YouTube video."""


class InvalidVideoURLError(InvalidRequestError):
    """INVALID_VIDEO_URL: not a usable http(s) video URL."""


class InvalidFormatError(InvalidRequestError):
    """INVALID_FORMAT: the upload is not an MP4 file."""


class FileTooLargeError(InvalidRequestError):
    """FILE_TOO_LARGE: the upload is over 30 MiB before base64."""


class VideoDownloadError(InvalidRequestError):
    """VIDEO_DOWNLOAD_FAILED: the server could not fetch the video at the URL."""


class VideoProcessingError(APIError):
    """VIDEO_PROCESSING_FAILED: the server received the video but could not analyse it."""


class ServiceUnavailableError(APIError):
    """AI_SERVICE_ERROR or SERVICE_UNAVAILABLE: try again later (retried automatically;
    SERVICE_UNAVAILABLE, a configuration issue on the service's side, only once)."""


class InternalServerError(APIError):
    """INTERNAL_ERROR, or any other 5xx answer (a proxy's 502/504 included)."""


ERROR_CODES: dict[str, type[APIError]] = {
    "LOGIN_REQUIRED": AuthenticationError,
    "API_KEY_RATE_LIMIT_EXCEEDED": RateLimitError,
    "INSUFFICIENT_CREDITS": InsufficientCreditsError,
    "INVALID_INPUT": InvalidInputError,
    "INVALID_YOUTUBE_URL": InvalidYouTubeURLError,
    "INVALID_VIDEO_URL": InvalidVideoURLError,
    "INVALID_FORMAT": InvalidFormatError,
    "FILE_TOO_LARGE": FileTooLargeError,
    "VIDEO_DOWNLOAD_FAILED": VideoDownloadError,
    "VIDEO_PROCESSING_FAILED": VideoProcessingError,
    "AI_SERVICE_ERROR": ServiceUnavailableError,
    "SERVICE_UNAVAILABLE": ServiceUnavailableError,
    "INTERNAL_ERROR": InternalServerError,
}

# The table is the one place that pairs a code with its class; a class takes the first
# code listed for it (AI_SERVICE_ERROR, not SERVICE_UNAVAILABLE) as its own.
for _code, _class in reversed(ERROR_CODES.items()):
    _class.default_code = _code
del _code, _class


def may_have_been_paid(error: BaseException | None) -> bool:
    """The one rule for "may this call have cost a credit", given how it ended (None: an
    answer came). The retry rule, ``Result.paid``, ``max_credits`` and the command line's
    tally all ask this, so they cannot disagree.

    Surely unpaid: anything found before sending, a request that never fully left the
    machine, a refusal about the key or the service (429, 503), and an answer saying the
    request itself was wrong (the other 4xx but 422). Everything else may have been paid:
    an answer (whole or broken off), a 422 (the server worked on the video), any other
    5xx or an error page after the whole request, a connection lost after sending.

    >>> may_have_been_paid(InternalServerError("boom", status=502))
    True
    >>> may_have_been_paid(RateLimitError("slow down", status=429))
    False
    """
    if error is None or isinstance(error, StreamInterruptedError):
        return True
    if isinstance(error, APIConnectionError):
        return error.request_sent
    if isinstance(error, APIError):
        if error.preflight or error.status in (429, 503):
            return False
        return error.status is None or error.status >= 500 or error.status == 422
    return False  # StoreError and the like: raised before any request was made
