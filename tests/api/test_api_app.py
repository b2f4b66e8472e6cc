"""The server process: serve() lifecycle in-process, SIGTERM drain in a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seqserve.server.api.metrics_http import start_metrics_http
from seqserve.server.app import GrpcServer, ServeSettings, format_address, serve
from tests.api.api_fakes import default_manager

ROOT = Path(__file__).resolve().parents[2]
LISTENING = "seqserve listening on "
METRICS = "seqserve metrics on "


def check_health(target: str, service: str = "") -> int:
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def test_format_address():
    assert format_address("127.0.0.1", 5) == "127.0.0.1:5"
    assert format_address("::", 5) == "[::]:5"
    assert format_address("[::1]", 5) == "[::1]:5"


def test_serve_lifecycle_prints_real_ports_and_closes_the_manager(capsys):
    manager = default_manager()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    settings = ServeSettings(Path("."), host="127.0.0.1", port=0, metrics_port=0, grace_seconds=1)
    done = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(serve(settings, manager_factory=lambda s: manager, stop=stop))
        except BaseException as exc:  # reported to the test thread below
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    output = ""
    deadline = time.monotonic() + 10
    while LISTENING not in output and time.monotonic() < deadline and not done.is_set():
        output += capsys.readouterr().out
        time.sleep(0.02)
    assert LISTENING in output, (output, failure)
    assert manager.loaded
    address = output.split(LISTENING, 1)[1].splitlines()[0]
    host, port = address.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0  # port 0 was replaced by the real one
    assert check_health(address) == health_pb2.HealthCheckResponse.SERVING
    metrics_address = output.split(METRICS, 1)[1].splitlines()[0]
    with urllib.request.urlopen(f"http://{metrics_address}/metrics", timeout=5) as reply:
        assert b"seqserve_requests" in reply.read()

    loop.call_soon_threadsafe(stop.set)
    assert done.wait(10) and not failure, failure
    assert manager.closed
    thread.join(5)
    loop.close()


def test_busy_port_fails_to_start():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        async def start() -> None:
            GrpcServer(default_manager(), "127.0.0.1", port)

        with pytest.raises(OSError, match="cannot listen"):
            asyncio.run(start())


def test_metrics_http_binds_the_given_host():
    metrics = start_metrics_http("127.0.0.1", 0)
    try:
        assert metrics.httpd.server_address[0] == "127.0.0.1" and metrics.port > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics.port}/", timeout=5) as reply:
            body = reply.read().decode()
        assert "seqserve_request_latency_seconds" in body
    finally:
        metrics.close()


_SUBPROCESS_SERVER = """
import asyncio, sys
from pathlib import Path
from seqserve.server.app import ServeSettings, serve
from tests.api.api_fakes import default_manager

manager = default_manager()
settings = ServeSettings(Path("."), port=0, metrics_port=-1, grace_seconds=5)
asyncio.run(serve(settings, manager_factory=lambda s: manager))
print("manager closed:", manager.closed, flush=True)
"""


def test_sigterm_drains_and_exits_cleanly():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    process = subprocess.Popen(
        [sys.executable, "-c", _SUBPROCESS_SERVER],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(LISTENING), line
        address = line[len(LISTENING) :].strip()
        assert check_health(address, "seqserve.v1.SeqServe") == (
            health_pb2.HealthCheckResponse.SERVING
        )
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=15)
        assert process.returncode == 0
        assert "manager closed: True" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
