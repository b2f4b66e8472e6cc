"""A per-sentence reference beam search, written for clarity, not speed.

The served engine implements the same semantics vectorised over many sentences
and over the graph's TopK candidates. This module is the independent second
implementation that export verification compares it against, so it is plain
Python loops over the full vocabulary: nothing here should look like the
engine's code, or a shared mistake would go unnoticed.

The step callable hides the model: it receives the previous token and the state
of each alive hypothesis (in order) and returns one row of log probabilities per
hypothesis plus each hypothesis' new state. The state is opaque here, so the
same search runs on a PyTorch module (export/torch_step.py) or on hand-made
numpy tables in unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

StepFn = Callable[[Sequence[int], Sequence[Any]], tuple[np.ndarray, list[Any]]]
"""(prev_tokens of n alive hypotheses, their states) -> (logprobs [n, V], new states)."""


@dataclass(frozen=True)
class BeamOptions:
    """The decoding options the reference honours (same meaning as the engine's)."""

    beam_size: int = 4
    n_best: int = 1
    length_penalty: float = 1.0
    max_length: int = 128
    """Most output tokens, EOS excluded."""
    min_length: int = 0
    """EOS is excluded while fewer output tokens than this exist."""
    bos_id: int = 1
    eos_id: int = 2

    def __post_init__(self) -> None:
        if self.beam_size < 1 or not 1 <= self.n_best <= self.beam_size:
            raise ValueError(f"need 1 <= n_best <= beam_size, got {self.n_best}, {self.beam_size}")
        if self.max_length < 1 or not 0 <= self.min_length <= self.max_length:
            raise ValueError(f"need 0 <= min_length <= max_length >= 1, got {self}")


@dataclass(frozen=True)
class RefHypothesis:
    tokens: list[int]
    """Output token ids, EOS excluded."""
    score: float
    """Ranking score: log_prob / length**length_penalty."""
    log_prob: float
    """Sum of the token log probabilities (EOS included when the hypothesis ended on it)."""


@dataclass
class _Alive:
    tokens: list[int]
    log_prob: float
    state: Any


@dataclass(frozen=True)
class _Candidate:
    score: float
    parent: int
    token: int


def _normalise(log_prob: float, length: int, length_penalty: float) -> float:
    # length_penalty 0 means "no normalisation"; x ** 0 == 1 gives exactly that.
    return log_prob / (length**length_penalty)


def _row_candidates(
    parent: int, cum: float, logprobs: np.ndarray, allow_eos: bool, eos_id: int
) -> list[_Candidate]:
    """One hypothesis' candidates, ordered by its own descending log prob.

    Python's sort is stable, so equal log probs keep ascending token order; the
    cross-row sort below is stable too, which yields the documented tie-break
    (hypothesis index, then rank within the hypothesis' row).
    """
    order = sorted(range(len(logprobs)), key=lambda w: -float(logprobs[w]))
    out = []
    for w in order:
        if w == eos_id and not allow_eos:
            continue  # EOS is forbidden before min_length: it takes no slot at all
        out.append(_Candidate(cum + float(logprobs[w]), parent, w))
    return out


def beam_search(step: StepFn, init_state: Any, options: BeamOptions) -> list[RefHypothesis]:
    """Decode one sentence; returns up to n_best hypotheses, best first.

    Each step, every alive hypothesis i (in order) and token w give a candidate
    scored cum_i + logp_i[w] (EOS excluded before min_length). Candidates are
    stable-sorted by score, listed row by row in each row's descending order.
    EOS candidates among the first b finish (EOS not appended; ranking score
    log_prob / (len + 1) ** length_penalty); the first b non-EOS candidates are
    the next alive hypotheses. After the step: at max_length every alive one
    finishes (ranking score log_prob / len ** length_penalty) and decoding
    stops; otherwise it stops once b have finished and the best alive one,
    scored at its current length, cannot beat the b-th best finished one.
    """
    b = options.beam_size
    alive = [_Alive([], 0.0, init_state)]
    # Kept in finishing order: the final stable sort then breaks score ties by it.
    finished: list[RefHypothesis] = []
    t = 0
    while alive:
        prev = [h.tokens[-1] if h.tokens else options.bos_id for h in alive]
        logprobs, new_states = step(prev, [h.state for h in alive])
        if len(logprobs) != len(alive) or len(new_states) != len(alive):
            raise ValueError("step must return one row and one state per alive hypothesis")

        candidates: list[_Candidate] = []
        for i, hyp in enumerate(alive):
            allow_eos = t >= options.min_length
            candidates += _row_candidates(i, hyp.log_prob, logprobs[i], allow_eos, options.eos_id)
        candidates.sort(key=lambda cand: -cand.score)

        for cand in candidates[:b]:
            if cand.token == options.eos_id:
                parent = alive[cand.parent]
                score = _normalise(cand.score, len(parent.tokens) + 1, options.length_penalty)
                finished.append(RefHypothesis(list(parent.tokens), score, cand.score))

        next_alive: list[_Alive] = []
        for cand in candidates:
            if len(next_alive) == b:
                break
            if cand.token == options.eos_id:
                continue
            parent = alive[cand.parent]
            next_alive.append(
                _Alive([*parent.tokens, cand.token], cand.score, new_states[cand.parent])
            )
        alive = next_alive
        t += 1

        if t == options.max_length:
            for hyp in alive:
                score = _normalise(hyp.log_prob, len(hyp.tokens), options.length_penalty)
                finished.append(RefHypothesis(hyp.tokens, score, hyp.log_prob))
            break
        if len(finished) >= b:
            # Stop only when the best alive hypothesis, scored at its current
            # length, cannot beat the b-th best finished one.
            kth_best = sorted((h.score for h in finished), reverse=True)[b - 1]
            best_alive = max(alive, key=lambda h: h.log_prob)
            if not _normalise(best_alive.log_prob, t, options.length_penalty) > kth_best:
                break

    # sorted() is stable: equal scores keep the order in which they finished.
    ranked = sorted(finished, key=lambda h: -h.score)
    return ranked[: options.n_best]
