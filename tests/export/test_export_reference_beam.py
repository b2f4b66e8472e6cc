"""The reference beam search on hand-made step tables whose answers are worked out by hand.

The step function is an "RNN" whose state is the prefix of output tokens, and
whose next-token distribution is looked up in a table keyed by that prefix.
Tokens missing from a row get probability 1e-12 so they never matter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from seqserve.export.reference_beam import BeamOptions, beam_search

PAD, BOS, EOS, A, B, C = range(6)
V = 6
Row = dict[int, float]


def table_step(table: dict[tuple[int, ...], Row], default: Row):
    def step(prev: Sequence[int], states: Sequence[tuple[int, ...]]):
        rows, new_states = [], []
        for token, prefix in zip(prev, states, strict=True):
            prefix = prefix if token == BOS else (*prefix, token)
            row = np.full(V, math.log(1e-12))
            for w, p in table.get(prefix, default).items():
                row[w] = math.log(p)
            rows.append(row)
            new_states.append(prefix)
        return np.stack(rows), new_states

    return step


def decode(table, default=None, **options):
    default = default or {EOS: 0.99}
    return beam_search(table_step(table, default), (), BeamOptions(**options))


def test_greedy_follows_the_best_token_and_does_not_append_eos() -> None:
    table = {(): {A: 0.6, B: 0.3, EOS: 0.1}, (A,): {EOS: 0.7, B: 0.3}}
    [hyp] = decode(table, beam_size=1)
    assert hyp.tokens == [A]
    assert hyp.log_prob == pytest.approx(math.log(0.6) + math.log(0.7))
    assert hyp.score == pytest.approx(hyp.log_prob / 2)  # length counts the EOS


def test_beam_finds_what_greedy_misses() -> None:
    table = {
        (): {A: 0.5, B: 0.4, EOS: 0.1},
        (A,): {A: 0.34, B: 0.33, C: 0.33},
        (B,): {EOS: 0.9, A: 0.1},
    }
    [greedy] = decode(table, beam_size=1)
    assert greedy.tokens == [A, A]
    # Step 1 candidates: (B,EOS) .36, (A,A) .17, (A,B) .165 ...: [B] finishes, and
    # the two best non-EOS continuations stay alive; both end at step 2.
    hyps = decode(table, beam_size=2, n_best=2, length_penalty=0.0)
    assert [h.tokens for h in hyps] == [[B], [A, A]]
    assert hyps[0].log_prob == pytest.approx(math.log(0.4 * 0.9))
    assert hyps[1].log_prob == pytest.approx(math.log(0.5 * 0.34 * 0.99))
    assert hyps[0].score == hyps[0].log_prob  # length_penalty 0: no normalisation


def test_keeps_searching_while_an_alive_hypothesis_can_still_win() -> None:
    # Step 0 finishes [] (p .05); step 1 finishes [B] (.045): b=2 finished, but the
    # alive [A,C] (.81) beats both, so decoding goes on and [A,C] ends first.
    table = {(): {A: 0.9, B: 0.05, EOS: 0.05}, (A,): {C: 0.9, EOS: 0.01}, (B,): {EOS: 0.9}}
    hyps = decode(table, beam_size=2, n_best=2, length_penalty=0.0)
    assert [h.tokens for h in hyps] == [[A, C], []]
    assert hyps[0].log_prob == pytest.approx(math.log(0.9 * 0.9 * 0.99))


def test_only_eos_among_the_first_beam_candidates_finishes() -> None:
    # A and B tie at step 0 (A first: lower rank); at step 1 each row is EOS .5 / C .5.
    # Sorted: (0,EOS) (0,C) (1,EOS) (1,C) all equal: only hypothesis 0's EOS is within
    # the first 2, so [B] never finishes; [A,C] and [B,C] tie and keep finishing order.
    table = {(): {A: 0.4, B: 0.4, EOS: 0.2}, (A,): {EOS: 0.5, C: 0.5}, (B,): {EOS: 0.5, C: 0.5}}
    hyps = decode(table, beam_size=2, n_best=2, length_penalty=0.0)
    assert [h.tokens for h in hyps] == [[A], [A, C]]
    [greedy] = decode(table, beam_size=1)
    assert greedy.tokens == [A]


def test_min_length_forbids_eos_until_enough_tokens() -> None:
    row = {EOS: 0.9, A: 0.1}
    [free] = decode({}, default=row, beam_size=1)
    assert free.tokens == []
    assert free.score == pytest.approx(math.log(0.9))
    [forced] = decode({}, default=row, beam_size=1, min_length=2)
    assert forced.tokens == [A, A]
    assert forced.log_prob == pytest.approx(2 * math.log(0.1) + math.log(0.9))
    # With beam 2 the forbidden EOS takes no slot among the candidates either.
    hyps = decode({}, default=row, beam_size=2, n_best=2, min_length=1)
    assert all(len(h.tokens) >= 1 for h in hyps)


def test_max_length_finishes_alive_hypotheses_normalised_without_eos() -> None:
    row = {A: 0.6, B: 0.3, EOS: 0.1}
    [greedy] = decode({}, default=row, beam_size=1, max_length=3)
    assert greedy.tokens == [A, A, A]
    assert greedy.score == pytest.approx(3 * math.log(0.6) / 3)
    # Step 1 candidates: (0,A) .36, then (0,B) and (1,A) tie at .18: hypothesis 0 first.
    hyps = decode({}, default=row, beam_size=2, n_best=2, max_length=2)
    assert [h.tokens for h in hyps] == [[A, A], [A, B]]
    assert hyps[0].score == pytest.approx(math.log(0.36) / 2)
    assert hyps[1].score == pytest.approx(math.log(0.18) / 2)


def test_length_penalty_changes_the_winner() -> None:
    # Finished: [A] with p=.425 (length 2), [B,B] with p=.3645 (length 3), [A,A] p=.045.
    table = {
        (): {A: 0.5, B: 0.45, EOS: 0.05},
        (A,): {EOS: 0.85, A: 0.1},
        (B,): {B: 0.9, EOS: 0.1},
        (B, B): {EOS: 0.9},
        (A, A): {EOS: 0.9},
    }
    raw = decode(table, beam_size=2, n_best=2, length_penalty=0.0)
    assert [h.tokens for h in raw] == [[A], [B, B]]
    normalised = decode(table, beam_size=2, n_best=2, length_penalty=1.0)
    assert [h.tokens for h in normalised] == [[B, B], [A]]
    assert normalised[0].score == pytest.approx(math.log(0.45 * 0.9 * 0.9) / 3)
    assert normalised[1].score == pytest.approx(math.log(0.5 * 0.85) / 2)
    strong = decode(table, beam_size=2, n_best=1, length_penalty=2.0)
    assert strong[0].score == pytest.approx(math.log(0.45 * 0.9 * 0.9) / 9)


def test_n_best_is_sorted_by_score_and_truncated() -> None:
    table = {
        (): {A: 0.5, B: 0.4, EOS: 0.1},
        (A,): {A: 0.34, B: 0.33, C: 0.33},
        (B,): {EOS: 0.9, A: 0.1},
    }
    three = decode(table, beam_size=3, n_best=3, length_penalty=1.0)
    scores = [h.score for h in three]
    assert scores == sorted(scores, reverse=True)
    one = decode(table, beam_size=3, n_best=1, length_penalty=1.0)
    assert one == three[:1]


def test_step_receives_bos_first_and_each_hypothesis_in_order() -> None:
    seen: list[list[int]] = []
    inner = table_step({}, {A: 0.5, B: 0.4, EOS: 0.1})

    def step(prev, states):
        seen.append(list(prev))
        return inner(prev, states)

    beam_search(step, (), BeamOptions(beam_size=2, max_length=2))
    assert seen == [[BOS], [A, B]]


def test_options_are_checked() -> None:
    with pytest.raises(ValueError):
        BeamOptions(beam_size=2, n_best=3)
    with pytest.raises(ValueError):
        BeamOptions(max_length=2, min_length=3)
