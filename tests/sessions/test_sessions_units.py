"""State pool, session table and stores without a model."""

from __future__ import annotations

import numpy as np
import pytest

from seqserve.server.engine.sessions.state_pool import StatePool
from seqserve.server.engine.sessions.store import MemoryStore, Snapshot, SqliteStore
from seqserve.server.engine.sessions.table import SessionTable, check_session_id
from seqserve.server.errors import InvalidArgumentError, ResourceExhaustedError
from seqserve.server.repository.streaming_config import StatePair

PAIRS = [
    StatePair(input="h", output="h_out", shape=[2, 3], batch_axis=1),
    StatePair(input="p", output="p_out", shape=[4], batch_axis=0, init=-1.5),
]


def test_pool_gather_scatter_and_snapshot_round_trip():
    pool = StatePool(PAIRS, capacity=5)
    for slot in range(5):
        pool.reset(slot)
    h, p = pool.gather(np.array([3, 1]))
    assert h.shape == (2, 2, 3) and p.shape == (2, 4)
    assert (h == 0).all() and (p == -1.5).all()
    new_h = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    new_p = np.arange(8, dtype=np.float32).reshape(2, 4)
    pool.scatter(np.array([3, 1]), [new_h, new_p])
    again_h, again_p = pool.gather(np.array([1, 3]))
    assert (again_h[:, 0] == new_h[:, 1]).all() and (again_p[1] == new_p[0]).all()
    blob = pool.dump(3)
    assert len(blob) == pool.row_bytes == (6 + 4) * 4
    pool.load(0, blob)
    assert (pool.gather(np.array([0]))[0] == pool.gather(np.array([3]))[0]).all()
    with pytest.raises(ValueError):
        pool.load(0, blob[:-4])


def test_dump_many_equals_dump_of_each_slot():
    pool = StatePool(PAIRS, capacity=4)
    rng = np.random.default_rng(0)
    for array in pool.arrays:
        array[:] = rng.normal(size=array.shape)
    assert pool.dump_many([2, 0, 3]) == [pool.dump(2), pool.dump(0), pool.dump(3)]


def test_chunk_batch_resolves_once_with_every_outcome():
    import asyncio

    from seqserve.server.engine.sessions.chunk_batch import ChunkBatch

    async def go():
        loop = asyncio.get_running_loop()
        empty = ChunkBatch(loop, 0)
        assert await empty.future == []
        batch = ChunkBatch(loop, 3)
        refused = ValueError("refused")
        batch.settle(1, refused)
        batch.sink(0)("first")
        assert not batch.future.done()
        batch.sink(1)("late duplicate")  # a slot settles once
        assert not batch.future.done()
        batch.sink(2)("third")
        return await batch.future

    outcomes = asyncio.run(go())
    assert outcomes[0] == "first" and isinstance(outcomes[1], ValueError)
    assert outcomes[2] == "third"


def test_table_capacity_and_slot_reuse():
    table = SessionTable(capacity=2)
    a, b = table.add("a"), table.add("b")
    assert {a.slot, b.slot} == {0, 1}
    with pytest.raises(ResourceExhaustedError, match="max_sessions=2"):
        table.add("c")
    b.busy = True
    table.remove(b)  # busy: the slot stays taken until the run is done
    assert table.free_slots == 0 and table.get("b") is None
    table.release(b)
    table.release(b)  # idempotent
    assert table.free_slots == 1
    assert table.add("c").slot == 1


@pytest.mark.parametrize("bad", ["", " x", "a/b", "x" * 129, ".hidden"])
def test_session_id_rules(bad):
    with pytest.raises(InvalidArgumentError):
        check_session_id(bad)


def test_memory_store_is_bounded():
    store = MemoryStore(max_entries=3)
    store.save_many([Snapshot("m", f"s{i}", 1, i, b"x") for i in range(5)])
    assert len(store) == 3 and store.load("m", "s0") is None and store.load("m", "s4").position == 4


def test_sqlite_store_persists_batches(tmp_path):
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path)
    store.save_many([Snapshot("m", f"s{i}", 1, i, bytes([i]) * 8) for i in range(100)])
    store.save_many([Snapshot("m", "s1", 1, 50, b"y" * 8)])
    store.delete("m", "s2")
    store.close()
    reopened = SqliteStore(path)
    assert reopened.count() == 99
    assert reopened.load("m", "s1") == Snapshot("m", "s1", 1, 50, b"y" * 8)
    assert reopened.load("m", "s2") is None and reopened.load("other", "s1") is None
    reopened.close()
