"""A real redis-server for tests: free 127.0.0.1 port, no persistence, temp dir."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.support.server_process import free_port
from tests.support.stopping import stop_process

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def require_redis() -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make system-deps installs it)")


@dataclass
class RedisProcess:
    port: int
    workdir: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> None:
        """Start (or restart on the same port) and wait until it answers PING."""
        import redis

        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.workdir, "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server on {self.port} did not start") from None
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def client(self):  # -> redis.Redis (imported lazily)
        import redis

        return redis.Redis(port=self.port, socket_timeout=5)


@contextmanager
def running_redis() -> Iterator[RedisProcess]:
    require_redis()
    with tempfile.TemporaryDirectory(prefix="seqserve-redis-") as workdir:
        server = RedisProcess(free_port(), workdir)
        server.start()
        try:
            yield server
        finally:
            server.stop()
