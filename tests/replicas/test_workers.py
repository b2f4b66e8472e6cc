"""`seqserve serve --workers N`: N processes on consecutive ports; SIGTERM is
forwarded to every worker; a worker that dies is reported and not restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import request, stub
from tests.support.polling import wait_until
from tests.support.server_process import LISTENING, free_port


def _consecutive_free_ports(count: int) -> int:
    for _ in range(50):
        base = free_port()
        if base + count < 65535 and all(_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no run of free ports")


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start(replica_repository, workers: int) -> tuple[subprocess.Popen[str], list[str], list]:
    port, metrics = _consecutive_free_ports(workers), _consecutive_free_ports(workers)
    process = subprocess.Popen(
        [sys.executable, "-m", "seqserve.server.cli", "serve", "--model-repository",
         str(replica_repository), "--port", str(port), "--metrics-port", str(metrics),
         "--workers", str(workers), "--session-store", "memory", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    return process, [f"127.0.0.1:{port + i}" for i in range(workers)], lines


def test_workers_serve_on_consecutive_ports_a_dead_one_is_reported_sigterm_stops_all(
    replica_repository,
):
    process, addresses, lines = _start(replica_repository, 2)
    try:
        deadline = time.monotonic() + 120
        while not any("pids" in line for line in lines) or \
                sum(LISTENING in line for line in lines) < 2:
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        for address in addresses:
            channel, client = stub(address)
            assert len(client.Translate(request(["seven"]), timeout=30).translations) == 1
            channel.close()
        pids = [int(p) for p in next(x for x in lines if "pids" in x).split("pids")[1].split()]
        os.kill(pids[0], signal.SIGKILL)
        assert wait_until(lambda: any("worker 0" in line and "not restarting" in line
                                 for line in lines), 30), "".join(lines)
        # The other worker keeps serving; the supervisor stays up for it.
        channel, client = stub(addresses[1])
        assert len(client.Translate(request(["eight"]), timeout=30).translations) == 1
        channel.close()
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)  # forwarded: the live worker drains and exits
        assert process.wait(60) == 1  # a worker died: the supervisor says so
        assert wait_until(lambda: not os.path.exists(f"/proc/{pids[1]}"), 10)
        for address in addresses:
            channel, client = stub(address)
            try:
                client.ListModels(pb.ListModelsRequest(), timeout=2)
                raise AssertionError(f"{address} still serving")
            except grpc.RpcError as exc:
                assert exc.code() in (grpc.StatusCode.UNAVAILABLE,
                                      grpc.StatusCode.DEADLINE_EXCEEDED)
            channel.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
