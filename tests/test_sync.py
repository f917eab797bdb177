"""nr.Client, for code that is not async: in a plain script, inside a running event loop
(as in Jupyter), and at exit without close()."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import nanoreverse as nr
from nanoreverse.testing import Emulator, Fault, InstantClock

from .helpers import CLIPS, YT


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(rate_limit=None).in_thread() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[nr.Client]:
    emu.reset()
    with nr.Client(emu.api_key, base_url=emu.base_url, rate_limit=None, clock=InstantClock()) as c:
        yield c


def clients() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "nanoreverse-client")


def test_chunks_text_and_shots(
    client: nr.Client, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Paced, so the answer reaches the client in several reads (sent at once, a
    # loaded machine may read it in one, and this test is about chunks).
    monkeypatch.setattr(emu, "chars_per_second", 100_000)
    stream = client.analyze(CLIPS[0])
    chunks = list(stream)
    assert len(chunks) > 1 and all(isinstance(c, str) for c in chunks)
    assert stream.received_text == "".join(chunks) and stream.attempts == 1
    assert client.analyze(YT, locale="ja").text()
    shots = list(client.analyze(YT).shots())
    assert shots and shots[0].number == 1
    assert len(emu.requests) == 3


def test_a_blocking_stream_tells_what_the_async_one_does(emu: Emulator, tmp_path: Path) -> None:
    store = nr.SQLiteStore(tmp_path / "a.sqlite")
    with nr.Client(emu.api_key, base_url=emu.base_url, store=store, clock=InstantClock()) as c:
        first = c.analyze(YT)
        assert (first.key, first.attempts, first.cached) == (None, 0, False)  # not yet sent
        first.text()
        assert first.key is not None and first.key.identity == "youtube:W-15-UmGP5s"
        assert (first.attempts, first.cached, first.store_error) == (1, False, None)
        assert first.rate_limit_wait >= 0
        again = c.analyze(YT)
        assert again.text() == first.received_text
        assert (again.attempts, again.cached, again.key) == (0, True, first.key)


def test_leaving_a_stream_early_releases_it(client: nr.Client) -> None:
    with client.analyze(YT) as stream:
        first = next(stream)
    assert first and stream.received_text == first
    assert client.analyze(YT).text()  # the client is still fine


def test_analyze_many_yields_each_result(client: nr.Client, emu: Emulator) -> None:
    sources: list[nr.SourceLike] = [CLIPS[0], CLIPS[1], YT, "not a video at all.txt"]
    results = list(client.analyze_many(sources, concurrency=2, ordered=True))
    assert [r.source for r in results] == sources
    assert [r.ok for r in results] == [True, True, True, False]
    assert isinstance(results[3].error, nr.InvalidInputError)


def test_a_batch_left_early_stops(client: nr.Client, emu: Emulator) -> None:
    with client.analyze_many([YT] * 50, concurrency=2) as results:
        for result in results:
            assert result.ok
            break
        assert results.stats.succeeded >= 1
    assert len(emu.requests) < 50
    assert client.analyze(YT).text()


def test_errors_are_the_async_clients_own(client: nr.Client, emu: Emulator) -> None:
    emu.script(Fault.error("VIDEO_PROCESSING_FAILED"))
    with pytest.raises(nr.VideoProcessingError):
        client.analyze(YT).text()
    with pytest.raises(nr.InvalidInputError):
        client.analyze(YT, locale="xx")


def test_bad_arguments_leave_no_thread() -> None:
    before = clients()
    with pytest.raises(ValueError):
        nr.Client("k", max_retries=-1)
    assert clients() == before


def test_a_client_never_closed_stops_its_thread_when_collected(emu: Emulator) -> None:
    before = clients()
    client = nr.Client(emu.api_key, base_url=emu.base_url, rate_limit=None)
    assert client.analyze(YT).text() and clients() == before + 1
    assert "Client" in repr(client) and emu.api_key not in repr(client)
    del client
    gc.collect()
    assert clients() == before


async def test_inside_a_running_event_loop_as_in_jupyter(emu: Emulator) -> None:
    # This test's own loop is running, as a notebook's is: the client does not use it.
    with nr.Client(emu.api_key, base_url=emu.base_url, rate_limit=None) as client:
        assert client.analyze(YT).text()
        assert all(r.ok for r in client.analyze_many([YT, YT]))


SCRIPT = """
import nanoreverse as nr
client = nr.Client()
print(len(client.analyze("https://youtu.be/W-15-UmGP5s").text()) > 0)
print([r.ok for r in client.analyze_many(["https://youtu.be/W-15-UmGP5s"] * 3)])
# no close(): the exit must still be clean
"""


def test_a_plain_script_exits_cleanly_without_close(emu: Emulator) -> None:
    env = {**os.environ, "NANOPHOTO_API_KEY": emu.api_key, "NANOPHOTO_BASE_URL": emu.base_url}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["True", "[True, True, True]"]
    assert done.stderr == ""


SLOW_BATCH = """
import sys, time
import nanoreverse as nr
from nanoreverse.testing import EmulatorProcess

with EmulatorProcess("--rate-limit", "none", "--chars-per-second", "300") as emu:
    {body}
"""


def _python(code: str, *, interrupt_after: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child; with ``interrupt_after``, send Ctrl-C (SIGINT) once the
    child printed that line. A hang fails the test by its timeout, not by a clock."""
    import signal

    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    if interrupt_after is not None:
        for line in child.stdout:
            if line.strip() == interrupt_after:
                child.send_signal(signal.SIGINT)
                break
    try:
        out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        pytest.fail(f"the child hung: {err[-2000:]}")
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def test_the_first_ctrl_c_stops_a_batch_inside_with_client() -> None:
    # #29 item 6: Ctrl-C while iterating hung in close() until a second Ctrl-C (8 of 9).
    body = """links = [f"https://youtu.be/{n:011d}" for n in range(6)]
    try:
        with nr.Client(emu.api_key, base_url=emu.base_url, rate_limit=None) as client:
            with client.analyze_many(links, concurrency=2) as results:
                print("started", flush=True)
                for result in results:
                    pass
    except KeyboardInterrupt:
        print("interrupted", flush=True)"""
    done = _python(SLOW_BATCH.format(body=body), interrupt_after="started")
    assert "interrupted" in done.stdout, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_a_client_never_closed_does_not_hold_up_the_interpreters_exit() -> None:
    # #29 item 6: a never-closed client whose batch iterator is still referenced hung exit.
    body = """client = nr.Client(emu.api_key, base_url=emu.base_url, rate_limit=None)
    links = [f"https://youtu.be/{n:011d}" for n in range(6)]
    results = iter(client.analyze_many(links, concurrency=2))
    next(results)
    print("one", flush=True)"""
    done = _python(SLOW_BATCH.format(body=body))
    assert done.returncode == 0 and "one" in done.stdout, done.stderr[-2000:]
