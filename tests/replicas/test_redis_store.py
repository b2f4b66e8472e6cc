"""RedisSessionStore against a real redis-server: one round trip per tick, state and
position together, TTLs, leases with fencing tokens, release on close."""

from __future__ import annotations

import threading
import time

import pytest

from seqserve.server.engine.sessions.redis_store import (
    RedisSessionStore,
    SessionOwnedElsewhereError,
)
from seqserve.server.engine.sessions.store import Snapshot
from seqserve.server.errors import UnavailableError
from tests.support.redis_process import RedisProcess, running_redis
from tests.support.server_process import free_port


@pytest.fixture(scope="module")
def redis_server():
    with running_redis() as server:
        yield server


@pytest.fixture
def make_store(redis_server: RedisProcess):
    stores: list[RedisSessionStore] = []

    def make(**kwargs) -> RedisSessionStore:
        kwargs.setdefault("lease_seconds", 5.0)
        kwargs.setdefault("ttl_seconds", 30.0)
        store = RedisSessionStore(redis_server.url, **kwargs)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def _evalsha_calls(client) -> int:
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


def test_a_tick_of_many_snapshots_is_one_round_trip(make_store, redis_server):
    store = make_store()
    sessions = [f"tick-{i}" for i in range(50)]
    for sid in sessions:
        store.claim("m", sid)
    store.save_many([Snapshot("m", sid, 1, 3, b"warm-up") for sid in sessions])  # loads script
    client = redis_server.client()
    before_server, before_client = _evalsha_calls(client), store.round_trips
    snaps = [Snapshot("m", sid, 1, 7 + i, bytes([i]) * 64) for i, sid in enumerate(sessions)]
    assert store.save_many(snaps) == []
    # Counted on both sides: the server saw one script call, the client made one call.
    assert _evalsha_calls(client) - before_server == 1
    assert store.round_trips - before_client == 1
    for snap in snaps:
        assert store.load("m", snap.session_id) == snap
    client.close()


def test_state_and_position_are_one_value(make_store, redis_server):
    store = make_store()
    store.claim("m", "atomic")
    stop = threading.Event()

    def writer() -> None:
        position = 0
        while not stop.is_set():
            position += 1
            store.save_many([Snapshot("m", "atomic", 1, position, str(position).encode() * 8)])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = 0
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            snap = store.load("m", "atomic")
            if snap is not None:
                # A reader never sees one write's position with another's state.
                assert snap.state == str(snap.position).encode() * 8
                seen += 1
    finally:
        stop.set()
        thread.join(10)
    assert seen > 10
    client = redis_server.client()
    assert client.type(RedisSessionStore.snap_key("m", "atomic")) == b"hash"
    client.close()


def test_snapshot_and_lease_expire(make_store, redis_server):
    store = make_store(lease_seconds=3.0, ttl_seconds=20.0)
    store.claim("m", "ttl")
    store.save_many([Snapshot("m", "ttl", 1, 1, b"x")])
    client = redis_server.client()
    assert 15_000 < client.pttl(RedisSessionStore.snap_key("m", "ttl")) <= 20_000
    assert 0 < client.pttl(RedisSessionStore.lease_key("m", "ttl")) <= 3_000
    client.close()


def test_second_replica_is_refused_while_the_lease_is_held(make_store):
    first, second = make_store(), make_store()
    token = first.claim("m", "owned")
    assert first.claim("m", "owned") == token  # re-claiming our own lease keeps the token
    with pytest.raises(SessionOwnedElsewhereError, match=r"session 'owned'.*owner .*"
                       + first.owner.split(":")[0]):
        second.claim("m", "owned")


def test_fencing_refuses_a_stale_writer(make_store):
    stale = make_store(lease_seconds=0.5)
    stale._stop.set()  # a replica that stalls: no more renewals
    stale._renewer.join(2)
    old_token = stale.claim("m", "fenced")
    stale.save_many([Snapshot("m", "fenced", 1, 1, b"old")])
    time.sleep(0.8)  # its lease expires
    fresh = make_store()
    new_token = fresh.claim("m", "fenced")
    assert new_token > old_token
    assert fresh.load("m", "fenced").position == 1
    assert fresh.save_many([Snapshot("m", "fenced", 1, 2, b"new")]) == []
    late = Snapshot("m", "fenced", 1, 9, b"stale")
    assert stale.save_many([late]) == [late]
    assert not stale.owns("m", "fenced")
    assert fresh.load("m", "fenced") == Snapshot("m", "fenced", 1, 2, b"new")
    # A stale close does not delete the new owner's snapshot either.
    stale.delete("m", "fenced")
    assert fresh.load("m", "fenced") is not None


def test_close_releases_every_lease(make_store):
    leaving, taking = make_store(), make_store()
    for i in range(5):
        leaving.claim("m", f"handoff-{i}")
    leaving.save_many([Snapshot("m", f"handoff-{i}", 1, i, b"s") for i in range(5)])
    leaving.close()
    for i in range(5):
        taking.claim("m", f"handoff-{i}")  # at once: no waiting for expiry
        assert taking.load("m", f"handoff-{i}").position == i


def test_renewal_keeps_an_idle_lease(make_store, redis_server):
    store = make_store(lease_seconds=0.6)
    store.claim("m", "idle")
    time.sleep(1.5)  # longer than the lease: only renewals keep it
    assert store.owns("m", "idle")
    with pytest.raises(SessionOwnedElsewhereError):
        make_store().claim("m", "idle")


def test_unreachable_redis_is_unavailable_naming_the_store():
    port = free_port()
    store = RedisSessionStore(f"redis://127.0.0.1:{port}/0", lease_seconds=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(UnavailableError, match=f"session store redis://127.0.0.1:{port}/0"):
            store.claim("m", "nowhere")
        with pytest.raises(UnavailableError):
            store.load("m", "nowhere")
        assert time.monotonic() - started < 10
    finally:
        store.close()
