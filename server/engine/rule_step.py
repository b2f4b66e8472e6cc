"""One decode step for a sentence whose options need the whole distribution.

Beam sentences with rules (prefix, penalties, bans) re-rank their processed
rows and go through the same beam_search.select as every other sentence;
independent-row sentences (sampling, return_alternatives) pick one token per
row: argmax or a draw from the sentence's generator, and branch into n rows
once, at the first position after the prefix, for return_alternatives.
"""

from __future__ import annotations

import numpy as np

from seqserve.server.engine import beam_search
from seqserve.server.engine.decode_rules import apply_rules, dense_rows, sample
from seqserve.server.engine.live_sentence import LiveSentence

StepPick = tuple[np.ndarray, np.ndarray, np.ndarray]
"""[b] local parents, [b] tokens, [b] cumulative scores of the next alive rows."""


def step_with_rules(
    sentence: LiveSentence,
    cumulative: np.ndarray,
    topk_logprobs: np.ndarray,
    topk_ids: np.ndarray,
    *,
    vocab: int,
    eos_id: int,
) -> StepPick:
    """cumulative: [b]; topk_*: [b, V] (the graph ran with k = V)."""
    options = sentence.job.options
    dense = dense_rows(topk_logprobs, topk_ids, vocab)
    processed = np.full_like(dense, -np.inf)
    for row in range(sentence.beam):
        if np.isfinite(cumulative[row]):
            processed[row] = apply_rules(
                dense[row], sentence.history(row), sentence.prefix, options, eos_id=eos_id
            )
    if options.independent_rows:
        return _independent(sentence, cumulative, processed, eos_id)
    return _beam(sentence, cumulative, processed, eos_id)


def _beam(
    sentence: LiveSentence, cumulative: np.ndarray, processed: np.ndarray, eos_id: int
) -> StepPick:
    width = min(processed.shape[1], 2 * sentence.beam)
    order = np.argsort(-processed, axis=1, kind="stable")[:, :width]
    picked = beam_search.select(
        cumulative[None, :],
        np.take_along_axis(processed, order, axis=1)[None],
        order[None],
        beam=sentence.beam,
        eos_id=eos_id,
        eos_allowed=np.array([sentence.step >= sentence.job.options.min_length]),
    )
    for parent, score in zip(picked.finished_parent, picked.finished_score, strict=True):
        sentence.add_finished(int(parent), float(score))
    return picked.parents[0], picked.tokens[0], picked.scores[0]


def _independent(
    sentence: LiveSentence, cumulative: np.ndarray, processed: np.ndarray, eos_id: int
) -> StepPick:
    options = sentence.job.options
    rows = sentence.beam
    parents = np.arange(rows, dtype=np.int64)
    tokens = np.full(rows, eos_id, np.int64)
    scores = np.full(rows, -np.inf, np.float64)
    if options.return_alternatives and sentence.step == len(sentence.prefix):
        # Branch: the n likeliest tokens of the single live row, one per row.
        order = np.argsort(-processed[0], kind="stable")[:rows]
        parents[:] = 0
        for row, token in enumerate(order):
            score = float(cumulative[0] + processed[0, token])
            if not np.isfinite(score):
                break
            if token == eos_id:
                sentence.add_finished(0, score)
            else:
                tokens[row], scores[row] = token, score
        return parents, tokens, scores
    for row in range(rows):
        if not np.isfinite(cumulative[row]) or not np.isfinite(processed[row]).any():
            continue  # an ended row stays a padding row until the sentence leaves
        if options.sampling:
            assert sentence.rng is not None
            token = sample(processed[row], options, sentence.rng)
        else:
            token = int(np.argmax(processed[row]))
        score = float(cumulative[row] + processed[row, token])
        if token == eos_id:
            sentence.add_finished(row, score)
        else:
            tokens[row], scores[row] = token, score
    return parents, tokens, scores
