"""Resume without lost or duplicated outputs (OpenSessionRequest.resume_from).

A server killed (SIGKILL) while clients pipeline chunks has computed, and
committed, outputs that never reached them. Reopening with resume_from = the
position of the last response received hands those outputs back (SessionInfo.replay)
and the client resends from SessionInfo.position: every step's output arrives
exactly once, identical to an uninterrupted run."""

from __future__ import annotations

import collections
import threading
import time

import grpc
import numpy as np

from seqserve.models.streaming.data import load_co2
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import stub
from tests.sessions.session_helpers import OpenStream, chunk_message, wait_until
from tests.support.server_process import running_server

SESSIONS = 20
LENGTH = 200
AHEAD = 6
PARK = 30
"""Chunks a client sends before reading the first answer (pipelining)."""
SERIES = load_co2()


def values(i: int, start: int, size: int) -> list[float]:
    return SERIES[i * 30 + start : i * 30 + min(start + size, LENGTH)].tolist()


class Pipeliner(threading.Thread):
    def __init__(self, client, i: int) -> None:
        super().__init__(daemon=True)
        self.client, self.i = client, i
        self.counts: collections.Counter[int] = collections.Counter()
        self.got: dict[int, list[float]] = {}
        self.position = 0
        """The position of the last response received."""
        self.sent = 0
        self.parked = threading.Event()
        """Set once the client sent chunks whose answers it will never read."""
        self.stop = threading.Event()

    def run(self) -> None:
        stream = OpenStream(self.client, "co2", f"resume-{self.i}")
        try:
            stream.recv()
            in_flight = 0
            while self.position < PARK:
                while in_flight < AHEAD:
                    stream.send(chunk_message(values=values(self.i, self.sent, 3)))
                    self.sent, in_flight = self.sent + 3, in_flight + 1
                reply = stream.recv()
                in_flight -= 1
                record(self, reply)
            # The answers in flight now are computed and committed, never read: what a
            # client loses when the server dies between the commit and the delivery.
            self.parked.set()
            self.stop.wait(60)
        except (grpc.RpcError, StopIteration):
            pass  # killed under us
        finally:
            self.parked.set()


def record(target: Pipeliner, reply: pb.PredictResponse) -> None:
    for k, step in enumerate(reply.steps):
        target.counts[reply.first_step + k] += 1
        target.got[reply.first_step + k] = list(step.forecast)
    target.position = max(target.position, reply.position)


def test_sigkill_then_resume_from_loses_and_repeats_nothing(sqlite_repository) -> None:
    clients: list[Pipeliner] = []
    with running_server(sqlite_repository) as server:
        channel, client = stub(server.address)
        clients = [Pipeliner(client, i) for i in range(SESSIONS)]
        for c in clients:
            c.start()
        assert all(c.parked.wait(60) for c in clients)

        def computed(c: Pipeliner) -> bool:
            info = client.GetSession(pb.SessionRef(model="co2", session_id=f"resume-{c.i}"))
            return info.position == c.sent

        assert wait_until(lambda: all(computed(c) for c in clients), timeout=30)
        server.process.kill()
        server.process.wait(10)
        for c in clients:
            c.stop.set()
            c.join(30)
        channel.close()

    with running_server(sqlite_repository) as server:
        channel, client = stub(server.address)
        for c in clients:
            info = client.OpenSession(pb.OpenSessionRequest(
                model="co2", session_id=f"resume-{c.i}", resume_from=c.position))
            assert info.resumed
            assert info.position == c.sent > c.position
            assert info.replay.first_step == c.position
            assert len(info.replay.steps) == info.position - c.position
            record(c, info.replay)
            position = info.position
            while position < LENGTH:
                reply = client.PredictStep(pb.PredictStepRequest(
                    model="co2", session_id=f"resume-{c.i}",
                    chunk=chunk_message(values=values(c.i, position, 5)).chunk))
                record(c, reply)
                position = reply.position
            ref = client.OpenSession(pb.OpenSessionRequest(model="co2"))
            reference: dict[int, list[float]] = {}
            for start in range(0, LENGTH, 16):
                reply = client.PredictStep(pb.PredictStepRequest(
                    model="co2", session_id=ref.session_id,
                    chunk=chunk_message(values=values(c.i, start, 16)).chunk))
                for k, step in enumerate(reply.steps):
                    reference[reply.first_step + k] = list(step.forecast)
            assert sorted(c.counts) == list(range(LENGTH)), f"lost steps in session {c.i}"
            assert set(c.counts.values()) == {1}, f"repeated steps in session {c.i}"
            for step, forecast in c.got.items():
                assert np.abs(np.array(forecast) - reference[step]).max() <= 1e-9
        channel.close()


def test_live_session_replays_and_skips_by_resume_from(streaming_server) -> None:
    channel, client = stub(streaming_server.address)
    with channel:
        stream = OpenStream(client, "co2", "live-resume", keep=True)
        stream.recv()
        seen = [stream.step(chunk_message(values=values(0, 0, 4)))]
        for start in (4, 8, 12):  # answers never read: the connection "breaks"
            stream.send(chunk_message(values=values(0, start, 4)))
        assert wait_until(lambda: client.GetSession(pb.SessionRef(
            model="co2", session_id="live-resume")).position == 16)
        stream.cancel()
        assert wait_until(lambda: not client.GetSession(pb.SessionRef(
            model="co2", session_id="live-resume")).pending_chunks)
        time.sleep(0.2)  # the stream's end detaches the session
        info = client.OpenSession(pb.OpenSessionRequest(
            model="co2", session_id="live-resume", resume_from=4))
        assert (info.position, info.replay.first_step, len(info.replay.steps)) == (16, 4, 12)
        # A client claiming more than the session holds gets no output twice: the
        # resent steps below its resume_from come back without outputs.
        again = client.OpenSession(pb.OpenSessionRequest(
            model="co2", session_id="live-resume", resume_from=20))
        assert again.position == 16 and not again.replay.steps
        reply = client.PredictStep(pb.PredictStepRequest(
            model="co2", session_id="live-resume",
            chunk=chunk_message(values=values(0, 16, 8)).chunk))
        assert (reply.first_step, reply.position, len(reply.steps)) == (20, 24, 4)
        client.CloseSession(pb.SessionRef(model="co2", session_id="live-resume"))
        assert seen[0].position == 4
