"""Per-token rules on one hypothesis row's log probabilities, and sampling.

Used only for sentences whose options need the whole distribution (sampling,
penalties, bans, forced prefixes); other sentences keep the fast path over the
graph's top-k candidates. The PyTorch/numpy reference (export/reference_rules.py)
implements the same rules independently; the order is:

1. a forced step (step < len(prefix)) keeps only the prefix token, with its
   raw log prob, and no other rule applies;
2. repetition_penalty: log p of each token already in the hypothesis x penalty;
3. no_repeat_ngram_size n: a token that would repeat an n-gram gets -inf;
4. suppressed sequences: the last piece after the others (alone: always) -inf;
5. EOS -inf before min_length;
6. renormalise (log-softmax), so scores stay log probabilities.

Sampling (on the result): / temperature, keep the top-k, keep the top-p
nucleus (the likeliest tokens whose probability reaches p; ties in token
order), then one uniform draw from the sentence's own generator picks a token
by inverse CDF over the kept tokens in descending order.
"""

from __future__ import annotations

import numpy as np

from seqserve.server.engine.options import ResolvedOptions


def dense_rows(topk_logprobs: np.ndarray, topk_ids: np.ndarray, vocab: int) -> np.ndarray:
    """[n, V] float64 log probs from the graph's (full-width) top-k output."""
    dense = np.full((topk_ids.shape[0], vocab), -np.inf, np.float64)
    np.put_along_axis(dense, topk_ids, topk_logprobs.astype(np.float64), axis=1)
    return dense


def apply_rules(
    logprobs: np.ndarray,
    history: list[int],
    prefix: tuple[int, ...],
    options: ResolvedOptions,
    *,
    eos_id: int,
) -> np.ndarray:
    """One row's processed log probs [V] (float64); see the module docstring."""
    step = len(history)
    if step < len(prefix):
        forced = np.full_like(logprobs, -np.inf)
        forced[prefix[step]] = logprobs[prefix[step]]
        return forced
    out = logprobs.copy()
    if options.repetition_penalty != 1.0 and history:
        seen = np.unique(np.asarray(history, np.int64))
        out[seen] = out[seen] * options.repetition_penalty
    n = options.no_repeat_ngram_size
    if n > 0 and step >= n - 1:
        tail = history[step - (n - 1):] if n > 1 else []
        for start in range(step - n + 1):
            if history[start : start + n - 1] == tail:
                out[history[start + n - 1]] = -np.inf
    for sequence in options.suppress_tokens:
        head = list(sequence[:-1])
        if not head or (history[step - len(head):] == head and step >= len(head)):
            out[sequence[-1]] = -np.inf
    if step < options.min_length:
        out[eos_id] = -np.inf
    finite = np.isfinite(out)
    if not finite.any():
        return out
    top = out[finite].max()
    return out - (top + np.log(np.exp(out[finite] - top).sum()))


def sample(logprobs: np.ndarray, options: ResolvedOptions, rng: np.random.Generator) -> int:
    """Draw one token from processed log probs [V]; needs at least one finite entry."""
    order = np.argsort(-logprobs, kind="stable")
    keep = int(np.isfinite(logprobs).sum())
    if options.sampling_topk > 0:
        keep = min(keep, options.sampling_topk)
    order = order[:keep]
    scaled = logprobs[order] / options.sampling_temperature
    probs = np.exp(scaled - scaled[0])
    probs /= probs.sum()
    if options.sampling_topp < 1.0:
        cumulative = np.cumsum(probs)
        cut = int(np.searchsorted(cumulative, options.sampling_topp)) + 1
        probs = probs[:cut] / probs[:cut].sum()
        order = order[:cut]
    position = int(np.searchsorted(np.cumsum(probs), rng.random() * 1.0, side="right"))
    return int(order[min(position, len(order) - 1)])


def sentence_rng(seed: int, sentence_index: int) -> np.random.Generator:
    """A generator that depends only on the request seed and the sentence position."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, sentence_index])))
