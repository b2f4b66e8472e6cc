"""SIGTERM with 50 Translate requests and 20 Predict streams in flight (sessions opened
without `keep`, SQLite store that snapshots rarely): every call completes or gets
UNAVAILABLE, each stream's UNAVAILABLE says how to resume, the exit is prompt, and
after the restart every session resumes exactly at the last position its client
received, with outputs identical to an uninterrupted run."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import pytest

from seqserve.models.streaming.data import load_co2
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import request, stub
from tests.sessions.conftest import MAX_CHUNK
from tests.sessions.session_helpers import OpenStream, chunk_message, wait_until
from tests.support.server_process import running_server

STREAMS = 20
TRANSLATES = 50
GRACE = 30.0
SERIES = load_co2()


def inputs(offset: int, start: int, size: int) -> list[float]:
    """Steps start..start+size-1 of stream `offset` (the series wraps: streams run long)."""
    return np.take(SERIES, range(offset + start, offset + start + size), mode="wrap").tolist()


@pytest.fixture(scope="module")
def drain_repository(
    numbers_repository: Path, co2_run: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The translator and co2, whose SQLite store snapshots only every 100,000 steps:
    what survives a SIGTERM is what the drain itself wrote."""
    from seqserve.export.streaming import export_streaming_run

    repository = tmp_path_factory.mktemp("drain-repo")
    (repository / "numbers").symlink_to(numbers_repository / "numbers")
    store = tmp_path_factory.mktemp("drain-store") / "sessions.sqlite"
    export_streaming_run(co2_run, repository, "co2", 1, config_overrides={
        "limits": {"max_chunk_steps": MAX_CHUNK, "max_sessions": 256},
        "sessions": {"store": "sqlite", "sqlite_path": str(store),
                     "snapshot": "every_n_steps", "every_n_steps": 100_000},
    })
    return repository


class Streamer(threading.Thread):
    """Streams the co2 series in lockstep until the server ends the stream (60 s at most)."""

    def __init__(self, client, sid: str, offset: int) -> None:
        super().__init__(daemon=True)
        self.client, self.sid, self.offset = client, sid, offset
        self.got: dict[int, list[float]] = {}
        self.position = 0
        self.error: grpc.RpcError | None = None

    def run(self) -> None:
        stream = OpenStream(self.client, "co2", self.sid)
        try:
            stream.recv()
            rng = np.random.default_rng(self.offset)
            end = time.monotonic() + 60
            while time.monotonic() < end:
                size = int(rng.integers(1, 6))
                values = inputs(self.offset, self.position, size)
                reply = stream.step(chunk_message(values=values))
                for k, step in enumerate(reply.steps):
                    self.got[reply.first_step + k] = list(step.forecast)
                self.position = reply.position
                time.sleep(0.01)
            stream.finish()
        except grpc.RpcError as exc:
            self.error = exc


def test_sigterm_drains_calls_and_keeps_every_session(drain_repository: Path) -> None:
    streams: list[Streamer] = []
    outcomes: list[grpc.StatusCode | None] = [None] * TRANSLATES
    with running_server(drain_repository, extra_args=["--grace", str(GRACE)]) as server:
        channel, client = stub(server.address)
        streams = [Streamer(client, f"drain-{i}", 40 * i) for i in range(STREAMS)]
        for s in streams:
            s.start()
        assert wait_until(lambda: all(s.position >= 10 for s in streams), timeout=60)

        def translate(i: int) -> None:
            try:
                client.Translate(request([f"{i} thousand"], beam_size=4, min_length=60,
                                         max_length=60), timeout=60)
                outcomes[i] = grpc.StatusCode.OK
            except grpc.RpcError as exc:
                outcomes[i] = exc.code()

        translators = [threading.Thread(target=translate, args=(i,)) for i in range(TRANSLATES)]
        for t in translators:
            t.start()
        time.sleep(0.3)  # the requests reach the server and start decoding
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(GRACE + 10)
        exit_seconds = time.monotonic() - signalled
        for t in [*translators, *streams]:
            t.join(30)
        channel.close()
        log = server.log()

    assert exit_seconds < GRACE / 2, (exit_seconds, log[-3000:])
    assert set(outcomes) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, outcomes
    assert outcomes.count(grpc.StatusCode.OK) > 0
    for s in streams:
        assert s.error is not None, f"{s.sid} was never ended"
        assert s.error.code() == grpc.StatusCode.UNAVAILABLE, (s.sid, s.error)
        assert "resume_from" in (s.error.details() or ""), s.error.details()

    with running_server(drain_repository) as server:
        channel, client = stub(server.address)
        for s in streams:
            info = client.OpenSession(pb.OpenSessionRequest(
                model="co2", session_id=s.sid, resume_from=s.position))
            assert info.resumed, s.sid
            assert info.position == s.position, (s.sid, info.position, s.position)
            after = dict(s.got)
            for position in range(s.position, s.position + 8, 4):
                reply = client.PredictStep(pb.PredictStepRequest(
                    model="co2", session_id=s.sid, chunk=chunk_message(
                        values=inputs(s.offset, position, 4)).chunk))
                for k, step in enumerate(reply.steps):
                    after[reply.first_step + k] = list(step.forecast)
            # The same inputs through one uninterrupted session.
            ref = client.OpenSession(pb.OpenSessionRequest(model="co2"))
            end = s.position + 8
            reference: dict[int, list[float]] = {}
            for start in range(0, end, MAX_CHUNK):
                reply = client.PredictStep(pb.PredictStepRequest(
                    model="co2", session_id=ref.session_id, chunk=chunk_message(
                        values=inputs(s.offset, start, min(MAX_CHUNK, end - start))).chunk))
                for k, step in enumerate(reply.steps):
                    reference[reply.first_step + k] = list(step.forecast)
            assert sorted(after) == list(range(end)), s.sid
            for position, forecast in after.items():
                assert np.abs(np.array(forecast) - reference[position]).max() <= 1e-9
        channel.close()
