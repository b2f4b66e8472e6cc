"""DynamicBatcher with a fake batch function: grouping, limits, isolation, deadlines."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from seqserve.server.engine.dynamic_batcher import DynamicBatcher
from seqserve.server.errors import DeadlineExceededError, ResourceExhaustedError


class Recorder:
    def __init__(self, fail_on: str | None = None, delay: float = 0.0) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.delay = delay

    def __call__(self, payloads: list[str]) -> list[str]:
        self.batches.append(list(payloads))
        time.sleep(self.delay)
        if self.fail_on in payloads:
            raise ValueError(f"bad payload {self.fail_on}")
        return [p.upper() for p in payloads]


class Outcome:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None

    def __call__(self, value: Any) -> None:
        self.value = value
        self.done.set()

    def get(self) -> Any:
        assert self.done.wait(5)
        return self.value


def _batcher(run: Recorder, **kwargs: Any) -> DynamicBatcher:
    settings = {"max_batch_size": 4, "max_queue_delay_s": 0.2, "max_queue": 100, **kwargs}
    batcher = DynamicBatcher("fake", run, **settings)
    # As if under load, so the queue delay applies from the first request on
    # (a batcher with no sign of load runs a lone request at once).
    batcher._last_batch_requests = 2
    batcher.start()
    return batcher


def test_a_lone_request_without_load_does_not_wait_out_the_delay() -> None:
    run = Recorder()
    batcher = DynamicBatcher("fake", run, max_batch_size=64, max_queue_delay_s=5.0,
                             max_queue=100)
    batcher.start()
    for _ in range(3):
        outcome = Outcome()
        started = time.monotonic()
        batcher.submit(["x"], [1], outcome)
        assert outcome.get() == ["X"]
        assert time.monotonic() - started < 1.0
    batcher.stop()


def test_requests_share_a_batch_and_get_their_own_results() -> None:
    run = Recorder()
    batcher = _batcher(run)
    a, b = Outcome(), Outcome()
    batcher.submit(["a1", "a2"], [2, 2], a)
    batcher.submit(["b1"], [2], b)
    assert a.get() == ["A1", "A2"]
    assert b.get() == ["B1"]
    assert run.batches == [["a1", "a2", "b1"]]
    batcher.stop()


def test_full_batch_runs_without_waiting_and_respects_max_batch_size() -> None:
    run = Recorder()
    batcher = _batcher(run, max_queue_delay_s=5.0)
    outcome = Outcome()
    started = time.monotonic()
    batcher.submit([f"x{i}" for i in range(4)], [1] * 4, outcome)
    assert len(outcome.get()) == 4
    assert time.monotonic() - started < 2.0  # a full batch never waits out the delay
    batcher.stop()
    run = Recorder()
    batcher = _batcher(run, max_queue_delay_s=0.05)
    outcome = Outcome()
    batcher.submit([f"x{i}" for i in range(6)], [1] * 6, outcome)
    assert len(outcome.get()) == 6
    assert [len(b) for b in run.batches] == [4, 2]
    batcher.stop()


def test_items_are_grouped_by_length_around_the_oldest() -> None:
    run = Recorder()
    batcher = _batcher(run, max_batch_size=2, max_queue_delay_s=0.3)
    outcomes = [Outcome() for _ in range(4)]
    for name, length, outcome in zip(["s1", "L1", "s2", "L2"], [1, 50, 2, 49], outcomes,
                                     strict=True):
        batcher.submit([name], [length], outcome)
    for outcome in outcomes:
        outcome.get()
    assert sorted(map(sorted, run.batches)) == [["L1", "L2"], ["s1", "s2"]]
    batcher.stop()


def test_a_failing_request_does_not_fail_its_batch_mates() -> None:
    run = Recorder(fail_on="bad")
    batcher = _batcher(run)
    good, bad = Outcome(), Outcome()
    batcher.submit(["ok1", "ok2"], [1, 1], good)
    batcher.submit(["bad"], [1], bad)
    assert good.get() == ["OK1", "OK2"]
    assert isinstance(bad.get(), ValueError)
    batcher.stop()


def test_full_queue_is_refused_at_once() -> None:
    batcher = _batcher(Recorder(), max_queue=3, max_queue_delay_s=1.0, max_batch_size=64)
    batcher.submit(["a", "b"], [1, 1], Outcome())
    with pytest.raises(ResourceExhaustedError, match="max_queue=3"):
        batcher.submit(["c", "d"], [1, 1], Outcome())
    batcher.stop()


def test_expired_and_cancelled_requests_never_run() -> None:
    run = Recorder()
    batcher = _batcher(run, max_queue_delay_s=0.3, max_batch_size=64)
    late, gone, kept = Outcome(), Outcome(), Outcome()
    batcher.submit(["late"], [1], late, deadline=time.monotonic() + 0.05)
    batcher.submit(["gone"], [1], gone).cancel()
    batcher.submit(["kept"], [1], kept)
    assert isinstance(late.get(), DeadlineExceededError)
    assert kept.get() == ["KEPT"]
    assert all("late" not in b and "gone" not in b for b in run.batches)
    batcher.stop()


def test_sequential_policy_runs_one_request_per_call() -> None:
    run = Recorder()
    batcher = _batcher(run, policy="sequential")
    outcomes = [Outcome() for _ in range(3)]
    for i, outcome in enumerate(outcomes):
        batcher.submit([f"r{i}a", f"r{i}b"], [1, 1], outcome)
    for outcome in outcomes:
        outcome.get()
    assert run.batches == [["r0a", "r0b"], ["r1a", "r1b"], ["r2a", "r2b"]]
    batcher.stop()


@pytest.mark.parametrize("policy", ["dynamic", "sequential"])
def test_queue_depth_gauge_returns_to_zero(policy: str) -> None:
    """Every way out of the queue (batch taken, request taken, deadline) updates the
    gauge: a drained queue reads 0, not the depth at its last submit."""
    from seqserve.server.metrics import REGISTRY

    run = Recorder()
    batcher = DynamicBatcher(f"gauge-{policy}", run, max_batch_size=4, max_queue_delay_s=0.05,
                             max_queue=100, policy=policy)  # type: ignore[arg-type]
    batcher.start()
    outcomes = [Outcome() for _ in range(3)]
    for i, outcome in enumerate(outcomes):
        batcher.submit([f"r{i}"], [1], outcome)
    expired = Outcome()
    batcher.submit(["late"], [1], expired, deadline=time.monotonic() - 1)
    for outcome in [*outcomes, expired]:
        outcome.get()
    depth = REGISTRY.get_sample_value("seqserve_queue_depth", {"model": f"gauge-{policy}"})
    batcher.stop()
    assert depth == 0
