"""What a video is, and the store's memory of it: a file named before, unchanged since, is not
read again (real SQLite file, real redis-server, real files)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import nanoreverse as nr
from nanoreverse._clock import REAL_CLOCK, Clock
from nanoreverse._sources.fileio import Stamp
from nanoreverse._store import identity as _identity
from nanoreverse._store.identity import identify
from nanoreverse.testing import Emulator, InstantClock

from .helpers import CLIPS, client_for


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file read whole to be named, in order."""
    seen: list[Path] = []
    real = _identity._sha256_of_file

    def counting(path: Path) -> tuple[str, Stamp]:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(_identity, "_sha256_of_file", counting)
    return seen


def later() -> InstantClock:
    """A client clock a minute ahead: files made by the test count as settled, as they
    would for a run a minute later (rather than the test waiting out ``SETTLED_NS``)."""
    return InstantClock(ahead=60)


def copy_of(clip: Path, folder: Path) -> Path:
    return Path(shutil.copy(clip, folder / clip.name))


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


async def name(path: Path, store: nr.Store, clock: Clock | None = None) -> str:
    prepared = await nr.VideoFile(path).prepare()
    return await identify(prepared, memo=store, clock=clock or later())


async def test_a_rerun_reads_no_file_it_has_named_before(
    emulator: Emulator, tmp_path: Path, hashed: list[Path]
) -> None:
    videos = [copy_of(clip, tmp_path) for clip in CLIPS]
    for run in ("pays", "re-run"):
        store = nr.SQLiteStore(tmp_path / "analyses.sqlite")  # a new process's, on the same file
        async with client_for(emulator, store, clock=later()) as client:
            async with client.analyze_many(videos) as results:
                outcomes = [result async for result in results]
        assert all(result.ok for result in outcomes)
        assert all(result.cached for result in outcomes) == (run == "re-run")
    assert sorted(hashed) == sorted(videos)  # each read once, in the first run
    assert len(emulator.requests) == len(videos)


async def test_a_file_rewritten_with_its_old_size_and_mtime_is_read_again(
    tmp_path: Path, hashed: list[Path]
) -> None:
    video = copy_of(CLIPS[0], tmp_path)
    async with nr.SQLiteStore(tmp_path / "analyses.sqlite") as store:
        before = os.stat(video)
        assert await name(video, store) == sha256_of(video)
        data = bytearray(video.read_bytes())
        data[-1] ^= 0xFF
        video.write_bytes(data)  # what `touch -r` or `cp -p` leave: the old size and mtime
        os.utime(video, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert os.stat(video).st_size == before.st_size
        assert os.stat(video).st_mtime_ns == before.st_mtime_ns

        assert await name(video, store) == sha256_of(video)
    assert len(hashed) == 2


async def test_asking_again_trusts_nothing_remembered(
    emulator: Emulator, tmp_path: Path, hashed: list[Path]
) -> None:
    # A memory gone wrong (here planted) is mended by the call that asks the API again.
    video = copy_of(CLIPS[0], tmp_path)
    stamp = Stamp.of(os.stat(video))
    async with (
        nr.SQLiteStore(tmp_path / "analyses.sqlite") as store,
        client_for(emulator, store, clock=later()) as client,
    ):
        await store.remember_identity(video.absolute(), stamp, "sha256:planted")
        await client.analyze(video, refresh=True).text()
        assert await store.recall_identity(video.absolute(), stamp) == sha256_of(video)
        again = client.analyze(video)
        await again.text()
        assert again.cached
    assert hashed == [video]


async def test_a_file_changed_moments_ago_is_not_remembered(
    tmp_path: Path, hashed: list[Path]
) -> None:
    # Its ctime is now: a write within the file system's timestamp step would not show.
    video = copy_of(CLIPS[0], tmp_path)
    async with nr.SQLiteStore(tmp_path / "analyses.sqlite") as store:
        for _ in range(2):
            assert await name(video, store, REAL_CLOCK) == sha256_of(video)
        stamp = Stamp.of(os.stat(video))
        assert await store.recall_identity(video.absolute(), stamp) is None
    assert len(hashed) == 2


async def test_the_memory_is_kept_per_path_and_takes_any_file_name(tmp_path: Path) -> None:
    stamp = Stamp(1, 2, 3, 4, 5)
    odd = tmp_path / os.fsdecode(b"caf\xe9.mp4")  # not UTF-8: a name all the same
    plain = tmp_path / "plain.mp4"
    async with nr.SQLiteStore(tmp_path / "analyses.sqlite") as store:
        await store.remember_identity(odd, stamp, "sha256:aa")
        await store.remember_identity(plain, stamp, "sha256:bb")
        await store.remember_identity(plain, Stamp(1, 2, 3, 4, 6), "sha256:cc")  # replaces
    async with nr.SQLiteStore(tmp_path / "analyses.sqlite") as store:
        assert await store.recall_identity(odd, stamp) == "sha256:aa"
        assert await store.recall_identity(plain, stamp) is None
        assert await store.recall_identity(plain, Stamp(1, 2, 3, 4, 6)) == "sha256:cc"
        assert await store.recall_identity(odd, Stamp(1, 2, 3, 4, 6)) is None


async def test_a_store_shared_between_machines_remembers_no_file(
    redis_url: str, tmp_path: Path, hashed: list[Path]
) -> None:
    # The same path, device, inode and times on two machines are two files.
    video = copy_of(CLIPS[0], tmp_path)
    async with nr.RedisStore(redis_url, namespace="identity") as store:
        for _ in range(2):
            assert await name(video, store) == sha256_of(video)
    assert len(hashed) == 2
