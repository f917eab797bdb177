"""Where users run it: a real forward proxy, a throwaway CA on an https emulator, the
environment's HTTPS_PROXY / NO_PROXY / SSL_CERT_FILE, and hooks that watch each attempt."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import trustme

import nanoreverse as nr
from nanoreverse.testing import Emulator, Fault, InstantClock

from .helpers import CLIPS, YT
from .proxy import Proxy, running_proxy


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_emu(ca: trustme.CA) -> AsyncIterator[Emulator]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    async with Emulator(rate_limit=None, ssl_context=server) as emulator:
        yield emulator


@pytest.fixture
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    async with running_proxy() as running:
        yield running


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine's own settings must not decide these tests.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def client_for(emu: Emulator, **kwargs: object) -> nr.AsyncClient:
    return nr.AsyncClient(
        emu.api_key,
        base_url=emu.base_url,
        rate_limit=None,
        clock=InstantClock(),
        **kwargs,  # type: ignore[arg-type]
    )


# -- TLS ----------------------------------------------------------------------------------------


async def test_a_custom_ca_is_trusted_through_ssl(
    https_emu: Emulator, trusting: ssl.SSLContext
) -> None:
    async with client_for(https_emu, ssl=trusting) as client:
        assert "| Shot" in await client.analyze(YT).text()
    assert https_emu.base_url.startswith("https://")


async def test_an_untrusted_certificate_is_refused_before_any_request(
    https_emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with client_for(https_emu, max_retries=0) as client:
        with pytest.raises(nr.APIConnectionError) as caught:
            await client.analyze(YT).text()
    assert caught.value.request_sent is False
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorCertificateError)
    assert https_emu.requests == []


async def test_ssl_cert_file_in_the_environment_is_honoured(
    https_emu: Emulator, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Set after aiohttp was imported: its own default context could not know it.
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with client_for(https_emu) as client:
        assert await client.analyze(YT).text()
    async with client_for(https_emu, trust_env=False, max_retries=0) as client:
        with pytest.raises(nr.APIConnectionError):
            await client.analyze(YT).text()


# -- proxies ------------------------------------------------------------------------------------


async def test_https_proxy_in_the_environment_tunnels_the_call(
    https_emu: Emulator, trusting: ssl.SSLContext, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    async with client_for(https_emu, ssl=trusting) as client:
        text = await client.analyze(CLIPS[0]).text()
    assert proxy.asked == [f"CONNECT 127.0.0.1:{https_emu.port}"]
    assert len(https_emu.requests) == 1 and text
    # Inside the tunnel: the proxy carried the call but could read neither key nor answer.
    assert https_emu.api_key.encode() not in proxy.carried
    assert text[:40].encode() not in proxy.carried


async def test_no_proxy_goes_direct(
    https_emu: Emulator, trusting: ssl.SSLContext, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with client_for(https_emu, ssl=trusting) as client:
        await client.analyze(YT).text()
    assert proxy.asked == [] and len(https_emu.requests) == 1


async def test_trust_env_false_ignores_the_environment(
    https_emu: Emulator, trusting: ssl.SSLContext, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    async with client_for(https_emu, ssl=trusting, trust_env=False) as client:
        await client.analyze(YT).text()
    assert proxy.asked == []


async def test_an_explicit_proxy_wins_over_the_environment(
    proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    async with Emulator(rate_limit=None) as emu:
        async with client_for(emu, proxy=proxy.url) as client:
            assert await client.analyze(YT).text()
    assert proxy.asked == [f"POST {emu.base_url}/api/sora-2/reverse-prompt"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"proxy": 3128}, TypeError),
        ({"proxy": "socks5://user:hunter2@proxy:1080"}, ValueError),
        ({"proxy": "proxy:3128"}, ValueError),
        ({"ssl": "/etc/ssl/ca.pem"}, TypeError),
        ({"trust_env": "yes"}, TypeError),
        ({"on_request": "print"}, TypeError),
    ],
)
def test_bad_http_settings_are_typed_errors(kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error) as caught:
        nr.AsyncClient("k", **kwargs)  # type: ignore[arg-type]
    assert "hunter2" not in str(caught.value)


async def test_http_settings_beside_a_session_of_ones_own_are_refused() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValueError, match="set them on that session"):
            nr.AsyncClient("k", session=session, proxy="http://proxy:3128")
        with pytest.raises(ValueError):
            nr.AsyncClient("k", session=session, trust_env=False)


def test_ssl_false_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="nanoreverse"):
        nr.AsyncClient("k", ssl=False)
    assert "not checked" in caplog.text


# -- hooks --------------------------------------------------------------------------------------


async def test_hooks_see_each_attempt_but_never_the_key_or_the_video() -> None:
    requests: list[nr.RequestInfo] = []
    responses: list[nr.ResponseInfo] = []
    async with Emulator(rate_limit=None) as emu:
        emu.script(Fault.rate_limited(retry_after=0))
        async with client_for(
            emu, on_request=requests.append, on_response=responses.append
        ) as client:
            await client.analyze(CLIPS[0]).text()
    assert [r.attempt for r in requests] == [1, 2]
    assert all(r.method == "POST" and r.url.startswith(emu.base_url) and r.upload for r in requests)
    assert requests[0].body_bytes > CLIPS[0].stat().st_size  # the base64 of the file, and more
    assert [r.status for r in responses] == [429, 200]
    assert responses[0].error == "429 API_KEY_RATE_LIMIT_EXCEEDED" and responses[1].error is None
    assert all(r.seconds >= (r.upload_seconds or 0) >= 0 for r in responses)
    seen = repr(requests) + repr(responses)
    assert emu.api_key not in seen and "AAAA" not in seen


async def test_a_failed_attempt_is_reported_with_no_status() -> None:
    responses: list[nr.ResponseInfo] = []
    async with client_for_dead_port(on_response=responses.append) as client:
        with pytest.raises(nr.APIConnectionError):
            await client.analyze(YT).text()
    assert [(r.status, r.upload_seconds, r.error) for r in responses] == [
        (None, None, "APIConnectionError")
    ]


def client_for_dead_port(**kwargs: object) -> nr.AsyncClient:
    return nr.AsyncClient(
        "k",
        base_url="http://127.0.0.1:9",
        rate_limit=None,
        max_retries=0,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_a_hook_that_raises_costs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    def broken(info: object) -> None:
        raise RuntimeError("a bug in the user's hook")

    async with Emulator(rate_limit=None) as emu:
        async with client_for(emu, on_request=broken, on_response=broken) as client:
            assert await client.analyze(YT).text()
    assert len(emu.requests) == 1
    assert "a hook raised" in caplog.text


async def test_opentelemetry_spans_appear_without_the_key() -> None:
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # The README's recipe: instrument once, before the client's first call.
    AioHttpClientInstrumentor().instrument(tracer_provider=provider)
    try:
        async with Emulator(rate_limit=None) as emu:
            emu.script(Fault.rate_limited(retry_after=0))
            async with client_for(emu) as client:
                await client.analyze(YT).text()
    finally:
        AioHttpClientInstrumentor().uninstrument()
    spans = exporter.get_finished_spans()
    statuses = [
        span.attributes.get("http.response.status_code", span.attributes.get("http.status_code"))
        for span in spans
        if span.attributes
    ]
    assert statuses == [429, 200]
    for span in spans:
        assert emu.api_key not in repr(dict(span.attributes or {})) + span.name
