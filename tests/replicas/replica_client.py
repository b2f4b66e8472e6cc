"""A session client that survives replicas going away: every RPC carries the
session header (so the balancer keeps it on its owner), and on a replica's
loss it reopens the session (resuming from the store) and resends the steps
after the restored position, as a real client does. It keeps the session_token
the first open returned and sends it on every later call, reopens included."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import grpc
import numpy as np

from seqserve.client.session_client import chunk_message, session_metadata
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb

RETRY = {
    grpc.StatusCode.UNAVAILABLE,  # replica draining/dead, balancer has no server yet
    grpc.StatusCode.FAILED_PRECONDITION,  # the old owner's lease has not expired yet
    grpc.StatusCode.NOT_FOUND,  # routed to a replica the session is not live on
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,  # HAProxy's answer for a connection reset mid-RPC
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.CANCELLED,  # HAProxy resets the streams of a replica that died
}


@dataclass
class SessionRun:
    sid: str
    seq: np.ndarray
    got: dict[int, list[float]] = field(default_factory=dict)
    resumes: list[tuple[int, int]] = field(default_factory=list)
    """(position the client was sending from, position the store restored) per reopen.
    The first can be ahead of `seen`: after a SIGKILL the store may restore past the
    last reply the client got (the replica applied and saved a step whose reply died
    with it), and the client then goes on from the restored position."""
    errors: list[str] = field(default_factory=list)
    done: bool = False
    held: bool = False
    token: str = ""
    """The session_token the first open returned (anonymous callers, the default server)."""

    @property
    def seen(self) -> int:
        return max(self.got) + 1 if self.got else 0


def open_session(client, run: SessionRun, deadline: float) -> int:
    while True:
        try:
            info = client.OpenSession(pb.OpenSessionRequest(
                model="co2", session_id=run.sid, session_token=run.token),
                metadata=session_metadata(run.sid), timeout=10)
            run.token = info.session_token or run.token
            return int(info.position)
        except grpc.RpcError as exc:
            if exc.code() not in RETRY or time.monotonic() > deadline:
                run.errors.append(f"gave up: open {exc.code().name}: {exc.details()}")
                raise
            run.errors.append(f"open {exc.code().name}: {exc.details()}")
            time.sleep(0.2)


def drive(client, run: SessionRun, rng: np.random.Generator, *, pause: float,
          deadline: float, hold: tuple[int, threading.Event] | None = None) -> None:
    """Send run.seq to the end in random chunks of <= 8 steps, reopening on failures.
    With `hold` (position, event): wait at that position until the event is set."""
    position = open_session(client, run, deadline)
    assert position == 0, f"{run.sid} opened at {position}"
    while position < len(run.seq) and time.monotonic() < deadline:
        if hold is not None and position >= hold[0] and not hold[1].is_set():
            run.held = True
            time.sleep(0.02)
            continue
        size = int(rng.integers(1, 9))
        try:
            reply = client.PredictStep(pb.PredictStepRequest(
                model="co2", session_id=run.sid, session_token=run.token,
                chunk=chunk_message(values=run.seq[position: position + size].tolist()).chunk),
                metadata=session_metadata(run.sid), timeout=10)
        except grpc.RpcError as exc:
            if exc.code() not in RETRY:
                run.errors.append(f"gave up: step {exc.code().name}: {exc.details()}")
                raise
            run.errors.append(f"step {exc.code().name}: {exc.details()}")
            restored = open_session(client, run, deadline)
            run.resumes.append((position, restored))
            position = restored
            continue
        for offset, step in enumerate(reply.steps):
            run.got[reply.first_step + offset] = list(step.forecast)
        position = reply.position
        time.sleep(pause)
    run.done = position >= len(run.seq)


def reference(client, sid: str, seq: np.ndarray, chunk: int) -> dict[int, list[float]]:
    """The same sequence in one uninterrupted session on one process."""
    token = client.OpenSession(pb.OpenSessionRequest(model="co2", session_id=sid),
                               timeout=10).session_token
    got: dict[int, list[float]] = {}
    for start in range(0, len(seq), chunk):
        reply = client.PredictStep(pb.PredictStepRequest(
            model="co2", session_id=sid, session_token=token,
            chunk=chunk_message(values=seq[start: start + chunk].tolist()).chunk), timeout=10)
        for offset, step in enumerate(reply.steps):
            got[reply.first_step + offset] = list(step.forecast)
    client.CloseSession(pb.SessionRef(model="co2", session_id=sid, session_token=token),
                        timeout=10)
    return got
