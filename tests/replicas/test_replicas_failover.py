"""3 replicas behind a real HAProxy, sessions in a real Redis: SIGKILL one replica
mid-stream (its sessions resume elsewhere from their last snapshot), then SIGTERM
another (it hands its sessions off: zero steps lost); every output equals an
uninterrupted single-process run.

Scaled down from the issue's 100 sessions to SESSIONS (2 shared cores: the test
stays well under a minute); the mechanics are per session, not per count."""

from __future__ import annotations

import contextlib
import signal
import threading
import time

import numpy as np

from seqserve.models.streaming.data import load_co2
from tests.integration.grpc_helpers import stub
from tests.replicas.conftest import MAX_CHUNK, store_args
from tests.replicas.replica_client import SessionRun, drive, reference
from tests.support.haproxy_process import running_haproxy
from tests.support.polling import wait_until
from tests.support.server_process import start_servers

SESSIONS = 40
LENGTH = 120
HOLD_AT = 50
PRE_STOP = 3.0
"""The replicas' --pre-stop-delay: longer than HAProxy needs to see /ready fail (1 s)."""
"""Sessions wait here after the kill until the SIGTERM phase starts, so that both
faults land mid-stream whatever the machine's speed."""


def _owners(redis_client, runs: list[SessionRun]) -> dict[str, int]:
    """session id -> pid of the replica holding its lease (missing: none)."""
    owners = {}
    for run in runs:
        value = redis_client.get(f"seqserve:lease:co2:{run.sid}")
        if value:
            owners[run.sid] = int(value.decode().split("|")[0].split(":")[1])
    return owners


def _busiest(owners: dict[str, int], alive: list) -> object:
    counts = {server.process.pid: 0 for server in alive}
    for pid in owners.values():
        if pid in counts:
            counts[pid] += 1
    pid = max(counts, key=counts.__getitem__)
    return next(server for server in alive if server.process.pid == pid)


def test_kill_and_terminate_replicas_behind_haproxy(replica_repository, redis_server):
    series = load_co2()
    runs = [SessionRun(f"lb-{i}", series[i * 7: i * 7 + LENGTH]) for i in range(SESSIONS)]
    redis_client = redis_server.client()
    with contextlib.ExitStack() as stack:
        replicas = start_servers(stack, 3, replica_repository,
                                 extra_args=[*store_args(redis_server),
                                             "--pre-stop-delay", str(PRE_STOP)])
        ports = [(int(r.address.rsplit(":", 1)[1]), r.metrics_port) for r in replicas]
        balancer = stack.enter_context(running_haproxy(ports))
        balancer.wait_states({f"replica{i + 1}": "UP" for i in range(3)})
        channel, client = stub(balancer.address)
        stack.callback(channel.close)
        deadline = time.monotonic() + 90
        phase2 = threading.Event()
        threads = [threading.Thread(target=drive, args=(client, run, np.random.default_rng(i)),
                                    kwargs={"pause": 0.03, "deadline": deadline,
                                            "hold": (HOLD_AT, phase2)})
                   for i, run in enumerate(runs)]
        for thread in threads:
            thread.start()

        # Phase 1: SIGKILL the replica holding most sessions (no drain, no release).
        assert wait_until(lambda: all(r.seen > 10 for r in runs), timeout=40)
        owners = _owners(redis_client, runs)
        killed = _busiest(owners, replicas)
        killed.process.kill()
        killed.process.wait(10)
        seen_at_kill = {r.sid: r.seen for r in runs}
        killed_sessions = [r for r in runs if owners.get(r.sid) == killed.process.pid]
        alive = [r for r in replicas if r is not killed]
        assert killed_sessions and all(seen_at_kill[r.sid] < LENGTH for r in killed_sessions)

        # Phase 2: once every session resumed or waits at HOLD_AT (a held one finds
        # its replica gone when it sends again), SIGTERM the busiest survivor mid-stream.
        assert wait_until(lambda: all(r.held for r in runs), timeout=40)
        assert any(r.resumes for r in killed_sessions)
        owners = _owners(redis_client, runs)
        drained = _busiest(owners, alive)
        drained_sessions = [r for r in runs if owners.get(r.sid) == drained.process.pid]
        resumes_before = {r.sid: len(r.resumes) for r in runs}
        # The deployment's shutdown: SIGTERM, /ready turns 503, the balancer takes the
        # replica out during the pre-stop delay; the sessions' next steps then reach
        # another replica, which takes each over once the drain released it.
        drained.process.send_signal(signal.SIGTERM)
        balancer.wait_states({f"replica{replicas.index(drained) + 1}": "DOWN"},
                             timeout=PRE_STOP * 4)
        phase2.set()
        assert drained.process.wait(30) == 0
        last = next(r for r in alive if r is not drained)

        for thread in threads:
            thread.join(max(1.0, deadline - time.monotonic()))
        stuck = [(r.sid, r.seen, r.resumes, r.errors[-2:]) for r in runs if not r.done]
        for item in stuck:
            print("STUCK", item)
        assert not stuck, f"{len(stuck)} sessions did not finish"
        # Every session is now held by the last replica standing.
        final = _owners(redis_client, runs)
        assert set(final.values()) == {last.process.pid}, final

        direct_channel, direct = stub(last.address)
        stack.callback(direct_channel.close)
        expected = [reference(direct, f"ref-{i}", run.seq, MAX_CHUNK)
                    for i, run in enumerate(runs)]

    for run in killed_sessions:
        _, restored = run.resumes[0]
        # Outputs go out only after their snapshot is in Redis: nothing seen is lost.
        assert restored >= seen_at_kill[run.sid], (run.sid, run.resumes)
    assert drained_sessions, "the drained replica held no unfinished session"
    for run in drained_sessions:
        handoffs = run.resumes[resumes_before[run.sid]:]
        assert handoffs, (run.sid, run.errors[-3:])
        # Graceful hand-off: restored exactly where the client was sending from, zero
        # steps lost and no reply lost (the balancer never replays a request a replica
        # may have run, see retry-on in haproxy.cfg). Not `seen`: a phase-1 resume may
        # have restored past the client's last reply.
        assert all(sent_from == restored for sent_from, restored in handoffs), (
            run.sid, handoffs, run.errors)
    for run, want in zip(runs, expected, strict=True):
        assert max(run.got) == LENGTH - 1
        diff = max(np.abs(np.array(out) - want[pos]).max() for pos, out in run.got.items())
        assert diff <= 1e-5, (run.sid, diff)
    redis_client.close()
