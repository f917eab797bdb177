"""Arguments and keys are checked where they are given, before anything is sent (#15: 9–11)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

import nanoreverse as nr
from nanoreverse._transport.errors import error_from_response

from .helpers import YT
from .test_cli import run


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: nr.Timeout(read=-5), ValueError),
        (lambda: nr.Timeout(read="5"), TypeError),  # type: ignore[arg-type]
        (lambda: nr.Timeout(read=0), ValueError),
        (lambda: nr.Timeout(connect=math.inf), ValueError),
        (lambda: nr.Timeout(write=True), TypeError),
        (lambda: nr.Backoff(initial=-1), ValueError),
        (lambda: nr.RateLimit(10, margin=-3), ValueError),
        (lambda: nr.RateLimit(10, margin=math.nan), ValueError),
        (lambda: nr.RateLimit(10, per=math.nan), ValueError),
        (lambda: nr.RateLimit(True), ValueError),
        (lambda: nr.SQLiteStore("a.sqlite", lease=math.inf), ValueError),
        (lambda: nr.SQLiteStore("a.sqlite", lease=1e308), ValueError),
        (lambda: nr.RedisStore("redis://127.0.0.1:1/0", lease=math.nan), ValueError),
        (lambda: nr.AsyncClient("k", locale=""), nr.InvalidInputError),
        (lambda: nr.AsyncClient("k", max_retries=1.5), ValueError),  # type: ignore[arg-type]
        (lambda: nr.AsyncClient("k", base_url="https://nanophoto.ai/?x=1"), ValueError),
        (lambda: nr.AsyncClient("k", base_url="https://nanophoto.ai/#top"), ValueError),
        (lambda: nr.AsyncClient("k", base_url="https://user:pw@nanophoto.ai"), ValueError),
    ],
)
def test_bad_values_are_refused_at_construction(make: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        make()


async def test_an_empty_locale_is_refused_not_replaced_by_the_default(
    client: nr.AsyncClient,
) -> None:
    with pytest.raises(nr.InvalidInputError, match="locale"):
        await client.analyze(YT, locale="").text()


async def test_max_credits_must_be_whole(client: nr.AsyncClient) -> None:
    with pytest.raises(ValueError, match="whole number"):
        async with client.analyze_many([YT], max_credits=1.5):  # type: ignore[arg-type]
            pass


def test_max_credits_below_zero_is_a_usage_error() -> None:
    result = run("analyze", YT, "--max-credits", "-1")
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.parametrize("raw", ["sk-abc123\n", "  sk-abc123  ", "\ufeffsk-abc123\r\n"])
async def test_a_key_with_whitespace_or_a_bom_works(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nanoreverse.testing import Emulator

    async with Emulator(api_keys=("sk-abc123",), rate_limit=None) as emu:
        monkeypatch.setenv("NANOPHOTO_API_KEY", raw)
        async with nr.AsyncClient(base_url=emu.base_url, rate_limit=None) as client:
            assert "| 1 |" in await client.analyze(YT).text()


def test_a_key_with_a_control_character_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match="control character") as caught:
        nr.AsyncClient("sk-se\x07cret-key")
    assert "cret" not in str(caught.value)


def test_a_key_file_with_a_bom_works_on_the_command_line(tmp_path: Path) -> None:
    from nanoreverse.testing import Emulator

    key_file = tmp_path / "key"
    key_file.write_bytes("\ufeffsk-abc123\r\n".encode())
    with Emulator(api_keys=("sk-abc123",), rate_limit=None).in_thread() as emu:
        result = run(
            "analyze",
            YT,
            "--base-url",
            emu.base_url,
            "--api-key-file",
            str(key_file),
            key=None,
        )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "echoed",
    [
        '"bad key sk-live\\/abcd1234"',  # JSON may escape /
        '"bad key sk-live\\/abcd1234\\u00e9"',
    ],
)
def test_the_key_is_blanked_in_every_form_the_server_echoes(echoed: str) -> None:
    secret = "sk-live/abcd1234" + ("é" if "u00e9" in echoed else "")
    body = f'{{"success": false, "error": {echoed}, "errorCode": "LOGIN_REQUIRED"}}'.encode()
    error = error_from_response(401, body, secret=secret)
    assert "abcd1234" not in str(error) and "abcd1234" not in (error.body or "")
    assert error.code == "LOGIN_REQUIRED"


def test_a_very_short_key_does_not_mangle_ordinary_words() -> None:
    body = b'{"success": false, "error": "key e is wrong", "errorCode": "LOGIN_REQUIRED"}'
    error = error_from_response(401, body, secret="e")
    assert error.code == "LOGIN_REQUIRED" and error.message == "key *** is wrong"
    assert "success" in (error.body or "")


def test_a_clock_that_is_not_one_is_refused() -> None:
    with pytest.raises(TypeError, match="clock must be a Clock"):
        nr.AsyncClient("k", clock=time.monotonic)  # type: ignore[arg-type]


def test_the_clients_settings_are_read_only() -> None:
    # Each is baked into what acts on it; an assignment that silently did nothing (or
    # skipped the https check, for base_url) is refused instead.
    client = nr.AsyncClient("k", base_url="https://example.com")
    for name, value in [
        ("base_url", "http://evil.example"),
        ("locale", "xx"),
        ("max_retries", 9),
        ("timeout", nr.Timeout()),
        ("backoff", nr.Backoff()),
        ("rate_limit", None),
        ("store", None),
        ("scope", "mine"),
    ]:
        with pytest.raises(AttributeError, match=f"{name} is fixed"):
            setattr(client, name, value)
    client.note = "a user's own attribute"  # type: ignore[attr-defined]  # only settings are fixed
    assert client.base_url == "https://example.com" and client.locale == "en"


def test_plain_numbers_are_accepted_as_in_httpx() -> None:
    client = nr.AsyncClient("k", timeout=30, backoff=5, rate_limit=100)
    assert client.timeout == nr.Timeout(connect=30, read=30, write=30)
    assert client.backoff == nr.Backoff(initial=5)
    assert client.rate_limit == nr.RateLimit(100, per=3600)
    assert nr.AsyncClient("k", timeout=None).timeout.read is None
    assert nr.Timeout(30, read=600).read == 600 and nr.Timeout(30).connect == 30


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("timeout", "30", "timeout must be a Timeout, a number of seconds or None"),
        ("rate_limit", 1.5, "rate_limit must be a RateLimit, a number of calls per hour"),
        ("rate_limit", True, "rate_limit must be a RateLimit"),
        ("backoff", "5", "backoff must be a Backoff or a number of seconds"),
    ],
)
def test_a_wrong_type_of_config_is_a_type_error_saying_what_to_pass(
    option: str, value: object, says: str
) -> None:
    with pytest.raises(TypeError, match=says):
        nr.AsyncClient("k", **{option: value})  # type: ignore[arg-type]


def test_the_sync_client_has_the_async_clients_signature() -> None:
    import inspect

    theirs = inspect.signature(nr.AsyncClient.__init__).parameters
    ours = inspect.signature(nr.Client.__init__).parameters
    assert list(ours) == list(theirs)
    for name, parameter in theirs.items():
        assert ours[name].default == parameter.default, name
        assert ours[name].kind == parameter.kind, name
    with nr.Client("k", timeout=30, base_url="https://example.com") as client:
        assert client.async_client.timeout == nr.Timeout(30)
        many = inspect.signature(client.analyze_many)
        assert many.parameters == inspect.signature(client.async_client.analyze_many).parameters
        assert many.return_annotation == "Results"
        # Typed for mypy too: were these parameters Any, the ignores below would be unused,
        # and mypy --strict (which runs over the tests) would fail.
        with pytest.raises(ValueError, match="concurrency"):
            list(client.analyze_many(["a.mp4"], concurrency="4"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="timeout"):
        nr.Client("k", timeout="soon")  # type: ignore[arg-type]


def test_every_client_parameter_is_described_and_reprs_are_readable() -> None:
    import inspect

    doc = nr.AsyncClient.__doc__ or ""
    for name in inspect.signature(nr.AsyncClient.__init__).parameters:
        if name != "self":
            assert f"    {name}: " in doc, f"AsyncClient's docstring does not describe {name}"
    assert "object at 0x" not in str(inspect.signature(nr.AsyncClient.__init__))


@pytest.mark.parametrize("lease", ["inf", "1e308", "nan", "0", "-3", "soon"])
def test_a_lease_that_is_not_finite_is_a_usage_error(lease: str) -> None:
    # A killed run's infinite claim would block every later run for ever.
    result = run("analyze", YT, "--lease", lease)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--lease" in result.stderr


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: nr.AsyncClient(123), "api_key must be a str"),  # type: ignore[arg-type]
        (lambda: nr.AsyncClient("k", session=object()), "aiohttp.ClientSession"),  # type: ignore[arg-type]
        (lambda: nr.AsyncClient("k", store="a.sqlite"), "nr.Store"),  # type: ignore[arg-type]
        (lambda: nr.RateLimit(5, shared=123), "Redis URL as a str"),  # type: ignore[arg-type]
    ],
)
def test_a_wrong_type_is_a_type_error_not_an_attribute_error(make: Any, says: str) -> None:
    with pytest.raises(TypeError, match=says):
        make()


async def test_analyze_many_refuses_one_source_given_as_a_string(client: nr.AsyncClient) -> None:
    with pytest.raises(TypeError, match="many sources"):
        async with client.analyze_many("abc"):
            pass


@pytest.mark.parametrize(
    "url",
    ["https://cdn.example.com/a.mp4\r\nX-Evil: 1", "https://cdn.example.com/" + "a" * 100_000],
)
async def test_a_url_with_a_line_break_or_of_absurd_length_is_refused(url: str) -> None:
    with pytest.raises(nr.InvalidVideoURLError) as caught:
        await nr.VideoURL(url).prepare()
    assert caught.value.preflight


@pytest.mark.parametrize(
    "args",
    [
        ("",),
        (YT, "--out", ""),
        (YT, "--base-url", ""),
        ("@/dev/zero",),
    ],
    ids=["empty-source", "empty-out", "empty-base-url", "endless-list"],
)
def test_a_command_line_mistake_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    result = run("analyze", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]  # argparse's usage may come before it
    assert last.startswith("nanoreverse"), result.stderr


def test_a_list_file_with_a_nul_byte_or_not_text_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "nul.txt").write_bytes(b"a.mp4\n\0b.mp4\n")
    (tmp_path / "binary.txt").write_bytes(bytes(range(128, 256)))
    for name in ("nul.txt", "binary.txt"):
        result = run("analyze", f"@{tmp_path / name}")
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr


def test_a_closed_standard_input_is_a_usage_error() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.stdin.close(); sys.stdin = None; "
         "from nanoreverse.cli import main; sys.exit(main(['analyze', '-']))"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
