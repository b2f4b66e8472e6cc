"""Beam selection for many sentences at once, vectorised over candidates.

The decoder graph returns, per hypothesis row, its top-k (log prob, token)
pairs sorted descending. For a sentence with beam b, the top 2b candidates of
each row are enough: at most one EOS per row means the best 2b candidates over
all rows hold at least b non-EOS ones, and every one of them is within its own
row's top 2b.

Semantics (the PyTorch reference in export/reference_beam.py implements the
same, with plain loops over the full vocabulary):
- candidates are listed row by row, each row in its own descending order, and
  sorted by cumulative log prob with a stable sort (so ties keep that order);
- EOS candidates within the first b become finished hypotheses (EOS is not
  allowed before min_length output tokens);
- the first b non-EOS candidates become the next alive rows, in sorted order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BeamSelection:
    """The outcome of one step for a group of sentences that share beam size b."""

    parents: np.ndarray
    """[S, b] local index (0..b-1) of the row each new alive row extends."""
    tokens: np.ndarray
    """[S, b] token appended to each new alive row."""
    scores: np.ndarray
    """[S, b] cumulative log prob of each new alive row (float64)."""
    finished_sentence: np.ndarray
    """[F] sentence position (0..S-1) of each hypothesis that emitted EOS."""
    finished_parent: np.ndarray
    """[F] local row that emitted EOS."""
    finished_score: np.ndarray
    """[F] cumulative log prob including the EOS."""


def select(
    cumulative: np.ndarray,
    topk_logprobs: np.ndarray,
    topk_ids: np.ndarray,
    *,
    beam: int,
    eos_id: int,
    eos_allowed: np.ndarray,
) -> BeamSelection:
    """One beam step for S sentences.

    cumulative: [S, b] float64 scores of the alive rows (-inf for unused rows,
    as at the first step where only row 0 holds BOS).
    topk_logprobs / topk_ids: [S, b, K] with K >= min(2b, vocab), sorted descending.
    eos_allowed: [S] bool, False while a sentence is shorter than min_length.
    """
    sentences, rows, k = topk_logprobs.shape
    width = min(k, 2 * beam)
    ids = topk_ids[:, :, :width].reshape(sentences, rows * width)
    # The sum is float64, as cumulative is: scores add up over up to a hundred
    # steps, and float32 rounding would reorder near-ties.
    flat_scores = (cumulative[:, :, None] + topk_logprobs[:, :, :width]).reshape(
        sentences, rows * width)
    is_eos = ids == eos_id
    if not eos_allowed.all():
        flat_scores[is_eos & ~eos_allowed[:, None]] = -np.inf

    keep = min(2 * beam, rows * width)
    order = np.argsort(-flat_scores, axis=1, kind="stable")[:, :keep]
    # Plain [line, column] indexing: take_along_axis built the same index more slowly
    # (this runs every step for the whole batch).
    lines = np.arange(sentences)[:, None]
    scores = flat_scores[lines, order]
    tokens = ids[lines, order]
    eos_sorted = is_eos[lines, order]
    parents = order // width

    alive = ~eos_sorted
    rank = np.cumsum(alive, axis=1)
    if not (rank[:, -1] >= beam).all():
        raise RuntimeError("fewer than beam_size non-EOS candidates: vocabulary too small")
    columns = np.nonzero(alive & (rank <= beam))[1].reshape(sentences, beam)
    finished = eos_sorted[:, :beam] & np.isfinite(scores[:, :beam])
    fin_s, fin_col = np.nonzero(finished)
    return BeamSelection(
        parents=parents[lines, columns],
        tokens=tokens[lines, columns],
        scores=scores[lines, columns],
        finished_sentence=fin_s,
        finished_parent=parents[fin_s, fin_col],
        finished_score=scores[fin_s, fin_col],
    )


def ranking_score(log_prob: float, length: int, length_penalty: float) -> float:
    """Length-normalised score; length counts the EOS when there is one."""
    if length_penalty == 0.0:
        return float(log_prob)
    return float(log_prob) / (max(length, 1) ** length_penalty)
