"""Admission predicts a request's latency at the batching it will see (measured
iteration cost x its steps, plus the wait for room) and refuses at once what would
miss its deadline; the decode loop stops growing the batch where one more row would
make a live sentence miss. Deterministic: fake clock, costs fed by hand."""

from __future__ import annotations

import math
import time

import pytest

from seqserve.server.engine.admission import (
    GROWTH_MARGIN,
    MARGIN,
    SLACK_SECONDS,
    BatchState,
    LatencyAdmission,
    Newcomer,
)
from seqserve.server.engine.decode_cost import StepCost, TypicalSteps
from seqserve.server.engine.job import DecodeJob
from seqserve.server.engine.options import ResolvedOptions
from seqserve.server.engine.scheduler import DecodeScheduler
from seqserve.server.errors import DeadlineExceededError
from seqserve.server.repository.config import BatchingConfig
from tests.engine.fake_graphs import BOS, EOS, FakeSeq2Seq

FIXED, PER_ROW = 0.002, 0.00001  # an iteration: 2 ms + 10 us a row


def _cost(rows: int) -> float:
    return FIXED + PER_ROW * rows


def _measured(clock: list[float], steps: int = 100) -> LatencyAdmission:
    admission = LatencyAdmission(clock=lambda: clock[0])
    for rows in (10, 100, 400, 800) * 10:
        admission.cost.record(rows, _cost(rows))
    for _ in range(5):
        admission.steps.record(steps)
    return admission


def _state(live: int = 0, queued: int = 0, beam: int = 4, **kw) -> BatchState:
    return BatchState(live_sentences=live, live_rows=live * beam, queued_sentences=queued,
                      queued_rows=queued * beam, max_sentences=kw.get("max_sentences", 128),
                      max_rows=kw.get("max_rows", 1024), tolerance=kw.get("tolerance", math.inf))


def _newcomer(deadline: float | None, *, n: int = 1, beam: int = 4,
              min_length: int = 0, max_length: int = 1000) -> Newcomer:
    return Newcomer(sentences=n, rows_per_sentence=beam, min_length=min_length,
                    max_length=max_length, deadline=deadline)


def test_step_cost_fits_fixed_and_per_row_cost() -> None:
    cost = StepCost()
    assert cost.seconds(100) is None  # nothing measured yet
    for rows in (8, 64, 256, 512) * 20:
        cost.record(rows, _cost(rows))
    assert cost.seconds(1000) == pytest.approx(_cost(1000), rel=1e-6)
    assert cost.seconds(0) == pytest.approx(FIXED, rel=1e-6)


def test_step_cost_at_one_batch_size_scales_up_never_down() -> None:
    cost = StepCost()
    for _ in range(20):
        cost.record(100, 0.005)
    assert cost.seconds(100) == pytest.approx(0.005)
    assert cost.seconds(400) == pytest.approx(0.020)
    assert cost.seconds(10) == pytest.approx(0.005)


def test_typical_steps_within_the_request_bounds() -> None:
    steps = TypicalSteps()
    assert steps.expected(0, 50) is None
    for n in (10, 20, 30):
        steps.record(n)
    assert steps.value == pytest.approx(20)
    assert steps.expected(0, 50) == pytest.approx(20)
    assert steps.expected(40, 50) == 40  # forced longer
    assert steps.expected(0, 5) == 5  # capped shorter


def test_empty_batch_latency_is_own_steps_at_the_grown_batch() -> None:
    clock = [0.0]
    admission = _measured(clock)
    predicted = admission.predict(_state(), _newcomer(None))
    assert predicted == pytest.approx(_cost(1) + 100 * _cost(4))


def test_latency_counts_everything_queued_in_the_batch_it_will_join() -> None:
    clock = [0.0]
    admission = _measured(clock)
    predicted = admission.predict(_state(live=50, queued=20), _newcomer(None))
    assert predicted == pytest.approx(_cost(200) + 100 * _cost(284))


def test_full_batch_waits_for_slots_then_decodes_at_the_full_batch() -> None:
    clock = [0.0]
    admission = _measured(clock)
    state = _state(live=128, queued=30)
    predicted = admission.predict(state, _newcomer(None))
    slot_every = 100 * _cost(512) / 128  # a full batch of 128 frees a slot this often
    assert predicted == pytest.approx(31 * slot_every + 100 * _cost(512))


def test_a_batch_held_back_by_its_tolerance_counts_as_full() -> None:
    clock = [0.0]
    admission = _measured(clock)
    state = _state(live=40, queued=5, tolerance=_cost(160))  # one more row is too slow
    predicted = admission.predict(state, _newcomer(None))
    slot_every = 100 * _cost(160) / 40
    assert predicted == pytest.approx(6 * slot_every + 100 * _cost(160))


