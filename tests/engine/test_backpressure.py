"""Bounded queue: a full queue refuses at once; cancelled and expired jobs leave it."""

from __future__ import annotations

import time

import pytest

from seqserve.server.engine.job import DecodeJob, DoneEvent, ErrorEvent, Event
from seqserve.server.engine.options import ResolvedOptions
from seqserve.server.engine.scheduler import DecodeScheduler
from seqserve.server.errors import (
    CancelledError,
    DeadlineExceededError,
    ResourceExhaustedError,
)
from seqserve.server.repository.config import BatchingConfig
from tests.engine.fake_graphs import BOS, EOS, FakeSeq2Seq

OPTIONS = ResolvedOptions(2, 1, 1.0, 5, 0, True)


def make_scheduler(**batching: object) -> DecodeScheduler:
    model = FakeSeq2Seq()
    return DecodeScheduler("fake", model, BatchingConfig(**batching), bos_id=BOS, eos_id=EOS,
                           vocab_size=model.vocab)


def test_full_queue_is_resource_exhausted_at_once() -> None:
    scheduler = make_scheduler(max_queue=3)  # not started: nothing drains the queue
    scheduler.submit(DecodeJob([[4, EOS], [5, EOS]], OPTIONS, lambda e: None))
    with pytest.raises(ResourceExhaustedError, match="max_queue"):
        scheduler.submit(DecodeJob([[4, EOS], [5, EOS]], OPTIONS, lambda e: None))
    scheduler.submit(DecodeJob([[6, EOS]], OPTIONS, lambda e: None))  # still fits


def test_cancelled_and_expired_queued_jobs_get_their_errors() -> None:
    scheduler = make_scheduler()
    events_c: list[Event] = []
    events_d: list[Event] = []
    events_ok: list[Event] = []
    cancelled = DecodeJob([[4, EOS]], OPTIONS, events_c.append)
    cancelled.cancel()
    expired = DecodeJob([[4, EOS]], OPTIONS, events_d.append, deadline=time.monotonic() - 1)
    fine = DecodeJob([[4, EOS]], OPTIONS, events_ok.append)
    for job in (cancelled, expired, fine):
        scheduler.submit(job)
    scheduler.start()
    deadline = time.monotonic() + 10
    while not events_ok and time.monotonic() < deadline:
        time.sleep(0.01)
    scheduler.stop()
    assert isinstance(events_c[0], ErrorEvent)
    assert isinstance(events_c[0].error, CancelledError)
    assert isinstance(events_d[0], ErrorEvent)
    assert isinstance(events_d[0].error, DeadlineExceededError)
    assert isinstance(events_ok[-1], DoneEvent)
