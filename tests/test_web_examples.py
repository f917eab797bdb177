"""The web-app recipes as users run them: examples/web_aiohttp.py under aiohttp's own
runner and examples/web_fastapi.py under a real uvicorn, against the emulator. A browser
that disconnects mid-answer loses nothing paid: the answer is stored and served again
for free; bad input is a 400 with nothing spent."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanoreverse.testing import EmulatorProcess

from .helpers import SECRET, YT, free_port, wait_for_port

EXAMPLES = Path(__file__).parent.parent / "examples"
pytestmark = pytest.mark.slow


def _get(port: int, query: str, first: int | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/analyze?" + query)
    response = connection.getresponse()
    body = response.read1(first) if first else response.read()
    connection.close()  # the browser goes away, mid-answer when ``first`` is given
    return response.status, body


@pytest.fixture(params=["aiohttp", "fastapi"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[int, EmulatorProcess]]:
    slow = ("--chars-per-second", "300", "--chunk-bytes", "32", "--rate-limit", "none")
    with EmulatorProcess("--api-key", SECRET, *slow) as emulator:
        port = free_port()
        env = {
            **os.environ,
            "NANOPHOTO_API_KEY": SECRET,
            "NANOPHOTO_BASE_URL": emulator.base_url,
            "NANOREVERSE_STORE": str(tmp_path / "analyses.sqlite"),
            "PORT": str(port),
        }
        if request.param == "aiohttp":
            command = [sys.executable, str(EXAMPLES / "web_aiohttp.py")]
        else:
            command = [sys.executable, "-m", "uvicorn", "web_fastapi:app", "--app-dir",
                       str(EXAMPLES), "--port", str(port), "--log-level", "warning"]  # fmt: skip
        server = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, server, f"the {request.param} app")
            yield port, emulator
        finally:
            server.terminate()
            _, stderr = server.communicate(timeout=30)
            assert SECRET.encode() not in stderr


def test_a_disconnect_mid_answer_keeps_the_paid_answer(app: tuple[int, EmulatorProcess]) -> None:
    port, emulator = app
    query = urllib.parse.urlencode({"video": YT, "locale": "fr"})
    status, start = _get(port, query, first=64)
    assert status == 200 and start  # the first piece, then the browser leaves
    deadline = time.monotonic() + 60
    while emulator.stats()["in_flight"]:  # the paid call goes on to its end
        assert time.monotonic() < deadline
        time.sleep(0.2)
    status, whole = _get(port, query)
    text = whole.decode()
    assert status == 200 and text.startswith(start.decode(errors="ignore")[:20])
    assert "Résumé global" in text  # the whole answer, its end included
    stats = emulator.stats()
    assert stats["credits_used"] == 1 and stats["requests"] == 1  # served from the store


def test_bad_input_is_a_400_and_costs_nothing(app: tuple[int, EmulatorProcess]) -> None:
    port, emulator = app
    for query in ({"video": "missing.mp4"}, {"video": YT, "locale": "xx"}):
        status, body = _get(port, urllib.parse.urlencode(query))
        assert status == 400, body
    assert emulator.stats()["requests"] == 0
