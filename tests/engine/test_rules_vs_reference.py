"""The served decoding options (one engine loop) against the reference rules and sampler."""

from __future__ import annotations

import numpy as np
import pytest

from seqserve.export.reference_beam import BeamOptions
from seqserve.export.reference_rules import (
    RuleOptions,
    beam_search_with_rules,
    independent_rows,
)
from seqserve.server.engine.options import ResolvedOptions
from tests.engine.fake_graphs import BOS, EOS, FakeSeq2Seq
from tests.engine.test_beam_vs_reference import random_sources, run_engine

CASES = {
    "prefix beam": dict(beam_size=3, n_best=3, prefix_tokens=((5, 7, 5),)),
    "repetition beam": dict(beam_size=4, n_best=2, repetition_penalty=2.5),
    "ngram 1 beam": dict(beam_size=3, n_best=3, no_repeat_ngram_size=1),
    "ngram 2 greedy": dict(beam_size=1, n_best=1, no_repeat_ngram_size=2),
    "suppress beam": dict(beam_size=2, n_best=2, suppress_tokens=((6,), (4, 9), (8, 8))),
    "everything beam": dict(beam_size=4, n_best=3, prefix_tokens=((9,),), min_length=3,
                            repetition_penalty=1.7, no_repeat_ngram_size=2,
                            suppress_tokens=((5, 6),)),
    "sampling": dict(beam_size=1, n_best=3, sampling_topk=0, seed=7),
    "sampling topk topp": dict(beam_size=1, n_best=4, sampling_topk=4, sampling_topp=0.8,
                               sampling_temperature=0.7, seed=3),
    "sampling with rules": dict(beam_size=1, n_best=2, sampling_topk=0, seed=1,
                                sampling_temperature=1.5, prefix_tokens=((4, 4),),
                                repetition_penalty=1.4, no_repeat_ngram_size=3),
    "alternatives": dict(beam_size=1, n_best=3, return_alternatives=True),
    "alternatives after prefix": dict(beam_size=1, n_best=4, return_alternatives=True,
                                      prefix_tokens=((8, 5),), no_repeat_ngram_size=1),
}


def reference(model: FakeSeq2Seq, source: list[int], index: int, options: ResolvedOptions):
    init = model.initial_state(source).astype(np.float32).astype(np.float64)
    beam = BeamOptions(
        beam_size=options.beam_size, n_best=min(options.n_best, options.beam_size),
        length_penalty=options.length_penalty, max_length=options.max_length,
        min_length=options.min_length, bos_id=BOS, eos_id=EOS,
    )
    rules = RuleOptions(
        beam=beam, prefix=options.prefix_for(index),
        repetition_penalty=options.repetition_penalty,
        no_repeat_ngram_size=options.no_repeat_ngram_size, suppress=options.suppress_tokens,
        sampling_topk=options.sampling_topk, sampling_topp=options.sampling_topp,
        sampling_temperature=options.sampling_temperature, seed=options.seed or 0,
        sentence_index=index, samples=options.n_best, alternatives=options.return_alternatives,
    )
    step = model.reference_step(source)
    if options.independent_rows:
        return independent_rows(step, init, rules)
    return beam_search_with_rules(step, init, rules)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_engine_rules_match_reference(case: str) -> None:
    model = FakeSeq2Seq(vocab=14, seed=len(case), eos_bias=0.5)
    sources = random_sources(np.random.default_rng(len(case)), 7, model.vocab)
    fields = {"beam_size": 1, "n_best": 1, **CASES[case]}
    options = ResolvedOptions(
        fields.pop("beam_size"), fields.pop("n_best"), 0.8, 12, fields.pop("min_length", 0),
        True, **fields,
    )
    plain = ResolvedOptions(2, 2, 1.0, 9, 0, True)
    # Rule sentences share every step with plain beam sentences joining and leaving.
    jobs = [(sources[:1], options), (sources[1:3], plain), (sources[3:], options)]
    events = run_engine(model, jobs)
    served = [(0, events[0].nbest[0])] + [(i, n) for i, n in enumerate(events[2].nbest)]
    wanted = [(0, sources[0])] + [(i, s) for i, s in enumerate(sources[3:])]
    for (index, got), (_, source) in zip(served, wanted, strict=True):
        want = reference(model, source, index, options)
        assert [h.tokens for h in got] == [h.tokens for h in want], case
        assert [h.log_prob for h in got] == pytest.approx([h.log_prob for h in want], abs=1e-6)
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-6)
        for h in got:
            prefix = options.prefix_for(index)
            assert tuple(h.tokens[: len(prefix)]) == prefix[: len(h.tokens)]


def test_sampling_seed_decides_and_rows_are_independent() -> None:
    model = FakeSeq2Seq(vocab=14, seed=5, eos_bias=-1.0)
    source = random_sources(np.random.default_rng(5), 1, model.vocab)
    base = dict(sampling_topk=0, sampling_temperature=2.0)

    def sampled(seed: int) -> list[tuple[int, ...]]:
        options = ResolvedOptions(1, 4, 1.0, 10, 0, True, seed=seed, **base)
        return sorted(tuple(h.tokens) for h in run_engine(model, [(source, options)])[0].nbest[0])

    first = sampled(1)
    assert sampled(1) == first
    assert len({tuple(sampled(seed)) for seed in (1, 2, 3)}) > 1
    # Four independent rows at T=2 do not all draw the same hypothesis.
    assert len(set(first)) > 1