def test_check_refuses_what_would_finish_after_the_deadline_and_admits_the_rest() -> None:
    clock = [10.0]
    admission = _measured(clock)
    state = _state(live=128, queued=30)
    predicted = admission.predict(state, _newcomer(None))
    assert predicted is not None
    enough = 10.0 + predicted * MARGIN + SLACK_SECONDS + 0.01
    admission.check(state, _newcomer(enough), "m")
    with pytest.raises(DeadlineExceededError, match="cannot be met"):
        admission.check(state, _newcomer(enough - 0.02), "m")
    clock[0] += 0.02  # the same request later has less left
    with pytest.raises(DeadlineExceededError):
        admission.check(state, _newcomer(enough), "m")
    admission.check(state, _newcomer(None), "m")  # no deadline: admitted


def test_nothing_measured_admits_everything() -> None:
    clock = [0.0]
    admission = LatencyAdmission(clock=lambda: clock[0])
    admission.check(_state(live=128, queued=900), _newcomer(0.001), "m")


def test_tolerance_is_the_slowest_affordable_iteration() -> None:
    clock = [0.0]
    admission = _measured(clock)
    tolerance = admission.tolerance(2.0, 20, 0, 1000, now=1.0)  # 1 s left, 80 steps left
    assert tolerance == pytest.approx((1.0 - SLACK_SECONDS) / GROWTH_MARGIN / 80)
    assert admission.tolerance(None, 0, 0, 1000, now=0.0) == math.inf


OPTIONS = ResolvedOptions(4, 1, 1.0, 100, 100, True)  # beam 4, exactly 100 steps


def _scheduler() -> DecodeScheduler:
    model = FakeSeq2Seq()
    scheduler = DecodeScheduler("fake-admission", model, BatchingConfig(), bos_id=BOS,
                                eos_id=EOS, vocab_size=model.vocab)
    clock = [0.0]
    measured = _measured(clock)
    scheduler.admission.cost, scheduler.admission.steps = measured.cost, measured.steps
    return scheduler


def test_submit_refuses_at_once_a_request_the_queue_makes_late() -> None:
    scheduler = _scheduler()
    now = time.monotonic()
    # 100 steps at ~2 ms: about 0.2 s alone; 0.1 s left cannot be met.
    with pytest.raises(DeadlineExceededError, match="cannot be met"):
        scheduler.submit(DecodeJob([[4, EOS]], OPTIONS, deadline=now + 0.1))
    scheduler.submit(DecodeJob([[4, EOS]], OPTIONS, deadline=now + 5.0))
    assert scheduler._queued_sentences == 1 and scheduler._queued_rows == 4


def test_the_loop_holds_a_job_whose_rows_would_make_a_live_sentence_late() -> None:
    scheduler = _scheduler()
    first = DecodeJob([[4, EOS]], OPTIONS)
    scheduler.submit(first)
    with scheduler._cond:
        admitted = scheduler.schedule()
    assert admitted == [first]
    scheduler.execute(admitted)  # joins the batch: 4 rows live
    second = DecodeJob([[5, EOS]], OPTIONS)
    scheduler.submit(second)
    scheduler._tolerance = _cost(4) * 1.0001  # the live sentence affords no more rows
    with scheduler._cond:
        assert scheduler.schedule() == []
    assert scheduler._queued_sentences == 1  # held, not dropped
    scheduler._tolerance = _cost(8) * 1.0001
    with scheduler._cond:
        assert scheduler.schedule() == [second]
    assert scheduler._queued_rows == 0


def test_a_doomed_live_sentence_does_not_hold_the_queue() -> None:
    scheduler = _scheduler()
    doomed, healthy = DecodeJob([[4, EOS]], OPTIONS), DecodeJob([[5, EOS]], OPTIONS)
    scheduler.submit(doomed)
    scheduler.submit(healthy)
    with scheduler._cond:
        admitted = scheduler.schedule()
    scheduler.execute(admitted)
    now = time.monotonic()
    doomed.deadline = now + 0.01  # 100 steps left: cannot make it at any batch size
    healthy.deadline = now + 10.0
    scheduler._record_iteration(rows=8)
    expected = scheduler.admission.tolerance(healthy.deadline, 0, 100, 100, time.monotonic())
    assert scheduler._tolerance == pytest.approx(expected, rel=1e-3)
    healthy.deadline = None
    scheduler._record_iteration(rows=8)
    assert scheduler._tolerance == math.inf  # only the doomed one has a deadline
