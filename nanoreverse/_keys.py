"""What names one answer in a store: the API key's scope, what the video is, the locale.

Below the store and the transport alike, so that a call's record can say which answer
it paid for (``stream.key``) without the transport knowing what a store is."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def scope_of(api_key: str) -> str:
    """A short hash naming an API key in the store: the key itself is never written."""
    return hashlib.sha256(b"nanoreverse-scope\0" + api_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StoreKey:
    """Where one analysis lives: the key's scope, what the video is, and the locale.

    ``scope`` is a hash of the API key (never the key); ``identity`` names the video
    by what it is (``sha256:…`` of a file's bytes, ``youtube:ID``, a normalised URL).

    >>> nr.StoreKey("3f2a9c0d1e4b5a6f", "youtube:W-15-UmGP5s", "ja").locale
    'ja'
    """

    scope: str
    identity: str
    locale: str
