"""The EngineWorker contract with a toy kind: the loop's phases, one wake-up per loop
per batch, recovery from a failing iteration, stop, and refusal after stop."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from seqserve.server import metrics
from seqserve.server.engine.worker import EngineWorker
from seqserve.server.errors import UnavailableError


class Doubler(EngineWorker[list[tuple[Any, Any, int]], list[int]]):
    """Doubles numbers in batches of whatever is queued; a plan of a 13 raises."""

    def __init__(self, name: str) -> None:
        super().__init__(name, f"doubler-{name}")
        self.queue: list[tuple[Any, Any, int]] = []
        self.recovered: list[tuple[Any, Exception]] = []
        self.shut = 0
        self.fail_schedule = False

    def put(self, loop: Any, sink: Any, value: int) -> None:
        with self._cond:
            self.refuse_if_stopping()
            self.queue.append((loop, sink, value))
            self._cond.notify()

    def schedule(self) -> list[tuple[Any, Any, int]] | None:
        if self.fail_schedule:
            self.fail_schedule = False
            raise RuntimeError("schedule bug")
        plan, self.queue = self.queue, []
        return plan or None

    def execute(self, plan: list[tuple[Any, Any, int]]) -> list[int]:
        if any(value == 13 for _, _, value in plan):
            raise ValueError("unlucky")
        return [2 * value for _, _, value in plan]

    def update(self, plan: list[tuple[Any, Any, int]], outputs: list[int]) -> None:
        for (loop, sink, _), out in zip(plan, outputs, strict=True):
            self.send(loop, sink, out)

    def recover(self, plan: list[tuple[Any, Any, int]] | None, error: Exception) -> None:
        self.recovered.append((plan, error))
        for loop, sink, _ in plan or []:
            self.send(loop, sink, error)

    def shut_down(self) -> None:
        self.shut += 1
        with self._cond:
            left, self.queue = self.queue, []
        for loop, sink, _ in left:
            self.send(loop, sink, UnavailableError("gone"))


def _wait_for(predicate: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert predicate()


def test_a_batch_reaches_each_event_loop_in_one_wake_up() -> None:
    async def go() -> list[int]:
        loop = asyncio.get_running_loop()
        calls = 0
        original = loop.call_soon_threadsafe

        def counting(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            return original(*args)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        got: list[int] = []
        everything = loop.create_future()

        def sink(value: int) -> None:
            got.append(value)
            if len(got) == 5 and not everything.done():
                everything.set_result(None)

        worker = Doubler("one-wake-up")
        for value in range(5):  # queued before the thread starts: one plan
            worker.put(loop, sink, value)
        worker.start()
        await asyncio.wait_for(everything, 10)
        worker.stop()
        assert calls == 1
        return got

    assert asyncio.run(go()) == [0, 2, 4, 6, 8]


def test_a_failing_iteration_fails_its_plan_and_the_loop_keeps_serving() -> None:
    results: list[Any] = []
    lock = threading.Lock()

    def sink(value: Any) -> None:
        with lock:
            results.append(value)

    worker = Doubler("recover")
    worker.put(None, sink, 13)
    worker.start()
    _wait_for(lambda: len(results) == 1)
    assert isinstance(results[0], ValueError)
    worker.put(None, sink, 4)
    _wait_for(lambda: len(results) == 2)
    assert results[1] == 8
    worker.stop()
    assert len(worker.recovered) == 1


def test_a_failing_schedule_is_recovered_without_a_plan() -> None:
    results: list[Any] = []
    worker = Doubler("schedule-bug")
    worker.fail_schedule = True
    worker.start()
    worker.put(None, results.append, 1)
    _wait_for(lambda: results == [2])
    worker.stop()
    assert [plan for plan, _ in worker.recovered] == [None]


def test_stop_fails_what_is_left_and_later_work_is_refused_as_draining() -> None:
    def rejected() -> float:
        value = metrics.REGISTRY.get_sample_value(
            "seqserve_rejected_requests_total", {"model": "stopping", "reason": "draining"})
        return value or 0.0

    results: list[Any] = []
    worker = Doubler("stopping")  # never started: stop() fails the queue itself
    worker.put(None, results.append, 1)
    worker.stop()
    assert worker.shut == 1 and isinstance(results[0], UnavailableError)
    before = rejected()
    with pytest.raises(UnavailableError, match="'stopping' is shutting down"):
        worker.put(None, results.append, 2)
    assert rejected() == before + 1


def test_a_started_worker_shuts_down_once_on_its_own_thread() -> None:
    worker = Doubler("started")
    worker.start()
    worker.stop()
    assert worker.shut == 1 and not worker._thread.is_alive()
