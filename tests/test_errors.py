from __future__ import annotations

import html
import json
import pickle
import urllib.parse

import pytest

import nanoreverse as nr
from nanoreverse._errors import ERROR_CODES
from nanoreverse._transport.errors import error_from_response

from .helpers import ERRORS


def body(code: str, message: str = "boom") -> bytes:
    return json.dumps({"success": False, "error": message, "errorCode": code}).encode()


@pytest.mark.parametrize(("code", "status", "cls"), ERRORS)
def test_every_error_code_has_its_class(code: str, status: int, cls: type) -> None:
    error = error_from_response(status, body(code))
    assert type(error) is cls
    assert (error.code, error.status, error.message, error.preflight) == (
        code,
        status,
        "boom",
        False,
    )
    assert isinstance(error, nr.APIError)
    assert code in str(error) and "boom" in str(error)


def test_table_is_complete() -> None:
    assert set(ERROR_CODES) == {code for code, _, _ in ERRORS}


@pytest.mark.parametrize(("code", "status", "cls"), ERRORS)
def test_an_error_raised_without_a_code_carries_its_class_s_own(
    code: str, status: int, cls: type[nr.APIError]
) -> None:
    own = "AI_SERVICE_ERROR" if code == "SERVICE_UNAVAILABLE" else code  # two codes, one class
    assert cls("refused").code == own
    assert cls("refused", code=None).code is None  # a server answer without an errorCode


def test_a_subclass_of_yours_keeps_its_parent_s_code() -> None:
    class Throttled(nr.RateLimitError):
        pass

    assert Throttled("slow down").code == "API_KEY_RATE_LIMIT_EXCEEDED"
    assert nr.InvalidRequestError("bad").code is None and nr.APIError("x").code is None


def test_400_classes_share_a_parent() -> None:
    for code in (
        "INVALID_INPUT",
        "INVALID_YOUTUBE_URL",
        "INVALID_VIDEO_URL",
        "INVALID_FORMAT",
        "FILE_TOO_LARGE",
        "VIDEO_DOWNLOAD_FAILED",
    ):
        assert issubclass(ERROR_CODES[code], nr.InvalidRequestError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (502, nr.InternalServerError),
        (504, nr.InternalServerError),
        (524, nr.InternalServerError),
        (503, nr.ServiceUnavailableError),
        (429, nr.RateLimitError),
        (418, nr.InvalidRequestError),
        (401, nr.AuthenticationError),
    ],
)
def test_non_json_body_is_classified_by_status(status: int, cls: type) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
    error = error_from_response(status, page)
    assert type(error) is cls
    assert error.code is None and error.status == status
    assert "502 Bad Gateway" in str(error)  # the body's first bytes say what happened


def test_unknown_code_keeps_the_code_and_picks_class_by_status() -> None:
    error = error_from_response(503, body("BRAND_NEW_CODE"))
    assert type(error) is nr.ServiceUnavailableError
    assert error.code == "BRAND_NEW_CODE"


def test_long_html_page_is_cut_short() -> None:
    error = error_from_response(502, b"<html>" + b"x" * 100_000)
    assert len(str(error)) < 400


def test_the_key_echoed_by_a_server_is_blanked() -> None:
    error = error_from_response(
        401, body("LOGIN_REQUIRED", "bad key sk-secret-123"), secret="sk-secret-123"
    )
    assert "sk-secret-123" not in str(error) and "sk-secret-123" not in repr(error)
    assert "***" in error.message


def test_retry_after_is_kept() -> None:
    error = error_from_response(429, body("API_KEY_RATE_LIMIT_EXCEEDED"), retry_after=12.0)
    assert isinstance(error, nr.RateLimitError) and error.retry_after == 12.0


@pytest.mark.parametrize(
    "error",
    [
        nr.RateLimitError("slow down", status=429, retry_after=3.0),
        nr.FileTooLargeError("too big", preflight=True),
        nr.StreamInterruptedError("cut", partial_text="| 1 |"),
        nr.StreamTimeoutError("silent", partial_text="abc"),
        nr.APIConnectionError("refused", request_sent=False),
        error_from_response(502, b"<html>bad gateway</html>"),
    ],
)
def test_errors_pickle_with_their_fields(error: nr.NanoReverseError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


def test_preflight_errors_default_to_their_code_and_say_so() -> None:
    error = nr.FileTooLargeError("x.mp4 is 31 MiB", preflight=True)
    assert error.code == "FILE_TOO_LARGE" and error.status is None and error.preflight
    assert "no credit spent" in str(error)


def test_stream_timeout_is_an_interruption_never_a_connection_error() -> None:
    # `except APIConnectionError` means "no answer had begun"; a paid answer that fell
    # silent must not be caught there.
    error = nr.StreamTimeoutError("silent", partial_text="abc")
    assert isinstance(error, nr.StreamInterruptedError)
    assert not isinstance(error, nr.APIConnectionError)
    assert error.partial_text == "abc"
    assert nr.StreamTimeoutError.__mro__[1] is nr.StreamInterruptedError


KEY = "nr-live-a/b+c&d<é>"


@pytest.mark.parametrize(
    "echo",
    [
        KEY,
        json.dumps(KEY)[1:-1],  # \u00e9
        json.dumps(KEY)[1:-1].replace("\\u00e9", "\\u00E9").replace("/", "\\u002F"),
        KEY.replace("/", "\\/"),
        urllib.parse.quote(KEY, safe=""),
        urllib.parse.quote(KEY, safe="").lower(),
        urllib.parse.quote_plus(KEY),
        html.escape(KEY),
        "".join(f"&#{ord(c)};" for c in KEY),
        "".join(f"&#x{ord(c):X};" for c in KEY),
        KEY.encode().decode("latin-1"),  # the UTF-8 bytes shown as Latin-1 (mojibake)
    ],
    ids=[
        "plain",
        "json",
        "json-upper",
        "slash",
        "url",
        "url-lower",
        "url-plus",
        "html",
        "html-dec",
        "html-hex",
        "mojibake",
    ],
)
def test_the_key_is_blanked_in_every_form_a_server_echoes_it(echo: str) -> None:
    # #29 item 13: URL-encoded, HTML entities, upper-case JSON escapes and mojibake echoes
    # of the key were left in the message and in the error's .body.
    body = json.dumps({"success": False, "error": f"bad key {echo}", "errorCode": "X"})
    error = error_from_response(401, f"{body} seen: {echo}".encode(), secret=KEY)
    for text in (error.message, error.body or "", str(error), repr(error)):
        assert echo not in text and "***" in text
