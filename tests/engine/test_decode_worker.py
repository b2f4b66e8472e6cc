"""The decode scheduler as an EngineWorker: a failing encoder pass fails only its own job
(even a job admitted alone; sentences already decoding go on) and the loop keeps serving;
stop fails what is queued."""

from __future__ import annotations

import threading
import time

from seqserve.server.engine.job import DecodeJob, DoneEvent, ErrorEvent, Event
from seqserve.server.engine.options import ResolvedOptions
from seqserve.server.engine.scheduler import DecodeScheduler
from seqserve.server.errors import UnavailableError
from seqserve.server.repository.config import BatchingConfig
from tests.engine.fake_graphs import BOS, EOS, FakeSeq2Seq

OPTIONS = ResolvedOptions(2, 1, 1.0, 5, 0, True)
BAD = 9


class BrokenEncoder(FakeSeq2Seq):
    def encode(self, sources):  # type: ignore[no-untyped-def]
        if any(BAD in source for source in sources):
            raise ValueError("encoder exploded")
        return super().encode(sources)


class Events:
    def __init__(self) -> None:
        self.got: list[Event] = []
        self.last = threading.Event()

    def __call__(self, event: Event) -> None:
        self.got.append(event)
        if not isinstance(event, DoneEvent | ErrorEvent):
            return
        self.last.set()


def _scheduler() -> DecodeScheduler:
    model = BrokenEncoder()
    return DecodeScheduler("fake-broken", model, BatchingConfig(), bos_id=BOS, eos_id=EOS,
                           vocab_size=model.vocab)


def test_a_lone_job_whose_encoder_fails_gets_the_error_and_the_loop_keeps_serving() -> None:
    scheduler = _scheduler()
    scheduler.start()
    try:
        bad, good = Events(), Events()
        scheduler.submit(DecodeJob([[BAD, EOS]], OPTIONS, bad))
        assert bad.last.wait(10)
        assert isinstance(bad.got[-1], ErrorEvent)
        assert "encoder exploded" in str(bad.got[-1].error)
        scheduler.submit(DecodeJob([[4, EOS]], OPTIONS, good))
        assert good.last.wait(10)
        assert isinstance(good.got[-1], DoneEvent)
        deadline = time.monotonic() + 10
        while not scheduler.idle() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert scheduler.idle()
    finally:
        scheduler.stop()


def test_stop_fails_queued_jobs_as_unloaded() -> None:
    scheduler = _scheduler()  # never started: stop() fails the queue itself
    queued = Events()
    scheduler.submit(DecodeJob([[4, EOS]], OPTIONS, queued))
    scheduler.stop()
    assert isinstance(queued.got[-1], ErrorEvent)
    assert isinstance(queued.got[-1].error, UnavailableError)
    assert "was unloaded" in str(queued.got[-1].error)


def test_a_failing_encoder_pass_leaves_sentences_already_decoding_alone() -> None:
    scheduler = _scheduler()
    scheduler.start()
    try:
        # min_length forces a long decode, so the bad request joins while it is live.
        long_options = ResolvedOptions(2, 1, 1.0, 400, 400, True)
        live, bad = Events(), Events()
        scheduler.submit(DecodeJob([[4, 5, EOS]], long_options, live))
        deadline = time.monotonic() + 10
        while not scheduler.batch.sentences and time.monotonic() < deadline:
            time.sleep(0.001)
        assert scheduler.batch.sentences, "the long request never started decoding"
        scheduler.submit(DecodeJob([[BAD, EOS]], OPTIONS, bad))
        assert bad.last.wait(10) and live.last.wait(30)
        assert isinstance(bad.got[-1], ErrorEvent)
        assert "encoder exploded" in str(bad.got[-1].error)
        assert isinstance(live.got[-1], DoneEvent), live.got[-1]
    finally:
        scheduler.stop()
