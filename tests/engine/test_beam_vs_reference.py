"""The served beam search (scheduler + vectorised selection) against the reference."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from seqserve.export.reference_beam import BeamOptions, beam_search
from seqserve.server.engine.job import DecodeJob, DoneEvent, Event
from seqserve.server.engine.options import ResolvedOptions
from seqserve.server.engine.scheduler import DecodeScheduler
from seqserve.server.repository.config import BatchingConfig
from tests.engine.fake_graphs import BOS, EOS, FakeSeq2Seq


def run_engine(model: FakeSeq2Seq, jobs: list[tuple[list[list[int]], ResolvedOptions]],
               policy: str = "continuous") -> list[DoneEvent]:
    scheduler = DecodeScheduler(
        "fake", model, BatchingConfig(policy=policy, max_live_sentences=64, max_rows=512),
        bos_id=BOS, eos_id=EOS, vocab_size=model.vocab,
    )
    scheduler.start()
    results: list[Event | None] = [None] * len(jobs)
    done = threading.Semaphore(0)

    def sink_for(i: int):
        def sink(event: Event) -> None:
            results[i] = event
            done.release()
        return sink

    for i, (sources, options) in enumerate(jobs):
        scheduler.submit(DecodeJob(sources, options, sink_for(i)))
    for _ in jobs:
        assert done.acquire(timeout=30)
    scheduler.stop()
    assert all(isinstance(r, DoneEvent) for r in results), results
    return results  # type: ignore[return-value]


def reference(model: FakeSeq2Seq, source: list[int], options: ResolvedOptions):
    init = model.initial_state(source).astype(np.float32).astype(np.float64)
    return beam_search(model.reference_step(source), init, BeamOptions(
        beam_size=options.beam_size, n_best=options.n_best,
        length_penalty=options.length_penalty, max_length=options.max_length,
        min_length=options.min_length, bos_id=BOS, eos_id=EOS,
    ))


def random_sources(rng: np.random.Generator, count: int, vocab: int) -> list[list[int]]:
    return [[*rng.integers(4, vocab, rng.integers(1, 9)).tolist(), EOS] for _ in range(count)]


@pytest.mark.parametrize(
    ("beam", "n_best", "penalty", "min_len", "max_len", "eos_bias"),
    [
        (1, 1, 1.0, 0, 12, 1.0),   # greedy
        (4, 4, 1.0, 0, 12, 1.0),
        (3, 2, 0.0, 0, 10, 2.0),   # no length normalisation, early EOS
        (5, 3, 0.6, 4, 15, 3.0),   # min_length blocks a likely EOS
        (4, 2, 1.0, 0, 3, -5.0),   # EOS never wins: max_length ends decoding
    ],
)
def test_engine_matches_reference(beam: int, n_best: int, penalty: float, min_len: int,
                                  max_len: int, eos_bias: float) -> None:
    model = FakeSeq2Seq(vocab=14, seed=beam * 7 + min_len, eos_bias=eos_bias)
    rng = np.random.default_rng(beam)
    sources = random_sources(rng, 12, model.vocab)
    options = ResolvedOptions(beam, n_best, penalty, max_len, min_len, True)
    # Several jobs of different sizes so sentences join and leave mid-decode.
    jobs = [(sources[:1], options), (sources[1:5], options), (sources[5:], options)]
    events = run_engine(model, jobs)
    served = [nbest for event in events for nbest in event.nbest]
    for source, got in zip(sources, served, strict=True):
        want = reference(model, source, options)
        assert [h.tokens for h in got] == [h.tokens for h in want]
        assert [h.log_prob for h in got] == pytest.approx([h.log_prob for h in want], abs=1e-9)
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-9)
        if min_len:
            assert all(len(h.tokens) >= min_len for h in got)
        assert all(len(h.tokens) <= max_len for h in got)


def test_mixed_beam_sizes_in_one_batch_match_reference() -> None:
    model = FakeSeq2Seq(vocab=16, seed=3, eos_bias=1.5)
    rng = np.random.default_rng(11)
    sources = random_sources(rng, 6, model.vocab)
    option_sets = [ResolvedOptions(b, 1, 1.0, 12, 0, True) for b in (1, 2, 5, 3, 4, 1)]
    jobs = [([s], o) for s, o in zip(sources, option_sets, strict=True)]
    events = run_engine(model, jobs)
    for (source, options), event in zip(zip(sources, option_sets, strict=True), events,
                                        strict=True):
        want = reference(model, source, options)
        assert [h.tokens for h in event.nbest[0]] == [h.tokens for h in want]


@pytest.mark.parametrize("policy", ["static", "sequential"])
def test_policies_give_the_same_outputs(policy: str) -> None:
    model = FakeSeq2Seq(vocab=14, seed=5, eos_bias=1.0)
    rng = np.random.default_rng(2)
    sources = random_sources(rng, 8, model.vocab)
    options = ResolvedOptions(4, 2, 1.0, 12, 0, True)
    jobs = [([s], options) for s in sources]
    continuous = run_engine(model, jobs)
    other = run_engine(model, jobs, policy=policy)
    assert [e.nbest for e in continuous] == [e.nbest for e in other]
