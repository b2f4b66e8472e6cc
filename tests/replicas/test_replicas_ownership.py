"""Two replicas on one Redis: a session is live on one of them at a time (racing
opens: exactly one wins, the other gets a clear status), a replica that lost its
lease is fenced off (no interleaved writes), and Redis going away fails session
work with UNAVAILABLE naming the store while stateless RPCs keep serving."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import grpc
import pytest

from seqserve.client.session_client import chunk_message
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import request, stub
from tests.replicas.conftest import LEASE_SECONDS, store_args
from tests.support.polling import wait_until
from tests.support.server_process import start_servers


@pytest.fixture(scope="module")
def pair(replica_repository, redis_server):
    with contextlib.ExitStack() as stack:
        servers = start_servers(stack, 2, replica_repository,
                                extra_args=store_args(redis_server))
        clients = []
        for server in servers:
            channel, client = stub(server.address)
            stack.callback(channel.close)
            clients.append(client)
        yield servers, clients


def _open(client, sid: str) -> pb.SessionInfo | grpc.RpcError:
    try:
        return client.OpenSession(pb.OpenSessionRequest(model="co2", session_id=sid), timeout=15)
    except grpc.RpcError as exc:
        return exc


def _step(client, sid: str, values: list[float]):
    return client.PredictStep(pb.PredictStepRequest(
        model="co2", session_id=sid, chunk=chunk_message(values=values).chunk), timeout=15)


def test_racing_opens_exactly_one_replica_wins(pair):
    _, clients = pair
    for i in range(8):
        sid = f"race-{i}"
        outcomes: list[object] = [None, None]
        barrier = threading.Barrier(2)

        def race(index: int, sid: str = sid, outcomes: list = outcomes,
                 barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            outcomes[index] = _open(clients[index], sid)

        threads = [threading.Thread(target=race, args=(k,)) for k in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        winners = [k for k, o in enumerate(outcomes) if isinstance(o, pb.SessionInfo)]
        assert len(winners) == 1, outcomes
        loser = outcomes[1 - winners[0]]
        assert isinstance(loser, grpc.RpcError)
        assert loser.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"session '{sid}'" in loser.details()
        assert "live on another replica (owner" in loser.details()
        # The loser never has the session: its steps are refused, the winner's run.
        with pytest.raises(grpc.RpcError) as refused:
            _step(clients[1 - winners[0]], sid, [315.0])
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        assert _step(clients[winners[0]], sid, [315.0, 316.0]).position == 2


def test_a_replica_that_lost_its_lease_is_fenced_off(pair, redis_server):
    servers, clients = pair
    sid = "fenced"
    assert not clients[0].OpenSession(pb.OpenSessionRequest(model="co2", session_id=sid)
                                      ).resumed
    for _ in range(3):
        position = _step(clients[0], sid, [315.0, 316.0]).position
    os.kill(servers[0].process.pid, signal.SIGSTOP)  # a replica stalls past its lease
    try:
        time.sleep(LEASE_SECONDS + 1.0)
        taken = _open(clients[1], sid)
        assert isinstance(taken, pb.SessionInfo), taken
        assert taken.resumed and taken.position == position == 6
        for _ in range(2):
            position = _step(clients[1], sid, [317.0]).position
    finally:
        os.kill(servers[0].process.pid, signal.SIGCONT)
    # The stalled replica wakes up and tries to go on: refused, it never writes again.
    with pytest.raises(grpc.RpcError) as stale:
        _step(clients[0], sid, [999.0, 999.0, 999.0])
    assert stale.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"session '{sid}'" in stale.value.details()
    assert "another replica" in stale.value.details()
    redis_client = redis_server.client()
    snapshot = redis_client.hgetall(f"seqserve:snap:co2:{sid}")
    lease = redis_client.get(f"seqserve:lease:co2:{sid}").decode()
    redis_client.close()
    assert int(snapshot[b"p"]) == position == 8  # the new owner's write, not the stale one
    assert snapshot[b"t"].decode() == lease.split("|")[1]
    assert f":{servers[1].process.pid}:" in lease
    assert _step(clients[1], sid, [318.0]).position == 9
    with pytest.raises(grpc.RpcError) as gone:
        clients[0].GetSession(pb.SessionRef(model="co2", session_id=sid))
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


def test_redis_down_fails_sessions_clearly_and_stateless_rpcs_serve(pair, redis_server):
    servers, clients = pair
    client = clients[0]
    assert _open(client, "before-outage").position == 0
    redis_server.stop()
    try:
        started = time.monotonic()
        refused = _open(client, "during-outage")
        assert isinstance(refused, grpc.RpcError)
        assert refused.code() == grpc.StatusCode.UNAVAILABLE
        assert f"session store {redis_server.url}" in refused.details()
        # A live session's step cannot be snapshotted: UNAVAILABLE too, not a hang.
        with pytest.raises(grpc.RpcError) as step:
            _step(client, "before-outage", [315.0])
        assert step.value.code() == grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < 20
        # Stateless RPCs do not touch the store.
        reply = client.Translate(request(["twenty one"]), timeout=30)
        assert len(reply.translations) == 1
        assert servers[0].alive() and servers[1].alive()
    finally:
        redis_server.start()
    # Redis is back (empty: no persistence in tests): new sessions open again.
    assert wait_until(lambda: isinstance(_open(client, "after-outage"), pb.SessionInfo),
                      timeout=20)
    assert _step(client, "after-outage", [315.0, 316.0]).position == 2
