"""The session scheduler in process: limits, ordering, snapshot batching, close and eviction."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from seqserve.server.engine.sessions.model import ChunkInput, StreamingModel
from seqserve.server.engine.sessions.store import MemoryStore
from seqserve.server.errors import (
    DeadlineExceededError,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
)
from seqserve.server.repository.repository import ModelRepository


class CountingStore(MemoryStore):
    durable = True  # takes per-tick snapshots, like the SQLite store

    def __init__(self) -> None:
        super().__init__(max_entries=10_000)
        self.calls: list[int] = []

    def save_many(self, snapshots):
        self.calls.append(len(snapshots))
        super().save_many(snapshots)


def _model(repository, *, start: bool = True, **sections) -> StreamingModel:
    version = ModelRepository(repository).resolve("co2")
    config = version.config
    for name, values in sections.items():
        config = config.model_copy(
            update={name: getattr(config, name).model_copy(update=values)})
    model = StreamingModel(dataclasses.replace(version, config=config))
    if start:
        model.start()
    return model


def test_max_sessions_is_resource_exhausted(streaming_repository):
    model = _model(streaming_repository, limits={"max_sessions": 2})
    try:
        model.open("a"), model.open("b")
        with pytest.raises(ResourceExhaustedError, match="max_sessions=2"):
            model.open("c")
        model.close("a")
        assert model.open("c").position == 0  # the freed slot is reused
    finally:
        model.stop()


def test_chunks_of_one_session_run_in_order_one_per_tick(streaming_repository):
    model = _model(streaming_repository)
    store = CountingStore()
    model.scheduler.store = store

    async def go():
        for sid in ("x", "y", "z"):
            model.open(sid)
        jobs = [model.predict(sid, ChunkInput(values=[315.0] * size))
                for size in (3, 1, 2, 5) for sid in ("x", "y", "z")]
        return await asyncio.gather(*jobs)

    try:
        results = asyncio.run(go())
    finally:
        model.stop()
    firsts = [r.first_step for r in results if r.session_id == "x"]
    assert firsts == [0, 3, 4, 6]
    # Never two chunks of one session in a tick: at least four ticks, at most
    # three rows each, and each tick's snapshots in one store call.
    assert model.scheduler.ticks == len(store.calls) >= 4
    assert max(store.calls) <= 3 and sum(store.calls) == 12


def test_snapshot_every_n_steps(streaming_repository):
    model = _model(streaming_repository,
                   sessions={"snapshot": "every_n_steps", "every_n_steps": 4})
    store = CountingStore()
    model.scheduler.store = store

    async def go():
        model.open("n")
        for _ in range(5):
            await model.predict("n", ChunkInput(values=[315.0, 316.0]))
        return list(store.calls), store.load("co2", "n").position

    try:
        calls, position = asyncio.run(go())
    finally:
        model.stop()
    assert calls == [1, 1] and position == 8  # at 4 and 8 of 10 steps
    # Unloading snapshots what the policy had not written yet.
    assert store.load("co2", "n").position == 10


def test_close_fails_pending_chunks_and_frees_the_id(streaming_repository):
    model = _model(streaming_repository)

    async def go():
        model.open("c")
        pending = [asyncio.ensure_future(model.predict("c", ChunkInput(values=[1.0] * 8)))
                   for _ in range(20)]
        await asyncio.sleep(0)
        model.close("c")
        return await asyncio.gather(*pending, return_exceptions=True)

    try:
        outcomes = asyncio.run(go())
        assert any(isinstance(o, NotFoundError) for o in outcomes)
        assert model.scheduler.live_sessions() == 0
        assert model.scheduler.table.free_slots == model.config.limits.max_sessions
        with pytest.raises(NotFoundError):
            model.session("c")
    finally:
        model.stop()


def test_idle_eviction_frees_the_slot_and_keeps_a_snapshot(streaming_repository):
    model = _model(streaming_repository, limits={"idle_timeout_seconds": 0.3})

    async def go():
        model.open("idle")
        await model.predict("idle", ChunkInput(values=[315.0, 316.0, 317.0]))

    try:
        asyncio.run(go())
        deadline = time.monotonic() + 5
        while model.scheduler.live_sessions() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert model.scheduler.live_sessions() == 0
        info = model.open("idle")
        assert info.resumed and info.position == 3
    finally:
        model.stop()


def test_close_during_a_snapshot_write_does_not_resurrect_the_session(streaming_repository):
    import threading

    class BlockingStore(MemoryStore):
        durable = True

        def __init__(self) -> None:
            super().__init__(max_entries=100)
            self.entered, self.release = threading.Event(), threading.Event()

        def save_many(self, snapshots):
            self.entered.set()
            self.release.wait(5)
            super().save_many(snapshots)

    model = _model(streaming_repository)
    store = BlockingStore()
    model.scheduler.store = store

    async def go():
        model.open("r")
        pending = asyncio.ensure_future(model.predict("r", ChunkInput(values=[315.0])))
        await asyncio.to_thread(store.entered.wait, 5)
        closer = threading.Thread(target=model.close, args=("r",))
        closer.start()  # blocks until the tick's write is done, then deletes
        await asyncio.sleep(0.1)
        store.release.set()
        await asyncio.to_thread(closer.join, 5)
        await asyncio.gather(pending, return_exceptions=True)

    try:
        asyncio.run(go())
        assert store.load("co2", "r") is None
        assert model.open("r").position == 0 and not model.open("r").resumed
    finally:
        model.stop()


def test_ready_sessions_run_oldest_chunk_first(streaming_repository):
    """With more ready sessions than max_rows, a tick takes the oldest chunks."""
    # Not started: schedule() is driven by hand, so no tick can race the check.
    model = _model(streaming_repository, start=False, batching={"max_rows": 2})

    async def go():
        for sid in ("a", "b", "c"):
            model.open(sid)
        for sid in ("c", "a", "b"):  # arrival order, not table order
            model.submit_many([(sid, ChunkInput(values=[315.0]))])
            time.sleep(0.002)  # distinct arrival times
        with model.scheduler._cond:
            first = [s.id for s, _ in model.scheduler.schedule()]
            second = [s.id for s, _ in model.scheduler.schedule()]
        return first, second

    first, second = asyncio.run(go())
    assert first == ["c", "a"] and second == ["b"]
    model.store.close()


def test_a_memory_store_takes_no_per_chunk_snapshots_but_eviction_does(streaming_repository):
    model = _model(streaming_repository, limits={"idle_timeout_seconds": 0.3},
                   sessions={"snapshot": "every_chunk"})
    saves: list[int] = []
    original = model.store.save_many
    model.store.save_many = lambda snaps: (saves.append(len(snaps)), original(snaps))[1]

    async def go():
        model.open("m")
        for _ in range(3):
            await model.predict("m", ChunkInput(values=[315.0, 316.0]))

    try:
        asyncio.run(go())
        assert saves == []  # nothing to gain from copying state within the process
        deadline = time.monotonic() + 5
        while model.scheduler.live_sessions() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert saves == [1]  # the evicted session's state, once
        info = model.open("m")
        assert info.resumed and info.position == 6
    finally:
        model.stop()


def test_a_failing_idle_scan_write_does_not_stop_the_ticks(streaming_repository):
    """The eviction's snapshot write runs in schedule(): when the store fails it, the
    worker logs it, keeps ticking and evicts at the next scan."""
    model = _model(streaming_repository, limits={"idle_timeout_seconds": 0.3})
    failed: list[int] = []
    original = model.store.save_many

    def flaky(snapshots):
        if not failed:
            failed.append(len(snapshots))
            raise UnavailableError("store briefly down")
        return original(snapshots)

    model.store.save_many = flaky

    async def step(sid: str) -> int:
        return (await model.predict(sid, ChunkInput(values=[315.0]))).position

    try:
        model.open("m")
        assert asyncio.run(step("m")) == 1
        deadline = time.monotonic() + 10
        while model.scheduler.live_sessions() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert failed == [1] and model.scheduler.live_sessions() == 0
        model.open("n")
        assert asyncio.run(step("n")) == 1  # still ticking
        assert model.open("m").position == 1  # the retried write kept its state
    finally:
        model.stop()


def test_a_chunk_queued_past_its_deadline_is_not_applied(streaming_repository):
    # Not started: the chunks wait in the queue until their deadline has passed.
    model = _model(streaming_repository, start=False)

    async def go():
        model.open("late"), model.open("ontime")
        deadline = time.monotonic() + 0.05
        late = [asyncio.ensure_future(model.predict(
            "late", ChunkInput(values=[315.0] * 3), deadline=deadline)) for _ in range(2)]
        ontime = asyncio.ensure_future(model.predict(
            "ontime", ChunkInput(values=[315.0] * 3), deadline=time.monotonic() + 60))
        await asyncio.sleep(0.2)
        model.start()
        outcomes = await asyncio.gather(*late, ontime, return_exceptions=True)
        # The session did not move: the client sends the same steps again from 0.
        again = await model.predict("late", ChunkInput(values=[315.0] * 3))
        return outcomes, again

    try:
        (first, second, ontime), again = asyncio.run(go())
    finally:
        model.stop()
    assert isinstance(first, DeadlineExceededError)
    assert "did not move from position 0" in str(first)
    assert "1 queued behind it" in str(first)
    assert isinstance(second, DeadlineExceededError)  # sent to follow the expired one
    assert ontime.first_step == 0 and ontime.position == 3
    assert again.first_step == 0 and again.position == 3
