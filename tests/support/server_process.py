"""Start the real `seqserve serve` as a subprocess on a free 127.0.0.1 port, and stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.stopping import stop_process

LISTENING = "seqserve listening on "


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    address: str
    metrics_port: int
    output: list[str] = field(default_factory=list)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return "".join(self.output)


@contextmanager
def running_server(
    repository: Path,
    *,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
    python: str | None = None,
) -> Iterator[ServerProcess]:
    """Yield a serving ServerProcess; SIGTERM (then SIGKILL) on exit. `python`: another
    interpreter (e.g. a venv of an older checkout, to benchmark before against after)."""
    metrics_port = free_port()
    command = [
        python or sys.executable, "-m", "seqserve.server.cli", "serve",
        "--model-repository", str(repository), "--host", "127.0.0.1", "--port", "0",
        "--metrics-port", str(metrics_port), *(extra_args or []),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **(env or {})},
    )
    server = ServerProcess(process, "", metrics_port)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            server.output.append(line)
            if LISTENING in line and not ready.is_set():
                server.address = line.split(LISTENING, 1)[1].strip()
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.1):
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not start in {timeout}s:\n{server.log()}")
    if not server.address:
        process.kill()
        raise RuntimeError(f"server exited before listening:\n{server.log()}")
    try:
        yield server
    finally:
        stop_process(process, grace=15)


def start_servers(
    stack, count: int, repository: Path, *, extra_args: list[str] | None = None,
) -> list[ServerProcess]:
    """Start `count` servers at once (loading models in parallel), each stopped when
    the ExitStack `stack` closes."""
    managers = [running_server(repository, extra_args=extra_args) for _ in range(count)]
    results: list[ServerProcess | BaseException | None] = [None] * count

    def enter(index: int) -> None:
        for attempt in range(2):  # once more if a free port was taken meanwhile
            try:
                results[index] = managers[index].__enter__()
                return
            except BaseException as exc:  # re-raised below, after every thread is done
                results[index] = exc
                if attempt == 0:
                    managers[index] = running_server(repository, extra_args=extra_args)

    threads = [threading.Thread(target=enter, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for manager, result in zip(managers, results, strict=True):
        if isinstance(result, ServerProcess):
            stack.push(manager.__exit__)
    for result in results:
        if not isinstance(result, ServerProcess):
            raise RuntimeError(f"a server did not start: {result}")
    return results  # type: ignore[return-value]
