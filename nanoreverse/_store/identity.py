"""What a video *is*: the key under which its analysis is stored.

A link is named by its video ID or normalised URL; an upload by the sha256 of its
bytes. Hashing a 30 MiB file costs about 20 ms from the page cache and a disk read
otherwise, so a re-run over a folder would spend its time hashing files it has already
named. A store on this machine remembers each file's sha256 beside its stamp (device,
inode, size, mtime and ctime), and the file is hashed again only when one of them moved.

Why the stamp is enough: every write moves a file's ctime to the present, and nothing
but the kernel sets it (``touch`` and ``cp -p`` restore mtime, never ctime). A file is
remembered only when its ctime was already a few seconds in the past when the hashing
began: any write from then on, even one in the middle of the read, sets a ctime the
remembered stamp does not have, also on a file system that keeps times in coarse steps
(2 s on FAT). Git trusts its index on the same grounds, and has the same blind spot: a
file system that shows no ctime of its own (sshfs shows the mtime) does not see a file
rewritten with its old size and mtime put back.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import anyio.to_thread

from .._clock import REAL_CLOCK, Clock
from .._errors import StoreError
from .._sources.fileio import Stamp, open_regular
from .._sources.kinds import Prepared
from .._sources.urls import normalise_url, youtube_video_id
from . import Store

logger = logging.getLogger("nanoreverse")

_HASH_BLOCK = 1 << 20

#: How far in the past a file's ctime must be, when hashing begins, for it to be remembered.
SETTLED_NS = 3 * 10**9


def _sha256_of_file(path: Path) -> tuple[str, Stamp]:
    """The file's sha256, and its stamp when it was opened."""
    fd, info = open_regular(path)
    digest = hashlib.sha256()
    # One buffer, refilled: a fresh 1 MiB block per read costs page faults on every block.
    buffer = bytearray(_HASH_BLOCK)
    view = memoryview(buffer)
    try:
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as handle:
            while got := handle.readinto(buffer):
                digest.update(view[:got])
    finally:
        os.close(fd)
    return digest.hexdigest(), Stamp.of(info)


async def identify(
    prepared: Prepared,
    memo: Store | None = None,
    *,
    reread: bool = False,
    clock: Clock = REAL_CLOCK,
) -> str:
    """What the prepared video *is*: ``sha256:HEX`` of an upload's bytes, ``youtube:ID``, or
    ``url:`` and the normalised URL. Hashing runs in a worker thread, in one hop; with a
    ``memo`` (a store), a file it has named before, unchanged since, is not read at all,
    unless ``reread`` (a call that asks the API again trusts nothing it remembers).

    >>> await identify(await YouTube("https://youtu.be/W-15-UmGP5s").prepare())  # doctest: +SKIP
    'youtube:W-15-UmGP5s'
    """
    upload = prepared.upload
    if upload is None:
        url = prepared.fields["videoUrl"]
        if prepared.fields["videoSource"] == "youtube":
            return f"youtube:{youtube_video_id(url)}"
        return f"url:{normalise_url(url)}"
    if upload.data is not None:
        data = upload.data
        digest = await anyio.to_thread.run_sync(lambda: hashlib.sha256(data).hexdigest())
        return f"sha256:{digest}"
    assert upload.path is not None and upload.stamp is not None
    where = upload.path.absolute()
    if memo is not None and not reread:
        known = await _recall(memo, where, upload.stamp)
        if known is not None:
            return known
    started_ns = clock.wall_ns()  # ctimes are judged by the client's clock
    digest, stamp = await anyio.to_thread.run_sync(_sha256_of_file, upload.path)
    identity = f"sha256:{digest}"
    if memo is not None and stamp.ctime_ns < started_ns - SETTLED_NS:
        try:
            await memo.remember_identity(where, stamp, identity)
        except StoreError as exc:  # a memory only saves a read: a full disk costs no call
            logger.debug("could not remember what %s is: %s", where, exc)
    return identity


async def _recall(memo: Store, where: Path, stamp: Stamp) -> str | None:
    try:
        return await memo.recall_identity(where, stamp)
    except StoreError as exc:  # the file is read instead: the answer's look-up says more
        logger.debug("could not recall what %s is: %s", where, exc)
        return None
