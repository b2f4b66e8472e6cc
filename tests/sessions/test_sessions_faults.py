"""Faults: clients that vanish mid-stream (nothing leaks, over 1,000 disconnects), and a
server killed with SIGKILL while 50 sessions stream (every session resumes exactly)."""

from __future__ import annotations

import threading
import time

import grpc
import numpy as np

from seqserve.models.streaming.data import load_co2
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import metric, stub
from tests.sessions.conftest import MAX_CHUNK
from tests.sessions.session_helpers import OpenStream, chunk_message, wait_until
from tests.support.server_process import running_server

DISCONNECTS = 1000


def test_disconnects_leak_nothing(streaming_server):
    url = streaming_server.metrics_url
    channel, client = stub(streaming_server.address)
    live_before = metric(url, "seqserve_live_sessions", model="charlm")
    ended_before = metric(url, "seqserve_sessions_ended_total", model="charlm")
    for i in range(DISCONNECTS):
        stream = OpenStream(client, "charlm", f"gone-{i}")
        stream.recv()
        if i % 2:  # half vanish right after a chunk's result, half with one in flight
            stream.step(chunk_message(text="ab"))
        else:
            stream.send(chunk_message(text="abc"))
        stream.cancel()
    assert wait_until(
        lambda: metric(url, "seqserve_sessions_ended_total", model="charlm")
        >= ended_before + DISCONNECTS, timeout=30)
    assert metric(url, "seqserve_live_sessions", model="charlm") == live_before
    # Every id is free again (closed, not merely detached), and the server serves.
    code = None
    try:
        client.GetSession(pb.SessionRef(model="charlm", session_id="gone-7"))
    except grpc.RpcError as exc:
        code = exc.code()
    assert code == grpc.StatusCode.NOT_FOUND
    # keep=True: a vanished client's session stays, with its position.
    kept = OpenStream(client, "charlm", "gone-kept", keep=True)
    kept.recv()
    kept.step(chunk_message(text="abcd"))
    kept.cancel()
    assert wait_until(lambda: _position(client, "gone-kept") == 4)
    client.CloseSession(pb.SessionRef(model="charlm", session_id="gone-kept"))
    channel.close()


def _position(client, sid: str) -> int | None:
    try:
        return client.GetSession(pb.SessionRef(model="charlm", session_id=sid)).position
    except grpc.RpcError:
        return None


SESSIONS = 50
LENGTH = 80


def _sequences() -> list[np.ndarray]:
    series = load_co2()
    return [series[i * 30 : i * 30 + LENGTH] for i in range(SESSIONS)]


def _send_all(client, sid: str, seq: np.ndarray, start: int, rng, got: dict[int, list[float]],
              pause: float = 0.0) -> None:
    """Stream seq[start:] in random chunks, recording each step's forecast by position."""
    stream = OpenStream(client, "co2", sid)
    opened = stream.recv()
    assert opened.position == start
    position = start
    try:
        while position < len(seq):
            size = int(rng.integers(1, min(8, MAX_CHUNK) + 1))
            reply = stream.step(chunk_message(values=seq[position : position + size].tolist()))
            for offset, step in enumerate(reply.steps):
                got[reply.first_step + offset] = list(step.forecast)
            position = reply.position
            time.sleep(pause)
        stream.finish()
    except grpc.RpcError:
        pass  # the server was killed under us


def test_sigkill_while_streaming_then_every_session_resumes(sqlite_repository):
    sequences = _sequences()
    before: list[dict[int, list[float]]] = [{} for _ in range(SESSIONS)]
    with running_server(sqlite_repository) as server:
        channel, client = stub(server.address)
        threads = [
            threading.Thread(target=_send_all, args=(
                client, f"kill-{i}", sequences[i], 0, np.random.default_rng(i), before[i], 0.02))
            for i in range(SESSIONS)
        ]
        for t in threads:
            t.start()
        assert wait_until(lambda: sum(len(b) > 10 for b in before) == SESSIONS, timeout=60)
        server.process.kill()  # SIGKILL: no drain, no final snapshots
        server.process.wait(10)
        for t in threads:
            t.join(30)
        channel.close()
    assert any(len(b) < LENGTH for b in before), "the kill landed after every session finished"

    after: list[dict[int, list[float]]] = [{} for _ in range(SESSIONS)]
    reference: list[dict[int, list[float]]] = [{} for _ in range(SESSIONS)]
    with running_server(sqlite_repository) as server:
        channel, client = stub(server.address)
        for i, seq in enumerate(sequences):
            info = client.OpenSession(pb.OpenSessionRequest(model="co2", session_id=f"kill-{i}"))
            assert info.resumed
            # Results go out only after their snapshot committed.
            assert info.position >= max(before[i]) + 1
            _resume(client, f"kill-{i}", seq, info.position, after[i], i)
            _send_all(client, f"ref-{i}", seq, 0, np.random.default_rng(100 + i), reference[i])
        channel.close()
    for i in range(SESSIONS):
        assert sorted(reference[i]) == list(range(LENGTH))
        for position, forecast in {**before[i], **after[i]}.items():
            assert np.abs(np.array(forecast) - reference[i][position]).max() <= 1e-9, (i, position)
        assert max(after[i]) == LENGTH - 1


def _resume(client, sid: str, seq: np.ndarray, start: int, got: dict, seed: int) -> None:
    """The unary resume path: PredictStep from the restored position to the end."""
    rng = np.random.default_rng(1000 + seed)
    position = start
    while position < len(seq):
        size = int(rng.integers(1, 9))
        reply = client.PredictStep(pb.PredictStepRequest(
            model="co2", session_id=sid,
            chunk=chunk_message(values=seq[position : position + size].tolist()).chunk))
        for offset, step in enumerate(reply.steps):
            got[reply.first_step + offset] = list(step.forecast)
        position = reply.position
